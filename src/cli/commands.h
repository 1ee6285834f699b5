// spawnctl's commands. Each takes its parsed flags and returns the process
// exit status (0 on success; see ExitCodeFor for failures).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"

namespace sp::cli {

struct ScanFlags {
  std::string uri;
  bool json = false;
};
struct DeployFlags {
  std::string uri, config, name;
  std::optional<Millis> timeout;  // how long to tail; none = until Ctrl-C
};
struct ServiceFlags {
  std::string uri, name;
  std::optional<Millis> timeout;
  bool json = false;
};

int Scan(Context& ctx, const ScanFlags& f);
int Deploy(Context& ctx, const DeployFlags& f);
// `self_argv0` is re-executed with the recorded arguments.
int DeployLast(bool yes, const std::string& self);
int Restart(Context& ctx, const ServiceFlags& f);
int Stop(Context& ctx, const ServiceFlags& f);
int Tail(Context& ctx, const ServiceFlags& f);
int Inspect(Context& ctx, const ServiceFlags& f);

}  // namespace sp::cli
