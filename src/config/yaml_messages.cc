// Error wording for strict YAML reading (see yaml_messages.h): escaping and quoting, located
// errors, node descriptions and the "did you mean" hint (an optimal string alignment distance).
#include "config/yaml_messages.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

namespace sp {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[i] (2 to 4 bytes; no overlong forms,
// no surrogates), or 0 if there is none.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  }
  if (length == 0 || i + length > text.size() || byte(1) < low || byte(1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// "file:line:col" (1-based), or just "file" when the mark is unknown.
std::string Where(std::string_view file, const YAML::Mark& mark) {
  std::string out(file);
  if (!mark.is_null() && mark.line >= 0 && mark.column >= 0) {
    out += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance (edits plus adjacent transpositions), case-insensitive.
size_t EditDistance(std::string_view a_in, std::string_view b_in) {
  std::string a = Lower(a_in), b = Lower(b_in);
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string EscapeForMessage(std::string_view text, bool escape_quotes) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      size_t length = Utf8SequenceLength(text, i);
      if (length > 0) {
        out.append(text.substr(i, length));
        i += length - 1;
        continue;
      }
    }
    if (escape_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string QuoteForMessage(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  bool cut = text.size() > kMaxShown;
  if (cut) {
    size_t end = kMaxShown;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // whole UTF-8 chars
    text = text.substr(0, end);
  }
  return "\"" + EscapeForMessage(text, true) + (cut ? "...\"" : "\"");
}

Status ExpectedGot(std::string_view what, std::string_view text) {
  return Status::InvalidArgument("expected " + std::string(what) + ", got " + QuoteForMessage(text));
}

Status ErrorAt(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  return Status::InvalidArgument(Where(file, mark) + ": " + std::string(message));
}

std::string DescribeNode(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return QuoteForMessage(node.Scalar());
    default:
      return "nothing";
  }
}

std::optional<std::string> ClosestKey(std::string_view unknown, const std::set<std::string>& known) {
  if (unknown.size() > 64) return std::nullopt;  // not a typo of a config key; skip the quadratic work
  std::optional<std::string> best;
  std::optional<size_t> best_distance;
  for (const std::string& candidate : known) {
    size_t distance = EditDistance(unknown, candidate);
    size_t allowed = std::max<size_t>(2, candidate.size() / 5);  // "enableHostNetwork" is 3 edits away
    if (distance <= allowed && distance * 2 < candidate.size() &&
        (!best_distance || distance < *best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace sp
