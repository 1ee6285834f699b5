// A daemon joining an existing NATS deployment, set up with the project's
// own tools only: spawnctl router-config for the server, spawnctl grant
// --daemon for the daemon's entity, spawnctl delegate for minting service
// entities, spawnctl grant for an operator.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util/fs.h"

namespace sp::test {
namespace {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(ExternalRouter, DaemonJoinsAnExistingDeployment) {
  char tmpl[] = "/tmp/sp-ext-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { (void)RemoveAll(path); }
  } remove_dir{dir};
  std::string ns = dir + "/ns";
  // The namespace owner's tool, run against a namespace directory of its own.
  auto owner = [&](std::vector<std::string> args) {
    args.insert(args.begin(), BinDir() + "/spawnctl");
    CommandOptions o;
    o.env["SPAWNPOINT_STATE_DIR"] = ns;
    auto r = RunCommand(args, o);
    EXPECT_TRUE(r && r->ok()) << args[1] << ": " << (r ? r->err : r.error().ToString());
    return r ? Trim(r->out) : std::string();
  };
  int port = FreePort();
  DaemonSettings s;
  s.extra = "router: nats://127.0.0.1:" + std::to_string(port) + "\nentity: " + dir + "/daemon.creds\nsigner: " + dir +
            "/signer.json\n";
  s.spawnctl_entity = dir + "/admin.creds";
  TestDaemon d(s);
  const std::string base = d.uri();  // the grants name this daemon's base URI
  std::string server_auth = owner({"router-config"});  // creates the namespace on first use
  std::string daemon_pub = owner({"entity", "new", "-o", dir + "/daemon.creds"});
  owner({"grant", "--to", daemon_pub, "--daemon", base, "-o", dir + "/daemon.creds"});
  owner({"delegate", "--uri", base, "-o", dir + "/signer.json"});
  std::string admin_pub = owner({"entity", "new", "-o", dir + "/admin.creds"});
  owner({"grant", "--to", admin_pub, "--uri", "test/*", "--perm", "PC", "-o", dir + "/admin.creds"});

  server_auth = owner({"router-config"});  // again: the delegation changed the account
  std::string conf = "listen: 127.0.0.1:" + std::to_string(port) + "\njetstream { store_dir: \"" + dir +
                     "/js\" }\n" + server_auth + "\n";
  ASSERT_TRUE(WriteFileAtomic(dir + "/nats.conf", conf).ok());
  pid_t server = ::fork();
  if (server == 0) {
    ::execlp("nats-server", "nats-server", "-c", (dir + "/nats.conf").c_str(), "-l", (dir + "/nats.log").c_str(),
             nullptr);
    ::_exit(127);
  }
  struct StopByPid {
    pid_t pid;
    ~StopByPid() {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  } stop_server{server};

  {
    d.Start();
    std::string cfg = d.WriteFile("svc.yaml", R"(cpuShares: 64
memory: 32
run: [/bin/sh, -c, 'echo "entity=$SPAWNPOINT_ENTITY router=$SPAWNPOINT_ROUTER"; [ -s "$SPAWNPOINT_ENTITY" ] && echo has-entity; sleep 100']
)");
    auto r = d.Spawnctl({"deploy", "-c", cfg, "-n", "joined", "-t", "2s"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << d.DaemonLog();
    EXPECT_NE(r.out.find("has-entity"), std::string::npos) << "minted through the delegation:\n" << r.out;
    EXPECT_EQ(r.out.find("router=nats://127.0.0.1"), std::string::npos) << "services get an address they can reach";
    auto scan = d.Scan();
    ASSERT_TRUE(scan.is_object());
    ASSERT_EQ(scan["hosts"].size(), 1u) << scan.dump();
    EXPECT_EQ(scan["hosts"][0]["services"][0]["name"], "joined");
    EXPECT_FALSE(PathExists(d.state_dir() + "/router")) << "no embedded router was started";
  }
}

}  // namespace
}  // namespace sp::test
