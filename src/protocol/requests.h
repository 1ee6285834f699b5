// Requests to a daemon's slots (docs/protocol.md): deploy on slot/config, pull
// on slot/pull, and the empty request of images, prune, restart, stop and
// inspect. Requests come from the network: decoding checks every field and
// refuses anything malformed with InvalidArgument, a newer protocol version
// with Unimplemented.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp::protocol {

std::string EncodeDeployRequest(const DeployRequest& r);
// `files` arrives base64-encoded (JSON cannot carry bytes) and is decoded here.
Result<DeployRequest> DecodeDeployRequest(std::string_view data);

std::string EncodePullRequest(const PullRequest& r);
Result<PullRequest> DecodePullRequest(std::string_view data);  // "reference" is required

// The body of a request that has no parameters: {"v": 1}.
std::string EncodeEmptyRequest();
// Accepts an empty payload or a JSON object of a readable version (its fields are ignored).
Status DecodeEmptyRequest(std::string_view data, std::string_view what);

}  // namespace sp::protocol
