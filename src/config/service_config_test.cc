// Tests of deploy.yaml parsing: a seed-era file works unchanged, every field is read, defaults
// hold, and each kind of mistake is an error that names file, line and key.
#include "config/service_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "util/fs.h"

namespace sp {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kMinimal =
    "cpuShares: 512\n"
    "memory: 256\n"
    "run: [python3, main.py]\n";

std::string ErrorOf(std::string_view yaml, std::string_view name = "svc") {
  Result<ServiceConfig> c = ParseServiceConfig(yaml, "deploy.yaml", name);
  EXPECT_FALSE(c) << "parsed: " << yaml;
  if (c) return "";
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  return c.error().message();
}

std::string ErrorWith(std::string_view lines) {
  return ErrorOf(std::string(kMinimal) + std::string(lines) + "\n");
}

Result<ServiceConfig> ParseWith(std::string_view lines) {
  return ParseServiceConfig(std::string(kMinimal) + std::string(lines) + "\n", "deploy.yaml", "svc");
}

// A deploy.yaml as the seed documents it, field for field.
TEST(ServiceConfig, SeedFileWorksUnchanged) {
  Result<ServiceConfig> c = ParseServiceConfig(
      "bw2Entity: /home/oski/bosswave/keys/thermostatDriver.ent\n"
      "image: jhkolb/tp-link-plug\n"
      "source: git+https://github.com/oski/demosvc\n"
      "build: [go get -d, go build -o demosvc]\n"
      "run: [./demosvc, params.yml]\n"
      "memory: 1024\n"
      "cpuShares: 512\n"
      "autoRestart: true\n"
      "includedFiles: [demosvc, params.yaml, /home/oski/]\n"
      "includedDirectories: [/home/oski/configurations]\n"
      "volumes: [thermotatHistory, configurations]\n"
      "useHostNet: true\n"
      "devices: [/dev/tty4, /dev/tty8, /dev/tty15]\n",
      "deploy.yaml", "demosvc");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->name, "demosvc");
  EXPECT_EQ(c->entity, "/home/oski/bosswave/keys/thermostatDriver.ent");
  EXPECT_EQ(c->image, "jhkolb/tp-link-plug");
  EXPECT_EQ(c->source, "git+https://github.com/oski/demosvc");
  EXPECT_EQ(c->build, (std::vector<std::string>{"go get -d", "go build -o demosvc"}));
  EXPECT_EQ(c->run, (std::vector<std::string>{"./demosvc", "params.yml"}));
  EXPECT_EQ(c->memory_mib, 1024);
  EXPECT_EQ(c->cpu_shares, 512);
  EXPECT_TRUE(c->auto_restart);
  EXPECT_EQ(c->included_files, (std::vector<std::string>{"demosvc", "params.yaml", "/home/oski/"}));
  EXPECT_EQ(c->included_directories, (std::vector<std::string>{"/home/oski/configurations"}));
  EXPECT_EQ(c->volumes, (std::vector<std::string>{"thermotatHistory", "configurations"}));
  EXPECT_TRUE(c->use_host_net);
  EXPECT_EQ(c->devices, (std::vector<std::string>{"/dev/tty4", "/dev/tty8", "/dev/tty15"}));
}

TEST(ServiceConfig, BlockStyleSeedFile) {
  Result<ServiceConfig> c = ParseServiceConfig(
      "cpuShares: 1024\n"
      "memory: 512\n"
      "run:\n"
      "  - python\n"
      "  - main.py\n"
      "  - 34\n"
      "autoRestart: false\n",
      "deploy.yaml", "thermostat");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->run, (std::vector<std::string>{"python", "main.py", "34"}));
  EXPECT_FALSE(c->auto_restart);
}

TEST(ServiceConfig, MinimalFileGetsDefaults) {
  Result<ServiceConfig> c = ParseServiceConfig(kMinimal, "deploy.yaml", "svc");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->name, "svc");
  EXPECT_EQ(c->entity, "");
  EXPECT_EQ(c->image, "");
  EXPECT_EQ(c->source, "");
  EXPECT_TRUE(c->build.empty());
  EXPECT_FALSE(c->auto_restart);
  EXPECT_EQ(c->restart_policy.initial_delay, Millis(1000));
  EXPECT_EQ(c->restart_policy.max_delay, Millis(60000));
  EXPECT_EQ(c->restart_policy.stable_after, Millis(30000));
  EXPECT_EQ(c->stop_timeout, Millis(10000));
  EXPECT_TRUE(c->included_files.empty());
  EXPECT_TRUE(c->included_directories.empty());
  EXPECT_TRUE(c->volumes.empty());
  EXPECT_FALSE(c->use_host_net);
  EXPECT_TRUE(c->devices.empty());
  EXPECT_TRUE(c->env.empty());
  EXPECT_TRUE(c->ports.empty());
}

