// Bad input never takes the daemon down or changes anything: garbage on its
// subjects, a malformed daemon config. And decommission leaves a clean host.
#include <gtest/gtest.h>
#include <signal.h>

#include "bus/bus.h"
#include "protocol/envelope.h"
#include "harness.h"
#include "uri/uri.h"
#include "util/fs.h"

namespace sp::test {
namespace {

std::unique_ptr<Bus> AdminBus(TestDaemon& d) {
  auto client = nlohmann::json::parse(ReadText(d.state_dir() + "/client.json"));
  BusOptions o;
  o.url = client["router"];
  o.creds_file = client["creds"];
  auto bus = Bus::Connect(o);
  EXPECT_TRUE(bus) << bus.error().ToString();
  return bus ? std::move(*bus) : nullptr;
}

TEST(Robustness, GarbageOnEverySlotGetsAnErrorReply) {
  TestDaemon d;
  d.Start();
  auto bus = AdminBus(d);
  ASSERT_TRUE(bus);
  SpawnpointUris uris(d.uri());
  std::string config = UriToSubject(uris.DaemonConfigSlot());
  const std::vector<std::string> garbage = {
      "",
      "not json",
      "[1,2,3]",
      "{\"config\": 7}",
      "{\"name\": \"../../etc\", \"config\": \"cpuShares: 1\\nmemory: 1\\nrun: [x]\"}",
      "{\"name\": \"x\", \"config\": \"cpuShares: 64\\nmemory: 32\\nrun: [/bin/true]\", \"files\": \"!!notbase64\"}",
      "{\"name\": \"x\", \"config\": \"cpuShares: 64\\nmemory: 32\\nrun: [/bin/true]\", \"files\": \"AAAA\"}",
      std::string("{\"config\": \"") + std::string(100000, '[') + "\"}",
      std::string("\xff\xfe\x00garbage", 11),
  };
  for (const std::string& g : garbage) {
    auto reply = bus->Request(config, g, Millis(10000));
    ASSERT_TRUE(reply) << "no reply to garbage " << g.substr(0, 60) << ": " << reply.error().ToString();
    auto decoded = protocol::DecodeReply(reply->data);
    EXPECT_FALSE(decoded) << "garbage was accepted: " << g.substr(0, 60);
  }
  for (const char* slot : {"restart", "stop", "inspect", "bogus"}) {
    std::string subject = UriToSubject(uris.ServicePrefix("nosuch") + "/slot/" + slot);
    auto reply = bus->Request(subject, "garbage", Millis(10000));
    ASSERT_TRUE(reply) << slot;
    EXPECT_FALSE(protocol::DecodeReply(reply->data)) << slot;
  }
  EXPECT_TRUE(d.Scan()["hosts"][0]["services"].empty()) << "nothing was deployed";
  EXPECT_EQ(d.Scan()["hosts"][0]["cpuShares"]["available"], 2048);
  EXPECT_TRUE(ProcessAlive(d.pid())) << "the daemon survived:\n" << d.DaemonLog();
  std::string ok = d.WriteFile("ok.yaml", "cpuShares: 64\nmemory: 32\nrun: [/bin/sleep, '100']\n");
  EXPECT_EQ(d.Spawnctl({"deploy", "-c", ok, "-n", "ok", "-t", "0s"}).exit_code, 0) << "and still works";
}

TEST(Robustness, ParameterlessSlotsTakeAnEmptyRequestAndRefuseGarbage) {
  TestDaemon d;
  d.Start();
  std::string ok = d.WriteFile("ok.yaml", "cpuShares: 64\nmemory: 32\nrun: [/bin/sleep, '100']\n");
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", ok, "-n", "ok", "-t", "0s"}).exit_code, 0);
  auto bus = AdminBus(d);
  ASSERT_TRUE(bus);
  std::string inspect = UriToSubject(SpawnpointUris(d.uri()).ServiceInspectSlot("ok"));
  for (std::string body : {"", "{}", "{\"v\": 1}"}) {
    auto reply = bus->Request(inspect, body, Millis(10000));
    ASSERT_TRUE(reply) << body;
    EXPECT_TRUE(protocol::DecodeReply(reply->data)) << "an empty request is read: " << body;
  }
  for (std::string body : {"garbage", "[1]"}) {
    auto reply = bus->Request(inspect, body, Millis(10000));
    ASSERT_TRUE(reply) << body;
    auto decoded = protocol::DecodeReply(reply->data);
    ASSERT_FALSE(decoded) << body;
    EXPECT_EQ(decoded.error().code(), Code::kInvalidArgument) << body;
  }
  auto newer = bus->Request(inspect, "{\"v\": 2}", Millis(10000));
  ASSERT_TRUE(newer);
  auto decoded = protocol::DecodeReply(newer->data);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), Code::kUnimplemented) << decoded.error().message();
}

