// Defensive reading of JSON documents that come from registries, layouts and auth files.
//
// Everything a registry sends is untrusted. ParseJson bounds a document's size and nesting depth
// before nlohmann::json sees it and turns parse exceptions into Status; the field readers check
// every type and report errors with the path of the offending field ("layers[3].digest: expected a
// string"). A JSON null is treated like an absent field, as image tools write either. Internal to
// the registry module.
//
// Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp::registry_internal {

using Json = nlohmann::json;

inline constexpr int kMaxJsonDepth = 64;

// Parses a whole document of at most `max_bytes`. `what` names it in errors ("manifest",
// "auth file /root/.docker/config.json").
Result<Json> ParseJson(std::string_view bytes, size_t max_bytes, std::string_view what);

// The member `key` of `object`, or nullptr when it is absent or null. `object` must be an object.
const Json* Member(const Json& object, std::string_view key);

// Each reader names the field as `path` in errors. Absent or null fields give the empty value
// unless `required`.
Result<std::string> ReadString(const Json& object, std::string_view key, const std::string& path,
                               bool required = false);
Result<std::vector<std::string>> ReadStringArray(const Json& object, std::string_view key,
                                                 const std::string& path, size_t max_items);
Result<std::map<std::string, std::string>> ReadStringMap(const Json& object, std::string_view key,
                                                         const std::string& path, size_t max_items);
// A non-negative integer that fits int64_t; required.
Result<int64_t> ReadSize(const Json& object, std::string_view key, const std::string& path);
// An object member (required or not); nullptr when absent/null and not required.
Result<const Json*> ReadObject(const Json& object, std::string_view key, const std::string& path,
                               bool required = false);
// An array member; nullptr when absent/null and not required. More than `max_items`: an error.
Result<const Json*> ReadArray(const Json& object, std::string_view key, const std::string& path,
                              size_t max_items, bool required = false);

// "a string", "a number", ... for error messages.
std::string_view JsonTypeName(const Json& value);

}  // namespace sp::registry_internal
