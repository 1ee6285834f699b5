// Cgroup mount discovery and the v1/v2 control files Spawnpoint reads: CPU time, memory in use,
// OOM kills and configured limits.
#include "runtime/cgroups.h"

#include <mutex>
#include <optional>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <sstream>

#include "util/fs.h"

namespace sp {
namespace {

// Values at or above this in v1 limit files mean "unlimited" (the kernel reports ~2^63 rounded down
// to a page).
constexpr uint64_t kV1Unlimited = uint64_t{1} << 62;

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeOctal(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && digit(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

// An absolute path without "." or ".." segments, so joining it to a mount point stays inside.
Status CheckCgroupsPath(const std::string& path) {
  bool ok = !path.empty() && path[0] == '/' && path != "/";
  for (size_t start = 1; ok && start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view seg(path.data() + start, end - start);
    if (seg == "." || seg == "..") ok = false;
    start = end + 1;
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument("cgroups path must be absolute, not '/', without '.' or '..': '" + path +
                                 "'");
}

Result<uint64_t> ParseU64(std::string_view text, const std::string& where) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return Err(Status::Internal(where + ": expected a number, found '" + std::string(text) + "'"));
  return v;
}

Result<uint64_t> ReadU64File(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 4096));
  return ParseU64(text, path);
}

// A limit file holding a number or "max" (v2, pids); "max" and huge v1 values become 0.
Result<int64_t> ReadLimitFile(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 4096));
  if (text.rfind("max", 0) == 0) return 0;
  SP_ASSIGN_OR_RETURN(uint64_t v, ParseU64(text, path));
  return v >= kV1Unlimited ? 0 : static_cast<int64_t>(v);
}

// Value of `key` in a "key value" per line file (memory.stat, cpu.stat, memory.events, oom_control).
Result<uint64_t> ReadKeyedValue(const std::string& path, std::string_view key) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 1 << 20));
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto fields = SplitSpaces(line);
    if (fields.size() == 2 && fields[0] == key) return ParseU64(fields[1], path + " " + std::string(key));
  }
  return Err(Status::NotFound(path + ": no '" + std::string(key) + "' entry"));
}

// The cgroup mounts, read once per process. Reading /proc/self/mountinfo costs the kernel time
// proportional to the mount table, which grows with every service (overlay roots, netns binds);
// reading it for every usage sample made an idle daemon with 200 services use 15% of a core.
// Cgroup hierarchies are mounted at boot and do not move while the daemon runs.
Result<std::vector<CgroupMount>> CachedCgroupMounts() {
  static std::mutex mu;
  static std::optional<std::vector<CgroupMount>> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached) {
    SP_ASSIGN_OR_RETURN(auto mounts, ReadCgroupMounts());
    if (mounts.empty()) return mounts;  // not cached: nothing mounted yet is not a stable answer
    cached = std::move(mounts);
  }
  return *cached;
}

Result<CgroupMode> ModeNow() {
  SP_ASSIGN_OR_RETURN(auto mounts, CachedCgroupMounts());
  return CgroupModeOf(mounts);
}

uint64_t SaturatingSub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

Status RemoveCgroupDir(const std::string& dir) {
  SP_ASSIGN_OR_RETURN(auto names, ListDir(dir));
  for (const auto& n : names) {
    std::string child = JoinPath(dir, n);
    struct stat st;
    if (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) SP_RETURN_IF_ERROR(RemoveCgroupDir(child));
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("remove cgroup " + dir, errno);
  return Status::Ok();
}

}  // namespace

