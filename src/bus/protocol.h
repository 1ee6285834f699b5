// The reply envelope shared by every request/reply slot (deploy, restart,
// stop, inspect), see docs/protocol.md:
//   success: {"ok": true, "result": <any JSON>}
//   failure: {"ok": false, "error": {"code": "resource_exhausted", "message": "..."}}
// Decoding is defensive: a reply that is not an envelope becomes an Internal
// error naming what arrived, never a crash.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

std::string EncodeReply(const nlohmann::json& result);
std::string EncodeReply(const Status& error);
// Returns the "result" of a success reply, or the error it carries.
Result<nlohmann::json> DecodeReply(std::string_view data);

// Parses a request body as a JSON object (InvalidArgument otherwise).
Result<nlohmann::json> ParseJsonObject(std::string_view data, std::string_view what);

}  // namespace sp
