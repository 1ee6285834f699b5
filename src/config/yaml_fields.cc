// Strict YAML reading: a guarded loader and a field-by-field reader with located errors (worded
// by yaml_messages.h).
//
// The loader first walks the document's events (no tree is built) to refuse aliases, extra
// documents and node floods cheaply, then builds the tree. Every yaml-cpp exception is caught
// here and becomes an InvalidArgument status that names the file, line and column.
#include "config/yaml_fields.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <new>
#include <sstream>
#include <utility>

#include "config/yaml_messages.h"

namespace sp {
namespace {

constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";

// Thrown by the event scan to stop at the first refused construct; never leaves this file.
struct Refused {
  YAML::Mark mark;
  std::string message;
};

// Counts nodes and refuses aliases and second documents while yaml-cpp parses.
class GuardScan : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1)
      throw Refused{mark, "more than one YAML document (\"---\"); a configuration file holds one"};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Count(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    throw Refused{mark, "aliases (*name) are not supported in configuration files; write the value out"};
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    Count(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Count(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Count(mark);
  }
  void OnMapEnd() override {}

 private:
  void Count(const YAML::Mark& mark) {
    if (++nodes_ > kMaxYamlNodes) {
      throw Refused{mark, "more than " + std::to_string(kMaxYamlNodes) +
                              " YAML values; this is not a configuration file"};
    }
  }
  int documents_ = 0;
  size_t nodes_ = 0;
};

Result<YAML::Node> LoadGuarded(std::string_view text) {
  {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    GuardScan scan;
    while (parser.HandleNextDocument(scan)) {
    }
  }
  return YAML::Load(std::string(text));
}

// "an integer >= 16 (MiB)". An upper bound far beyond human numbers (kept only to stop overflow)
// is mentioned only to a value that exceeds it.
std::string IntExpectation(const IntRange& range, bool above_max) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kHuge = int64_t{1} << 40;
  bool show_max = range.max != std::numeric_limits<int64_t>::max() && (range.max < kHuge || above_max);
  std::string what = "an integer";
  if (range.min != kMin && show_max) {
    what += " from " + std::to_string(range.min) + " to " + std::to_string(range.max);
  } else if (range.min != kMin) {
    what += " >= " + std::to_string(range.min);
  } else if (show_max) {
    what += " <= " + std::to_string(range.max);
  }
  if (!range.unit.empty()) what += " (" + std::string(range.unit) + ")";
  return what;
}

std::optional<int64_t> ParseDecimal(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || text[0] == '+') return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> ParseBoolWord(std::string_view text) {
  static const std::set<std::string_view> kTrue = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                                   "on",   "On",   "ON",   "y",   "Y"};
  static const std::set<std::string_view> kFalse = {"false", "False", "FALSE", "no", "No", "NO",
                                                    "off",   "Off",   "OFF",   "n",  "N"};
  if (kTrue.count(text)) return true;
  if (kFalse.count(text)) return false;
  return std::nullopt;
}

// A quoted scalar where a number or boolean is expected gets a hint about the quotes.
std::string Got(const std::string& text, const std::string& tag) {
  if (tag == "!") return "the quoted string " + QuoteForMessage(text) + " (remove the quotes)";
  return QuoteForMessage(text);
}

}  // namespace

Result<YAML::Node> LoadYamlDocument(std::string_view text, std::string_view file) {
  if (text.size() > kMaxConfigBytes) {
    return Err(Status::InvalidArgument(std::string(file) + ": " + std::to_string(text.size()) +
                                       " bytes is larger than the limit of " +
                                       std::to_string(kMaxConfigBytes) + " bytes for a configuration file"));
  }
  try {
    return LoadGuarded(text);
  } catch (const Refused& refused) {
    return Err(ErrorAt(file, refused.mark, refused.message));
  } catch (const YAML::DeepRecursion& e) {
    return Err(ErrorAt(file, e.mark, "invalid YAML: nested too deeply"));
  } catch (const YAML::Exception& e) {
    return Err(ErrorAt(file, e.mark, "invalid YAML: " + EscapeForMessage(e.msg, false)));
  } catch (const std::bad_alloc&) {
    return Err(Status::InvalidArgument(std::string(file) + ": out of memory while parsing YAML"));
  } catch (const std::exception& e) {
    return Err(
        Status::InvalidArgument(std::string(file) + ": invalid YAML: " + EscapeForMessage(e.what(), false)));
  }
}

