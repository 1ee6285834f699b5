// Fully populated example messages for the protocol's tests: every optional
// field set, every list non-empty, so a round trip or a comparison with
// docs/protocol.md sees every field. Test-only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/envelope.h"
#include "protocol/image_messages.h"
#include "protocol/published.h"
#include "protocol/requests.h"
#include "protocol/service_messages.h"
#include "spawnpoint/messages.h"

namespace sp::protocol::testing {

// Every message the protocol documents, by the name docs/protocol.md gives its
// example (`<!-- message: NAME -->` before a ```json block), encoded from the samples.
struct NamedMessage {
  std::string name;
  std::string encoded;  // the bytes on the wire
};


inline DeployRequest SampleDeployRequest() {
  return {"hello", "cpuShares: 64\nmemory: 32\nrun: [/bin/true]\n", "deploy.yaml", std::string("\x1f\x8b\0\1", 4),
          "-----BEGIN NATS USER JWT-----\n..."};
}

inline PullRequest SamplePullRequest() { return {"127.0.0.1:5000/web:1.0"}; }

inline ServiceDescription SampleServiceDescription() {
  ServiceDescription d;
  d.name = "web";
  d.host = "oski/spawnpoint/alpha";
  d.state = "backoff";
  d.pid = 4242;
  d.monitor_pid = 4240;
  d.instance = 3;
  d.restarts = 2;
  d.address = "10.88.0.5";
  d.image = {"127.0.0.1:5000/web:1.0", "sha256:aa", "sha256:bb"};
  d.ports = {{8080, 80, "tcp"}, {5353, 53, "udp"}};
  d.cpu_shares = 512;
  d.memory_mib = 256;
  d.used_cpu_shares = 12.5;
  d.used_memory_mib = 3.25;
  d.auto_restart = true;
  d.cgroups_path = "/spawnpoint/0a1b2c/web";
  d.created_at = "2026-12-08T10:00:00.000Z";
  d.started_at = "2026-12-08T10:00:01.000Z";
  d.next_start_at = "2026-12-08T10:00:05.000Z";
  d.last_exit = ExitDescription{137, 9, true, "2026-12-08T10:00:03.000Z"};
  d.events = std::vector<ServiceEvent>{{"2026-12-08T10:00:00.000Z", "deployed", "cpuShares 512"},
                                       {"2026-12-08T10:00:03.000Z", "oom", "killed: out of memory"}};
  return d;
}

inline StopResult SampleStopResult() { return {"web", "stopped"}; }

inline ImageDescription SampleImageDescription() {
  return {"127.0.0.1:5000/web:1.0", "sha256:aa", "sha256:bb", 1024, 4096, "2026-12-08T10:00:00.000Z", {"web"}};
}

inline ImageList SampleImageList() { return {{SampleImageDescription()}, 8192}; }

inline PruneReport SamplePruneReport() { return {{"127.0.0.1:5000/old:1.0"}, 3, 2, 65536}; }

inline DaemonHeartbeat SampleDaemonHeartbeat() {
  return {"0.1.0", "alpha", "oski/spawnpoint/alpha", "2026-12-08T10:00:00.000Z", 1796724000000, 10000, 2048, 1536,
          4096, 3840, {{"web", "running"}}};
}

inline ServiceHeartbeat SampleServiceHeartbeat() {
  return {"web", "oski/spawnpoint/alpha", "2026-12-08T10:00:00.000Z", 1796724000000, 10000, "running", 4242, 1, 512,
          256, 12.5, 3.25, "127.0.0.1:5000/web:1.0", {{8080, 80, "tcp"}}};
}

inline LogMessage SampleLogMessage() {
  return {"web", {{"2026-12-08T10:00:00.123456789Z", "stdout", "hello"}, {"2026-12-08T10:00:00.2Z", "spawnd", "started: pid 42"}}};
}

inline DeployProgress SampleProgress() {
  return {"web", "pulling", "127.0.0.1:5000/web:1.0", "pulling 1 layer", 1796724000000,
          {{"sha256:cc", "layer", 1024, 512, "downloading"}}};
}

inline std::vector<NamedMessage> AllSampleMessages() {
  return {
      {"deploy-request", EncodeDeployRequest(SampleDeployRequest())},
      {"pull-request", EncodePullRequest(SamplePullRequest())},
      {"empty-request", EncodeEmptyRequest()},
      {"reply-ok", EncodeReply(nlohmann::json::object())},
      {"reply-error", EncodeReply(Status::ResourceExhausted("insufficient resources"))},
      {"service-description", ToJson(SampleServiceDescription()).dump()},
      {"stop-result", ToJson(SampleStopResult()).dump()},
      {"image-list", ToJson(SampleImageList()).dump()},
      {"image-description", ToJson(SampleImageDescription()).dump()},
      {"prune-report", ToJson(SamplePruneReport()).dump()},
      {"daemon-heartbeat", EncodeDaemonHeartbeat(SampleDaemonHeartbeat())},
      {"service-heartbeat", EncodeServiceHeartbeat(SampleServiceHeartbeat())},
      {"log-message", EncodeLogMessage(SampleLogMessage())},
      {"progress", EncodeProgress(SampleProgress())},
  };
}

}  // namespace sp::protocol::testing
