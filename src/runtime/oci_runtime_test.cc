// Tests of the runc/crun driver against the real runtimes, with real cgroups.
#include "runtime/oci_runtime.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "runtime/cgroups.h"
#include "runtime/container_fixture_test.h"
#include "util/fs.h"

namespace sp {
namespace {

using std::chrono::steady_clock;

RuntimeOptions Options(const std::string& binary, const std::string& root) {
  RuntimeOptions o;
  o.binary = binary;
  o.root = root;
  return o;
}

class OciRuntimeTest : public testing::ContainerFixture, public ::testing::WithParamInterface<std::string> {};

// Polls State until it reports `status` (or the deadline passes); returns the last state seen.
Result<ContainerState> WaitForStatus(const OciRuntime& rt, const std::string& id, const std::string& status) {
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto st = rt.State(id);
    if (!st || st->status == status || steady_clock::now() > deadline) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST_P(OciRuntimeTest, Lifecycle) {
  auto rt = OciRuntime::Open(Options(GetParam(), runtime_root_ + "-" + GetParam()));
  ASSERT_TRUE(rt) << rt.error().ToString();
  EXPECT_EQ(rt->binary_path()[0], '/');
  // crun must be wrapped on this hybrid host, runc never.
  EXPECT_EQ(rt->wrapped(), GetParam() == "crun");

  ContainerSpec spec = HostSpec("life", {"/bin/sleep", "1000"});
  spec.cpu_shares = 512;
  spec.memory_bytes = 64 << 20;
  spec.pids_limit = 100;
  Create(*rt, spec);
  ASSERT_FALSE(HasFatalFailure());

  auto st = rt->State(spec.id);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(st->id, spec.id);
  EXPECT_EQ(st->status, "created");
  EXPECT_GT(st->pid, 0);

  auto start = RunCommand(rt->StartArgv(spec.id));
  ASSERT_TRUE(start && start->ok()) << (start ? start->err : start.error().ToString());
  st = WaitForStatus(*rt, spec.id, "running");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, "running");

  auto limits = ReadCgroupLimits(spec.cgroups_path);
  ASSERT_TRUE(limits) << limits.error().ToString();
  EXPECT_EQ(limits->cpu_shares, 512);
  EXPECT_EQ(limits->memory_limit_bytes, 64 << 20);
  EXPECT_EQ(limits->pids_max, 100);
  auto usage = ReadCgroupUsage(spec.cgroups_path);
  ASSERT_TRUE(usage) << usage.error().ToString();
  EXPECT_GT(usage->memory_bytes, 0u);
  EXPECT_GT(usage->cpu_usage_ns, 0u);
  auto oom = ReadOomKillCount(spec.cgroups_path);
  ASSERT_TRUE(oom) << oom.error().ToString();
  EXPECT_EQ(*oom, 0u);

  auto list = rt->List();
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, spec.id);

  ASSERT_TRUE(rt->Kill(spec.id, SIGKILL).ok());
  st = WaitForStatus(*rt, spec.id, "stopped");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, "stopped");
  ASSERT_TRUE(rt->Delete(spec.id, false).ok());
  EXPECT_EQ(rt->State(spec.id).error().code(), Code::kNotFound);
  EXPECT_FALSE(PathExists(*CgroupDir("memory", spec.cgroups_path)));  // the runtime removed its cgroup
  EXPECT_TRUE(rt->List()->empty());
}

TEST_P(OciRuntimeTest, UnknownContainer) {
  auto rt = OciRuntime::Open(Options(GetParam(), runtime_root_ + "-" + GetParam()));
  ASSERT_TRUE(rt) << rt.error().ToString();
  EXPECT_EQ(rt->State("nope").error().code(), Code::kNotFound);
  EXPECT_EQ(rt->Kill("nope", SIGTERM).code(), Code::kNotFound);
  EXPECT_TRUE(rt->Delete("nope", true).ok());
  EXPECT_TRUE(rt->Delete("nope", false).ok());
}

INSTANTIATE_TEST_SUITE_P(Runtimes, OciRuntimeTest, ::testing::Values("runc", "crun"));

TEST(OciRuntime, MissingBinary) {
  auto rt = OciRuntime::Open(Options("no-such-runtime-xyz", ""));
  ASSERT_FALSE(rt);
  EXPECT_EQ(rt.error().code(), Code::kNotFound);
  EXPECT_NE(rt.error().message().find("runtime"), std::string::npos);
  rt = OciRuntime::Open(Options("/bin/false", ""));
  ASSERT_FALSE(rt);
  EXPECT_EQ(rt.error().code(), Code::kUnavailable);
}

TEST(OciRuntime, Argv) {
  RuntimeOptions o = Options("runc", "/r");
  o.check_version = false;
  auto rt = OciRuntime::Open(o);
  ASSERT_TRUE(rt);
  auto p = rt->binary_path();
  EXPECT_EQ(rt->CreateArgv("c1", "/b", "/b/pid"),
            (std::vector<std::string>{p, "--root", "/r", "create", "--bundle", "/b", "--pid-file", "/b/pid",
                                      "c1"}));
  EXPECT_EQ(rt->StartArgv("c1"), (std::vector<std::string>{p, "--root", "/r", "start", "c1"}));
  EXPECT_EQ(rt->RunDetachedArgv("c1", "/b", "/b/pid"),
            (std::vector<std::string>{p, "--root", "/r", "run", "--detach", "--bundle", "/b", "--pid-file", "/b/pid", "c1"}));
  EXPECT_EQ(rt->DeleteArgv("c1", true),
            (std::vector<std::string>{p, "--root", "/r", "delete", "--force", "c1"}));
}

TEST(OciRuntime, ParsesStateAndList) {
  auto st =
      ParseContainerState(R"({"ociVersion":"1.0.2","id":"a","pid":42,"status":"running","bundle":"/b"})");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, 42);
  EXPECT_EQ(st->status, "running");
  EXPECT_FALSE(ParseContainerState("not json"));
  EXPECT_FALSE(ParseContainerState(R"({"id": 5})"));
  EXPECT_FALSE(ParseContainerState(R"({"id": "a", "pid": "x"})"));
  EXPECT_TRUE(ParseContainerList("null")->empty());
  EXPECT_TRUE(ParseContainerList("[\n\n]")->empty());
  auto list =
      ParseContainerList(R"([{"id":"a","pid":1,"status":"running"},{"id":"b","pid":0,"status":"stopped"}])");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  EXPECT_FALSE(ParseContainerList("{"));
}

}  // namespace
}  // namespace sp