TEST(ServiceConfig, SpawnpointFields) {
  Result<ServiceConfig> c = ParseServiceConfig(
      "name: web-1\n"
      "entity: ~/keys/web.creds\n"
      "cpuShares: 256\n"
      "memory: 64\n"
      "run: [/usr/bin/python3, -m, http.server, '8000']\n"
      "image: host\n"
      "source: git+file:///srv/repos/web\n"
      "env:\n"
      "  GREETING: hello world\n"
      "  PORT: 8000\n"
      "  DEBUG: false\n"
      "  EMPTY: ''\n"
      "ports: ['8080:8000', 9000/udp, '53:53/udp', 443/tcp]\n"
      "autoRestart: on\n"
      "restartPolicy:\n"
      "  initialDelay: 500ms\n"
      "  maxDelay: 2m\n"
      "  stableAfter: 1m\n"
      "stopTimeout: 3s\n",
      "deploy.yaml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->name, "web-1");
  EXPECT_EQ(c->entity, "~/keys/web.creds");
  EXPECT_EQ(c->run, (std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "8000"}));
  EXPECT_EQ(c->image, "host");
  EXPECT_EQ(c->source, "git+file:///srv/repos/web");
  std::map<std::string, std::string> env = {
      {"GREETING", "hello world"}, {"PORT", "8000"}, {"DEBUG", "false"}, {"EMPTY", ""}};
  EXPECT_EQ(c->env, env);
  ASSERT_EQ(c->ports.size(), 4u);
  EXPECT_EQ(c->ports[0].host_port, 8080);
  EXPECT_EQ(c->ports[0].container_port, 8000);
  EXPECT_EQ(c->ports[0].protocol, "tcp");
  EXPECT_EQ(c->ports[1].host_port, 0);
  EXPECT_EQ(c->ports[1].container_port, 9000);
  EXPECT_EQ(c->ports[1].protocol, "udp");
  EXPECT_EQ(c->ports[2].host_port, 53);
  EXPECT_EQ(c->ports[2].protocol, "udp");
  EXPECT_EQ(c->ports[3].host_port, 0);
  EXPECT_EQ(c->ports[3].container_port, 443);
  EXPECT_TRUE(c->auto_restart);
  EXPECT_EQ(c->restart_policy.initial_delay, Millis(500));
  EXPECT_EQ(c->restart_policy.max_delay, Millis(120000));
  EXPECT_EQ(c->restart_policy.stable_after, Millis(60000));
  EXPECT_EQ(c->stop_timeout, Millis(3000));
}

TEST(ServiceConfig, NameFromFlagWinsAndOneIsRequired) {
  Result<ServiceConfig> c =
      ParseServiceConfig("name: fromfile\n" + std::string(kMinimal), "deploy.yaml", "fromflag");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "fromflag");
  EXPECT_EQ(ErrorOf(kMinimal, ""),
            "deploy.yaml: the service has no name: add \"name: <name>\" to the file or pass -n <name>");
  EXPECT_THAT(ErrorOf(kMinimal, "bad name"), StartsWith("-n: invalid service name \"bad name\""));
  EXPECT_THAT(
      ErrorOf("name: 'bad name'\n" + std::string(kMinimal), ""),
      StartsWith("deploy.yaml:1:7: key \"name\": invalid service name \"bad name\": use 1 to 63 letters"));
}