TEST(Robustness, HostileIncludedArchivesAreRefusedAndNothingStarts) {
  TestDaemon d;
  d.Start();
  auto bus = AdminBus(d);
  ASSERT_TRUE(bus);
  std::string w = d.work_dir();
  const std::vector<std::pair<std::string, std::string>> hostile = {
      // An entry with an absolute path.
      {"absolute path", "tar -czf - --absolute-names /etc/hostname | base64 -w0"},
      // 300 MB of zeros: a few hundred KB compressed, over the 256 MiB unpack limit.
      {"size bomb", "head -c 300000000 /dev/zero > " + w + "/zeros && tar -C " + w +
                        " -czf - zeros | base64 -w0; rm -f " + w + "/zeros"},
      // A symlink out of the service directory, then a file written through it.
      {"symlink escape", "mkdir -p " + w + "/evil && ln -sfn /etc " + w + "/evil/link && tar -C " + w +
                             " -czf - evil | base64 -w0"},
  };
  for (const auto& [what, cmd] : hostile) {
    auto archive = RunCommand({"sh", "-c", cmd}, CommandOptions{"", {}, false, Millis(60000)});
    ASSERT_TRUE(archive && archive->ok()) << what;
    nlohmann::json req = {{"name", "hostile"},
                          {"config", "cpuShares: 64\nmemory: 32\nrun: [/bin/sleep, '100']\n"},
                          {"files", archive->out}};
    auto reply = bus->Request(UriToSubject(SpawnpointUris(d.uri()).DaemonConfigSlot()), req.dump(), Millis(30000));
    ASSERT_TRUE(reply) << what;
    auto decoded = protocol::DecodeReply(reply->data);
    ASSERT_FALSE(decoded) << what << " was accepted";
    EXPECT_EQ(decoded.error().code(), Code::kInvalidArgument) << what << ": " << decoded.error().ToString();
    EXPECT_TRUE(d.Inspect("hostile").is_null()) << what;
    EXPECT_EQ(d.Scan()["hosts"][0]["cpuShares"]["available"], 2048) << what;
  }
  EXPECT_TRUE(ProcessAlive(d.pid()));
}

TEST(Robustness, BadDaemonConfigIsRefusedWithFileLineAndKey) {
  TestDaemon d;
  std::string bad = d.WriteFile("bad.yml", "path: test/spawnpoint/bad\ncpuShares: 1024\nmemroy: 512\n");
  auto r = d.Spawnd({"run", "-c", bad}, Millis(10000));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.yml:3:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memroy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memory"), std::string::npos) << "suggests the right key: " << r.err;
  std::string missing = d.WriteFile("missing.yml", "path: test/spawnpoint/bad\ncpuShares: 1024\n");
  r = d.Spawnd({"run", "-c", missing}, Millis(10000));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("memory"), std::string::npos) << r.err;
}

TEST(Robustness, DecommissionStopsEverythingAndCleansTheHost) {
  TestDaemon d;
  d.Start();
  std::string cfg = d.WriteFile("s.yaml", "cpuShares: 64\nmemory: 32\nrun: [/bin/sleep, '1000']\n");
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "a", "-t", "0s"}).exit_code, 0);
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "b", "-t", "0s"}).exit_code, 0);
  int pa = d.Inspect("a")["pid"].get<int>(), pb = d.Inspect("b")["pid"].get<int>();
  std::string cgroup = d.Inspect("a")["cgroupsPath"].get<std::string>();
  d.Kill(SIGTERM);
  EXPECT_TRUE(ProcessAlive(pa)) << "SIGTERM to spawnd leaves services running";
  auto r = d.Spawnd({"decommission", "-c", d.config_path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(ProcessAlive(pa));
  EXPECT_FALSE(ProcessAlive(pb));
  EXPECT_FALSE(RunCommand({"ip", "link", "show", d.bridge()})->ok()) << "bridge removed";
  EXPECT_EQ(RunCommand({"iptables", "-t", "nat", "-S", "PREROUTING"})->out.find(d.bridge()), std::string::npos);
  std::string parent = cgroup.substr(0, cgroup.rfind('/'));
  EXPECT_FALSE(PathExists("/sys/fs/cgroup/memory" + parent)) << "the daemon's cgroups are gone";
  d.Start();
  EXPECT_TRUE(d.Scan()["hosts"][0]["services"].empty());
}

}  // namespace
}  // namespace sp::test
