// Running runc/crun subcommands and interpreting their output and errors.
#include "runtime/oci_runtime.h"

#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "runtime/cgroups.h"
#include "util/subprocess.h"

namespace sp {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool IsCrun(const std::string& path) {
  char real[PATH_MAX];
  std::string p = ::realpath(path.c_str(), real) ? std::string(real) : path;
  std::string base = p.substr(p.rfind('/') + 1);
  return base.find("crun") != std::string::npos;
}

// The v2 mount point of a hybrid host (usually /sys/fs/cgroup/unified); empty otherwise.
std::string HybridUnifiedMount() {
  auto mounts = ReadCgroupMounts();
  if (!mounts || CgroupModeOf(*mounts) != CgroupMode::kHybrid) return "";
  for (const auto& m : *mounts)
    if (m.v2) return m.mount_point;
  return "";
}

// Both runtimes say so on stderr when the id is unknown: runc "container does not exist", crun
// "error opening file `<root>/<id>/status`: No such file or directory" (or "cannot open directory
// '<root>/<id>'" for delete).
bool SaysNotFound(const std::string& err, const std::string& id) {
  if (err.find("does not exist") != std::string::npos) return true;
  return !id.empty() && err.find("No such file or directory") != std::string::npos &&
         err.find("/" + id) != std::string::npos;
}

ContainerState StateFromJson(const nlohmann::json& j) {
  ContainerState s;
  s.id = j.value("id", "");
  s.status = j.value("status", "");
  s.pid = static_cast<pid_t>(j.value("pid", 0));
  return s;
}

}  // namespace

Result<OciRuntime> OciRuntime::Open(RuntimeOptions opts) {
  auto found = FindProgram(opts.binary);
  if (!found)
    return Err(found.error().Annotate("OCI runtime '" + opts.binary +
                                      "' (install it or set `runtime:` in the daemon config)"));
  std::string path = *found;
  if (path[0] != '/') {
    char real[PATH_MAX];
    if (::realpath(path.c_str(), real)) path = real;
  }
  std::vector<std::string> prefix = {path};
  std::string unified = IsCrun(path) ? HybridUnifiedMount() : "";
  if (!unified.empty()) {
    SP_ASSIGN_OR_RETURN(std::string unshare, FindProgram("unshare"));
    prefix = {unshare,
              "-m",
              "--propagation",
              "private",
              "sh",
              "-c",
              "umount " + ShellQuote(unified) + " && exec \"$0\" \"$@\"",
              path};
  }
  OciRuntime rt(path, std::move(prefix), std::move(opts.root), opts.timeout);
  if (opts.check_version) {
    CommandOptions co;
    co.timeout = opts.timeout;
    auto r = RunCommand({path, "--version"}, co);
    if (!r || !r->ok())
      return Err(Status::Unavailable("OCI runtime " + path + " does not run (`--version` failed" +
                                     (r ? ": " + Trim(r->err) : ": " + r.error().message()) + ")"));
  }
  return rt;
}

std::vector<std::string> OciRuntime::Argv(std::vector<std::string> args) const {
  std::vector<std::string> argv = prefix_;
  if (!root_.empty()) {
    argv.push_back("--root");
    argv.push_back(root_);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> OciRuntime::CreateArgv(const std::string& id, const std::string& bundle,
                                                const std::string& pid_file) const {
  return Argv({"create", "--bundle", bundle, "--pid-file", pid_file, id});
}

std::vector<std::string> OciRuntime::StartArgv(const std::string& id) const { return Argv({"start", id}); }

std::vector<std::string> OciRuntime::RunDetachedArgv(const std::string& id, const std::string& bundle,
                                                     const std::string& pid_file) const {
  return Argv({"run", "--detach", "--bundle", bundle, "--pid-file", pid_file, id});
}

std::vector<std::string> OciRuntime::DeleteArgv(const std::string& id, bool force) const {
  if (force) return Argv({"delete", "--force", id});
  return Argv({"delete", id});
}

Result<std::string> OciRuntime::Run(const std::string& id, std::vector<std::string> args) const {
  std::string sub = args.front();
  CommandOptions co;
  co.timeout = timeout_;
  SP_ASSIGN_OR_RETURN(CommandResult r, RunCommand(Argv(std::move(args)), co));
  if (r.ok()) return r.out;
  std::string err = Trim(r.err.empty() ? r.out : r.err);
  std::string what = binary_path_ + " " + sub + (id.empty() ? "" : " " + id);
  if (SaysNotFound(err, id)) return Err(Status::NotFound(what + ": no such container"));
  return Err(Status::Internal(what + " failed: " + err));
}

Status OciRuntime::Kill(const std::string& id, int signal, bool all) const {
  std::vector<std::string> args = {"kill"};
  if (all) args.push_back("--all");
  args.push_back(id);
  args.push_back(std::to_string(signal));
  auto r = Run(id, std::move(args));
  return r ? Status::Ok() : r.error();
}

Result<ContainerState> OciRuntime::State(const std::string& id) const {
  SP_ASSIGN_OR_RETURN(std::string out, Run(id, {"state", id}));
  return ParseContainerState(out).map_error(
      [&](Status s) { return s.Annotate(binary_path_ + " state " + id); });
}

Status OciRuntime::Delete(const std::string& id, bool force) const {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(id);
  auto r = Run(id, std::move(args));
  if (!r && r.error().code() != Code::kNotFound) return r.error();
  return Status::Ok();
}

Result<std::vector<ContainerState>> OciRuntime::List() const {
  SP_ASSIGN_OR_RETURN(std::string out, Run("", {"list", "--format", "json"}));
  return ParseContainerList(out).map_error([&](Status s) { return s.Annotate(binary_path_ + " list"); });
}

Result<ContainerState> ParseContainerState(const std::string& json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return Err(Status::Internal("unexpected container state output: " + json_text.substr(0, 200)));
  try {
    return StateFromJson(j);
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::Internal(std::string("malformed container state: ") + e.what()));
  }
}

Result<std::vector<ContainerState>> ParseContainerList(const std::string& json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  std::vector<ContainerState> out;
  if (j.is_null() && !j.is_discarded()) return out;
  if (!j.is_array())
    return Err(Status::Internal("unexpected container list output: " + json_text.substr(0, 200)));
  try {
    for (const auto& e : j)
      if (e.is_object()) out.push_back(StateFromJson(e));
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::Internal(std::string("malformed container list: ") + e.what()));
  }
  return out;
}

}  // namespace sp
