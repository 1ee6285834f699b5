// Defensive reading of a JSON object that came from the network.
//
// Every protocol decoder reads through a FieldReader: a field that is missing
// keeps the default the caller put in the struct, a field of the wrong type is
// an InvalidArgument that names the message and the field ("inspect reply:
// \"pid\" is not an integer"), never an exception or a crash. Fields the
// reader is not asked for are ignored (newer peers of the same version add
// fields). The first error sticks; check status() once at the end.
//
// Lenient mode is for what daemons publish (heartbeats, logs), which many
// readers share and one bad field must not hide: a field of the wrong type is
// ignored (its default stays), a list item of the wrong type is skipped. Only
// a message that is not an object at all is an error.
//
// Not thread-safe; cheap to construct.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp::protocol {

class FieldReader {
 public:
  enum class Mode { kStrict, kLenient };
  // `what` names the message in errors. REQUIRES: `j` outlives the reader.
  FieldReader(const nlohmann::json& j, std::string what, Mode mode = Mode::kStrict);

  // True if `key` is present and not null.
  bool Has(const char* key);
  void Str(const char* key, std::string* out);
  void Int(const char* key, int64_t* out);
  void Int(const char* key, int* out);
  void Num(const char* key, double* out);
  void Bool(const char* key, bool* out);
  // An optional string: stays nullopt when missing or null.
  void OptStr(const char* key, std::optional<std::string>* out);
  void StrList(const char* key, std::vector<std::string>* out);
  // Calls `each` with a reader for every element of the array `key` (an error if one is not an object).
  void Objects(const char* key, const std::function<void(FieldReader&)>& each);
  // Calls `read` with a reader for the object `key`, if present and not null.
  void Object(const char* key, const std::function<void(FieldReader&)>& read);
  // Marks the field `key` as wrong: `why` completes "<what>: \"key\" ...".
  void Fail(const char* key, const std::string& why);

  const Status& status() const { return status_; }

 private:
  const nlohmann::json* Find(const char* key);
  const nlohmann::json& j_;
  std::string what_;
  Mode mode_;
  Status status_;
};

// Arrays longer than this are refused (a hostile peer cannot make us build huge lists).
inline constexpr size_t kMaxListItems = 100000;

}  // namespace sp::protocol
