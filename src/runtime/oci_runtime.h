// The driver for an OCI runtime binary: runc (the default) or crun.
//
// Both take the same command line (`<binary> --root DIR create|start|kill|state|delete|list ...`),
// so one class serves both; only the binary differs. crun 1.8 refuses hybrid cgroup hosts, so on
// such a host every crun invocation is wrapped to run in a private mount namespace where
// /sys/fs/cgroup/unified is unmounted:
//   unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$0" "$@"' crun ...
//
// The argv builders are for callers that must control the child's stdio themselves (the monitor
// runs `create` with the container's stdout/stderr pipes); the other methods run the runtime and
// wait for it. An OciRuntime is an immutable value: copyable, and safe to use from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct RuntimeOptions {
  std::string binary = "runc";  // a name searched in PATH, or a path
  std::string root;             // --root state directory; empty = the runtime's default
  bool check_version = true;    // run `<binary> --version` in Open to prove the binary works
  Millis timeout = Millis(30000);
};

struct ContainerState {
  std::string id, status;  // status: creating|created|running|stopped|paused
  pid_t pid = 0;           // host pid of the container's init, 0 when not running
};

class OciRuntime {
 public:
  // Resolves the binary (name or path) and, unless disabled, checks that it runs. NotFound if it
  // is missing, Unavailable if `--version` fails.
  static Result<OciRuntime> Open(RuntimeOptions opts);

  // Argument vectors, ready for exec (argv[0] is an absolute path).
  std::vector<std::string> CreateArgv(const std::string& id, const std::string& bundle,
                                      const std::string& pid_file) const;
  std::vector<std::string> StartArgv(const std::string& id) const;
  // `run --detach`: create and start in one runtime process (one Go/C start instead of two). Without
  // a terminal the container's stdio is the caller's, as with create; the runtime exits once the
  // container's process runs.
  std::vector<std::string> RunDetachedArgv(const std::string& id, const std::string& bundle,
                                           const std::string& pid_file) const;
  std::vector<std::string> DeleteArgv(const std::string& id, bool force) const;

  // Sends `signal` to the container's init (to all its processes with `all`). NotFound if the
  // runtime does not know the container.
  Status Kill(const std::string& id, int signal, bool all = false) const;
  // NotFound if the runtime does not know the container.
  Result<ContainerState> State(const std::string& id) const;
  // Deleting an unknown container is not an error.
  Status Delete(const std::string& id, bool force) const;
  Result<std::vector<ContainerState>> List() const;

  const std::string& binary_path() const { return binary_path_; }
  // True when invocations go through the unshare/umount wrapper (crun on a hybrid host).
  bool wrapped() const { return prefix_.size() > 1; }

 private:
  OciRuntime(std::string binary_path, std::vector<std::string> prefix, std::string root, Millis timeout)
      : binary_path_(std::move(binary_path)),
        prefix_(std::move(prefix)),
        root_(std::move(root)),
        timeout_(timeout) {}

  // prefix + global flags + subcommand arguments.
  std::vector<std::string> Argv(std::vector<std::string> args) const;
  // Runs a subcommand; a non-zero exit becomes NotFound ("does not exist") or Internal with stderr.
  Result<std::string> Run(const std::string& id, std::vector<std::string> args) const;

  std::string binary_path_;
  std::vector<std::string> prefix_;  // the binary, or the wrapper ending with the binary
  std::string root_;
  Millis timeout_;
};

// Parses the JSON printed by `state` (an object) or `list --format json` (an array, or null).
Result<ContainerState> ParseContainerState(const std::string& json_text);
Result<std::vector<ContainerState>> ParseContainerList(const std::string& json_text);

}  // namespace sp
