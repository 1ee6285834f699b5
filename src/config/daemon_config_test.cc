// Tests of the daemon configuration: every field, the seed's spellings, defaults, each kind of
// error with its location, loading from a file, and the embedded default.
#include "config/daemon_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "config/yaml_fields.h"
#include "util/fs.h"

namespace sp {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kMinimal =
    "path: oski/spawnpoint/alpha\n"
    "cpuShares: 4096\n"
    "memory: 8192\n";

std::string ErrorOf(std::string_view yaml) {
  Result<DaemonConfig> c = ParseDaemonConfig(yaml, "spawnd.yml");
  EXPECT_FALSE(c) << "parsed: " << yaml;
  if (c) return "";
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  return c.error().message();
}

// kMinimal with one more line.
std::string ErrorWith(std::string_view line) {
  return ErrorOf(std::string(kMinimal) + std::string(line) + "\n");
}

TEST(DaemonConfig, MinimalFileGetsDefaults) {
  Result<DaemonConfig> c = ParseDaemonConfig(kMinimal, "spawnd.yml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->path, "oski/spawnpoint/alpha");
  EXPECT_EQ(c->alias(), "alpha");
  EXPECT_EQ(c->cpu_shares, 4096);
  EXPECT_EQ(c->memory_mib, 8192);
  EXPECT_EQ(c->entity, "");
  EXPECT_EQ(c->router, "");
  EXPECT_FALSE(c->enable_host_networking);
  EXPECT_FALSE(c->enable_device_mapping);
  EXPECT_EQ(c->state_dir, "/var/lib/spawnpoint");
  EXPECT_EQ(c->router_listen, "127.0.0.1:4222");
  EXPECT_EQ(c->runtime, "runc");
  EXPECT_EQ(c->default_image, "");
  EXPECT_TRUE(c->insecure_registries.empty());
  EXPECT_EQ(c->heartbeat_interval, Millis(10000));
  EXPECT_EQ(c->bridge_name, "spawn0");
  EXPECT_EQ(c->bridge_subnet, "10.213.0.0/16");
  EXPECT_EQ(c->log_max_bytes, 10 << 20);
  EXPECT_EQ(c->log_max_files, 5);
}

TEST(DaemonConfig, EveryField) {
  Result<DaemonConfig> c = ParseDaemonConfig(
      "path: oski/spawnpoint/beta\n"
      "entity: /etc/spawnpoint/daemon.creds\n"
      "cpuShares: 2048\n"
      "memory: 1024\n"
      "router: nats://10.0.0.5:4222,tls://nats.example.org\n"
      "enableHostNetworking: true\n"
      "enableDeviceMapping: yes\n"
      "stateDir: /srv/spawnd\n"
      "routerListen: 127.0.0.2:0\n"
      "runtime: /usr/local/bin/crun\n"
      "defaultImage: docker.io/library/alpine:3.18\n"
      "insecureRegistries: [localhost:5000, registry.lan, '[::1]:5001']\n"
      "heartbeatInterval: 2s\n"
      "bridgeName: br-spawn\n"
      "bridgeSubnet: 172.30.0.0/24\n"
      "logMaxBytes: 65536\n"
      "logMaxFiles: 3\n",
      "spawnd.yml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->path, "oski/spawnpoint/beta");
  EXPECT_EQ(c->alias(), "beta");
  EXPECT_EQ(c->entity, "/etc/spawnpoint/daemon.creds");
  EXPECT_EQ(c->cpu_shares, 2048);
  EXPECT_EQ(c->memory_mib, 1024);
  EXPECT_EQ(c->router, "nats://10.0.0.5:4222,tls://nats.example.org");
  EXPECT_TRUE(c->enable_host_networking);
  EXPECT_TRUE(c->enable_device_mapping);
  EXPECT_EQ(c->state_dir, "/srv/spawnd");
  EXPECT_EQ(c->router_listen, "127.0.0.2:0");
  EXPECT_EQ(c->runtime, "/usr/local/bin/crun");
  EXPECT_EQ(c->default_image, "docker.io/library/alpine:3.18");
  EXPECT_EQ(c->insecure_registries,
            (std::vector<std::string>{"localhost:5000", "registry.lan", "[::1]:5001"}));
  EXPECT_EQ(c->heartbeat_interval, Millis(2000));
  EXPECT_EQ(c->bridge_name, "br-spawn");
  EXPECT_EQ(c->bridge_subnet, "172.30.0.0/24");
  EXPECT_EQ(c->log_max_bytes, 65536);
  EXPECT_EQ(c->log_max_files, 3);
}

TEST(DaemonConfig, SeedSpellings) {
  Result<DaemonConfig> c = ParseDaemonConfig(
      "bw2Entity: /etc/spawnd/spawnd.ent\n"
      "path: scratch.ns/spawnpoint/alpha\n"
      "cpuShares: 4096\n"
      "memory: 4096\n"
      "bw2Agent: nats://172.17.0.1:4222\n"
      "enableHostNetworking: false\n"
      "enableDeviceMapping: false\n",
      "config.yml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->entity, "/etc/spawnd/spawnd.ent");
  EXPECT_EQ(c->router, "nats://172.17.0.1:4222");
  EXPECT_EQ(c->alias(), "alpha");
}

TEST(DaemonConfig, SeedAgentAddressWithoutSchemeIsExplained) {
  EXPECT_EQ(
      ErrorWith("entity: d.creds\nbw2Agent: 127.0.0.1:28589"),
      "spawnd.yml:5:11: key \"bw2Agent\": expected a NATS URL such as nats://10.0.0.5:4222 (several may be "
      "joined with ','), got \"127.0.0.1:28589\"");
}

TEST(DaemonConfig, RuntimeNames) {
  for (std::string_view runtime : {"runc", "crun", "/opt/bin/youki"}) {
    Result<DaemonConfig> c =
        ParseDaemonConfig(std::string(kMinimal) + "runtime: " + std::string(runtime), "f");
    ASSERT_TRUE(c) << runtime;
    EXPECT_EQ(c->runtime, runtime);
  }
  EXPECT_THAT(ErrorWith("runtime: bin/runc"), HasSubstr("expected runc, crun or the absolute path"));
}

TEST(DaemonConfig, MissingRequiredKeys) {
  EXPECT_EQ(ErrorOf("cpuShares: 4096\nmemory: 8192\n"), "spawnd.yml: missing required key \"path\"");
  EXPECT_EQ(ErrorOf("path: a/b\nmemory: 8192\n"), "spawnd.yml: missing required key \"cpuShares\"");
  EXPECT_EQ(ErrorOf("path: a/b\ncpuShares: 4096\n"), "spawnd.yml: missing required key \"memory\"");
  EXPECT_EQ(ErrorOf(""), "spawnd.yml: missing required key \"path\"");
}

TEST(DaemonConfig, UnknownKeyNamesLineAndSuggests) {
  EXPECT_EQ(ErrorWith("# comment\nenableHostNetwork: true"),
            "spawnd.yml:5:1: unknown key \"enableHostNetwork\" (did you mean \"enableHostNetworking\"?)");
  EXPECT_THAT(ErrorWith("colour: blue"),
              StartsWith("spawnd.yml:4:1: unknown key \"colour\" (known keys: path,"));
}

TEST(DaemonConfig, WrongTypes) {
  EXPECT_EQ(ErrorOf("path: a/b\ncpuShares: 4096\nmemory: lots\n"),
            "spawnd.yml:3:9: key \"memory\": expected an integer >= 16 (MiB), got \"lots\"");
  EXPECT_EQ(ErrorWith("enableDeviceMapping: sure"),
            "spawnd.yml:4:22: key \"enableDeviceMapping\": expected true or false, got \"sure\"");
  EXPECT_THAT(ErrorWith("insecureRegistries: localhost:5000"), HasSubstr("expected a list"));
  EXPECT_THAT(ErrorWith("path2: [a]"), HasSubstr("unknown key \"path2\""));
  EXPECT_THAT(ErrorOf("path: [a, b]\ncpuShares: 4096\nmemory: 8192\n"),
              StartsWith("spawnd.yml:1:7: key \"path\": expected a single value, got a list"));
}

TEST(DaemonConfig, ValueRanges) {
  EXPECT_THAT(ErrorOf("path: a\ncpuShares: 1\nmemory: 8192\n"),
              HasSubstr("key \"cpuShares\": expected an integer >= 2 (CPU shares, 1024 = one core)"));
  EXPECT_THAT(ErrorOf("path: a\ncpuShares: 4096\nmemory: 15\n"),
              HasSubstr("key \"memory\": expected an integer >= 16 (MiB)"));
  EXPECT_THAT(ErrorWith("heartbeatInterval: 50ms"), HasSubstr("of at least 100ms, got \"50ms\""));
  EXPECT_THAT(ErrorWith("logMaxBytes: 4095"),
              HasSubstr("key \"logMaxBytes\": expected an integer >= 4096 (bytes)"));
  EXPECT_THAT(ErrorWith("logMaxFiles: 0"),
              HasSubstr("key \"logMaxFiles\": expected an integer from 1 to 10000"));
}

TEST(DaemonConfig, BasePathRules) {
  auto path_error = [](std::string_view path) {
    return ErrorOf("path: '" + std::string(path) + "'\ncpuShares: 4096\nmemory: 8192\n");
  };
  EXPECT_THAT(path_error("a//b"), HasSubstr("empty segment"));
  EXPECT_THAT(path_error("/a/b"), HasSubstr("empty segment"));
  EXPECT_THAT(path_error("a/b/"), HasSubstr("empty segment"));
  EXPECT_THAT(path_error("a/b c"), HasSubstr("character ' '"));
  EXPECT_THAT(path_error("a/*"), HasSubstr("character '*'"));
  EXPECT_THAT(path_error("_INBOX/x"), HasSubstr("must not start with '_'"));
  EXPECT_THAT(path_error("1/2/3/4/5/6/7/8/9"), HasSubstr("has 9 segments; at most 8 are allowed"));
  EXPECT_THAT(path_error("a/b c"), StartsWith("spawnd.yml:1:7: key \"path\": "));
  EXPECT_TRUE(ValidateBaseUri("1/2/3/4/5/6/7/8").ok());
  EXPECT_TRUE(ValidateBaseUri("oski/s.spawnpoint/a-b_c~d:e@f=g").ok());
  EXPECT_TRUE(ValidateBaseUri("a/_b").ok());
}

TEST(DaemonConfig, RouterNeedsEntity) {
  EXPECT_EQ(ErrorWith("router: nats://10.0.0.5:4222"),
            "spawnd.yml:4:9: key \"router\": joining an existing router needs this daemon's credentials: add "
            "\"entity: /path/to/daemon.creds\"");
  EXPECT_TRUE(ParseDaemonConfig(std::string(kMinimal) + "entity: d.creds\nrouter: nats://h:1\n", "f"));
}

TEST(DaemonConfig, RouterUrls) {
  for (std::string_view bad : {"http://h:4222", "nats://", "nats://h:0", "nats://h:70000", "nats://h:x",
                               "nats://a b", "nats://u:p@h:4222"}) {
    EXPECT_THAT(ErrorWith("entity: d.creds\nrouter: '" + std::string(bad) + "'"),
                HasSubstr("expected a NATS URL"))
        << bad;
  }
  for (std::string_view good : {"nats://h", "nats://h:4222/", "tls://[::1]:4222", "nats://a:1, nats://b:2"}) {
    EXPECT_TRUE(ParseDaemonConfig(
        std::string(kMinimal) + "entity: d.creds\nrouter: '" + std::string(good) + "'", "f"))
        << good;
  }
}

TEST(DaemonConfig, RouterListenIsLoopback) {
  for (std::string_view good : {"127.0.0.1:4222", "127.1.2.3:0", "localhost:65535", "[::1]:4222"}) {
    EXPECT_TRUE(ParseDaemonConfig(std::string(kMinimal) + "routerListen: '" + std::string(good) + "'", "f"))
        << good;
  }
  for (std::string_view bad : {"0.0.0.0:4222", "10.0.0.1:4222", "127.0.0.1", "127.0.0.1:65536",
                               "127.0.0.1:-1", "[::]:4222", "example.org:4222"}) {
    EXPECT_THAT(ErrorWith("routerListen: '" + std::string(bad) + "'"),
                HasSubstr("expected a loopback address"))
        << bad;
  }
}

TEST(DaemonConfig, PathsAndNames) {
  EXPECT_THAT(ErrorWith("stateDir: var/lib/spawnpoint"),
              HasSubstr("key \"stateDir\": expected an absolute path"));
  EXPECT_THAT(ErrorWith("bridgeName: a-very-long-bridge"), HasSubstr("expected a network interface name"));
  EXPECT_THAT(ErrorWith("bridgeName: 'a b'"), HasSubstr("expected a network interface name"));
  EXPECT_THAT(ErrorWith("bridgeName: a/b"), HasSubstr("expected a network interface name"));
  EXPECT_TRUE(ParseDaemonConfig(std::string(kMinimal) + "bridgeName: abcdefghijklmno", "f"));
  EXPECT_THAT(ErrorWith("defaultImage: 'a b'"), HasSubstr("expected an image reference"));
  EXPECT_THAT(ErrorWith("insecureRegistries: ['http://r:5000']"),
              HasSubstr("key \"insecureRegistries\" item 1: expected a registry address"));
}

TEST(DaemonConfig, BridgeSubnet) {
  EXPECT_THAT(ErrorWith("bridgeSubnet: 10.88.0.0/30"), HasSubstr("prefix length from 8 to 28"));
  EXPECT_THAT(ErrorWith("bridgeSubnet: 10.0.0.0/7"), HasSubstr("prefix length from 8 to 28"));
  EXPECT_THAT(ErrorWith("bridgeSubnet: 10.88.0.0"), HasSubstr("prefix length from 8 to 28"));
  EXPECT_THAT(ErrorWith("bridgeSubnet: 300.0.0.0/16"), HasSubstr("expected an IPv4 network"));
  EXPECT_THAT(ErrorWith("bridgeSubnet: 'fd00::/64'"), HasSubstr("expected an IPv4 network"));
  EXPECT_THAT(ErrorWith("bridgeSubnet: 10.88.1.1/16"), HasSubstr("(did you mean 10.88.0.0/16?)"));
  EXPECT_TRUE(ParseDaemonConfig(std::string(kMinimal) + "bridgeSubnet: 192.168.200.0/28", "f"));
}

TEST(DaemonConfig, MalformedYaml) {
  EXPECT_EQ(ErrorOf("path: a\ncpuShares: [4096\nmemory: 1\n"),
            "spawnd.yml:3:7: invalid YAML: end of sequence flow not found");
}

TEST(DaemonConfig, DefaultConfig) {
  DaemonConfig c = DefaultDaemonConfig("build-host.lan", 8, 16000);
  EXPECT_EQ(c.path, "local/spawnpoint/build-host.lan");
  EXPECT_EQ(c.alias(), "build-host.lan");
  EXPECT_EQ(c.cpu_shares, 8192);
  EXPECT_EQ(c.memory_mib, 14400);
  EXPECT_EQ(c.state_dir, "/var/lib/spawnpoint");
  EXPECT_EQ(c.router, "");
  EXPECT_TRUE(ValidateBaseUri(c.path).ok());

  DaemonConfig odd = DefaultDaemonConfig("my host/name!", 0, 10);
  EXPECT_EQ(odd.path, "local/spawnpoint/myhostname");
  EXPECT_EQ(odd.cpu_shares, 1024);
  EXPECT_EQ(odd.memory_mib, 16);
  EXPECT_EQ(DefaultDaemonConfig("", 1, 1000).path, "local/spawnpoint/host");
  EXPECT_EQ(DefaultDaemonConfig("///", 1, 1000).path, "local/spawnpoint/host");
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sp_config_test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(DaemonConfig, LoadFromFile) {
  TempDir dir;
  std::string file = dir.path() + "/spawnd.yml";
  ASSERT_TRUE(WriteFileAtomic(file, std::string(kMinimal) + "entity: keys/daemon.creds\n").ok());
  Result<DaemonConfig> c = LoadDaemonConfig(file);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->entity, dir.path() + "/keys/daemon.creds");  // relative to the file's directory

  ASSERT_TRUE(WriteFileAtomic(file, "path: a\ncpuShares: x\n").ok());
  EXPECT_THAT(LoadDaemonConfig(file).error().message(), StartsWith(file + ":2:12: key \"cpuShares\""));

  ASSERT_TRUE(WriteFileAtomic(file, std::string(kMaxConfigBytes + 1, '#')).ok());
  EXPECT_THAT(LoadDaemonConfig(file).error().message(), HasSubstr("larger than"));

  Result<DaemonConfig> missing = LoadDaemonConfig(dir.path() + "/nope.yml");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(),
              StartsWith("daemon configuration: open " + dir.path() + "/nope.yml"));
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(DaemonConfig, RegistryAuthAndLocalSources) {
  const char* base = "path: a/b/c\ncpuShares: 1024\nmemory: 512\n";
  auto d = ParseDaemonConfig(base, "spawnd.yml");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->registry_auth, "");
  EXPECT_FALSE(d->allow_local_sources);
  auto set = ParseDaemonConfig(std::string(base) + "registryAuth: /etc/spawnpoint/auth.json\nallowLocalSources: true\n",
                               "spawnd.yml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  EXPECT_EQ(set->registry_auth, "/etc/spawnpoint/auth.json");
  EXPECT_TRUE(set->allow_local_sources);
  EXPECT_FALSE(ParseDaemonConfig(std::string(base) + "registryAuth: auth.json\n", "spawnd.yml").has_value());
}

}  // namespace
}  // namespace sp
