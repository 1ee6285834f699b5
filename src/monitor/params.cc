// monitor.json: validation, serialisation and defensive parsing.
#include "monitor/params.h"

#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace sp {
namespace {

using Json = nlohmann::json;

Status Validate(const MonitorParams& p) {
  auto absolute = [](const std::string& s) { return !s.empty() && s[0] == '/'; };
  if (p.id.empty()) return Status::InvalidArgument("monitor params: id is empty");
  if (!absolute(p.bundle)) return Status::InvalidArgument("monitor params: bundle must be an absolute path");
  if (!absolute(p.log_dir)) return Status::InvalidArgument("monitor params: logDir must be an absolute path");
  if (!absolute(p.exit_file))
    return Status::InvalidArgument("monitor params: exitFile must be an absolute path");
  if (!absolute(p.pid_file))
    return Status::InvalidArgument("monitor params: pidFile must be an absolute path");
  if (p.runtime_binary.empty()) return Status::InvalidArgument("monitor params: runtimeBinary is empty");
  if (p.log_max_bytes < 1024)
    return Status::InvalidArgument("monitor params: logMaxBytes must be at least 1024");
  if (p.log_max_files < 1 || p.log_max_files > 100000)
    return Status::InvalidArgument("monitor params: logMaxFiles must be within 1..100000");
  return Status::Ok();
}

Status GetString(const Json& j, const char* key, bool required, std::string& out) {
  if (!j.contains(key)) {
    return required ? Status::InvalidArgument(std::string("monitor params: missing \"") + key + "\"")
                    : Status::Ok();
  }
  if (!j[key].is_string())
    return Status::InvalidArgument(std::string("monitor params: \"") + key + "\" must be a string");
  out = j[key].get<std::string>();
  return Status::Ok();
}

Status GetInt(const Json& j, const char* key, int64_t& out) {
  if (!j.contains(key)) return Status::Ok();
  if (!j[key].is_number_integer())
    return Status::InvalidArgument(std::string("monitor params: \"") + key + "\" must be an integer");
  out = j[key].get<int64_t>();
  return Status::Ok();
}

}  // namespace

Status WriteMonitorParams(const std::string& path, const MonitorParams& p) {
  SP_RETURN_IF_ERROR(Validate(p));
  Json j = {{"id", p.id},
            {"bundle", p.bundle},
            {"runtimeBinary", p.runtime_binary},
            {"runtimeRoot", p.runtime_root},
            {"cgroupsPath", p.cgroups_path},
            {"logDir", p.log_dir},
            {"logMaxBytes", p.log_max_bytes},
            {"logMaxFiles", p.log_max_files},
            {"exitFile", p.exit_file},
            {"pidFile", p.pid_file}};
  return WriteFileAtomic(path, j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n", 0644,
                         Durability::kVolatile);
}

Result<MonitorParams> ParseMonitorParams(const std::string& json_text) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Err(Status::InvalidArgument("monitor params: not a JSON object"));
  MonitorParams p;
  SP_RETURN_IF_ERROR(GetString(j, "id", true, p.id));
  SP_RETURN_IF_ERROR(GetString(j, "bundle", true, p.bundle));
  SP_RETURN_IF_ERROR(GetString(j, "runtimeBinary", false, p.runtime_binary));
  SP_RETURN_IF_ERROR(GetString(j, "runtimeRoot", false, p.runtime_root));
  SP_RETURN_IF_ERROR(GetString(j, "cgroupsPath", false, p.cgroups_path));
  SP_RETURN_IF_ERROR(GetString(j, "logDir", true, p.log_dir));
  SP_RETURN_IF_ERROR(GetInt(j, "logMaxBytes", p.log_max_bytes));
  SP_RETURN_IF_ERROR(GetInt(j, "logMaxFiles", p.log_max_files));
  SP_RETURN_IF_ERROR(GetString(j, "exitFile", true, p.exit_file));
  SP_RETURN_IF_ERROR(GetString(j, "pidFile", true, p.pid_file));
  SP_RETURN_IF_ERROR(Validate(p));
  return p;
}

Result<MonitorParams> ReadMonitorParams(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 1 << 20));
  auto p = ParseMonitorParams(text);
  if (!p) return Err(p.error().Annotate(path));
  return p;
}

}  // namespace sp
