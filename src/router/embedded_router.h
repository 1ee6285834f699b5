// The embedded router: the nats-server that `spawnd run` starts as its child
// when no external router is configured.
//
// Everything lives in `RouterOptions::dir` (<stateDir>/router):
// nats-server.conf, nats-server.pid, nats-server.log (moved to
// nats-server.log.1 at a start once it passes 16 MiB), `address` (the address
// chosen on the first start, reused ever after; see router_address.h) and
// jetstream/ (the JetStream store, kept across restarts). The server trusts
// the installation's operator (auth/namespace.h), so only users issued by
// the namespace can connect, with the permissions in their JWTs.
//
// The server is a child of this process and gets SIGTERM when the thread
// that started it exits (PR_SET_PDEATHSIG), so call Start() and Restart() from
// a thread that lives as long as the daemon. A server left running by an
// earlier daemon with the same dir is stopped (by the PID in its pid file,
// after checking /proc/<pid>/exe) before a new one starts.
//
// EmbeddedRouter owns the process: the destructor stops it. Methods are
// thread-safe (one internal mutex); Stop and Restart block for up to a few
// seconds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "auth/namespace.h"
#include "router/router_address.h"
#include "util/status.h"

namespace sp {

struct RouterOptions {
  std::string dir;                        // <stateDir>/router
  std::string listen = "127.0.0.1:4222";  // port 0 = any free port
  bool prefer_listen_port_only = false;   // true: use `listen` exactly, never fall back or reuse a record
  std::string server_binary = "nats-server";
  std::string server_name = "spawnpoint";
  int64_t max_payload = 8 << 20;
};

class EmbeddedRouter {
 public:
  // Starts nats-server and waits (up to 10 s) until it accepts TCP
  // connections. Unavailable if it exits or its address is taken,
  // DeadlineExceeded if it does not come up; the message holds its log.
  // REQUIRES: ns was loaded by LoadOrCreateNamespace.
  static Result<std::unique_ptr<EmbeddedRouter>> Start(const RouterOptions& opts, const Namespace& ns);

  EmbeddedRouter(const EmbeddedRouter&) = delete;
  EmbeddedRouter& operator=(const EmbeddedRouter&) = delete;
  ~EmbeddedRouter();  // stops the server

  std::string url() const;  // "nats://127.0.0.1:PORT"
  int port() const;
  pid_t pid() const;  // -1 when not running
  // Non-blocking: false once the server has exited (for whatever reason).
  bool Alive();
  // Stops the server if it runs and starts it again: same address,
  // identities and JetStream store.
  Status Restart();
  // SIGTERM, then SIGKILL after 5 s. Idempotent.
  Status Stop();
  // Rewrites the config from `ns` (new revocations, signing keys) and makes
  // the running server reload it (SIGHUP): connected clients whose JWT is
  // now revoked are cut off within milliseconds; others are not disturbed.
  Status Reload(const Namespace& ns);

 private:
  EmbeddedRouter(RouterOptions opts, ListenAddress addr, std::string binary, std::string config_text);
  Status LaunchLocked();
  Status WaitReadyLocked(off_t log_offset);
  Status StopLocked();
  std::string Path(const char* name) const;

  const RouterOptions opts_;
  const ListenAddress addr_;
  const std::string binary_;       // absolute path
  static std::string RenderConfig(const RouterOptions& opts, const ListenAddress& addr, const Namespace& ns);
  std::string config_text_;  // GUARDED_BY(mu_); rewritten to the config file on every launch
  mutable std::mutex mu_;
  pid_t pid_ = -1;
};

}  // namespace sp
