// Where the embedded router listens, chosen once and then kept.
//
// The first start of a router picks its address from the requested `listen`
// ("127.0.0.1:4222"; port 0 = any free port; a taken port falls back to any
// free port unless the caller insists on it) and records it in a file. Every
// later start (a restart, or a new daemon with the same state directory)
// reuses the recorded address, so clients that were told the URL keep
// working. Functions are thread-safe; two processes resolving the same file
// at once is not supported.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

struct ListenAddress {
  std::string host;  // an IPv4 address ("localhost" is stored as 127.0.0.1)
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// Parses "host:port" (IPv4 literal or "localhost", port 0-65535).
Result<ListenAddress> ParseListenAddress(std::string_view text);

// Whether a listener could bind the address right now (with SO_REUSEADDR, as
// nats-server does, so sockets in TIME_WAIT do not count as taken).
bool PortIsFree(const ListenAddress& addr);

// A port the kernel reports free on `host` (binds port 0 and reads it back).
Result<int> PickFreePort(const std::string& host);

// The router's address: the one recorded in `address_file` if there is one
// (unless `strict`, which always uses `listen` exactly), otherwise chosen
// from `listen` as described above and recorded in `address_file`.
Result<ListenAddress> ResolveRouterAddress(const std::string& address_file, std::string_view listen,
                                           bool strict);

}  // namespace sp
