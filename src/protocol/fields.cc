// FieldReader (see fields.h).
#include "protocol/fields.h"

namespace sp::protocol {

FieldReader::FieldReader(const nlohmann::json& j, std::string what, Mode mode)
    : j_(j), what_(std::move(what)), mode_(mode) {
  if (!j_.is_object()) status_ = Status::InvalidArgument(what_ + ": not a JSON object");
}

const nlohmann::json* FieldReader::Find(const char* key) {
  if (!status_.ok()) return nullptr;
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

void FieldReader::Fail(const char* key, const std::string& why) {
  if (status_.ok() && mode_ == Mode::kStrict) status_ = Status::InvalidArgument(what_ + ": \"" + key + "\" " + why);
}

bool FieldReader::Has(const char* key) {
  const nlohmann::json* v = Find(key);
  return v && !v->is_null();
}

void FieldReader::Str(const char* key, std::string* out) {
  const nlohmann::json* v = Find(key);
  if (!v) return;
  if (!v->is_string()) return Fail(key, "is not a string");
  *out = v->get<std::string>();
}

void FieldReader::Int(const char* key, int64_t* out) {
  const nlohmann::json* v = Find(key);
  if (!v) return;
  if (!v->is_number_integer()) return Fail(key, "is not an integer");
  *out = v->get<int64_t>();
}

void FieldReader::Int(const char* key, int* out) {
  int64_t wide = *out;
  Int(key, &wide);
  if (wide < INT32_MIN || wide > INT32_MAX) return Fail(key, "is out of range");
  *out = static_cast<int>(wide);
}

void FieldReader::Num(const char* key, double* out) {
  const nlohmann::json* v = Find(key);
  if (!v) return;
  if (!v->is_number()) return Fail(key, "is not a number");
  *out = v->get<double>();
}

void FieldReader::Bool(const char* key, bool* out) {
  const nlohmann::json* v = Find(key);
  if (!v) return;
  if (!v->is_boolean()) return Fail(key, "is not true or false");
  *out = v->get<bool>();
}

void FieldReader::OptStr(const char* key, std::optional<std::string>* out) {
  const nlohmann::json* v = Find(key);
  if (!v || v->is_null()) return;
  if (!v->is_string()) return Fail(key, "is not a string");
  *out = v->get<std::string>();
}

void FieldReader::StrList(const char* key, std::vector<std::string>* out) {
  const nlohmann::json* v = Find(key);
  if (!v) return;
  if (!v->is_array()) return Fail(key, "is not a list");
  if (v->size() > kMaxListItems) return Fail(key, "has too many items");
  out->clear();
  for (const nlohmann::json& item : *v) {
    if (item.is_string()) {
      out->push_back(item.get<std::string>());
    } else if (mode_ == Mode::kStrict) {
      return Fail(key, "has an item that is not a string");
    }
  }
}

void FieldReader::Objects(const char* key, const std::function<void(FieldReader&)>& each) {
  const nlohmann::json* v = Find(key);
  if (!v) return;
  if (!v->is_array()) return Fail(key, "is not a list");
  if (v->size() > kMaxListItems) return Fail(key, "has too many items");
  for (const nlohmann::json& item : *v) {
    if (!item.is_object() && mode_ == Mode::kLenient) continue;
    FieldReader r(item, what_ + ": an item of \"" + key + "\"", mode_);
    if (r.status().ok()) each(r);
    if (!r.status().ok()) {
      if (status_.ok()) status_ = r.status();
      return;
    }
  }
}

void FieldReader::Object(const char* key, const std::function<void(FieldReader&)>& read) {
  const nlohmann::json* v = Find(key);
  if (!v || v->is_null()) return;
  if (!v->is_object() && mode_ == Mode::kLenient) return;
  FieldReader r(*v, what_ + ": \"" + key + "\"", mode_);
  if (r.status().ok()) read(r);
  if (!r.status().ok() && status_.ok()) status_ = r.status();
}

}  // namespace sp::protocol
