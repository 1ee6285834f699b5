// spawn-bench-heartbeats: pretends to be a fleet of Spawnpoint daemons, for the control-plane rows
// of bench/scale.sh (how long `spawnctl scan` takes with 100 hosts instead of 1).
//
// It connects to a router as the local daemon's admin entity (the router and .creds file come from
// sp::ResolveEndpoint, exactly as spawnctl finds them: flags, then SPAWNPOINT_ROUTER /
// SPAWNPOINT_ENTITY, then <SPAWNPOINT_STATE_DIR>/client.json) and, every interval until SIGTERM or
// SIGINT, publishes for each fake host <prefix>NNN (NNN = 001, 002, ...) the daemon heartbeat and
// one heartbeat per fake service, in the shape src/daemon/heartbeat.cc gives them, on the subjects
// uri/uri.h names (SpawnpointUris::DaemonHeartbeat / ServiceHeartbeat). Those subjects are the ones
// the router's SPAWNPOINT_HEARTBEATS stream captures, so a scan sees the fake hosts as live hosts.
// The payloads are built here rather than with the daemon's own functions so this tool links only
// the client side (sp_client, sp_bus, sp_uri, sp_util).
//
// After each round it flushes the connection, so once it prints "published round 1" every
// heartbeat of the first round has reached the router. Exit status: 0 after a signal, 1 when the
// connection or a publish fails, 2 for bad flags.
//
//   spawn-bench-heartbeats [--hosts 100] [--services 3] [--interval 10s]
//                          [--prefix local/spawnpoint/sim] [--router URL] [--entity FILE]
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "protocol/published.h"
#include "spawnpoint/client.h"
#include "uri/uri.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/status.h"

namespace {

// What the fake daemons advertise; the figures match a small host with a few small services.
constexpr const char* kVersion = "0.1.0";
constexpr int64_t kHostCpuShares = 4096;
constexpr int64_t kHostMemoryMib = 4096;
constexpr int64_t kServiceCpuShares = 32;
constexpr int64_t kServiceMemoryMib = 16;
constexpr const char* kImage = "registry.lan:5000/bench/busybox:1";

struct Flags {
  int hosts = 100;
  int services = 3;
  sp::Millis interval{10000};
  std::string prefix = "local/spawnpoint/sim";
  sp::Endpoint endpoint;
};

struct FakeHost {
  std::string uri;  // base URI, e.g. local/spawnpoint/sim001
  std::vector<std::string> services;
};

sp::Result<int> ParseCount(std::string_view flag, const std::string& text, int max) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 0 || v > max)
    return sp::Err(sp::Status::InvalidArgument(std::string(flag) + ": expected an integer from 0 to " +
                                               std::to_string(max) + ", got '" + text + "'"));
  return static_cast<int>(v);
}

sp::Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return sp::Err(sp::Status::InvalidArgument(flag + " needs a value"));
    std::string value = argv[++i];
    if (flag == "--hosts") {
      SP_ASSIGN_OR_RETURN(f.hosts, ParseCount(flag, value, 999));
    } else if (flag == "--services") {
      SP_ASSIGN_OR_RETURN(f.services, ParseCount(flag, value, 1000));
    } else if (flag == "--interval") {
      SP_ASSIGN_OR_RETURN(f.interval, sp::ParseDuration(value));
      if (f.interval.count() < 100)
        return sp::Err(sp::Status::InvalidArgument("--interval: at least 100ms, got '" + value + "'"));
    } else if (flag == "--prefix") {
      f.prefix = value;
    } else if (flag == "--router") {
      f.endpoint.router = value;
    } else if (flag == "--entity") {
      f.endpoint.creds = value;
    } else {
      return sp::Err(sp::Status::InvalidArgument("unknown flag '" + flag + "'"));
    }
  }
  // The first host's URI stands for all: the rest differ only in the digits.
  SP_RETURN_IF_ERROR(sp::ValidateUri(f.prefix + "001", "--prefix (followed by a host number)"));
  return f;
}

std::vector<FakeHost> MakeHosts(const Flags& f) {
  std::vector<FakeHost> hosts;
  for (int h = 1; h <= f.hosts; ++h) {
    char num[16];
    std::snprintf(num, sizeof num, "%03d", h);
    FakeHost host{f.prefix + num, {}};
    for (int s = 1; s <= f.services; ++s) host.services.push_back("svc" + std::to_string(s));
    hosts.push_back(std::move(host));
  }
  return hosts;
}

