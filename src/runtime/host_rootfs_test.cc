// Tests of the `image: host` root: what a real container sees of the host, and what it does not.
#include "runtime/host_rootfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container_fixture_test.h"
#include "util/fs.h"

namespace sp {
namespace {

using HostRootfs = testing::ContainerFixture;

TEST(RootfsRequest, NeedsAnAbsoluteServiceDirAndAPlainHostname) {
  EXPECT_TRUE(CheckRootfsRequest("/var/lib/spawnpoint/services/web", "web-1.example_a").ok());
  EXPECT_EQ(CheckRootfsRequest("", "web").code(), Code::kInvalidArgument);
  Status relative = CheckRootfsRequest("services/web", "web");
  EXPECT_EQ(relative.code(), Code::kInvalidArgument);
  EXPECT_NE(relative.message().find("must be absolute, got 'services/web'"), std::string::npos)
      << relative.message();
  for (std::string_view bad : {"", "bad host", "a\nb", "a/b", "a:b"})
    EXPECT_EQ(CheckRootfsRequest("/svc", bad).code(), Code::kInvalidArgument) << bad;
  EXPECT_TRUE(CheckRootfsRequest("/svc", std::string(253, 'h')).ok());
  Status too_long = CheckRootfsRequest("/svc", std::string(254, 'h'));
  EXPECT_NE(too_long.message().find("must be 1-253 letters"), std::string::npos) << too_long.message();
}

TEST_F(HostRootfs, SkeletonAndGeneratedEtc) {
  std::string dir = JoinPath(tmp_, "svc");
  auto mounts = PrepareHostRootfs(dir, "web");
  ASSERT_TRUE(mounts) << mounts.error().ToString();
  ASSERT_FALSE(mounts->empty());
  EXPECT_EQ((*mounts)[0].destination, "/usr");
  for (const auto& m : *mounts) {
    EXPECT_EQ(m.type, "bind");
    EXPECT_NE(std::find(m.options.begin(), m.options.end(), "ro"), m.options.end()) << m.destination;
  }
  // This host is merged-/usr: bin is a symlink in the skeleton, not a bind.
  char buf[64];
  ssize_t n = ::readlink(JoinPath(dir, "rootfs/bin").c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "usr/bin");
  EXPECT_TRUE(PathExists(JoinPath(dir, "rootfs/srv/spawnpoint")));
  EXPECT_EQ(*ReadFile(JoinPath(dir, "etc/hostname")), "web\n");
  EXPECT_NE(ReadFile(JoinPath(dir, "etc/hosts"))->find("web"), std::string::npos);
  EXPECT_NE(ReadFile(JoinPath(dir, "etc/passwd"))->find("nobody:x:65534"), std::string::npos);
  EXPECT_FALSE(PathExists(JoinPath(dir, "etc/shadow")));
  // Idempotent: a second call (a restart of the service) succeeds and gives the same mounts.
  auto again = PrepareHostRootfs(dir, "web");
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->size(), mounts->size());
  EXPECT_FALSE(PrepareHostRootfs(dir, "bad host\nname"));
  EXPECT_FALSE(PrepareHostRootfs("relative", "web"));
}

TEST_F(HostRootfs, ContainerSeesProgramsButNothingPrivate) {
  // Stand-in for the daemon's state directory with a secret in it.
  std::string state = JoinPath(tmp_, "state/auth");
  ASSERT_TRUE(MakeDirs(state).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(state, "admin.creds"), "secret", 0600).ok());
  ASSERT_TRUE(PathExists("/etc/shadow"));  // the host has one to hide

  std::string script =
      "for p in /usr/bin/sh /bin/sh /etc/ssl/certs /etc/passwd; do test -e $p && echo has $p; done;"
      "for p in /etc/shadow /home /var " +
      state + " " + tmp_ +
      "; do test -e $p || echo no $p; done;"
      "echo root-entries $(ls -A /root | wc -l);"
      "touch /usr/x 2>/dev/null || echo usr-ro;"
      "touch /etc/x 2>/dev/null || echo etc-ro;"
      "echo host $(cat /etc/hostname) $(hostname);"
      "grep -q nobody /etc/passwd && echo passwd-ok";
  ContainerSpec spec = HostSpec("hidden", {"/bin/sh", "-c", script});
  CommandResult r = RunToCompletion(spec);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "has /usr/bin/sh\nhas /bin/sh\nhas /etc/ssl/certs\nhas /etc/passwd\n"
            "no /etc/shadow\nno /home\nno /var\nno " +
                state + "\nno " + tmp_ +
                "\n"
                "root-entries 0\nusr-ro\netc-ro\nhost hidden hidden\npasswd-ok\n")
      << r.err;
}

}  // namespace
}  // namespace sp
