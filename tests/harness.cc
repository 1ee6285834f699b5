// Integration-test harness implementation (see harness.h).
#include "harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "util/fs.h"

namespace sp::test {
namespace {

std::string RandomHex(int n) {
  static std::mt19937 rng(std::random_device{}());
  std::string out;
  for (int i = 0; i < n; ++i) out += "0123456789abcdef"[rng() % 16];
  return out;
}

int RandomByte(int lo, int hi) {
  static std::mt19937 rng(std::random_device{}());
  return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1));
}

}  // namespace

std::string BinDir() { return SP_BIN_DIR; }
std::string SourceDir() { return SP_SOURCE_DIR; }

bool WaitFor(const std::function<bool()>& cond, Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  auto rp = stat.rfind(')');
  return !stat.empty() && rp != std::string::npos && stat.size() > rp + 2 && stat[rp + 2] != 'Z';
}

std::string ReadText(const std::string& path) {
  auto r = ReadFile(path);
  return r ? *r : "";
}

TestDaemon::TestDaemon(DaemonSettings s) : settings_(std::move(s)) {
  char tmpl[] = "/tmp/sp-it-XXXXXX";
  root_ = ::mkdtemp(tmpl);
  state_dir_ = root_ + "/state";
  if (settings_.state_via_symlink) {
    (void)MakeDirs(root_ + "/real");
    (void)!::symlink((root_ + "/real").c_str(), (root_ + "/link").c_str());
    state_dir_ = root_ + "/link/state";
  }
  work_dir_ = root_ + "/work";
  (void)MakeDirs(work_dir_);
  log_path_ = root_ + "/spawnd.log";
  std::string alias = "t" + RandomHex(6);
  uri_ = "test/spawnpoint/" + alias;
  bridge_ = "spt" + RandomHex(6);
  std::string subnet = "10." + std::to_string(RandomByte(200, 250)) + "." + std::to_string(RandomByte(0, 255)) + ".0/24";
  config_path_ = root_ + "/spawnd.yml";
  std::string yaml = "path: " + uri_ + "\ncpuShares: " + std::to_string(settings_.cpu_shares) +
                     "\nmemory: " + std::to_string(settings_.memory_mib) + "\nstateDir: " + state_dir_ +
                     "\nrouterListen: 127.0.0.1:0\nbridgeName: " + bridge_ + "\nbridgeSubnet: " + subnet +
                     "\nheartbeatInterval: " + settings_.heartbeat + "\n" + settings_.extra;
  (void)WriteFileAtomic(config_path_, yaml);
}

TestDaemon::~TestDaemon() { Cleanup(); }

std::string TestDaemon::DaemonLog() const { return ReadText(log_path_); }

void TestDaemon::Start() {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::setpgid(0, 0);
    std::string bin = BinDir() + "/spawnd";
    ::execl(bin.c_str(), bin.c_str(), "run", "-c", config_path_.c_str(), nullptr);
    ::_exit(127);
  }
  // The daemon serves once it answers a request (the router alone answers scans earlier).
  bool up = WaitFor([&] {
    return Spawnctl({"inspect", "-n", "harness-probe"}, Millis(5000)).exit_code == ExitCodeFor(Code::kNotFound);
  }, Millis(30000));
  ASSERT_TRUE(up) << "spawnd did not come up:\n" << DaemonLog();
}

void TestDaemon::Kill(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  // The embedded router dies with the daemon (parent-death signal); wait for its PID to go.
  std::string pid = ReadText(state_dir_ + "/router/nats-server.pid");
  if (!pid.empty()) WaitFor([&] { return !ProcessAlive(std::atoi(pid.c_str())); }, Millis(10000));
}

