// Tests for named network namespaces: creation without `ip`, lo up inside, the caller's threads staying
// in the host namespace, deletion, and RunInNetns.
#include "net/netns.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_test_util.h"
#include "util/fs.h"

namespace sp {
namespace {

ino_t NetnsInode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool IsMountPoint(const std::string& dir) {
  auto info = ReadFile("/proc/self/mountinfo");
  return info && info->find(" " + dir + " ") != std::string::npos;
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = JoinPath(tmp_.path(), "netns");
  }
  void TearDown() override {
    for (const auto& p : created_) EXPECT_TRUE(DeleteNetns(p).ok()) << p;
    EXPECT_TRUE(ReleaseNetnsDir(dir_).ok());
  }
  std::string Create(const std::string& name) {
    auto p = CreateNetns(dir_, name);
    EXPECT_TRUE(p) << p.error().ToString();
    if (!p) return "";
    created_.push_back(*p);
    return *p;
  }

  testing::TempDir tmp_;
  std::string dir_;
  std::vector<std::string> created_;
};

TEST_F(NetnsTest, CreatesDistinctNamespaceAndLeavesEveryThreadInTheHostNamespace) {
  ino_t host = NetnsInode("/proc/thread-self/ns/net");
  ASSERT_NE(host, 0u);
  std::string a = Create("a");
  std::string b = Create("b");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(a, JoinPath(dir_, "a"));
  EXPECT_TRUE(IsNetnsPath(a));
  EXPECT_NE(NetnsInode(a), host);
  EXPECT_NE(NetnsInode(a), NetnsInode(b));
  auto tasks = ListDir("/proc/self/task");
  ASSERT_TRUE(tasks);
  for (const auto& tid : *tasks)
    EXPECT_EQ(NetnsInode("/proc/self/task/" + tid + "/ns/net"), host) << "thread " << tid;
  EXPECT_TRUE(IsMountPoint(dir_)) << dir_ << " should be a (shared) mount point";
}

TEST_F(NetnsTest, LoopbackIsUpInside) {
  std::string ns = Create("lo");
  ASSERT_FALSE(ns.empty());
  bool up = false;
  std::vector<std::string> addrs;
  ino_t inside = 0;
  Status st = RunInNetns(ns, [&]() -> Status {
    up = testing::LinkIsUp("lo");
    addrs = testing::Ipv4AddressesOf("lo");
    inside = NetnsInode("/proc/thread-self/ns/net");
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(inside, NetnsInode(ns)) << "RunInNetns did not run fn inside the namespace";
  EXPECT_TRUE(up);
  EXPECT_EQ(addrs, std::vector<std::string>{"127.0.0.1"});
}

TEST_F(NetnsTest, LoopbackInsideIsIsolatedFromTheHost) {
  testing::LoopbackGreeter host_server("host");
  ASSERT_NE(host_server.port(), 0);
  std::string ns = Create("iso");
  ASSERT_FALSE(ns.empty());
  Result<std::string> got = std::string();
  ASSERT_TRUE(RunInNetns(ns, [&]() -> Status {
                got = testing::ConnectAndRead("127.0.0.1", host_server.port());
                return Status::Ok();
              }).ok());
  EXPECT_FALSE(got) << "the host's loopback server was reachable from inside the namespace";
  auto from_host = testing::ConnectAndRead("127.0.0.1", host_server.port());
  ASSERT_TRUE(from_host) << from_host.error().ToString();
  EXPECT_EQ(*from_host, "host");
}

TEST_F(NetnsTest, CreatingAnExistingNamespaceFails) {
  ASSERT_FALSE(Create("dup").empty());
  auto again = CreateNetns(dir_, "dup");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists) << again.error().ToString();
}

TEST_F(NetnsTest, StaleFileIsReplaced) {
  ASSERT_TRUE(MakeDirs(dir_).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "stale"), "").ok());
  std::string ns = Create("stale");
  ASSERT_FALSE(ns.empty());
  EXPECT_TRUE(IsNetnsPath(ns));
}

TEST_F(NetnsTest, DeleteRemovesTheFileAndToleratesMissing) {
  auto ns = CreateNetns(dir_, "gone");
  ASSERT_TRUE(ns) << ns.error().ToString();
  ASSERT_TRUE(DeleteNetns(*ns).ok());
  EXPECT_FALSE(PathExists(*ns));
  EXPECT_FALSE(IsNetnsPath(*ns));
  Status again = DeleteNetns(*ns);
  EXPECT_TRUE(again.ok()) << again.ToString();
  auto recreated = CreateNetns(dir_, "gone");  // the name is free again
  ASSERT_TRUE(recreated) << recreated.error().ToString();
  created_.push_back(*recreated);
}

TEST_F(NetnsTest, RejectsBadNamesAndDirs) {
  for (const char* bad : {"", ".", "..", "a/b"}) {
    auto r = CreateNetns(dir_, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
  }
  auto rel = CreateNetns("relative/netns", "x");
  ASSERT_FALSE(rel);
  EXPECT_EQ(rel.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(PathExists("relative"));
}

TEST_F(NetnsTest, RunInNetnsReportsErrors) {
  Status missing = RunInNetns(JoinPath(dir_, "nosuch"), [] { return Status::Ok(); });
  EXPECT_EQ(missing.code(), Code::kNotFound) << missing.ToString();
  std::string plain = JoinPath(tmp_.path(), "plain");
  ASSERT_TRUE(WriteFileAtomic(plain, "").ok());
  bool ran = false;
  Status not_ns = RunInNetns(plain, [&] {
    ran = true;
    return Status::Ok();
  });
  EXPECT_FALSE(not_ns.ok());
  EXPECT_FALSE(ran);
  std::string ns = Create("err");
  ASSERT_FALSE(ns.empty());
  Status passed = RunInNetns(ns, [] { return Status::NotFound("from inside"); });
  EXPECT_EQ(passed.code(), Code::kNotFound);
  EXPECT_EQ(passed.message(), "from inside");
}

TEST_F(NetnsTest, ReleaseNetnsDirUnmountsIt) {
  ASSERT_FALSE(Create("r").empty());
  ASSERT_TRUE(DeleteNetns(created_.back()).ok());
  created_.clear();
  ASSERT_TRUE(IsMountPoint(dir_));
  ASSERT_TRUE(ReleaseNetnsDir(dir_).ok());
  EXPECT_FALSE(IsMountPoint(dir_));
  EXPECT_TRUE(RemoveAll(dir_).ok());
}

}  // namespace
}  // namespace sp