TEST(ServiceConfig, ValidateServiceName) {
  std::string longest(63, 'a');
  for (std::string_view good :
       {std::string_view("a"), std::string_view("demosvc"), std::string_view("web-1"),
        std::string_view("A.b_c-d"), std::string_view("0abc"), std::string_view(longest)}) {
    EXPECT_TRUE(ValidateServiceName(good).ok()) << good;
  }
  std::string too_long(64, 'a');
  for (std::string_view bad :
       {std::string_view(""), std::string_view("-a"), std::string_view(".a"), std::string_view("_a"),
        std::string_view("a b"), std::string_view("a/b"), std::string_view("a*"), std::string_view("a>"),
        std::string_view(".."), std::string_view(too_long)}) {
    Status s = ValidateServiceName(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_THAT(s.message(), HasSubstr("invalid service name")) << bad;
  }
  EXPECT_EQ(ValidateServiceName("daemon").message(), "service name \"daemon\" is reserved; choose another");
}

TEST(ServiceConfig, MissingRequiredKeys) {
  EXPECT_EQ(ErrorOf("memory: 256\nrun: [a]\n"), "deploy.yaml: missing required key \"cpuShares\"");
  EXPECT_EQ(ErrorOf("cpuShares: 256\nrun: [a]\n"), "deploy.yaml: missing required key \"memory\"");
  EXPECT_EQ(ErrorOf("cpuShares: 256\nmemory: 256\nimage: host\n"), "deploy.yaml: missing required key \"run\"");
}

TEST(ServiceConfig, UnknownKeysNameTheLine) {
  EXPECT_EQ(ErrorWith("autorestart: true"),
            "deploy.yaml:4:1: unknown key \"autorestart\" (did you mean \"autoRestart\"?)");
  EXPECT_EQ(ErrorWith("includedFile: [a]"),
            "deploy.yaml:4:1: unknown key \"includedFile\" (did you mean \"includedFiles\"?)");
  EXPECT_EQ(ErrorWith("restartPolicy:\n  initalDelay: 1s"),
            "deploy.yaml:5:3: unknown key \"restartPolicy.initalDelay\" (did you mean "
            "\"restartPolicy.initialDelay\"?)");
  EXPECT_THAT(ErrorWith("replicas: 3"),
              StartsWith("deploy.yaml:4:1: unknown key \"replicas\" (known keys: name, "));
}

TEST(ServiceConfig, WrongTypes) {
  EXPECT_EQ(ErrorOf("cpuShares: 512\nmemory: lots\nrun: [a]\n"),
            "deploy.yaml:2:9: key \"memory\": expected an integer >= 4 (MiB), got \"lots\"");
  EXPECT_THAT(ErrorOf("cpuShares: 512\nmemory: 64\nrun: python main.py\n"),
              StartsWith("deploy.yaml:3:6: key \"run\": expected a list"));
  EXPECT_THAT(ErrorWith("autoRestart: always"), HasSubstr("key \"autoRestart\": expected true or false"));
  EXPECT_THAT(ErrorWith("env: [A=1]"), HasSubstr("key \"env\": expected a mapping"));
  EXPECT_THAT(ErrorWith("restartPolicy: 5s"), HasSubstr("key \"restartPolicy\": expected a mapping"));
  EXPECT_THAT(ErrorWith("volumes: data"), HasSubstr("key \"volumes\": expected a list"));
  EXPECT_THAT(ErrorWith("image: [a]"), HasSubstr("key \"image\": expected a single value, got a list"));
  EXPECT_THAT(ErrorWith("stopTimeout: soon"), HasSubstr("key \"stopTimeout\": expected a duration"));
}

TEST(ServiceConfig, ValueRanges) {
  EXPECT_THAT(ErrorOf("cpuShares: 1\nmemory: 64\nrun: [a]\n"),
              HasSubstr("key \"cpuShares\": expected an integer >= 2"));
  EXPECT_THAT(ErrorOf("cpuShares: 2\nmemory: 3\nrun: [a]\n"),
              HasSubstr("key \"memory\": expected an integer >= 4"));
  EXPECT_THAT(ErrorOf("cpuShares: 2\nmemory: 1099511627777\nrun: [a]\n"),
              HasSubstr("expected an integer from 4 to 1099511627776 (MiB), got \"1099511627777\""));
  EXPECT_TRUE(ParseServiceConfig("cpuShares: 2\nmemory: 4\nrun: [a]\n", "deploy.yaml", "svc"));
}

TEST(ServiceConfig, RunMustNameAProgram) {
  EXPECT_THAT(ErrorOf("cpuShares: 512\nmemory: 64\nrun: []\n"),
              StartsWith("deploy.yaml:3:6: key \"run\": expected the program and its arguments"));
  EXPECT_THAT(ErrorOf("cpuShares: 512\nmemory: 64\nrun: ['', x]\n"), HasSubstr("non-empty first item"));
  EXPECT_THAT(ErrorOf("cpuShares: 512\nmemory: 64\nrun:\n"),
              StartsWith("deploy.yaml:3:1: key \"run\": missing value"));
}

TEST(ServiceConfig, EntityAndSeedSpellingTogether) {
  EXPECT_EQ(ErrorWith("entity: a.creds\nbw2Entity: b.ent"),
            "deploy.yaml:5:1: key \"bw2Entity\": \"entity\" is given too (line 4); they mean the same, keep "
            "only one");
}

TEST(ServiceConfig, Ports) {
  EXPECT_EQ(ErrorWith("ports: ['99999']"),
            "deploy.yaml:4:9: key \"ports\" item 1: expected HOST:CONTAINER or CONTAINER with ports from 1 "
            "to 65535, "
            "optionally ending in /tcp or /udp, got \"99999\"");
  for (std::string_view bad : {"abc", "80/sctp", "0", ":80", "80:", "80:0", "65536:80", "80:80:80", "80/",
                               "-1", "8o", "80/TCP", "1.5"}) {
    EXPECT_THAT(ErrorWith("ports: ['" + std::string(bad) + "']"), HasSubstr("expected HOST:CONTAINER"))
        << bad;
  }
  EXPECT_THAT(ErrorWith("ports: ['8080:80', '8080:81']"),
              HasSubstr("item 2: host port 8080/tcp is published twice"));
  EXPECT_TRUE(ParseWith("ports: ['8080:80', '8080:80/udp', 80, 80]"));  // distinct host ports per protocol

  Result<PortMapping> p = ParsePortMapping("1:65535/udp");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host_port, 1);
  EXPECT_EQ(p->container_port, 65535);
  EXPECT_EQ(p->protocol, "udp");
}

