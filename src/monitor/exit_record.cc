// exit.json serialisation and defensive parsing.
#include "monitor/exit_record.h"

#include <sys/stat.h>

#include <cerrno>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace sp {
namespace {

using Json = nlohmann::json;

Status BadField(const char* key, const char* want) {
  return Status::InvalidArgument(std::string("exit record: \"") + key + "\" must be " + want);
}

Status GetInt(const Json& j, const char* key, int& out) {
  if (!j.contains(key)) return Status::Ok();
  if (!j[key].is_number_integer()) return BadField(key, "an integer");
  int64_t v = j[key].get<int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    return BadField(key, "a small integer");
  out = static_cast<int>(v);
  return Status::Ok();
}

Status GetString(const Json& j, const char* key, std::string& out) {
  if (!j.contains(key)) return Status::Ok();
  if (!j[key].is_string()) return BadField(key, "a string");
  out = j[key].get<std::string>();
  return Status::Ok();
}

}  // namespace

std::string ExitRecordJson(const ExitRecord& r) {
  Json j = {{"exitCode", r.exit_code},
            {"signal", r.signal},
            {"oomKilled", r.oom_killed},
            {"startedAt", r.started_at},
            {"finishedAt", r.finished_at}};
  if (!r.error.empty()) j["error"] = r.error;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Not fsync'd: the record matters across a restart of spawnd (the page cache keeps it), not across a
// power loss (which ends the container too); the fsync cost ~1 ms on every restart's path.
Status WriteExitRecord(const std::string& path, const ExitRecord& r) {
  return WriteFileAtomic(path, ExitRecordJson(r), 0644, Durability::kVolatile).Annotate("exit record");
}

Result<ExitRecord> ParseExitRecord(const std::string& json_text) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Err(Status::InvalidArgument("exit record: not a JSON object"));
  if (!j.contains("exitCode")) return Err(Status::InvalidArgument("exit record: missing \"exitCode\""));
  ExitRecord r;
  SP_RETURN_IF_ERROR(GetInt(j, "exitCode", r.exit_code));
  SP_RETURN_IF_ERROR(GetInt(j, "signal", r.signal));
  if (j.contains("oomKilled")) {
    if (!j["oomKilled"].is_boolean()) return Err(BadField("oomKilled", "true or false"));
    r.oom_killed = j["oomKilled"].get<bool>();
  }
  SP_RETURN_IF_ERROR(GetString(j, "startedAt", r.started_at));
  SP_RETURN_IF_ERROR(GetString(j, "finishedAt", r.finished_at));
  SP_RETURN_IF_ERROR(GetString(j, "error", r.error));
  return r;
}

Result<ExitRecord> ReadExitRecord(const std::string& path) {
  auto text = ReadFileCapped(path, 64 << 10);
  if (!text) {
    if (!PathExists(path)) return Err(Status::NotFound("no exit record at " + path));
    return Err(text.error());
  }
  auto r = ParseExitRecord(*text);
  if (!r) return Err(r.error().Annotate(path));
  return r;
}

}  // namespace sp
