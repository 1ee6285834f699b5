// Tests of config.json rendering: the baseline, the spec's options and validation.
#include "runtime/bundle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace sp {
namespace {

using nlohmann::json;

ContainerSpec BasicSpec() {
  ContainerSpec s;
  s.id = "svc-1";
  s.args = {"/bin/sh", "-c", "echo hi"};
  s.env = {"FOO=bar"};
  s.rootfs = "/var/lib/spawnpoint/services/svc/rootfs";
  s.cgroups_path = "/spawnpoint/d1/svc";
  s.cpu_shares = 512;
  s.memory_bytes = 64 << 20;
  s.pids_limit = 100;
  s.mounts = {{"/srv/data", "bind", "/var/lib/spawnpoint/volumes/data", {"rbind", "rw"}}};
  return s;
}

json Render(const ContainerSpec& s, CgroupMode mode = CgroupMode::kV1) {
  auto text = RenderOciConfig(s, mode);
  EXPECT_TRUE(text) << text.error().ToString();
  return text ? json::parse(*text) : json();
}

std::vector<std::string> NamespaceTypes(const json& c) {
  std::vector<std::string> out;
  for (const auto& n : c["linux"]["namespaces"]) out.push_back(n["type"]);
  return out;
}

const json* FindMount(const json& c, const std::string& dest) {
  for (const auto& m : c["mounts"])
    if (m["destination"] == dest) return &m;
  return nullptr;
}

TEST(Bundle, BaselineProcessAndRoot) {
  json c = Render(BasicSpec());
  EXPECT_EQ(c["ociVersion"], "1.0.2");
  EXPECT_EQ(c["process"]["user"]["uid"], 0);
  EXPECT_EQ(c["process"]["noNewPrivileges"], true);
  EXPECT_EQ(c["process"]["terminal"], false);
  EXPECT_EQ(c["process"]["cwd"], "/srv/spawnpoint");
  EXPECT_EQ(c["process"]["args"], json({"/bin/sh", "-c", "echo hi"}));
  // A default PATH is added in front of the spec's variables.
  EXPECT_EQ(c["process"]["env"][0].get<std::string>().rfind("PATH=", 0), 0u);
  EXPECT_EQ(c["process"]["env"][1], "FOO=bar");
  auto caps = c["process"]["capabilities"]["bounding"].get<std::vector<std::string>>();
  EXPECT_EQ(caps.size(), 14u);
  EXPECT_NE(std::find(caps.begin(), caps.end(), "CAP_NET_BIND_SERVICE"), caps.end());
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN"), caps.end());
  EXPECT_EQ(c["process"]["capabilities"]["effective"], c["process"]["capabilities"]["bounding"]);
  const json& rl = c["process"]["rlimits"][0];
  EXPECT_EQ(rl["type"], "RLIMIT_NOFILE");
  EXPECT_EQ(rl["soft"], ContainerNofileLimit());
  EXPECT_EQ(rl["hard"], ContainerNofileLimit());
  EXPECT_LE(ContainerNofileLimit(), 4096u);
  EXPECT_EQ(c["root"]["path"], "/var/lib/spawnpoint/services/svc/rootfs");
  EXPECT_EQ(c["root"]["readonly"], true);
  EXPECT_EQ(c["hostname"], "svc-1");  // defaults to the id
}

TEST(Bundle, KeepsAnExplicitPath) {
  ContainerSpec s = BasicSpec();
  s.env = {"PATH=/opt/bin"};
  json c = Render(s);
  EXPECT_EQ(c["process"]["env"], json({"PATH=/opt/bin"}));
}

TEST(Bundle, StandardMountsThenSpecMounts) {
  json c = Render(BasicSpec());
  std::vector<std::string> dests;
  for (const auto& m : c["mounts"]) dests.push_back(m["destination"]);
  EXPECT_EQ(dests, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                             "/tmp", "/srv/data"}));
  auto sys_opts = (*FindMount(c, "/sys"))["options"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(sys_opts.begin(), sys_opts.end(), "ro"), sys_opts.end());
  EXPECT_EQ((*FindMount(c, "/tmp"))["type"], "tmpfs");
  auto tmp_opts = (*FindMount(c, "/tmp"))["options"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(tmp_opts.begin(), tmp_opts.end(), "nosuid"), tmp_opts.end());
  EXPECT_NE(std::find(tmp_opts.begin(), tmp_opts.end(), "nodev"), tmp_opts.end());
  EXPECT_EQ((*FindMount(c, "/srv/data"))["source"], "/var/lib/spawnpoint/volumes/data");
  EXPECT_EQ(c["linux"]["maskedPaths"].size(), 10u);
  EXPECT_EQ(c["linux"]["readonlyPaths"].size(), 5u);
}

TEST(Bundle, Resources) {
  json c = Render(BasicSpec());
  const json& r = c["linux"]["resources"];
  EXPECT_EQ(c["linux"]["cgroupsPath"], "/spawnpoint/d1/svc");
  EXPECT_EQ(r["cpu"]["shares"], 512);
  EXPECT_EQ(r["memory"]["limit"], 64 << 20);
  EXPECT_EQ(r["memory"]["swap"], 64 << 20);
  EXPECT_EQ(r["pids"]["limit"], 100);

  ContainerSpec unlimited = BasicSpec();
  unlimited.memory_bytes = 0;
  EXPECT_FALSE(Render(unlimited)["linux"]["resources"].contains("memory"));
}