TEST(ServiceConfig, Volumes) {
  Result<ServiceConfig> c = ParseWith("volumes: [data, cache.v2, A_b-c]");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->volumes, (std::vector<std::string>{"data", "cache.v2", "A_b-c"}));
  EXPECT_THAT(ErrorWith("volumes: [data, data]"),
              StartsWith("deploy.yaml:4:17: key \"volumes\" item 2: volume \"data\" is listed twice"));
  EXPECT_THAT(ErrorWith("volumes: [spawnpoint]"), HasSubstr("\"spawnpoint\" is reserved"));
  for (std::string_view bad : {"a b", "../x", ".hidden", "a/b", "-x"}) {
    EXPECT_THAT(ErrorWith("volumes: ['" + std::string(bad) + "']"), HasSubstr("expected a volume name"))
        << bad;
  }
}

TEST(ServiceConfig, Devices) {
  EXPECT_TRUE(ParseWith("devices: [/dev/ttyUSB0, /dev/snd/pcmC0D0p]"));
  for (std::string_view bad : {"tty4", "/dev/", "/dev", "/etc/passwd", "/dev/../etc/shadow", "/dev/x/.."}) {
    EXPECT_THAT(ErrorWith("devices: ['" + std::string(bad) + "']"),
                HasSubstr("expected the absolute path of a device"))
        << bad;
  }
}

TEST(ServiceConfig, Env) {
  EXPECT_THAT(ErrorWith("env:\n  1BAD: x"),
              StartsWith("deploy.yaml:5:3: key \"env\": expected environment variable names"));
  EXPECT_THAT(ErrorWith("env:\n  A-B: x"), HasSubstr("expected environment variable names"));
  EXPECT_THAT(ErrorWith("env:\n  A:"),
              HasSubstr("key \"env.A\": expected a value (write \"\" for an empty one)"));
  EXPECT_THAT(ErrorWith("env:\n  A: [1]"), HasSubstr("key \"env.A\": expected a value"));
  EXPECT_THAT(ErrorWith("env:\n  A: 1\n  A: 2"), HasSubstr("key \"env.A\": given twice"));
}

TEST(ServiceConfig, Source) {
  for (std::string_view good :
       {"git+https://github.com/a/b", "git+file:///srv/repo", "git+https://github.com/a/b#v1.2"}) {
    EXPECT_TRUE(ParseWith("source: " + std::string(good))) << good;
  }
  for (std::string_view bad :
       {"http://example.org/a", "git://github.com/a/b", "github.com/a/b", "https://", "https://example.org/a.tar.gz"}) {
    EXPECT_THAT(ErrorWith("source: " + std::string(bad)),
                HasSubstr("expected a git repository URL starting with git+https://"))
        << bad;
  }
}

