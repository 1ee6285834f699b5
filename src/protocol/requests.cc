// Slot requests (see requests.h).
#include "protocol/requests.h"

#include "protocol/envelope.h"
#include "protocol/fields.h"
#include "util/base64.h"

namespace sp::protocol {

std::string EncodeDeployRequest(const DeployRequest& r) {
  nlohmann::json j = {{"name", r.name}, {"config", r.config}, {"configFile", r.config_file}};
  if (!r.entity.empty()) j["entity"] = r.entity;
  if (!r.files.empty()) j["files"] = EncodeBase64(r.files);
  return Serialize(std::move(j));
}

Result<DeployRequest> DecodeDeployRequest(std::string_view data) {
  SP_ASSIGN_OR_RETURN(nlohmann::json j, ParseMessage(data, "deploy request"));
  DeployRequest r;
  std::string files;
  FieldReader f(j, "deploy request");
  f.Str("name", &r.name);
  f.Str("config", &r.config);
  f.Str("configFile", &r.config_file);
  f.Str("files", &files);
  f.Str("entity", &r.entity);
  SP_RETURN_IF_ERROR(f.status());
  auto bytes = DecodeBase64(files);
  if (!bytes) return Err(bytes.error().Annotate("deploy request: files"));
  r.files = std::move(*bytes);
  return r;
}

std::string EncodePullRequest(const PullRequest& r) { return Serialize({{"reference", r.reference}}); }

Result<PullRequest> DecodePullRequest(std::string_view data) {
  SP_ASSIGN_OR_RETURN(nlohmann::json j, ParseMessage(data, "pull request"));
  if (!j.contains("reference")) return Err(Status::InvalidArgument("pull request: missing \"reference\""));
  PullRequest r;
  FieldReader f(j, "pull request");
  f.Str("reference", &r.reference);
  SP_RETURN_IF_ERROR(f.status());
  return r;
}

std::string EncodeEmptyRequest() { return Serialize(nlohmann::json::object()); }

Status DecodeEmptyRequest(std::string_view data, std::string_view what) {
  if (data.empty()) return Status::Ok();
  auto j = ParseMessage(data, what);
  return j ? Status::Ok() : j.error();
}

}  // namespace sp::protocol
