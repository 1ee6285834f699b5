// Setup, helpers and guaranteed cleanup for spawn-monitor tests with real containers.
#include "monitor/monitor_fixture_test.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "monitor/log_segments.h"
#include "runtime/cgroups.h"
#include "runtime/host_rootfs.h"
#include "util/fs.h"

namespace sp::testing {
namespace {

std::string RandomSuffix() {
  std::random_device rd;
  char buf[16];
  snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

std::string ExeDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string exe = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  return exe.substr(0, exe.rfind('/'));
}

// The fields of /proc/<pid>/stat after the command name: state, ppid, ...
std::vector<std::string> StatFields(pid_t pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return {};
  std::istringstream in(text->substr(text->rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

}  // namespace

bool ProcessGone(pid_t pid) {
  auto f = StatFields(pid);
  return f.empty() || f[0] == "Z" || f[0] == "X";
}

pid_t ParentOf(pid_t pid) {
  auto f = StatFields(pid);
  return f.size() > 1 ? static_cast<pid_t>(std::stol(f[1])) : 0;
}

void MonitorFixture::SetUp() {
  char tmpl[] = "/tmp/sp-monitor-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  tmp_ = tmpl;
  runtime_root_ = JoinPath(tmp_, "runc");
  cgroup_parent_ = "/spawnpoint-test/" + RandomSuffix();
  monitor_binary_ = JoinPath(ExeDir(), "spawn-monitor");
  ASSERT_EQ(::access(monitor_binary_.c_str(), X_OK), 0)
      << monitor_binary_ << " missing: build the spawn-monitor target too";
}

void MonitorFixture::TearDown() {
  for (pid_t pid : monitors_)
    if (!ProcessGone(pid)) ::kill(pid, SIGKILL);
  for (const char* binary : {"runc", "crun"}) {
    OciRuntime rt = Runtime(binary);
    for (const auto& id : ids_) {
      Status s = rt.Delete(id, /*force=*/true);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
  for (const auto& cg : cgroups_) {
    Status s = RemoveCgroup(cg);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_TRUE(RemoveCgroup(cgroup_parent_).ok());
  if (auto mounts = ReadCgroupMounts()) {
    // Not recursive: other test programs may be using their own directories below it.
    for (const auto& m : *mounts) ::rmdir(JoinPath(m.mount_point, "/spawnpoint-test").c_str());
  }
  if (!tmp_.empty()) {
    Status s = RemoveAll(tmp_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

std::string MonitorFixture::RuntimeRoot(const std::string& binary) const {
  return binary == "runc" ? runtime_root_ : runtime_root_ + "-" + binary;
}

OciRuntime MonitorFixture::Runtime(const std::string& binary) const {
  RuntimeOptions o;
  o.binary = binary;
  o.root = RuntimeRoot(binary);
  o.check_version = false;
  auto rt = OciRuntime::Open(o);
  SP_CHECK(rt.has_value());
  return *rt;
}

TestService MonitorFixture::Prepare(const std::string& name, std::vector<std::string> args) {
  TestService svc;
  svc.name = name;
  svc.dir = JoinPath(JoinPath(tmp_, "services"), name);
  auto mounts = PrepareHostRootfs(svc.dir, name);
  EXPECT_TRUE(mounts) << mounts.error().ToString();
  svc.spec.id = "sp-mon-" + name + "-" + cgroup_parent_.substr(cgroup_parent_.rfind('/') + 1);
  svc.spec.hostname = name;
  svc.spec.args = std::move(args);
  svc.spec.rootfs = JoinPath(svc.dir, "rootfs");
  if (mounts) svc.spec.mounts = *mounts;
  svc.spec.cgroups_path = cgroup_parent_ + "/" + name;
  svc.params.id = svc.spec.id;
  svc.params.bundle = JoinPath(svc.dir, "bundle");
  svc.params.runtime_root = runtime_root_;
  svc.params.cgroups_path = svc.spec.cgroups_path;
  svc.params.log_dir = JoinPath(svc.dir, "logs");
  svc.params.exit_file = JoinPath(svc.dir, "exit.json");
  svc.params.pid_file = JoinPath(svc.dir, "container.pid");
  svc.params_file = JoinPath(svc.dir, "monitor.json");
  ids_.push_back(svc.spec.id);
  cgroups_.push_back(svc.spec.cgroups_path);
  Rewrite(svc);
  return svc;
}

void MonitorFixture::Rewrite(const TestService& svc) {
  Status b = WriteBundle(svc.params.bundle, svc.spec);
  EXPECT_TRUE(b.ok()) << b.ToString();
  Status p = WriteMonitorParams(svc.params_file, svc.params);
  EXPECT_TRUE(p.ok()) << p.ToString();
}

Result<LaunchResult> MonitorFixture::Launch(const TestService& svc) {
  auto r = LaunchMonitor(monitor_binary_, svc.params_file, Millis(20000));
  if (r) monitors_.push_back(r->monitor_pid);
  return r;
}

ExitRecord MonitorFixture::WaitForExit(const TestService& svc, pid_t monitor_pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Result<ExitRecord> r = ReadExitRecord(svc.params.exit_file);
  while (!r && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r = ReadExitRecord(svc.params.exit_file);
  }
  EXPECT_TRUE(r) << "no exit record: " << r.error().ToString() << "\nmonitor.log:\n"
                 << ReadFile(JoinPath(svc.dir, "monitor.log")).value_or("");
  while (!ProcessGone(monitor_pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(ProcessGone(monitor_pid)) << "monitor still running after writing exit.json";
  return r ? *r : ExitRecord{};
}

std::vector<CriRecord> MonitorFixture::ReadLog(const TestService& svc) {
  std::vector<CriRecord> out;
  auto numbers = ListSegments(svc.params.log_dir);
  EXPECT_TRUE(numbers) << numbers.error().ToString();
  if (!numbers) return out;
  for (uint32_t n : *numbers) {
    std::istringstream in(*ReadFile(SegmentPath(svc.params.log_dir, n)));
    for (std::string line; std::getline(in, line);) {
      auto rec = ParseCriRecord(line);
      EXPECT_TRUE(rec) << rec.error().ToString();
      if (rec) out.push_back(*rec);
    }
  }
  return out;
}

}  // namespace sp::testing
