// Setup and guaranteed cleanup for tests that run real containers.
#include "runtime/container_fixture_test.h"

#include <unistd.h>

#include <random>

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

// rmdir (not recursive: other test programs may be using their own children) in every hierarchy.
void RemoveEmptyCgroupDir(const std::string& path) {
  auto mounts = ReadCgroupMounts();
  if (!mounts) return;
  for (const auto& m : *mounts) ::rmdir(JoinPath(m.mount_point, path).c_str());
}

}  // namespace

void ContainerFixture::SetUp() {
  char tmpl[] = "/tmp/sp-runtime-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  tmp_ = tmpl;
  runtime_root_ = JoinPath(tmp_, "runc");
  cgroup_parent_ = "/spawnpoint-test/" + RandomSuffix();
}

void ContainerFixture::TearDown() {
  for (const auto& [rt, id] : created_) {
    Status s = rt.Delete(id, /*force=*/true);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  for (const auto& cg : cgroups_) {
    Status s = RemoveCgroup(cg);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_TRUE(RemoveCgroup(cgroup_parent_).ok());
  RemoveEmptyCgroupDir("/spawnpoint-test");
  if (!tmp_.empty()) {
    Status s = RemoveAll(tmp_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

ContainerSpec ContainerFixture::HostSpec(const std::string& name, std::vector<std::string> args) {
  std::string service_dir = JoinPath(JoinPath(tmp_, "services"), name);
  auto mounts = PrepareHostRootfs(service_dir, name);
  EXPECT_TRUE(mounts) << mounts.error().ToString();
  ContainerSpec spec;
  spec.id = "sp-test-" + name + "-" + cgroup_parent_.substr(cgroup_parent_.rfind('/') + 1);
  spec.hostname = name;
  spec.args = std::move(args);
  spec.rootfs = JoinPath(service_dir, "rootfs");
  if (mounts) spec.mounts = *mounts;
  spec.cgroups_path = cgroup_parent_ + "/" + name;
  cgroups_.push_back(spec.cgroups_path);
  return spec;
}

std::string ContainerFixture::BundleDir(const std::string& name) const {
  return JoinPath(JoinPath(JoinPath(tmp_, "services"), name), "bundle");
}

CommandResult ContainerFixture::RunToCompletion(const ContainerSpec& spec) {
  std::string bundle = BundleDir(spec.hostname);
  Status w = WriteBundle(bundle, spec);
  EXPECT_TRUE(w.ok()) << w.ToString();
  RuntimeOptions opts;
  opts.root = runtime_root_;
  auto rt = OciRuntime::Open(opts);
  EXPECT_TRUE(rt) << rt.error().ToString();
  if (!rt) return {};
  created_.emplace_back(*rt, spec.id);
  auto r = RunCommand({"runc", "--root", runtime_root_, "run", "--bundle", bundle, spec.id});
  EXPECT_TRUE(r) << r.error().ToString();
  return r ? *r : CommandResult{};
}

void ContainerFixture::Create(const OciRuntime& rt, const ContainerSpec& spec) {
  std::string bundle = BundleDir(spec.hostname);
  Status w = WriteBundle(bundle, spec);
  ASSERT_TRUE(w.ok()) << w.ToString();
  created_.emplace_back(rt, spec.id);
  // The container inherits create's stdio, so it gets /dev/null rather than our capture pipes.
  std::string err_file = JoinPath(tmp_, "create-" + spec.id + ".err");
  std::vector<std::string> argv = {"sh", "-c", "f=$1; shift; exec \"$@\" </dev/null >/dev/null 2>\"$f\"",
                                   "sh", err_file};
  auto create = rt.CreateArgv(spec.id, bundle, JoinPath(bundle, "pid"));
  argv.insert(argv.end(), create.begin(), create.end());
  auto r = RunCommand(argv);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->exit_code, 0) << "create failed: " << ReadFile(err_file).value_or("");
}

}  // namespace sp::testing
