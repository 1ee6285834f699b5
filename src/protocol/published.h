// What daemons publish without being asked: heartbeats (kept as last values by
// the router, read by scan) and log messages (kept by the log stream, read by
// tail). Each is a whole message with its own "v" (envelope.h).
//
// Decoders read defensively and leniently (fields.h): these come from the
// network and from streams that may hold messages of older or newer daemons,
// and one bad field must not hide a host from a scan or a line from a tail.
// What is not an object, or is of a newer version, is refused.
// Decode(Encode(x)) == x.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp::protocol {

std::string EncodeDaemonHeartbeat(const DaemonHeartbeat& h);
Result<DaemonHeartbeat> DecodeDaemonHeartbeat(std::string_view data);

std::string EncodeServiceHeartbeat(const ServiceHeartbeat& h);
Result<ServiceHeartbeat> DecodeServiceHeartbeat(std::string_view data);

// Service output need not be UTF-8: what is not is replaced, never refused.
std::string EncodeLogMessage(const LogMessage& m);
Result<LogMessage> DecodeLogMessage(std::string_view data);

}  // namespace sp::protocol
