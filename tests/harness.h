// Integration-test harness: runs a real spawnd (with its embedded
// nats-server, real runc, real cgroups and CNI) in a temporary state
// directory, and spawnctl against it.
//
// Each TestDaemon gets its own state dir, bridge name, subnet and router
// port, so leftovers of one test cannot affect another. Teardown stops what
// the test started, by PID: the daemon, then any monitor and container left,
// then the network namespaces, bridge and iptables rules of this daemon.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/duration.h"
#include "util/status.h"
#include "util/subprocess.h"

namespace sp::test {

std::string BinDir();
std::string SourceDir();

struct DaemonSettings {
  int64_t cpu_shares = 2048;
  int64_t memory_mib = 2048;
  std::string heartbeat = "1s";
  std::string extra;  // more YAML lines for the daemon config
  bool state_via_symlink = false;  // reach the state dir through a symlinked directory
  std::string spawnctl_entity;     // SPAWNPOINT_ENTITY for spawnctl (an external router needs one)
};

class TestDaemon {
 public:
  explicit TestDaemon(DaemonSettings s = {});
  ~TestDaemon();

  // Starts spawnd and waits until it answers a scan. Fails the test otherwise.
  void Start();
  // SIGKILL (no clean-up by the daemon) or SIGTERM; waits for the exit.
  void Kill(int signal);
  bool Running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Runs spawnctl with this daemon's state dir (and a private history file).
  CommandResult Spawnctl(const std::vector<std::string>& args, Millis timeout = Millis(60000));
  // Starts spawnctl in the background, output to a file; returns its PID.
  pid_t SpawnctlBackground(const std::vector<std::string>& args, const std::string& out_file);
  nlohmann::json Inspect(const std::string& name);  // null json if the service is unknown
  nlohmann::json Scan();

  // Runs `spawnd <args...>` to completion (e.g. decommission -c <config>).
  CommandResult Spawnd(const std::vector<std::string>& args, Millis timeout = Millis(60000));
  const std::string& config_path() const { return config_path_; }
  const std::string& bridge() const { return bridge_; }
  const std::string& root() const { return root_; }
  // Writes a file into the test's work directory and returns its path.
  std::string WriteFile(const std::string& name, const std::string& content, int mode = 0644);
  const std::string& state_dir() const { return state_dir_; }
  const std::string& work_dir() const { return work_dir_; }
  const std::string& uri() const { return uri_; }
  std::string DaemonLog() const;

 private:
  void Cleanup();
  DaemonSettings settings_;
  std::string root_, state_dir_, work_dir_, config_path_, log_path_, uri_, bridge_;
  pid_t pid_ = -1;
};

// Polls `cond` every 50 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& cond, Millis timeout);
bool ProcessAlive(pid_t pid);
std::string ReadText(const std::string& path);

}  // namespace sp::test