CommandResult TestDaemon::Spawnctl(const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv = {BinDir() + "/spawnctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions o;
  o.env["SPAWNPOINT_STATE_DIR"] = state_dir_;
  o.env["SPAWNCTL_HISTORY_FILE"] = root_ + "/history";
  if (!settings_.spawnctl_entity.empty()) o.env["SPAWNPOINT_ENTITY"] = settings_.spawnctl_entity;
  o.timeout = timeout;
  auto r = RunCommand(argv, o);
  if (!r) return CommandResult{-1, 0, "", r.error().ToString()};
  return *r;
}

CommandResult TestDaemon::Spawnd(const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv = {BinDir() + "/spawnd"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions o;
  o.timeout = timeout;
  auto r = RunCommand(argv, o);
  if (!r) return CommandResult{-1, 0, "", r.error().ToString()};
  return *r;
}

pid_t TestDaemon::SpawnctlBackground(const std::vector<std::string>& args, const std::string& out_file) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::setenv("SPAWNPOINT_STATE_DIR", state_dir_.c_str(), 1);
    if (!settings_.spawnctl_entity.empty()) ::setenv("SPAWNPOINT_ENTITY", settings_.spawnctl_entity.c_str(), 1);
    std::vector<std::string> argv = {BinDir() + "/spawnctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  return pid;
}

nlohmann::json TestDaemon::Inspect(const std::string& name) {
  auto r = Spawnctl({"inspect", "-n", name, "--json"});
  if (!r.ok()) return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

nlohmann::json TestDaemon::Scan() {
  auto r = Spawnctl({"scan", "--json"});
  if (!r.ok()) return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

std::string TestDaemon::WriteFile(const std::string& name, const std::string& content, int mode) {
  std::string path = work_dir_ + "/" + name;
  (void)WriteFileAtomic(path, content, static_cast<mode_t>(mode));
  return path;
}

void TestDaemon::Cleanup() {
  // Stop services the test left, through the daemon, so its own clean-up runs.
  if (pid_ > 0) {
    if (auto scan = Scan(); scan.is_object()) {
      for (auto& h : scan["hosts"])
        for (auto& s : h["services"]) Spawnctl({"stop", "-n", s["name"].get<std::string>()});
    }
    Kill(SIGTERM);
  }
  // Whatever is still there (a test that killed the daemon): containers by the runtime, monitors by PID.
  auto services = ListDir(state_dir_ + "/services");
  if (services) {
    for (const auto& name : *services) {
      std::string mon = ReadText(state_dir_ + "/services/" + name + "/monitor.pid");
      RunCommand({"runc", "--root", state_dir_ + "/runc", "kill", "--all", name, "KILL"});
      if (!mon.empty()) {
        pid_t p = std::atoi(mon.c_str());
        WaitFor([&] { return !ProcessAlive(p); }, Millis(5000));
        if (ProcessAlive(p)) ::kill(p, SIGKILL);
      }
      RunCommand({"runc", "--root", state_dir_ + "/runc", "delete", "--force", name});
      ::umount2((state_dir_ + "/services/" + name + "/rootfs").c_str(), MNT_DETACH);  // an image's overlay
    }
  }
  if (auto ns = ListDir(state_dir_ + "/netns")) {
    for (const auto& n : *ns) {
      std::string p = state_dir_ + "/netns/" + n;
      ::umount2(p.c_str(), MNT_DETACH);
      ::unlink(p.c_str());
    }
  }
  ::umount2((state_dir_ + "/netns").c_str(), MNT_DETACH);
  auto rules = RunCommand({"iptables", "-t", "nat", "-S", "PREROUTING"});
  if (rules) {
    size_t pos = 0;
    while (pos < rules->out.size()) {
      size_t nl = rules->out.find('\n', pos);
      std::string line = rules->out.substr(pos, nl - pos);
      pos = nl == std::string::npos ? rules->out.size() : nl + 1;
      if (line.find(" " + bridge_ + " ") == std::string::npos || line.rfind("-A ", 0) != 0) continue;
      std::string cmd = "iptables -t nat -D " + line.substr(3);
      RunCommand({"sh", "-c", cmd});
    }
  }
  RunCommand({"ip", "link", "del", bridge_});
  std::string daemon_id = ReadText(state_dir_ + "/daemon.id");
  if (!daemon_id.empty()) {
    RunCommand({"sh", "-c", "for d in /sys/fs/cgroup/*/spawnpoint/" + daemon_id +
                                "; do [ -d \"$d\" ] && find \"$d\" -depth -type d -exec rmdir {} \\; ; done; true"});
  }
  (void)RemoveAll(root_);
}

}  // namespace sp::test
