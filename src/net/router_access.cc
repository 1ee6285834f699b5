// Router access: iptables DNAT rule management and the route_localnet sysctl.
#include "net/router_access.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "net/ipv4.h"
#include "net/link.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

constexpr int kMaxDuplicateRules = 64;  // bound for removing copies someone else added

std::mutex& RuleMutex() {
  static std::mutex mu;
  return mu;
}

Status ValidateArgs(const std::string& bridge, const std::string& gateway, int port) {
  SP_RETURN_IF_ERROR(ValidateLinkName(bridge).Annotate("router access bridge"));
  auto gw = ParseIpv4(gateway);
  if (!gw) return gw.error().Annotate("router access gateway");
  if (port < 1 || port > 65535)
    return Status::InvalidArgument("router access port " + std::to_string(port) + " is not in 1..65535");
  return Status::Ok();
}

Result<std::string> IptablesPath() {
  auto found = FindProgram("iptables");
  if (found) return found;
  if (::access("/usr/sbin/iptables", X_OK) == 0) return std::string("/usr/sbin/iptables");
  return Err(Status::NotFound("iptables not found in PATH or /usr/sbin (install the iptables package)"));
}

std::vector<std::string> IptablesArgv(const std::string& iptables, const std::string& op,
                                      const std::vector<std::string>& spec) {
  std::vector<std::string> argv = {iptables, "-w", "5", "-t", "nat", op};
  argv.insert(argv.end(), spec.begin(), spec.end());
  return argv;
}

// `iptables -C`: exit 0 = present, 1 = absent, anything else = the command itself failed.
Result<bool> RuleExists(const std::string& iptables, const std::vector<std::string>& spec) {
  SP_ASSIGN_OR_RETURN(CommandResult r, RunCommand(IptablesArgv(iptables, "-C", spec)));
  if (r.exit_code == 0) return true;
  if (r.exit_code == 1) return false;
  return Err(
      Status::Internal("iptables -C failed (exit status " + std::to_string(r.exit_code) + "): " + r.err));
}

Status EnableRouteLocalnet(const std::string& bridge) {
  std::string path = "/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  ssize_t n = ::write(fd, "1\n", 2);
  int err = errno;
  ::close(fd);
  if (n != 2) return Status::FromErrno("write " + path, n < 0 ? err : EIO);
  return Status::Ok();
}

}  // namespace

std::vector<std::string> RouterAccessRuleSpec(const std::string& bridge, const std::string& gateway,
                                              int port) {
  std::string p = std::to_string(port);
  // clang-format off
  return {"PREROUTING", "-i", bridge, "-d", gateway + "/32", "-p", "tcp", "--dport", p,
          "-m", "comment", "--comment", kRuleComment,
          "-j", "DNAT", "--to-destination", "127.0.0.1:" + p};
  // clang-format on
}

Status EnsureRouterAccess(const std::string& bridge, const std::string& gateway, int port) {
  SP_RETURN_IF_ERROR(ValidateArgs(bridge, gateway, port));
  std::string context = "router access via " + bridge + " " + gateway + ":" + std::to_string(port);
  std::lock_guard<std::mutex> lock(RuleMutex());
  SP_RETURN_IF_ERROR(EnsureBridge(bridge).Annotate(context));
  SP_RETURN_IF_ERROR(EnableRouteLocalnet(bridge).Annotate(context));
  auto iptables = IptablesPath();
  if (!iptables) return iptables.error().Annotate(context);
  auto spec = RouterAccessRuleSpec(bridge, gateway, port);
  auto exists = RuleExists(*iptables, spec);
  if (!exists) return exists.error().Annotate(context);
  if (*exists) return Status::Ok();
  auto added = RunChecked(IptablesArgv(*iptables, "-A", spec));
  if (!added) return added.error().Annotate(context);
  return Status::Ok();
}

Status RemoveRouterAccess(const std::string& bridge, const std::string& gateway, int port) {
  SP_RETURN_IF_ERROR(ValidateArgs(bridge, gateway, port));
  std::string context = "remove router access via " + bridge + " " + gateway + ":" + std::to_string(port);
  std::lock_guard<std::mutex> lock(RuleMutex());
  auto iptables = IptablesPath();
  if (!iptables) return iptables.error().Annotate(context);
  auto spec = RouterAccessRuleSpec(bridge, gateway, port);
  for (int i = 0; i < kMaxDuplicateRules; ++i) {
    auto exists = RuleExists(*iptables, spec);
    if (!exists) return exists.error().Annotate(context);
    if (!*exists) return Status::Ok();
    auto deleted = RunChecked(IptablesArgv(*iptables, "-D", spec));
    if (!deleted) return deleted.error().Annotate(context);
  }
  return Status::Internal(context + ": more than " + std::to_string(kMaxDuplicateRules) +
                          " copies of the rule");
}

}  // namespace sp
