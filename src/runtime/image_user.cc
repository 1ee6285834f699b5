// Resolving an image's `User` (see image_user.h).
#include "runtime/image_user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

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

std::vector<PasswdEntry> ParsePasswd(const std::string& text) {
  std::vector<PasswdEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = SplitFields(line, ':');
    if (f.size() < 7 || f[0].empty()) continue;  // malformed lines are skipped, as libc does
    auto uid = ParseId(f[2]), gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid, f[5]});
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(const std::string& text) {
  std::vector<GroupEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = SplitFields(line, ':');
    if (f.size() < 4 || f[0].empty()) continue;
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

}  // namespace

Result<std::string> ReadFileInRoot(const std::string& rootfs, const std::string& path, size_t max_bytes) {
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
  if (fd < 0) {
    if (err == ENOENT) return Err(Status::NotFound(path + " not found in the image"));
    return Err(Status::FromErrno("open " + path + " in the image", err));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      ::close(fd);
      return Err(Status::FromErrno("read " + path + " in the image", err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Err(Status::InvalidArgument(path + " in the image is larger than " + std::to_string(max_bytes) + " bytes"));
    }
  }
  ::close(fd);
  return out;
}

Result<ProcessUser> ResolveImageUser(const std::string& rootfs, std::string_view user) {
  ProcessUser out;
  if (user.empty()) return out;
  std::string_view user_part = user, group_part;
  if (size_t colon = user.find(':'); colon != std::string_view::npos) {
    user_part = user.substr(0, colon);
    group_part = user.substr(colon + 1);
  }
  if (user_part.empty() || user_part.size() > 256 || group_part.size() > 256 || group_part.find(':') != std::string_view::npos)
    return Err(Status::InvalidArgument("image user \"" + std::string(user.substr(0, 80)) +
                                       "\" is not of the form user[:group]"));
  SP_ASSIGN_OR_RETURN(std::string passwd_text, ReadDb(rootfs, "/etc/passwd"));
  SP_ASSIGN_OR_RETURN(std::string group_text, ReadDb(rootfs, "/etc/group"));
  std::vector<PasswdEntry> passwd = ParsePasswd(passwd_text);
  std::vector<GroupEntry> groups = ParseGroup(group_text);

  const PasswdEntry* entry = nullptr;
  if (auto uid = ParseId(user_part)) {
    out.uid = *uid;
    for (const auto& p : passwd) {
      if (p.uid == *uid) {
        entry = &p;
        break;
      }
    }
  } else {
    for (const auto& p : passwd) {
      if (p.name == user_part) {
        entry = &p;
        break;
      }
    }
    if (!entry)
      return Err(Status::NotFound("image user \"" + std::string(user_part) + "\" is not in the image's /etc/passwd"));
    out.uid = entry->uid;
  }
  if (entry) {
    out.gid = entry->gid;
    out.home = entry->home;
  }
  if (!group_part.empty()) {
    if (auto gid = ParseId(group_part)) {
      out.gid = *gid;
    } else {
      const GroupEntry* g = nullptr;
      for (const auto& e : groups) {
        if (e.name == group_part) {
          g = &e;
          break;
        }
      }
      if (!g)
        return Err(Status::NotFound("image group \"" + std::string(group_part) + "\" is not in the image's /etc/group"));
      out.gid = g->gid;
    }
  }
  if (entry) {
    for (const auto& g : groups) {
      for (const auto& m : g.members) {
        if (m == entry->name && g.gid != out.gid) {
          out.additional_gids.push_back(g.gid);
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace sp
