// Tests that the rendered configuration isolates real containers as documented: network namespace
// (or the host's network with host_network) and the devices cgroup.
#include <gtest/gtest.h>

#include <sstream>

#include "runtime/bundle.h"
#include "runtime/container_fixture_test.h"
#include "util/fs.h"

namespace sp {
namespace {

using Isolation = testing::ContainerFixture;

// Interface names from /proc/net/dev text, sorted.
std::string InterfaceNames(const std::string& proc_net_dev) {
  std::istringstream in(proc_net_dev);
  std::string line, names;
  for (int n = 0; std::getline(in, line); ++n) {
    if (n < 2) continue;  // two header lines
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    names += name + " ";
  }
  return names;
}

TEST_F(Isolation, OwnNetworkNamespaceHasOnlyLoopback) {
  ContainerSpec spec = HostSpec("netns", {"/bin/cat", "/proc/net/dev"});
  CommandResult r = RunToCompletion(spec);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(InterfaceNames(r.out), "lo ");
}

TEST_F(Isolation, HostNetworkSeesHostInterfaces) {
  auto host = ReadFile("/proc/net/dev");
  ASSERT_TRUE(host);
  ASSERT_NE(InterfaceNames(*host), "lo ");  // otherwise the test proves nothing
  ContainerSpec spec = HostSpec("hostnet", {"/bin/sh", "-c", "cat /proc/net/dev; test -d /sys/class/net/lo"});
  spec.host_network = true;
  CommandResult r = RunToCompletion(spec);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(InterfaceNames(r.out), InterfaceNames(*host));
}

// With the host's network the container still gets a sysfs of its own, read-only, without the
// host's cgroup hierarchies or tracefs below it (a bind of the host's /sys had them writable). The
// only other mount there is the read-only tmpfs masking /sys/firmware.
TEST_F(Isolation, HostNetworkSysfsIsFreshAndReadOnly) {
  ContainerSpec spec = HostSpec("hostsys", {"/bin/cat", "/proc/self/mountinfo"});
  spec.host_network = true;
  CommandResult r = RunToCompletion(spec);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  std::string seen;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point, options, field;
    fields >> id >> parent >> devno >> root >> point >> options;
    if (point != "/sys" && point.rfind("/sys/", 0) != 0) continue;
    while (fields >> field && field != "-") {
    }
    std::string fstype;
    fields >> fstype;
    seen += point + ":" + fstype + " ";
    EXPECT_EQ(options.rfind("ro,", 0), 0u) << "writable inside the container: " << line;
  }
  EXPECT_EQ(seen, "/sys:sysfs /sys/firmware:tmpfs ") << r.out;
}

// /dev/loop-control (10:237) is not among the standard devices: exposed, it opens; not exposed, even
// a node made inside the container with mknod is refused by the devices cgroup.
TEST_F(Isolation, DevicesCgroupAllowsOnlyConfiguredDevices) {
  ASSERT_TRUE(PathExists("/dev/loop-control"));
  ContainerSpec with = HostSpec("dev-on", {"/bin/sh", "-c", "exec 3<>/dev/loop-control && echo opened"});
  with.devices = {"/dev/loop-control"};
  CommandResult r = RunToCompletion(with);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "opened\n");

  ContainerSpec without =
      HostSpec("dev-off", {"/bin/sh", "-c",
                           "test -e /dev/loop-control && echo visible; mknod /tmp/lc c 10 237 && "
                           "{ (exec 3<>/tmp/lc) 2>/dev/null && echo opened || echo refused; }"});
  r = RunToCompletion(without);
  EXPECT_EQ(r.out, "refused\n") << r.err;
}

}  // namespace
}  // namespace sp