std::string Alias(const std::string& uri) { return uri.substr(uri.rfind('/') + 1); }

// A daemon heartbeat like spawnd's, encoded by the protocol's own encoder.
std::string DaemonPayload(const FakeHost& host, int64_t now_ms, int64_t interval_ms) {
  int64_t n = static_cast<int64_t>(host.services.size());
  sp::DaemonHeartbeat hb{kVersion,         Alias(host.uri),
                         host.uri,         sp::Rfc3339Millis(now_ms),
                         now_ms,           interval_ms,
                         kHostCpuShares,   kHostCpuShares - n * kServiceCpuShares,
                         kHostMemoryMib,   kHostMemoryMib - n * kServiceMemoryMib,
                         {}};
  for (const auto& s : host.services) hb.services.push_back({s, "running"});
  return sp::protocol::EncodeDaemonHeartbeat(hb);
}

// A service heartbeat like spawnd's; `pid` is made up.
std::string ServicePayload(const FakeHost& host, const std::string& name, int64_t pid, int64_t now_ms,
                           int64_t interval_ms) {
  sp::ServiceHeartbeat hb{name, host.uri, sp::Rfc3339Millis(now_ms), now_ms, interval_ms, "running", pid, 0,
                          kServiceCpuShares, kServiceMemoryMib, 0.0, 0.5, kImage, {}};
  return sp::protocol::EncodeServiceHeartbeat(hb);
}

sp::Status PublishRound(sp::Bus& bus, const std::vector<FakeHost>& hosts, int64_t interval_ms) {
  int64_t now = sp::WallClockMs();
  int64_t pid = 1000;
  for (const FakeHost& h : hosts) {
    sp::SpawnpointUris uris{h.uri};
    for (const std::string& s : h.services) {
      std::string body = ServicePayload(h, s, ++pid, now, interval_ms);
      SP_RETURN_IF_ERROR(bus.Publish(sp::UriToSubject(uris.ServiceHeartbeat(s)), body));
    }
    std::string body = DaemonPayload(h, now, interval_ms);
    SP_RETURN_IF_ERROR(bus.Publish(sp::UriToSubject(uris.DaemonHeartbeat()), body));
  }
  return bus.Flush(sp::Millis(10000));
}

sp::Result<std::unique_ptr<sp::Bus>> ConnectAsAdmin(const sp::Endpoint& given) {
  SP_ASSIGN_OR_RETURN(sp::Endpoint ep, sp::ResolveEndpoint(given));
  sp::BusOptions o;
  o.url = ep.router;
  o.creds_file = ep.creds;
  o.name = "spawn-bench-heartbeats";
  return sp::Bus::Connect(o);
}

// Blocks SIGTERM and SIGINT so they are taken with WaitForStop instead of ending the process.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Sleeps for `d`; true when a stop signal arrived meanwhile.
bool WaitForStop(const sigset_t& set, sp::Millis d) {
  timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>(d.count() % 1000) * 1000000L};
  for (;;) {
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return true;
    if (errno == EAGAIN) return false;
    // EINTR (another signal): wait again; the interval restarts, which only delays one round.
  }
}

int Run(const Flags& flags) {
  sigset_t stop = BlockStopSignals();
  auto bus = ConnectAsAdmin(flags.endpoint);
  if (!bus) {
    std::fprintf(stderr, "spawn-bench-heartbeats: %s\n", bus.error().ToString().c_str());
    return 1;
  }
  std::vector<FakeHost> hosts = MakeHosts(flags);
  for (long round = 1;; ++round) {
    sp::Status st = PublishRound(**bus, hosts, flags.interval.count());
    if (!st.ok()) {
      std::fprintf(stderr, "spawn-bench-heartbeats: round %ld: %s\n", round, st.ToString().c_str());
      return 1;
    }
    std::printf("published round %ld: %d hosts, %d services each\n", round, flags.hosts, flags.services);
    std::fflush(stdout);
    if (WaitForStop(stop, flags.interval)) return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv);
  if (!flags) {
    std::fprintf(stderr, "spawn-bench-heartbeats: %s\n", flags.error().message().c_str());
    std::fprintf(stderr,
                 "usage: spawn-bench-heartbeats [--hosts N] [--services N] [--interval 10s] [--prefix URI] "
                 "[--router URL] [--entity FILE]\n");
    return 2;
  }
  return Run(*flags);
}
