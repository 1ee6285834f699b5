#include "daemon/heartbeats.h"

#include <gtest/gtest.h>

#include "protocol/published.h"

namespace sp {
namespace {

TEST(CpuRate, SharesFromCpuTimeDelta) {
  CpuRate r;
  // First sample: average since start. 500 ms of CPU over 1000 ms = half a core.
  EXPECT_DOUBLE_EQ(r.Update("a", 500'000'000, 2000, 1000), 512.0);
  // Next: 2 s of CPU over 1 s = two cores.
  EXPECT_DOUBLE_EQ(r.Update("a", 2'500'000'000, 3000, 1000), 2048.0);
  // A counter that went backwards (new instance) restarts from its start time.
  EXPECT_DOUBLE_EQ(r.Update("a", 100'000'000, 4000, 3900), 1024.0);
}

TEST(Heartbeat, CarriesResourcesAndServices) {
  HostInfo h{"0.1.0", "alpha", "oski/spawnpoint/alpha", 10000};
  ServiceView v;
  v.name = "demosvc";
  v.state = ServiceState::kRunning;
  v.reserved = {512, 256};
  auto d = nlohmann::json::parse(
      protocol::EncodeDaemonHeartbeat(MakeDaemonHeartbeat(h, 1'700'000'000'123, {2048, 4096}, {1536, 3840}, {v})));
  EXPECT_EQ(d["cpuShares"]["available"], 1536);
  EXPECT_EQ(d["memory"]["total"], 4096);
  EXPECT_EQ(d["services"][0]["name"], "demosvc");
  EXPECT_EQ(d["time"], "2023-11-14T22:13:20.123Z");
  ServiceDetails details;
  details.image.reference = "127.0.0.1:5000/web:1.0";
  details.ports = {{8080, 80, "tcp"}};
  auto s = nlohmann::json::parse(protocol::EncodeServiceHeartbeat(MakeServiceHeartbeat(h, 5, v, {1.5, 3.25}, details)));
  EXPECT_EQ(s["cpuShares"], 512);
  EXPECT_DOUBLE_EQ(s["usedCpuShares"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(s["usedMemory"].get<double>(), 3.25);
  EXPECT_EQ(s["image"], "127.0.0.1:5000/web:1.0");
  EXPECT_EQ(s["ports"][0]["hostPort"], 8080);
}

}  // namespace
}  // namespace sp
