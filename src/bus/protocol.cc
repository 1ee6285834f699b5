// Reply envelope encoding and decoding (see protocol.h).
#include "bus/protocol.h"

namespace sp {

std::string EncodeReply(const nlohmann::json& result) {
  return nlohmann::json{{"ok", true}, {"result", result}}.dump();
}

std::string EncodeReply(const Status& error) {
  return nlohmann::json{{"ok", false}, {"error", {{"code", CodeName(error.code())}, {"message", error.message()}}}}
      .dump();
}

Result<nlohmann::json> ParseJsonObject(std::string_view data, std::string_view what) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Err(Status::InvalidArgument(std::string(what) + " is not a JSON object"));
  return j;
}

Result<nlohmann::json> DecodeReply(std::string_view data) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    std::string head(data.substr(0, 80));
    return Err(Status::Internal("unexpected reply from daemon: \"" + head + "\""));
  }
  if (j["ok"].get<bool>()) return j.contains("result") ? j["result"] : nlohmann::json::object();
  const auto& e = j.contains("error") && j["error"].is_object() ? j["error"] : nlohmann::json::object();
  std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "internal";
  std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
  return Err(Status(CodeFromName(code), msg));
}

}  // namespace sp
