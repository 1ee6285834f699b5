// spawnctl's command table and connect preamble, driven through RunSpawnctl without a daemon:
// parse errors, the duration flags (an error names the command), and the Session preamble
// reporting a missing router under the command's own name.
#include "cli/app.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/context.h"
#include "util/fs.h"

namespace sp::cli {
namespace {

class SpawnctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("/tmp/sp-app-test-XXXXXX");
    ASSERT_TRUE(dir.has_value());
    dir_ = *dir;
    // No router, no local daemon (its client.json would be in the state dir), history kept here.
    ::unsetenv("SPAWNPOINT_ROUTER");
    ::unsetenv("SPAWNPOINT_ENTITY");
    ::unsetenv("SPAWNPOINT_DEFAULT_URI");
    ::setenv("SPAWNPOINT_STATE_DIR", dir_.c_str(), 1);
    ::setenv("SPAWNCTL_HISTORY_FILE", JoinPath(dir_, "history").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("SPAWNPOINT_STATE_DIR");
    ::unsetenv("SPAWNCTL_HISTORY_FILE");
    (void)RemoveAll(dir_);
  }

  // Runs spawnctl with `args`; returns the exit status and keeps stderr in `err_`.
  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "spawnctl");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::testing::internal::CaptureStderr();
    int rc = RunSpawnctl(static_cast<int>(args.size()), argv.data());
    err_ = ::testing::internal::GetCapturedStderr();
    return rc;
  }

  std::string dir_;
  std::string err_;
};

TEST_F(SpawnctlTest, ASubcommandIsRequired) {
  EXPECT_NE(Run({}), 0);
  EXPECT_NE(err_.find("A subcommand is required"), std::string::npos) << err_;
  EXPECT_NE(Run({"entity"}), 0);
  EXPECT_NE(err_.find("A subcommand is required"), std::string::npos) << err_;
}

TEST_F(SpawnctlTest, RequiredFlagsAreChecked) {
  EXPECT_NE(Run({"stop"}), 0);
  EXPECT_NE(err_.find("--name is required"), std::string::npos) << err_;
  EXPECT_NE(Run({"images", "pull"}), 0);
  EXPECT_NE(err_.find("reference is required"), std::string::npos) << err_;
}

TEST_F(SpawnctlTest, ABadDurationNamesTheCommand) {
  int invalid = ExitCodeFor(Code::kInvalidArgument);
  EXPECT_EQ(Run({"restart", "-n", "web", "-t", "bogus"}), invalid);
  EXPECT_EQ(err_.rfind("spawnctl: restart: invalid duration \"bogus\"", 0), 0u) << err_;
  EXPECT_EQ(Run({"tail", "-n", "web", "--timeout", "5q"}), invalid);
  EXPECT_EQ(err_.rfind("spawnctl: tail: invalid duration \"5q\"", 0), 0u) << err_;
  EXPECT_EQ(Run({"grant", "--to", "UABC", "--expires", "zz"}), invalid);
  EXPECT_EQ(err_.rfind("spawnctl: grant: invalid duration \"zz\"", 0), 0u) << err_;
  EXPECT_EQ(Run({"deploy", "-c", JoinPath(dir_, "deploy.yaml"), "-t", "x"}), invalid);
  EXPECT_EQ(err_.rfind("spawnctl: deploy: invalid duration \"x\"", 0), 0u) << err_;
}

TEST_F(SpawnctlTest, DeployIsRecordedWhenParsed) {
  std::string config = JoinPath(dir_, "missing.yaml");
  EXPECT_NE(Run({"deploy", "-c", config}), 0);
  auto history = ReadFile(JoinPath(dir_, "history"));
  ASSERT_TRUE(history.has_value());
  EXPECT_NE(history->find(config), std::string::npos) << *history;
}

// Every command that talks to a daemon opens its session first and reports a failure as its own.
TEST_F(SpawnctlTest, TheConnectPreambleFailsUnderTheCommandsName) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"scan"}, "scan"},
      {{"images"}, "images"},
      {{"images", "pull", "web:1"}, "images pull"},
      {{"images", "prune"}, "images prune"},
      {{"restart", "-n", "web", "-u", "a/b"}, "restart"},
      {{"stop", "-n", "web"}, "stop"},
      {{"tail", "-n", "web"}, "tail"},
      {{"inspect", "-n", "web", "--json"}, "inspect"},
  };
  for (const auto& [args, what] : cases) {
    EXPECT_NE(Run(args), 0) << what;
    EXPECT_EQ(err_.rfind("spawnctl: " + what + ": no router given", 0), 0u) << err_;
  }
}

TEST_F(SpawnctlTest, OpenNeedsARouter) {
  Context ctx(GlobalFlags{});
  auto session = ctx.Open("oski/spawnpoint/alpha");
  ASSERT_FALSE(session.has_value());
  EXPECT_NE(session.error().message().find("no router given"), std::string::npos)
      << session.error().message();
}

}  // namespace
}  // namespace sp::cli