TEST(Bundle, DevicesDenyAllThenAllowStandardAndConfigured) {
  ContainerSpec s = BasicSpec();
  s.devices = {"/dev/null"};
  json c = Render(s);
  const json& rules = c["linux"]["resources"]["devices"];
  EXPECT_EQ(rules[0]["allow"], false);
  EXPECT_EQ(rules[0]["access"], "rwm");
  EXPECT_FALSE(rules[0].contains("major"));
  int pts = 0, urandom = 0, configured = 0;
  for (size_t i = 1; i < rules.size(); ++i) {
    EXPECT_EQ(rules[i]["allow"], true);
    if (rules[i]["major"] == 136 && !rules[i].contains("minor")) ++pts;
    if (rules[i]["major"] == 1 && rules[i]["minor"] == 9) ++urandom;
    if (rules[i]["major"] == 1 && rules[i]["minor"] == 3) ++configured;
  }
  EXPECT_EQ(pts, 1);
  EXPECT_EQ(urandom, 1);
  EXPECT_EQ(configured, 2);  // standard null plus the configured one
  ASSERT_EQ(c["linux"]["devices"].size(), 1u);
  const json& d = c["linux"]["devices"][0];
  EXPECT_EQ(d["path"], "/dev/null");
  EXPECT_EQ(d["type"], "c");
  EXPECT_EQ(d["major"], 1);
  EXPECT_EQ(d["minor"], 3);
  EXPECT_EQ(d["fileMode"], 0666);
}

TEST(Bundle, DeviceErrors) {
  ContainerSpec s = BasicSpec();
  s.devices = {"/dev/no-such-device-xyz"};
  auto r = RenderOciConfig(s, CgroupMode::kV1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_NE(r.error().message().find("/dev/no-such-device-xyz"), std::string::npos);
  s.devices = {"/etc/hostname"};
  r = RenderOciConfig(s, CgroupMode::kV1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(Bundle, Namespaces) {
  ContainerSpec s = BasicSpec();
  EXPECT_EQ(NamespaceTypes(Render(s)), (std::vector<std::string>{"pid", "mount", "ipc", "uts", "network"}));
  EXPECT_FALSE(Render(s)["linux"]["namespaces"][4].contains("path"));
  // The cgroup namespace only on v2 hosts.
  EXPECT_EQ(NamespaceTypes(Render(s, CgroupMode::kV2)),
            (std::vector<std::string>{"pid", "mount", "ipc", "uts", "network", "cgroup"}));
  EXPECT_EQ(NamespaceTypes(Render(s, CgroupMode::kHybrid)).size(), 5u);

  s.netns_path = "/var/lib/spawnpoint/netns/svc";
  EXPECT_EQ(Render(s)["linux"]["namespaces"][4]["path"], "/var/lib/spawnpoint/netns/svc");

  s.netns_path.clear();
  s.host_network = true;
  json c = Render(s);
  EXPECT_EQ(NamespaceTypes(c), (std::vector<std::string>{"pid", "mount", "ipc", "uts"}));
  // A sysfs of its own even so: a bind of the host's /sys would carry writable submounts.
  EXPECT_EQ((*FindMount(c, "/sys"))["type"], "sysfs");
  EXPECT_EQ((*FindMount(c, "/sys"))["options"], json({"nosuid", "noexec", "nodev", "ro"}));
}

TEST(Bundle, RejectsBadSpecs) {
  auto expect_invalid = [](ContainerSpec s, const std::string& needle) {
    auto r = RenderOciConfig(s, CgroupMode::kV1);
    ASSERT_FALSE(r) << needle;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
  };
  ContainerSpec s = BasicSpec();
  s.id = "bad/id";
  expect_invalid(s, "id");
  s = BasicSpec();
  s.args.clear();
  expect_invalid(s, "args");
  s = BasicSpec();
  s.rootfs = "relative";
  expect_invalid(s, "rootfs");
  s = BasicSpec();
  s.env = {"NOEQUALS"};
  expect_invalid(s, "NOEQUALS");
  s = BasicSpec();
  s.mounts = {{"data", "bind", "/x", {}}};
  expect_invalid(s, "destination");
  s = BasicSpec();
  s.host_network = true;
  s.netns_path = "/run/netns/x";
  expect_invalid(s, "exclusive");
  s = BasicSpec();
  s.cpu_shares = 0;
  expect_invalid(s, "cpu_shares");
}

TEST(Bundle, InvalidUtf8DoesNotThrow) {
  ContainerSpec s = BasicSpec();
  s.args = {"/bin/echo", std::string("\xff\xfe", 2)};
  EXPECT_TRUE(RenderOciConfig(s, CgroupMode::kV1));
}

TEST(Bundle, WriteBundleCreatesConfig) {
  char tmpl[] = "/tmp/sp-bundle-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/a/bundle";
  ASSERT_TRUE(WriteBundle(dir, BasicSpec()).ok());
  auto text = ReadFile(dir + "/config.json");
  ASSERT_TRUE(text);
  EXPECT_EQ(json::parse(*text)["process"]["args"][2], "echo hi");
  ContainerSpec bad = BasicSpec();
  bad.args.clear();
  EXPECT_FALSE(WriteBundle(dir, bad).ok());
  EXPECT_EQ(json::parse(*ReadFile(dir + "/config.json"))["process"]["args"][2], "echo hi");  // untouched
  EXPECT_TRUE(RemoveAll(tmpl).ok());
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(Bundle, ImageUserAndGroups) {
  ContainerSpec s = BasicSpec();
  EXPECT_EQ(Render(s)["process"]["user"], json({{"uid", 0}, {"gid", 0}}));
  s.uid = 1000;
  s.gid = 50;
  s.additional_gids = {10, 20};
  json user = Render(s)["process"]["user"];
  EXPECT_EQ(user["uid"], 1000);
  EXPECT_EQ(user["gid"], 50);
  EXPECT_EQ(user["additionalGids"], json({10, 20}));
}

}  // namespace
}  // namespace sp