TEST(ServiceConfig, RestartPolicyRules) {
  EXPECT_EQ(
      ErrorWith("restartPolicy:\n  initialDelay: 10s\n  maxDelay: 5s"),
      "deploy.yaml:6:13: key \"restartPolicy.maxDelay\": initialDelay (10s) must not exceed maxDelay (5s)");
  EXPECT_THAT(
      ErrorWith("restartPolicy:\n  initialDelay: 2m"),
      StartsWith(
          "deploy.yaml:5:17: key \"restartPolicy.initialDelay\": initialDelay (2m0s) must not exceed"));
  EXPECT_THAT(ErrorWith("restartPolicy:\n  initialDelay: 10ms"), HasSubstr("of at least 100ms"));
  EXPECT_THAT(ErrorWith("restartPolicy:\n  stableAfter: 500ms"), HasSubstr("of at least 1s"));
  Result<ServiceConfig> c = ParseWith("restartPolicy: {maxDelay: 5s}");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->restart_policy.initial_delay, Millis(1000));
  EXPECT_EQ(c->restart_policy.max_delay, Millis(5000));
}

TEST(ServiceConfig, MalformedYamlNamesLine) {
  EXPECT_EQ(ErrorOf("cpuShares: 512\nmemory: 64\nrun: [a, b\nimage: x\n"),
            "deploy.yaml:4:6: invalid YAML: end of sequence flow not found");
  EXPECT_THAT(ErrorOf("cpuShares: 512\n  memory: 64\n"), StartsWith("deploy.yaml:2:9: invalid YAML:"));
  EXPECT_THAT(ErrorOf("cpuShares: &a 512\nmemory: *a\nrun: [a]\n"), StartsWith("deploy.yaml:2:9: aliases"));
}

TEST(ServiceConfig, LoadFromFile) {
  char tmpl[] = "/tmp/sp_service_config_test.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string file = dir + "/deploy.yaml";
  ASSERT_TRUE(WriteFileAtomic(file, "name: fromfile\n" + std::string(kMinimal)).ok());
  Result<ServiceConfig> c = LoadServiceConfig(file);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->name, "fromfile");
  Result<ServiceConfig> over = LoadServiceConfig(file, "other");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->name, "other");
  ASSERT_TRUE(WriteFileAtomic(file, "cpuShares: 1\n").ok());
  EXPECT_THAT(LoadServiceConfig(file, "x").error().message(), StartsWith(file + ":1:12: key \"cpuShares\""));
  EXPECT_THAT(LoadServiceConfig(dir + "/nope.yaml").error().message(),
              StartsWith("service configuration: open "));
  ASSERT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(ServiceConfig, ImagesMayOmitRunButTheHostMayNot) {
  auto img = ParseServiceConfig("cpuShares: 64\nmemory: 32\nimage: 127.0.0.1:5000/web:1.0\n", "deploy.yaml", "web");
  ASSERT_TRUE(img.has_value()) << img.error().message();
  EXPECT_TRUE(img->run.empty());
  EXPECT_EQ(img->pull_policy, "");
  EXPECT_FALSE(img->publish_exposed_ports);
  auto host = ParseServiceConfig("cpuShares: 64\nmemory: 32\nimage: host\n", "deploy.yaml", "web");
  ASSERT_FALSE(host.has_value());
  EXPECT_NE(host.error().message().find("missing required key \"run\""), std::string::npos);
  // Without `image`, the daemon's defaultImage may give the command: the daemon decides.
  EXPECT_TRUE(ParseServiceConfig("cpuShares: 64\nmemory: 32\n", "deploy.yaml", "web").has_value());
  // An explicit empty run is still an error, image or not.
  EXPECT_FALSE(ParseServiceConfig("cpuShares: 64\nmemory: 32\nimage: a/b\nrun: []\n", "deploy.yaml", "web").has_value());
}

TEST(ServiceConfig, PullPolicyAndExposedPorts) {
  auto c = ParseServiceConfig("cpuShares: 64\nmemory: 32\nimage: a/b:1\npullPolicy: never\npublishExposedPorts: true\n",
                              "deploy.yaml", "web");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->pull_policy, "never");
  EXPECT_TRUE(c->publish_exposed_ports);
  auto bad = ParseServiceConfig("cpuShares: 64\nmemory: 32\nimage: a/b:1\npullPolicy: sometimes\n", "deploy.yaml", "web");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("expected always, missing or never"), std::string::npos);
}

TEST(CheckImageReference, RefusesBlanksAndControlCharacters) {
  EXPECT_EQ(*CheckImageReference("docker.io/library/alpine:3.18"), "docker.io/library/alpine:3.18");
  EXPECT_EQ(*CheckImageReference("host"), "host");
  for (const char* bad : {"", "web 1.0", "web\t1", "web\n"}) {
    auto r = CheckImageReference(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().message().rfind("expected an image reference such as docker.io/library/alpine:3.18, or host", 0),
              0u);
  }
}

}  // namespace
}  // namespace sp
