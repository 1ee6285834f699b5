// spawnctl command handlers: thin layers over libspawnclient that print what
// happened the way the seed's spawnctl did, and fail with a reason.
#include "cli/commands.h"

#include <unistd.h>

#include <chrono>
#include <iostream>

#include "archive/include_archive.h"
#include "auth/creds.h"
#include "bus/bus.h"
#include "cli/format.h"
#include "cli/history.h"
#include "cli/image_commands.h"
#include "config/service_config.h"
#include "config/yaml_fields.h"
#include "protocol/service_messages.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp::cli {
namespace {

// A deploy that pulls an image or builds may take long; it fails when the daemon shows no progress.
constexpr Millis kDeployIdleTimeout{120000};

std::string Dirname(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  return pos == 0 ? "/" : path.substr(0, pos);
}

// Follows the service's log, printing each entry as it comes.
Result<std::unique_ptr<Follower>> FollowLog(const Session& s, const std::string& name) {
  return s.client->Tail(s.uri, name, [](const LogEntry& e) { PrintLogEntry(e); });
}

// Follows a deploy's log: the daemon's lifecycle events wait until the progress view is done,
// the service's own output (a build's) takes over the screen.
Result<std::unique_ptr<Follower>> FollowDeployLog(const Session& s, const std::string& name,
                                                  ProgressPrinter& progress) {
  return s.client->Tail(s.uri, name, [&progress](const LogEntry& e) {
    if (e.stream == "spawnd") {
      progress.Defer(FormatLogEntry(e));
      return;
    }
    progress.Release();
    PrintLogEntry(e);
  });
}

// Runs `action`; when it succeeds, keeps following the log until Ctrl-C or the timeout.
template <typename Action>
int ThenFollow(std::optional<Millis> timeout, Action action) {
  int rc = action();
  if (rc != 0) return rc;
  WaitForInterruptOr(timeout);
  return 0;
}

// The seed's bw2Entity: a creds file on this host (relative to the configuration's directory),
// injected into the service.
Result<std::string> ReadServiceEntity(const std::string& entity, const std::string& config) {
  std::string path = entity[0] == '/' ? entity : JoinPath(Dirname(config), entity);
  SP_ASSIGN_OR_RETURN(std::string creds, ReadFileCapped(path, 64 << 10));
  auto parsed = ParseCreds(creds);
  if (!parsed) return Err(parsed.error().Annotate(path));
  return creds;
}

}  // namespace

int Scan(Context& ctx, const ScanFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "scan");
  auto hosts = session->client->Scan(session->uri, Millis(5000));
  if (!hosts) return Fail(hosts.error(), "scan " + session->uri);
  if (f.json) {
    PrintLine(ScanJson(*hosts).dump(2));
  } else {
    std::string text = ScanText(*hosts, WallClockMs());
    if (!text.empty() && text.back() == '\n') text.pop_back();
    PrintLine(text);
  }
  return 0;
}

int Deploy(Context& ctx, const DeployFlags& f) {
  if (f.config.empty()) return Fail(Status::InvalidArgument("a configuration file is required (-c)"), "deploy");
  auto yaml = ReadFileCapped(f.config, kMaxConfigBytes);
  if (!yaml) return Fail(yaml.error(), "deploy");
  auto cfg = ParseServiceConfig(*yaml, f.config, f.name);
  if (!cfg) return Fail(cfg.error(), "deploy");
  auto files = PackIncludes(cfg->included_files, cfg->included_directories, Dirname(f.config));
  if (!files) return Fail(files.error(), "deploy: included files");
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "deploy");
  DeployRequest args{cfg->name, *yaml, f.config, *files, ""};
  if (!cfg->entity.empty()) {
    auto creds = ReadServiceEntity(cfg->entity, f.config);
    if (!creds) return Fail(creds.error(), "deploy: entity");
    args.entity = *creds;
  }
  PrintLine("Tailing service logs. Press CTRL-c to exit...");
  ProgressPrinter progress;
  auto sub = FollowDeployLog(*session, cfg->name, progress);
  if (!sub) return Fail(sub.error(), "tail " + cfg->name);
  return ThenFollow(f.timeout, [&] {
    auto r = session->client->Deploy(session->uri, args, kDeployIdleTimeout, progress.Handler());
    progress.Release();
    if (!r) return Fail(r.error(), "deploy " + cfg->name);
    PrintLine("[SUCCESS] Service container has started");
    return 0;
  });
}

int DeployLast(bool yes, const std::string& self) {
  std::string dir = CurrentDir();
  auto last = LastDeployIn(HistoryPath(), dir);
  if (!last) return Fail(last.error(), "deploy-last");
  if (!*last) return Fail(Status::NotFound("no deploy command recorded for " + dir + " in " + HistoryPath()),
                          "deploy-last");
  std::vector<std::string> argv = **last;
  PrintLine("This will run:\n    spawnctl " + ShellJoin(argv));
  if (!yes) {
    std::cout << "Proceed? [Y/n] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) answer = "n";
    if (!(answer.empty() || answer == "y" || answer == "Y")) {
      PrintLine("Aborted.");
      return 1;
    }
  }
  std::vector<char*> cargv;
  cargv.push_back(const_cast<char*>(self.c_str()));
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  ::execv(self.c_str(), cargv.data());
  return Fail(Status::FromErrno("exec " + self, errno), "deploy-last");
}

int Restart(Context& ctx, const ServiceFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "restart");
  PrintLine("Tailing service logs. Press CTRL-c to exit...");
  auto sub = FollowLog(*session, f.name);
  if (!sub) return Fail(sub.error(), "tail " + f.name);
  return ThenFollow(f.timeout, [&] {
    auto r = session->client->Restart(session->uri, f.name, kRequestTimeout);
    if (!r) return Fail(r.error(), "restart " + f.name);
    PrintLine("[SUCCESS] Restarted service container");
    return 0;
  });
}

int Stop(Context& ctx, const ServiceFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "stop");
  // The service's last lines (e.g. its shutdown messages) are shown while it stops.
  auto tail = FollowLog(*session, f.name);
  if (!tail) return Fail(tail.error(), "tail " + f.name);
  auto r = session->client->Stop(session->uri, f.name, kRequestTimeout);
  if (!r) return Fail(r.error(), "stop " + f.name);
  (void)(*tail)->CatchUp(Millis(2000));  // the lines logged before the reply
  PrintLine("[SUCCESS] Stopped service container");
  return 0;
}

int Tail(Context& ctx, const ServiceFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "tail");
  auto info = session->client->Inspect(session->uri, f.name, kRequestTimeout);
  if (!info) return Fail(info.error(), "tail " + f.name);
  PrintLine("Tailing service logs. Press CTRL-c to exit...");
  auto sub = FollowLog(*session, f.name);
  if (!sub) return Fail(sub.error(), "tail " + f.name);
  WaitForInterruptOr(f.timeout);
  return 0;
}

int Inspect(Context& ctx, const ServiceFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "inspect");
  auto info = session->client->Inspect(session->uri, f.name, kRequestTimeout);
  if (!info) return Fail(info.error(), "inspect " + f.name);
  if (f.json) {
    PrintLine(protocol::ToJson(*info).dump(2));
  } else {
    std::string text = InspectText(*info);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    PrintLine(text);
  }
  return 0;
}

}  // namespace sp::cli
