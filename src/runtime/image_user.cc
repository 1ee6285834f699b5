// Resolving an image's `User` (see image_user.h).
#include "runtime/image_user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <sstream>

namespace sp {
namespace {

constexpr size_t kMaxDbBytes = 1 << 20;

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home;
};
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::vector<std::string> SplitFields(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// The lines of a passwd-style database split at ':', leaving out lines with fewer than
// `min_fields` fields or an empty name: malformed lines are skipped, as libc does.
std::vector<std::vector<std::string>> DbRecords(const std::string& text, size_t min_fields) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = SplitFields(line, ':');
    if (f.size() >= min_fields && !f[0].empty()) out.push_back(std::move(f));
  }
  return out;
}

std::vector<PasswdEntry> ParsePasswd(const std::string& text) {
  std::vector<PasswdEntry> out;
  for (const auto& f : DbRecords(text, 7)) {
    auto uid = ParseId(f[2]), gid = ParseId(f[3]);
    if (uid && gid) out.push_back({f[0], *uid, *gid, f[5]});
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(const std::string& text) {
  std::vector<GroupEntry> out;
  for (const auto& f : DbRecords(text, 4)) {
    auto gid = ParseId(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (!f[3].empty()) g.members = SplitFields(f[3], ',');
    out.push_back(std::move(g));
  }
  return out;
}

// An absent database is empty; only other read errors are reported.
Result<std::string> ReadDb(const std::string& rootfs, const char* path) {
  auto text = ReadFileInRoot(rootfs, path, kMaxDbBytes);
  if (!text && text.error().code() == Code::kNotFound) return std::string();
  return text;
}

// The first element of `items` that `match` accepts, or nullptr.
template <typename T, typename Match>
const T* FindFirst(const std::vector<T>& items, Match match) {
  auto it = std::find_if(items.begin(), items.end(), match);
  return it == items.end() ? nullptr : &*it;
}

// A `User` value split at its colon: "user" or "user:group" (group empty when absent).
struct UserSpec {
  std::string_view user, group;
};

Result<UserSpec> SplitUserSpec(std::string_view spec) {
  UserSpec out{spec, {}};
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    out.user = spec.substr(0, colon);
    out.group = spec.substr(colon + 1);
  }
  if (out.user.empty() || out.user.size() > 256 || out.group.size() > 256 ||
      out.group.find(':') != std::string_view::npos)
    return Err(Status::InvalidArgument("image user \"" + std::string(spec.substr(0, 80)) +
                                       "\" is not of the form user[:group]"));
  return out;
}

// The uid the user part names, and its passwd entry (nullptr for a uid that has none).
struct ImageUid {
  uint32_t uid = 0;
  const PasswdEntry* entry = nullptr;
};

// A number is a uid, with or without a passwd entry; a name must be in /etc/passwd.
Result<ImageUid> ResolveUid(const std::vector<PasswdEntry>& passwd, std::string_view user) {
  if (auto uid = ParseId(user))
    return ImageUid{*uid, FindFirst(passwd, [&](const PasswdEntry& p) { return p.uid == *uid; })};
  const PasswdEntry* entry = FindFirst(passwd, [&](const PasswdEntry& p) { return p.name == user; });
  if (!entry)
    return Err(
        Status::NotFound("image user \"" + std::string(user) + "\" is not in the image's /etc/passwd"));
  return ImageUid{entry->uid, entry};
}

// A number is a gid; a name must be in /etc/group.
Result<uint32_t> ResolveGid(const std::vector<GroupEntry>& groups, std::string_view group) {
  if (auto gid = ParseId(group)) return *gid;
  const GroupEntry* entry = FindFirst(groups, [&](const GroupEntry& g) { return g.name == group; });
  if (!entry)
    return Err(
        Status::NotFound("image group \"" + std::string(group) + "\" is not in the image's /etc/group"));
  return entry->gid;
}

// The gids of the groups that list `user` as a member, except its primary group, in file order.
std::vector<uint32_t> SupplementaryGids(const std::vector<GroupEntry>& groups, const std::string& user,
                                        uint32_t primary_gid) {
  std::vector<uint32_t> out;
  for (const GroupEntry& g : groups) {
    if (g.gid != primary_gid && std::find(g.members.begin(), g.members.end(), user) != g.members.end())
      out.push_back(g.gid);
  }
  return out;
}

// Opens `path` read-only with every component resolved inside `rootfs`.
Result<int> OpenInRoot(const std::string& rootfs, const std::string& path) {
  int root = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return Err(Status::FromErrno("open image root " + rootfs, errno));
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  int fd = static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
  int err = errno;
  ::close(root);
  if (fd >= 0) return fd;
  if (err == ENOENT) return Err(Status::NotFound(path + " not found in the image"));
  return Err(Status::FromErrno("open " + path + " in the image", err));
}

// Reads `fd` to its end; `path` names it in errors. The caller closes `fd`.
Result<std::string> ReadOpenFile(int fd, const std::string& path, size_t max_bytes) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      return Err(Status::FromErrno("read " + path + " in the image", err));
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes)
      return Err(Status::InvalidArgument(path + " in the image is larger than " + std::to_string(max_bytes) +
                                         " bytes"));
  }
}

}  // namespace

Result<std::string> ReadFileInRoot(const std::string& rootfs, const std::string& path, size_t max_bytes) {
  SP_ASSIGN_OR_RETURN(int fd, OpenInRoot(rootfs, path));
  Result<std::string> text = ReadOpenFile(fd, path, max_bytes);
  ::close(fd);
  return text;
}

Result<ProcessUser> ResolveImageUser(const std::string& rootfs, std::string_view user) {
  ProcessUser out;
  if (user.empty()) return out;
  SP_ASSIGN_OR_RETURN(UserSpec spec, SplitUserSpec(user));
  SP_ASSIGN_OR_RETURN(std::string passwd_text, ReadDb(rootfs, "/etc/passwd"));
  SP_ASSIGN_OR_RETURN(std::string group_text, ReadDb(rootfs, "/etc/group"));
  std::vector<PasswdEntry> passwd = ParsePasswd(passwd_text);
  std::vector<GroupEntry> groups = ParseGroup(group_text);
  SP_ASSIGN_OR_RETURN(ImageUid uid, ResolveUid(passwd, spec.user));
  out.uid = uid.uid;
  if (uid.entry) {  // like docker: a uid without a passwd entry keeps gid 0 and no home
    out.gid = uid.entry->gid;
    out.home = uid.entry->home;
  }
  if (!spec.group.empty()) {
    SP_ASSIGN_OR_RETURN(out.gid, ResolveGid(groups, spec.group));
  }
  if (uid.entry) out.additional_gids = SupplementaryGids(groups, uid.entry->name, out.gid);
  return out;
}

}  // namespace sp