FieldReader::FieldReader(const YAML::Node& node, std::string file)
    : FieldReader(node, std::make_shared<Errors>(Errors{std::move(file), {}, {}}), "",
                  YAML::Mark::null_mark()) {}

FieldReader::FieldReader(const YAML::Node& node, std::shared_ptr<Errors> errors, std::string prefix,
                         YAML::Mark mark)
    : errors_(std::move(errors)), prefix_(std::move(prefix)), mark_(mark) {
  try {
    Index(node);
  } catch (const std::exception& e) {  // yaml-cpp accessors; not expected on a loaded tree
    FailAt(mark_, OwnLabel(), std::string("unreadable YAML: ") + e.what());
  }
}

void FieldReader::Index(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    FailAt(node.Mark(), OwnLabel(), "expected a mapping of \"key: value\" lines, got " + DescribeNode(node));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: it->first refers into a temporary proxy that dies at the end of the expression.
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar()) {
      FailAt(key.Mark(), OwnLabel(), "keys must be plain names, got " + DescribeNode(key));
      continue;
    }
    const std::string& spelling = key.Scalar();
    auto [pos, inserted] = entries_.emplace(spelling, Entry{spelling, key.Mark(), value});
    if (!inserted) {
      FailAt(key.Mark(), "key " + QuoteForMessage(prefix_ + spelling),
             "given twice (first at line " + std::to_string(pos->second.key_mark.line + 1) + ")");
      continue;
    }
    order_.push_back(spelling);
  }
}

const FieldReader::Entry* FieldReader::Find(Key key, Need need) {
  std::string name(key.name), alias(key.alias);
  if (known_set_.insert(name).second) known_.push_back(name);
  if (!alias.empty()) known_set_.insert(alias);
  auto by_name = entries_.find(name);
  auto by_alias = alias.empty() ? entries_.end() : entries_.find(alias);
  const Entry* entry = nullptr;
  if (by_name != entries_.end() && by_alias != entries_.end()) {
    FailAt(by_alias->second.key_mark, SpelledLabel(by_alias->second),
           QuoteForMessage(name) + " is given too (line " +
               std::to_string(by_name->second.key_mark.line + 1) + "); they mean the same, keep only one");
  }
  if (by_name != entries_.end()) {
    entry = &by_name->second;
  } else if (by_alias != entries_.end()) {
    entry = &by_alias->second;
  }
  bool has_value = entry != nullptr && entry->value.IsDefined() && !entry->value.IsNull();
  if (has_value) return entry;
  if (need == Need::kRequired) {
    if (entry != nullptr) {
      FailAt(entry->key_mark, SpelledLabel(*entry), "missing value");
    } else {
      std::string message = "missing required key " + QuoteForMessage(prefix_ + name);
      if (!alias.empty()) message += " (or its older spelling " + QuoteForMessage(prefix_ + alias) + ")";
      FailAt(mark_, "", message);
    }
  }
  return nullptr;
}

