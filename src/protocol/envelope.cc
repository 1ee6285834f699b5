// Versions and the reply envelope (see envelope.h).
#include "protocol/envelope.h"

#include <mutex>

namespace sp::protocol {
namespace {

std::mutex g_reader_mu;
std::string g_reader = "this program";  // GUARDED_BY(g_reader_mu)

std::string ReaderName() {
  std::lock_guard<std::mutex> lock(g_reader_mu);
  return g_reader;
}

}  // namespace

void SetReaderName(std::string name) {
  std::lock_guard<std::mutex> lock(g_reader_mu);
  g_reader = std::move(name);
}

Status CheckVersion(const nlohmann::json& j, std::string_view what) {
  auto it = j.find("v");
  if (it == j.end()) return Status::Ok();  // written before versions were: version 1
  if (!it->is_number_integer() || it->get<int64_t>() < 1)
    return Status::InvalidArgument(std::string(what) + ": \"v\" is not a protocol version");
  int64_t v = it->get<int64_t>();
  if (v <= kProtocolVersion) return Status::Ok();
  return Status::Unimplemented(std::string(what) + " uses protocol version " + std::to_string(v) + "; " +
                               ReaderName() + " reads version " + std::to_string(kProtocolVersion) +
                               " (upgrade it to talk to that peer)");
}

Result<nlohmann::json> ParseMessage(std::string_view data, std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Err(Status::InvalidArgument(std::string(what) + " is not a JSON object"));
  SP_RETURN_IF_ERROR(CheckVersion(j, what));
  return j;
}

std::string Serialize(nlohmann::json j) {
  j["v"] = kProtocolVersion;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EncodeReply(const nlohmann::json& result) {
  return Serialize({{"ok", true}, {"result", result}});
}

std::string EncodeReply(const Status& error) {
  return Serialize({{"ok", false}, {"error", {{"code", CodeName(error.code())}, {"message", error.message()}}}});
}

Result<nlohmann::json> DecodeReply(std::string_view data) {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    std::string head(data.substr(0, 80));
    return Err(Status::Internal("unexpected reply from daemon: \"" + head + "\""));
  }
  SP_RETURN_IF_ERROR(CheckVersion(j, "the daemon's reply"));
  if (j["ok"].get<bool>()) return j.contains("result") ? j["result"] : nlohmann::json::object();
  const auto& e = j.contains("error") && j["error"].is_object() ? j["error"] : nlohmann::json::object();
  std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "internal";
  std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
  return Err(Status(CodeFromName(code), msg));
}

}  // namespace sp::protocol
