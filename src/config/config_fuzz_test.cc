// Robustness of both configuration parsers against hostile input: valid files mutated at random
// (truncated, bytes replaced with YAML punctuation, lines duplicated or spliced, nesting piled
// up) must never crash, hang or throw, and every rejection must be a one-line InvalidArgument
// that starts with the file name. The generator is seeded, so a failure reproduces exactly.
// src/config/fuzz/config_fuzzer.cc is the coverage-guided (libFuzzer) version of this test.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "config/daemon_config.h"
#include "config/service_config.h"

namespace sp {
namespace {

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> corpus = {
      "path: oski/spawnpoint/alpha\nentity: /etc/spawnd/daemon.creds\ncpuShares: 4096\nmemory: 8192\n"
      "router: nats://10.0.0.5:4222\nenableHostNetworking: true\nenableDeviceMapping: false\n"
      "stateDir: /var/lib/spawnpoint\nrouterListen: 127.0.0.1:4222\nruntime: runc\ndefaultImage: host\n"
      "insecureRegistries: [localhost:5000]\nheartbeatInterval: 10s\nbridgeName: spawn0\n"
      "bridgeSubnet: 10.88.0.0/16\nlogMaxBytes: 1048576\nlogMaxFiles: 5\n",
      "bw2Entity: spawnd.ent\npath: scratch.ns/spawnpoint/alpha\ncpuShares: 2048\nmemory: 2048\n",
      "name: web\nbw2Entity: /home/oski/web.ent\ncpuShares: 512\nmemory: 256\nrun: [python3, main.py, "
      "'8000']\n"
      "image: host\nsource: git+https://github.com/oski/web\nbuild: [make, make install]\nautoRestart: true\n"
      "includedFiles: [main.py, params.yaml]\nincludedDirectories: [static]\nvolumes: [data]\n"
      "useHostNet: false\ndevices: [/dev/ttyUSB0]\n",
      "cpuShares: 1024\nmemory: 64\nrun:\n  - /bin/sh\n  - -c\n  - echo hi\nenv:\n  A: 1\n  B: \"two\"\n"
      "ports:\n  - 8080:80\n  - 53/udp\nrestartPolicy:\n  initialDelay: 1s\n  maxDelay: 1m\n  stableAfter: "
      "30s\n"
      "stopTimeout: 5s\n",
  };
  return corpus;
}

class Mutator {
 public:
  explicit Mutator(uint32_t seed) : rng_(seed) {}

  std::string Next() {
    const std::vector<std::string>& corpus = Corpus();
    std::string text = corpus[Below(corpus.size())];
    if (Below(20) == 0) return RandomBytes();
    int rounds = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < rounds; ++i) Mutate(text);
    return text;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  char Interesting() {
    static const char kChars[] = ":-[]{}&*!|>'\"#%@`,?~\n\t \\0123456789abz\x00\xff\xc3";
    static const std::string chars(kChars, sizeof kChars - 1);  // keeps the NUL
    return chars[Below(chars.size())];
  }

  std::string RandomBytes() {
    std::string out(Below(200), '\0');
    for (char& c : out) c = static_cast<char>(Below(256));
    return out;
  }

  void Mutate(std::string& text) {
    if (text.empty()) text = "a";
    size_t at = Below(text.size());
    switch (Below(8)) {
      case 0:  // truncate
        text.resize(at);
        break;
      case 1:  // replace a byte
        text[at] = Interesting();
        break;
      case 2:  // insert punctuation
        text.insert(at, 1 + Below(3), Interesting());
        break;
      case 3:  // delete a span
        text.erase(at, Below(20));
        break;
      case 4: {  // duplicate a span somewhere else
        std::string span = text.substr(at, Below(40));
        text.insert(Below(text.size() + 1), span);
        break;
      }
      case 5: {  // splice in part of another corpus file
        const std::string& other = Corpus()[Below(Corpus().size())];
        size_t from = Below(other.size());
        text.insert(at, other.substr(from, Below(60)));
        break;
      }
      case 6:  // pile up nesting
        text.insert(at, std::string(1 + Below(3000), Below(2) ? '[' : '{'));
        break;
      default:  // change indentation
        text.insert(at, std::string(1 + Below(6), ' ') + "\n");
        break;
    }
  }

  std::mt19937 rng_;
};

template <typename T>
void ExpectCleanOutcome(const Result<T>& result, const std::string& input) {
  if (result) return;
  const Status& error = result.error();
  EXPECT_EQ(error.code(), Code::kInvalidArgument) << error.ToString();
  EXPECT_EQ(error.message().rfind("fuzz.yaml", 0), 0u) << error.message();
  EXPECT_EQ(error.message().find('\n'), std::string::npos) << error.message();
  if (testing::Test::HasFailure()) FAIL() << "input was: " << testing::PrintToString(input);
}

TEST(ConfigFuzz, CorpusIsValid) {
  EXPECT_TRUE(ParseDaemonConfig(Corpus()[0], "fuzz.yaml"));
  EXPECT_TRUE(ParseDaemonConfig(Corpus()[1], "fuzz.yaml"));
  EXPECT_TRUE(ParseServiceConfig(Corpus()[2], "fuzz.yaml"));
  EXPECT_TRUE(ParseServiceConfig(Corpus()[3], "fuzz.yaml", "svc"));
}

TEST(ConfigFuzz, MutatedInputNeverCrashes) {
  Mutator mutator(20261123);
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string input = mutator.Next();
    Result<DaemonConfig> daemon = ParseDaemonConfig(input, "fuzz.yaml");
    ExpectCleanOutcome(daemon, input);
    Result<ServiceConfig> service = ParseServiceConfig(input, "fuzz.yaml", i % 2 ? "svc" : "");
    ExpectCleanOutcome(service, input);
    accepted += (daemon ? 1 : 0) + (service ? 1 : 0);
    if (HasFatalFailure()) return;
  }
  // Some mutations are harmless (a changed comment, a reordered value); the generator must not
  // only produce garbage, or the test would never reach the field checks.
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace sp
