// How strict YAML reading words its errors: text quoted and escaped for a one-line message, a
// node described by kind, an error located at "file:line:col", and the "did you mean" hint for a
// misspelt key. Used by the loader and the FieldReader (yaml_fields.h) and by the parsers that
// check values for them (ExpectedGot).
//
// Pure functions, safe from any thread; nothing here throws.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

// `text` in double quotes, with control characters escaped and long text shortened, for messages.
std::string QuoteForMessage(std::string_view text);
// InvalidArgument("expected <what>, got <quoted text>"): the usual shape of a value error.
Status ExpectedGot(std::string_view what, std::string_view text);

// Control characters and bytes that are not UTF-8 as \n, \t, \xNN, so a message stays on one line
// and is valid UTF-8 (bus replies carry it in JSON); quotes and backslashes escaped on request.
std::string EscapeForMessage(std::string_view text, bool escape_quotes);
// InvalidArgument("file:line:col: message") (1-based), or "file: message" when the mark is unknown.
Status ErrorAt(std::string_view file, const YAML::Mark& mark, std::string_view message);
// "a list", "a mapping", the quoted scalar, or "nothing".
std::string DescribeNode(const YAML::Node& node);
// The known key closest to `unknown` (case-insensitive edits and transpositions), if it is close
// enough to be a likely typo.
std::optional<std::string> ClosestKey(std::string_view unknown, const std::set<std::string>& known);

}  // namespace sp
