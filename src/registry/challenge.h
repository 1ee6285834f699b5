// WWW-Authenticate challenges (RFC 9110 section 11.6.1), as registries send them with a 401:
//   Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:app:pull"
//   Basic realm="Registry Realm"
//
// One header may carry several challenges separated by commas; parameters are token or
// quoted-string values (with backslash escapes). The parser is defensive: bounded length and
// parameter count, and an error rather than a guess for malformed input. Scheme and parameter
// names are case-insensitive and returned lower-cased.
//
// Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp {

struct AuthChallenge {
  std::string scheme;                         // "bearer", "basic", ... (lower case)
  std::map<std::string, std::string> params;  // names lower case, values unquoted
  std::string token68;                        // the rare "Scheme token68" form

  // The parameter's value, or "" when absent.
  std::string Param(std::string_view name) const;
};

// Parses one WWW-Authenticate header value into its challenges (at least one).
Result<std::vector<AuthChallenge>> ParseChallenges(std::string_view header);

}  // namespace sp
