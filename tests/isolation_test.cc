// What a service sees: its files, volumes, environment and the router, and
// nothing of the host's secrets; features the daemon does not allow or this
// version does not support are refused with a clear error.
#include <gtest/gtest.h>

#include "harness.h"
#include "util/fs.h"

namespace sp::test {
namespace {

TEST(Isolation, IncludedFilesVolumesEnvAndRouterButNoSecrets) {
  TestDaemon d;
  d.Start();
  d.WriteFile("probe.sh", R"SH(#!/bin/sh
echo "cwd=$(pwd)"
echo "greeting=$(cat /srv/spawnpoint/conf/greeting.txt)"
echo "env=$MY_SETTING"
[ -r /etc/shadow ] && echo "shadow=VISIBLE" || echo "shadow=hidden"
[ -e /root/.bashrc ] || [ -n "$(ls -A /root 2>/dev/null)" ] && echo "root=VISIBLE" || echo "root=hidden"
[ -n "$(ls -A /home 2>/dev/null)" ] && echo "home=VISIBLE" || echo "home=hidden"
[ -e /var/lib/spawnpoint ] && echo "state=VISIBLE" || echo "state=hidden"
echo "count=$(cat /srv/data/count 2>/dev/null || echo 0)"
echo $(( $(cat /srv/data/count 2>/dev/null || echo 0) + 1 )) > /srv/data/count
touch /usr/bin/should-fail 2>/dev/null && echo "usr=WRITABLE" || echo "usr=readonly"
host=${SPAWNPOINT_ROUTER#nats://}
if bash -c "exec 3<>/dev/tcp/${host%:*}/${host#*:}; head -c 4 <&3" 2>/dev/null | grep -q INFO; then
  echo "router=reachable"
else
  echo "router=unreachable"
fi
sleep 1000
)SH",
              0755);
  (void)MakeDirs(d.work_dir() + "/conf");
  d.WriteFile("conf/greeting.txt", "hi there");
  std::string cfg = d.WriteFile("deploy.yaml", R"(cpuShares: 128
memory: 64
run: [/bin/sh, /srv/spawnpoint/probe.sh]
includedFiles: [probe.sh]
includedDirectories: [conf]
volumes: [data]
env: {MY_SETTING: forty-two}
)");
  auto r = d.Spawnctl({"deploy", "-c", cfg, "-n", "probe", "-t", "3s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* want : {"cwd=/srv/spawnpoint", "greeting=hi there", "env=forty-two", "shadow=hidden",
                           "root=hidden", "home=hidden", "state=hidden", "count=0", "usr=readonly",
                           "router=reachable"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << " missing in:\n" << r.out;

  // Volumes persist across redeploys.
  ASSERT_EQ(d.Spawnctl({"stop", "-n", "probe"}).exit_code, 0);
  auto again = d.Spawnctl({"deploy", "-c", cfg, "-n", "probe", "-t", "2s"});
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("count=1"), std::string::npos) << again.out;
}

TEST(Isolation, HostNetworkingAndDevicesNeedTheDaemonsPermission) {
  TestDaemon d;
  d.Start();
  std::string net = d.WriteFile("net.yaml", "cpuShares: 64\nmemory: 32\nrun: [/bin/sleep, '100']\nuseHostNet: true\n");
  auto r = d.Spawnctl({"deploy", "-c", net, "-n", "net", "-t", "0s"});
  EXPECT_EQ(r.exit_code, ExitCodeFor(Code::kPermissionDenied));
  EXPECT_NE(r.err.find("enableHostNetworking"), std::string::npos) << r.err;
  std::string dev = d.WriteFile("dev.yaml", "cpuShares: 64\nmemory: 32\nrun: [/bin/sleep, '100']\ndevices: [/dev/fuse]\n");
  r = d.Spawnctl({"deploy", "-c", dev, "-n", "dev", "-t", "0s"});
  EXPECT_EQ(r.exit_code, ExitCodeFor(Code::kPermissionDenied));
  EXPECT_NE(r.err.find("enableDeviceMapping"), std::string::npos) << r.err;
}

TEST(Isolation, HostNetworkingAndDevicesWorkWhenEnabled) {
  DaemonSettings s;
  s.extra = "enableHostNetworking: true\nenableDeviceMapping: true\n";
  TestDaemon d(s);
  d.Start();
  std::string cfg = d.WriteFile("hn.yaml", R"(cpuShares: 64
memory: 32
useHostNet: true
devices: [/dev/fuse]
run: [/bin/sh, -c, 'ls /sys/class/net | tr "\n" " "; echo; [ -c /dev/fuse ] && echo fuse=present; sleep 100']
)");
  auto r = d.Spawnctl({"deploy", "-c", cfg, "-n", "hn", "-t", "2s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("lo"), std::string::npos);
  EXPECT_NE(r.out.find("fuse=present"), std::string::npos) << r.out;
  // The host's interfaces are visible: more than the loopback and one veth.
  auto host_ifaces = RunCommand({"ls", "/sys/class/net"});
  std::string first_host_iface = host_ifaces->out.substr(0, host_ifaces->out.find('\n'));
  EXPECT_NE(r.out.find(first_host_iface), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sp::test
