// Defensive JSON reading (see json_fields.h).
#include "registry/json_fields.h"

#include <limits>

namespace sp::registry_internal {
namespace {

// Refuses documents nested deeper than kMaxJsonDepth without building them.
Status CheckDepth(std::string_view bytes, std::string_view what) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return Status::InvalidArgument(std::string(what) + ": JSON nested deeper than " +
                                       std::to_string(kMaxJsonDepth) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::Ok();
}

Status WrongType(const std::string& path, std::string_view expected, const Json& got) {
  return Status::InvalidArgument(path + ": expected " + std::string(expected) + ", got " +
                                 std::string(JsonTypeName(got)));
}

}  // namespace

std::string_view JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a fractional number";
    default:
      return "binary data";
  }
}

Result<Json> ParseJson(std::string_view bytes, size_t max_bytes, std::string_view what) {
  if (bytes.size() > max_bytes)
    return Err(Status::InvalidArgument(std::string(what) + " is larger than " + std::to_string(max_bytes) +
                                       " bytes (" + std::to_string(bytes.size()) + ")"));
  SP_RETURN_IF_ERROR(CheckDepth(bytes, what));
  try {
    return Json::parse(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    return Err(Status::InvalidArgument(std::string(what) + " is not valid JSON: " + e.what()));
  } catch (const std::exception& e) {  // allocation failures and the like
    return Err(Status::InvalidArgument(std::string(what) + " could not be parsed: " + e.what()));
  }
}

const Json* Member(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> ReadString(const Json& object, std::string_view key, const std::string& path,
                               bool required) {
  const Json* v = Member(object, key);
  if (!v) {
    if (required) return Err(Status::InvalidArgument(path + ": missing"));
    return std::string();
  }
  if (!v->is_string()) return Err(WrongType(path, "a string", *v));
  return v->get_ref<const std::string&>();
}

Result<const Json*> ReadObject(const Json& object, std::string_view key, const std::string& path,
                               bool required) {
  const Json* v = Member(object, key);
  if (!v) {
    if (required) return Err(Status::InvalidArgument(path + ": missing"));
    return nullptr;
  }
  if (!v->is_object()) return Err(WrongType(path, "an object", *v));
  return v;
}

Result<const Json*> ReadArray(const Json& object, std::string_view key, const std::string& path,
                              size_t max_items, bool required) {
  const Json* v = Member(object, key);
  if (!v) {
    if (required) return Err(Status::InvalidArgument(path + ": missing"));
    return nullptr;
  }
  if (!v->is_array()) return Err(WrongType(path, "an array", *v));
  if (v->size() > max_items)
    return Err(Status::InvalidArgument(path + ": " + std::to_string(v->size()) + " entries (at most " +
                                       std::to_string(max_items) + " are accepted)"));
  return v;
}

Result<std::vector<std::string>> ReadStringArray(const Json& object, std::string_view key,
                                                 const std::string& path, size_t max_items) {
  SP_ASSIGN_OR_RETURN(const Json* array, ReadArray(object, key, path, max_items));
  std::vector<std::string> out;
  if (!array) return out;
  for (size_t i = 0; i < array->size(); ++i) {
    const Json& item = (*array)[i];
    if (!item.is_string()) return Err(WrongType(path + "[" + std::to_string(i) + "]", "a string", item));
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> ReadStringMap(const Json& object, std::string_view key,
                                                         const std::string& path, size_t max_items) {
  SP_ASSIGN_OR_RETURN(const Json* map, ReadObject(object, key, path));
  std::map<std::string, std::string> out;
  if (!map) return out;
  if (map->size() > max_items)
    return Err(Status::InvalidArgument(path + ": " + std::to_string(map->size()) + " entries (at most " +
                                       std::to_string(max_items) + " are accepted)"));
  for (const auto& [k, v] : map->items()) {
    if (!v.is_string()) return Err(WrongType(path + "[\"" + k.substr(0, 100) + "\"]", "a string", v));
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

Result<int64_t> ReadSize(const Json& object, std::string_view key, const std::string& path) {
  const Json* v = Member(object, key);
  if (!v) return Err(Status::InvalidArgument(path + ": missing"));
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Err(Status::InvalidArgument(path + ": " + std::to_string(u) + " is too large"));
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) {
    int64_t i = v->get<int64_t>();
    if (i < 0)
      return Err(Status::InvalidArgument(path + ": must not be negative (" + std::to_string(i) + ")"));
    return i;
  }
  return Err(WrongType(path, "a non-negative integer", *v));
}

}  // namespace sp::registry_internal
