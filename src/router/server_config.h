// The nats-server configuration file of the embedded router.
//
// Loopback listener, a server name (JetStream needs one), the payload limit,
// JetStream with its store in <router dir>/jetstream, the pid file and log
// file (no debug or trace logging), and the operator-mode auth fragment from
// auth/namespace (RouterAuthConfig). Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "router/router_address.h"

namespace sp {

struct ServerConfig {
  std::string server_name;
  ListenAddress listen;
  int64_t max_payload = 0;
  std::string store_dir;  // JetStream: nats-server keeps its store in <store_dir>/jetstream
  std::string pid_file;
  std::string log_file;
  std::string auth;  // RouterAuthConfig(ns)
};

std::string RenderServerConfig(const ServerConfig& config);

// `text` as a double-quoted nats-server config string (quotes, backslashes
// and control characters escaped), so paths with spaces or '#' are safe.
std::string QuoteConfigString(const std::string& text);

}  // namespace sp
