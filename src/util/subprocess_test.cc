#include "util/subprocess.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
}

TEST(Subprocess, FeedsStdinAndEnv) {
  CommandOptions o;
  o.input = std::string(200000, 'x');
  o.env["SP_TEST_VAR"] = "hello";
  auto r = RunCommand({"sh", "-c", "wc -c; echo $SP_TEST_VAR"}, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "200000\nhello\n");
}

TEST(Subprocess, ChildIgnoringStdinDoesNotKillUs) {
  CommandOptions o;
  o.input = std::string(4 << 20, 'x');  // larger than a pipe buffer
  auto r = RunCommand({"true"}, o);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0);
}

TEST(Subprocess, TimesOutAndKills) {
  CommandOptions o;
  o.timeout = Millis(200);
  auto r = RunCommand({"sleep", "10"}, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
}

TEST(Subprocess, CheckedReportsStderr) {
  auto r = RunChecked({"sh", "-c", "echo boom >&2; exit 1"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("boom"), std::string::npos);
  EXPECT_FALSE(RunCommand({"no-such-program-xyz"}));
}

}  // namespace
}  // namespace sp
