// WWW-Authenticate parsing (see challenge.h).
//
// A small cursor-based parser over the RFC 9110 grammar:
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// The only subtle part is telling "a comma, then another parameter" from "a comma, then the next
// challenge": a token followed by "=" is a parameter, anything else starts a new challenge.
#include "registry/challenge.h"

#include <cctype>

namespace sp {
namespace {

constexpr size_t kMaxHeaderBytes = 16 << 10;
constexpr size_t kMaxParams = 32;

bool IsTchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool IsToken68Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view s) : s_(s) {}

  Result<std::vector<AuthChallenge>> Run() {
    std::vector<AuthChallenge> out;
    for (;;) {
      SkipSpacesAndCommas();
      if (AtEnd()) break;
      SP_ASSIGN_OR_RETURN(AuthChallenge c, ParseOne());
      out.push_back(std::move(c));
    }
    if (out.empty()) return Err(Error("no challenge"));
    return out;
  }

 private:
  bool AtEnd() const { return i_ >= s_.size(); }
  char Cur() const { return s_[i_]; }
  void SkipSpaces() {
    while (!AtEnd() && (Cur() == ' ' || Cur() == '\t')) ++i_;
  }
  void SkipSpacesAndCommas() {
    while (!AtEnd() && (Cur() == ' ' || Cur() == '\t' || Cur() == ',')) ++i_;
  }
  std::string_view ReadWhile(bool (*pred)(char)) {
    size_t start = i_;
    while (!AtEnd() && pred(Cur())) ++i_;
    return s_.substr(start, i_ - start);
  }
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("malformed WWW-Authenticate header: " + what + " at offset " +
                                   std::to_string(i_));
  }

  Result<AuthChallenge> ParseOne() {
    AuthChallenge c;
    std::string_view scheme = ReadWhile(IsTchar);
    if (scheme.empty()) return Err(Error("expected an authentication scheme"));
    c.scheme = Lower(scheme);
    if (!AtEnd() && Cur() != ' ' && Cur() != '\t' && Cur() != ',')
      return Err(Error("unexpected character after the scheme"));
    SkipSpaces();
    if (TryToken68(c)) return c;
    SP_RETURN_IF_ERROR(ParseParams(c));
    return c;
  }

  // "Scheme abc123==" (followed by the end or a comma).
  bool TryToken68(AuthChallenge& c) {
    size_t start = i_;
    std::string_view body = ReadWhile(IsToken68Char);
    while (!AtEnd() && Cur() == '=') ++i_;
    size_t end = i_;
    SkipSpaces();
    if (!body.empty() && (AtEnd() || Cur() == ',')) {
      c.token68 = std::string(s_.substr(start, end - start));
      return true;
    }
    i_ = start;
    return false;
  }

  // Whether the text at the cursor is "token BWS =" (a parameter, not a new challenge).
  bool AtParam() {
    size_t save = i_;
    bool param = !ReadWhile(IsTchar).empty();
    SkipSpaces();
    param = param && !AtEnd() && Cur() == '=';
    i_ = save;
    return param;
  }

  Status ParseParams(AuthChallenge& c) {
    while (!AtEnd() && AtParam()) {
      std::string name = Lower(ReadWhile(IsTchar));
      SkipSpaces();
      ++i_;  // '='
      SkipSpaces();
      std::string value;
      if (!AtEnd() && Cur() == '"') {
        SP_ASSIGN_OR_RETURN(value, ReadQuoted());
      } else {
        value = std::string(ReadWhile(IsTchar));
        if (value.empty()) return Error("parameter \"" + name + "\" has no value");
      }
      if (!c.params.emplace(name, std::move(value)).second)
        return Error("parameter \"" + name + "\" repeated");
      if (c.params.size() > kMaxParams) return Error("too many parameters");
      SkipSpaces();
      if (AtEnd()) break;
      if (Cur() != ',') return Error("expected \",\" between parameters");
      size_t comma = i_;
      SkipSpacesAndCommas();
      if (!AtParam()) {  // the next challenge starts here
        i_ = comma;
        break;
      }
    }
    return Status::Ok();
  }

  Result<std::string> ReadQuoted() {
    ++i_;  // opening quote
    std::string out;
    while (!AtEnd()) {
      char c = Cur();
      ++i_;
      if (c == '"') return out;
      if (c == '\\') {
        if (AtEnd()) break;
        c = Cur();
        ++i_;
      }
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return Err(Error("control character in a quoted string"));
      out += c;
    }
    return Err(Error("unterminated quoted string"));
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string AuthChallenge::Param(std::string_view name) const {
  auto it = params.find(Lower(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<AuthChallenge>> ParseChallenges(std::string_view header) {
  if (header.size() > kMaxHeaderBytes)
    return Err(Status::InvalidArgument("WWW-Authenticate header longer than " +
                                       std::to_string(kMaxHeaderBytes) + " bytes"));
  return ChallengeParser(header).Run();
}

}  // namespace sp
