// spawnd: the Spawnpoint host daemon.
//   spawnd run [-c config.yml]          serve (no config: the embedded default)
//   spawnd decommission -c config.yml   stop every service and leave the fleet
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "daemon/daemon.h"
#include "protocol/envelope.h"
#include "util/fs.h"

namespace {

std::string SelfDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string p = n > 0 ? std::string(buf, static_cast<size_t>(n)) : ".";
  return p.substr(0, p.rfind('/'));
}

int64_t MemTotalMib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemTotal:") return kb / 1024;
  return 1024;
}

sp::Result<sp::DaemonConfig> LoadConfig(const std::string& path) {
  sp::DaemonConfig cfg;
  if (path.empty()) {
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    cfg = sp::DefaultDaemonConfig(host, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)), MemTotalMib());
  } else {
    SP_ASSIGN_OR_RETURN(cfg, sp::LoadDaemonConfig(path));
  }
  if (const char* dir = std::getenv("SPAWNPOINT_STATE_DIR"); dir && *dir) cfg.state_dir = dir;
  return cfg;
}

int Fail(const sp::Status& st) {
  std::fprintf(stderr, "spawnd: %s\n", st.message().c_str());
  return sp::ExitCodeFor(st.code());
}

}  // namespace

int main(int argc, char** argv) {
  sp::BlockDaemonSignals();  // before any thread exists
  sp::protocol::SetReaderName("this spawnd");
  CLI::App app{"spawnd: the Spawnpoint host daemon"};
  app.require_subcommand(1);
  std::string config;
  auto* run = app.add_subcommand("run", "run the daemon (without -c: a single host with its own router)");
  run->add_option("-c,--config", config, "daemon configuration file (YAML)");
  std::string decom_config;
  auto* decom = app.add_subcommand("decommission", "stop every service of this host and remove its heartbeats");
  decom->add_option("-c,--config", decom_config, "daemon configuration file (YAML)");
  CLI11_PARSE(app, argc, argv);
  if (::geteuid() != 0) return Fail(sp::Status::PermissionDenied("spawnd must run as root (it manages containers)"));

  bool decommission = decom->parsed();
  auto cfg = LoadConfig(decommission ? decom_config : config);
  if (!cfg) return Fail(cfg.error());
  auto daemon = sp::Daemon::Start(*cfg, sp::JoinPath(SelfDir(), "spawn-monitor"));
  if (!daemon) return Fail(daemon.error());
  sp::Status st = decommission ? (*daemon)->Decommission() : (*daemon)->Run();
  if (!st.ok()) return Fail(st);
  return 0;
}
