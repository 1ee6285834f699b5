// The frame every message travels in: the protocol version and, for the
// request/reply slots (deploy, pull, images, prune, restart, stop, inspect),
// the reply envelope (docs/protocol.md):
//   success: {"v": 1, "ok": true, "result": <the slot's result>}
//   failure: {"v": 1, "ok": false, "error": {"code": "resource_exhausted", "message": "..."}}
//
// ParseMessage is the first step of every decoder: the bytes must be one JSON
// object whose "v" (missing = 1) this build can read. A newer version is
// refused with Code::kUnimplemented and a message naming both versions, so a
// user knows which side to upgrade. Decoding never throws; a reply that is not
// an envelope becomes an Internal error quoting what arrived.
//
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp::protocol {

// Who reads, for the upgrade hint in a version error ("this spawnctl", "this daemon").
void SetReaderName(std::string name);

// Checks the "v" of a decoded object; `what` names the message in errors.
Status CheckVersion(const nlohmann::json& j, std::string_view what);
// Parses `data` as a JSON object of a version this build reads.
Result<nlohmann::json> ParseMessage(std::string_view data, std::string_view what);
// `j` (an object) with "v" set to kProtocolVersion, serialised (invalid UTF-8 is replaced, never thrown on).
std::string Serialize(nlohmann::json j);

std::string EncodeReply(const nlohmann::json& result);
std::string EncodeReply(const Status& error);
// The "result" of a success reply, or the error a failure reply carries.
Result<nlohmann::json> DecodeReply(std::string_view data);

}  // namespace sp::protocol