std::optional<FieldReader::Located> FieldReader::Scalar(const YAML::Node& node, const YAML::Mark& fallback,
                                                        const std::string& label, std::string_view what) {
  YAML::Mark mark = node.Mark().is_null() ? fallback : node.Mark();
  if (!node.IsDefined() || node.IsNull()) {
    FailAt(mark, label, "expected " + std::string(what) + ", got nothing");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    FailAt(mark, label, "expected " + std::string(what) + ", got " + DescribeNode(node));
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  if (text.find('\0') != std::string::npos) {
    FailAt(mark, label, "expected text without NUL characters, got " + QuoteForMessage(text));
    return std::nullopt;
  }
  return Located{text, mark, node.Tag()};
}

std::optional<FieldReader::Located> FieldReader::ScalarField(Key key, Need need, std::string_view what) {
  const Entry* entry = Find(key, need);
  if (entry == nullptr) return std::nullopt;
  return Scalar(entry->value, entry->key_mark, SpelledLabel(*entry), what);
}

std::optional<std::vector<FieldReader::Located>> FieldReader::ListField(Key key, Need need) {
  const Entry* entry = Find(key, need);
  if (entry == nullptr) return std::nullopt;
  const YAML::Node& list = entry->value;
  if (!list.IsSequence()) {
    YAML::Mark mark = list.Mark().is_null() ? entry->key_mark : list.Mark();
    FailAt(mark, SpelledLabel(*entry),
           "expected a list ([a, b] or lines starting with \"- \"), got " + DescribeNode(list));
    return std::nullopt;
  }
  std::vector<Located> items;
  size_t index = 0;
  for (const YAML::Node& item : list) {
    std::optional<Located> text = Scalar(item, list.Mark(), ItemLabel(key, index++), "a single value");
    if (text) items.push_back(std::move(*text));
  }
  return items;
}

bool FieldReader::Has(Key key) { return Find(key, Need::kOptional) != nullptr; }

bool FieldReader::Present(Key key) const {
  return entries_.count(std::string(key.name)) || (!std::string(key.alias).empty() && entries_.count(std::string(key.alias)));
}

std::string FieldReader::String(Key key, Need need, std::string def) {
  std::optional<Located> text = ScalarField(key, need, "a string");
  return text ? text->text : def;
}

int64_t FieldReader::Int(Key key, Need need, int64_t def, IntRange range) {
  std::optional<Located> text = ScalarField(key, need, IntExpectation(range, false));
  if (!text) return def;
  std::optional<int64_t> value;
  if (text->tag == "?" || text->tag == kIntTag) value = ParseDecimal(text->text);
  if (!value || *value < range.min || *value > range.max) {
    std::string what = IntExpectation(range, value && *value > range.max);
    FailAt(text->mark, KeyLabel(key), "expected " + what + ", got " + Got(text->text, text->tag));
    return def;
  }
  return *value;
}

bool FieldReader::Bool(Key key, bool def) {
  std::optional<Located> text = ScalarField(key, Need::kOptional, "true or false");
  if (!text) return def;
  std::optional<bool> value;
  if (text->tag == "?" || text->tag == kBoolTag) value = ParseBoolWord(text->text);
  if (!value) {
    FailAt(text->mark, KeyLabel(key), "expected true or false, got " + Got(text->text, text->tag));
    return def;
  }
  return *value;
}

Millis FieldReader::Duration(Key key, Need need, Millis def, Millis min) {
  std::string what = "a duration such as 500ms, 10s, 2m or 1h30m (a bare number is seconds)";
  if (min > Millis(0)) what += " of at least " + FormatDuration(min);
  std::optional<Located> text = ScalarField(key, need, what);
  if (!text) return def;
  Result<Millis> value = ParseDuration(text->text);
  if (!value || *value < min) {
    FailAt(text->mark, KeyLabel(key), "expected " + what + ", got " + QuoteForMessage(text->text));
    return def;
  }
  return *value;
}

std::vector<std::string> FieldReader::StringList(Key key, Need need) {
  return List<std::string>(key, need, [](const std::string& text) -> Result<std::string> { return text; });
}

std::map<std::string, std::string> FieldReader::StringMap(Key key, Need need,
                                                          const Parser<std::string>& check_key) {
  std::map<std::string, std::string> out;
  const Entry* entry = Find(key, need);
  if (entry == nullptr) return out;
  const YAML::Node& map = entry->value;
  std::string label = SpelledLabel(*entry);
  if (!map.IsMap()) {
    YAML::Mark mark = map.Mark().is_null() ? entry->key_mark : map.Mark();
    FailAt(mark, label, "expected a mapping of \"NAME: value\" lines, got " + DescribeNode(map));
    return out;
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    YAML::Node key = it->first;  // copies, as in Index()
    YAML::Node value_node = it->second;
    std::optional<Located> name = Scalar(key, map.Mark(), label, "a plain name as key");
    if (!name) continue;
    std::string entry_label = "key " + QuoteForMessage(prefix_ + entry->spelling + "." + name->text);
    std::optional<Located> value =
        Scalar(value_node, name->mark, entry_label, "a value (write \"\" for an empty one)");
    if (!value) continue;
    std::string final_name = name->text;
    if (check_key) {
      Result<std::string> checked = check_key(name->text);
      if (!checked) {
        FailAt(name->mark, label, checked.error().message());
        continue;
      }
      final_name = std::move(*checked);
    }
    if (!out.emplace(final_name, value->text).second) {
      FailAt(name->mark, entry_label, "given twice");
    }
  }
  return out;
}

FieldReader& FieldReader::Child(Key key, Need need) {
  const Entry* entry = Find(key, need);
  YAML::Node node = entry ? entry->value : YAML::Node();
  std::string prefix = prefix_ + (entry ? entry->spelling : std::string(key.name)) + ".";
  YAML::Mark mark = entry ? entry->key_mark : mark_;
  children_.push_back(std::unique_ptr<FieldReader>(new FieldReader(node, errors_, std::move(prefix), mark)));
  return *children_.back();
}

void FieldReader::Fail(Key key, std::string_view message) {
  auto it = entries_.find(std::string(key.name));
  if (it == entries_.end() && !key.alias.empty()) it = entries_.find(std::string(key.alias));
  if (it == entries_.end()) {
    FailAt(mark_, KeyLabel(key), message);
    return;
  }
  const Entry& entry = it->second;
  YAML::Mark mark = entry.value.Mark().is_null() ? entry.key_mark : entry.value.Mark();
  FailAt(mark, SpelledLabel(entry), message);
}

bool FieldReader::ok() const { return errors_->first.ok() && errors_->first_unknown.ok(); }

Status FieldReader::Finish() {
  CheckUnknownKeys();
  if (!errors_->first_unknown.ok()) return errors_->first_unknown;
  return errors_->first;
}

void FieldReader::CheckUnknownKeys() {
  for (auto& child : children_) child->CheckUnknownKeys();
  for (const std::string& spelling : order_) {
    if (known_set_.count(spelling)) continue;
    std::string message = "unknown key " + QuoteForMessage(prefix_ + spelling);
    if (std::optional<std::string> hint = ClosestKey(spelling, known_set_)) {
      message += " (did you mean " + QuoteForMessage(prefix_ + *hint) + "?)";
    } else if (!known_.empty()) {
      std::string list;
      for (const std::string& name : known_) list += (list.empty() ? "" : ", ") + name;
      message += " (known keys" +
                 (prefix_.empty() ? "" : " in " + QuoteForMessage(prefix_.substr(0, prefix_.size() - 1))) +
                 ": " + list + ")";
    }
    if (errors_->first_unknown.ok()) {
      errors_->first_unknown = ErrorAt(errors_->file, entries_.at(spelling).key_mark, message);
    }
  }
}

std::string FieldReader::KeyLabel(Key key) const {
  std::string spelling(key.name);
  if (!key.alias.empty() && !entries_.count(spelling) && entries_.count(std::string(key.alias))) {
    spelling = key.alias;
  }
  return "key " + QuoteForMessage(prefix_ + spelling);
}

std::string FieldReader::ItemLabel(Key key, size_t index) const {
  return KeyLabel(key) + " item " + std::to_string(index + 1);
}

std::string FieldReader::SpelledLabel(const Entry& entry) const {
  return "key " + QuoteForMessage(prefix_ + entry.spelling);
}

std::string FieldReader::OwnLabel() const {
  if (prefix_.empty()) return "";
  return "key " + QuoteForMessage(prefix_.substr(0, prefix_.size() - 1));
}

void FieldReader::FailAt(const YAML::Mark& mark, const std::string& label, std::string_view message) {
  if (!errors_->first.ok()) return;
  std::string text = label.empty() ? std::string(message) : label + ": " + std::string(message);
  errors_->first = ErrorAt(errors_->file, mark, text);
}

}  // namespace sp