std::vector<CgroupMount> ParseCgroupMounts(std::string_view mountinfo) {
  std::vector<CgroupMount> out;
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t end = mountinfo.find('\n', pos);
    if (end == std::string_view::npos) end = mountinfo.size();
    auto fields = SplitSpaces(mountinfo.substr(pos, end - pos));
    pos = end + 1;
    size_t sep = 0;
    while (sep < fields.size() && fields[sep] != "-") ++sep;
    if (sep < 5 || sep + 3 > fields.size()) continue;  // malformed line
    std::string_view fstype = fields[sep + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.mount_point = UnescapeOctal(fields[4]);
    m.v2 = fstype == "cgroup2";
    if (!m.v2) {
      for (auto& opt : SplitCommas(fields[sep + 3])) {
        bool option = opt.find('=') != std::string::npos && opt.rfind("name=", 0) != 0;
        bool flag = opt == "rw" || opt == "ro" || opt == "xattr" || opt == "noprefix" ||
                    opt == "clone_children" || opt == "cpuset_v2_mode";
        if (option || flag) continue;
        m.controllers.push_back(opt);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<CgroupMount>> ReadCgroupMounts() {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/mountinfo"));
  return ParseCgroupMounts(text);
}

CgroupMode CgroupModeOf(const std::vector<CgroupMount>& mounts) {
  bool v1 = false, v2 = false;
  for (const auto& m : mounts) (m.v2 ? v2 : v1) = true;
  if (v2 && !v1) return CgroupMode::kV2;
  return v2 ? CgroupMode::kHybrid : CgroupMode::kV1;
}

CgroupMode DetectCgroupMode() {
  auto mode = ModeNow();
  return mode ? *mode : CgroupMode::kV1;
}

Result<std::string> CgroupDir(std::string_view controller, const std::string& cgroups_path) {
  SP_RETURN_IF_ERROR(CheckCgroupsPath(cgroups_path));
  SP_ASSIGN_OR_RETURN(auto mounts, CachedCgroupMounts());
  if (CgroupModeOf(mounts) == CgroupMode::kV2) {
    for (const auto& m : mounts)
      if (m.v2) return JoinPath(m.mount_point, cgroups_path);
  }
  for (const auto& m : mounts) {
    for (const auto& c : m.controllers)
      if (c == controller) return JoinPath(m.mount_point, cgroups_path);
  }
  return Err(Status::FailedPrecondition("no cgroup v1 hierarchy with the '" + std::string(controller) +
                                        "' controller is mounted (see /proc/self/mountinfo)"));
}

Result<CgroupUsage> ReadCgroupUsage(const std::string& cgroups_path) {
  SP_ASSIGN_OR_RETURN(CgroupMode mode, ModeNow());
  CgroupUsage u;
  if (mode == CgroupMode::kV2) {
    SP_ASSIGN_OR_RETURN(std::string dir, CgroupDir("", cgroups_path));
    SP_ASSIGN_OR_RETURN(uint64_t usec, ReadKeyedValue(JoinPath(dir, "cpu.stat"), "usage_usec"));
    SP_ASSIGN_OR_RETURN(uint64_t current, ReadU64File(JoinPath(dir, "memory.current")));
    SP_ASSIGN_OR_RETURN(uint64_t inactive, ReadKeyedValue(JoinPath(dir, "memory.stat"), "inactive_file"));
    u.cpu_usage_ns = usec * 1000;
    u.memory_bytes = SaturatingSub(current, inactive);
    return u;
  }
  SP_ASSIGN_OR_RETURN(std::string cpu_dir, CgroupDir("cpuacct", cgroups_path));
  SP_ASSIGN_OR_RETURN(std::string mem_dir, CgroupDir("memory", cgroups_path));
  SP_ASSIGN_OR_RETURN(u.cpu_usage_ns, ReadU64File(JoinPath(cpu_dir, "cpuacct.usage")));
  SP_ASSIGN_OR_RETURN(uint64_t usage, ReadU64File(JoinPath(mem_dir, "memory.usage_in_bytes")));
  SP_ASSIGN_OR_RETURN(uint64_t inactive,
                      ReadKeyedValue(JoinPath(mem_dir, "memory.stat"), "total_inactive_file"));
  u.memory_bytes = SaturatingSub(usage, inactive);
  return u;
}

Result<uint64_t> ReadOomKillCount(const std::string& cgroups_path) {
  SP_ASSIGN_OR_RETURN(CgroupMode mode, ModeNow());
  SP_ASSIGN_OR_RETURN(std::string dir, CgroupDir("memory", cgroups_path));
  if (mode == CgroupMode::kV2) return ReadKeyedValue(JoinPath(dir, "memory.events"), "oom_kill");
  return ReadKeyedValue(JoinPath(dir, "memory.oom_control"), "oom_kill");
}

Result<CgroupLimits> ReadCgroupLimits(const std::string& cgroups_path) {
  SP_ASSIGN_OR_RETURN(CgroupMode mode, ModeNow());
  CgroupLimits l;
  if (mode == CgroupMode::kV2) {
    SP_ASSIGN_OR_RETURN(std::string dir, CgroupDir("", cgroups_path));
    SP_ASSIGN_OR_RETURN(uint64_t weight, ReadU64File(JoinPath(dir, "cpu.weight")));
    // Inverse of the runtimes' shares -> weight mapping, weight = 1 + (shares - 2) * 9999 / 262142.
    l.cpu_shares = weight == 0 ? 0 : static_cast<int64_t>(2 + ((weight - 1) * 262142 + 9998) / 9999);
    SP_ASSIGN_OR_RETURN(l.memory_limit_bytes, ReadLimitFile(JoinPath(dir, "memory.max")));
    SP_ASSIGN_OR_RETURN(l.pids_max, ReadLimitFile(JoinPath(dir, "pids.max")));
    return l;
  }
  SP_ASSIGN_OR_RETURN(std::string cpu_dir, CgroupDir("cpu", cgroups_path));
  SP_ASSIGN_OR_RETURN(std::string mem_dir, CgroupDir("memory", cgroups_path));
  SP_ASSIGN_OR_RETURN(std::string pids_dir, CgroupDir("pids", cgroups_path));
  SP_ASSIGN_OR_RETURN(l.cpu_shares, ReadLimitFile(JoinPath(cpu_dir, "cpu.shares")));
  SP_ASSIGN_OR_RETURN(l.memory_limit_bytes, ReadLimitFile(JoinPath(mem_dir, "memory.limit_in_bytes")));
  SP_ASSIGN_OR_RETURN(l.pids_max, ReadLimitFile(JoinPath(pids_dir, "pids.max")));
  return l;
}

Status RemoveCgroup(const std::string& cgroups_path) {
  SP_RETURN_IF_ERROR(CheckCgroupsPath(cgroups_path));
  SP_ASSIGN_OR_RETURN(auto mounts, CachedCgroupMounts());
  for (const auto& m : mounts) {
    std::string dir = JoinPath(m.mount_point, cgroups_path);
    if (!PathExists(dir)) continue;
    SP_RETURN_IF_ERROR(RemoveCgroupDir(dir));
  }
  return Status::Ok();
}

}  // namespace sp
