// Deploy history file handling (see history.h).
#include "cli/history.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/fs.h"

namespace sp::cli {
namespace {
constexpr size_t kMaxEntries = 500;           // kept when the file is compacted
constexpr size_t kCompactBytes = 256u << 10;  // size past which it is compacted

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}
}  // namespace

std::string HistoryPath() {
  if (const char* p = std::getenv("SPAWNCTL_HISTORY_FILE"); p && *p) return p;
  const char* home = std::getenv("HOME");
  return JoinPath(home && *home ? home : "/root", ".spawnpoint_history");
}

std::string CurrentDir() {
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? buf : ".";
}

// Appends one line (O_APPEND: concurrent deploys do not lose each other's lines, and nothing is
// fsync'd: the history is a convenience). Past kCompactBytes the file is rewritten with its most
// recent kMaxEntries lines, so a deploy usually costs one small write, not a rewrite of the file.
Status AppendHistory(const std::string& path, const std::string& dir, const std::vector<std::string>& argv) {
  std::string line = nlohmann::json{{"dir", dir}, {"argv", argv}}.dump() + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  Status written = WriteAll(fd, line) ? Status::Ok() : Status::FromErrno("write", errno);
  struct stat st {};
  bool large = ::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(kCompactBytes);
  ::close(fd);
  if (!written.ok() || !large) return written.Annotate(path);
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 16 << 20));
  std::vector<std::string> lines = Lines(text);
  size_t start = lines.size() > kMaxEntries ? lines.size() - kMaxEntries : 0;
  std::string out;
  for (size_t i = start; i < lines.size(); ++i) out += lines[i] + "\n";
  return WriteFileAtomic(path, out, 0600, Durability::kVolatile);
}

Result<std::optional<std::vector<std::string>>> LastDeployIn(const std::string& path, const std::string& dir) {
  if (!PathExists(path)) return std::optional<std::vector<std::string>>();
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 16 << 20));
  auto lines = Lines(text);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    auto j = nlohmann::json::parse(*it, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("dir", "") != dir) continue;
    if (!j.contains("argv") || !j["argv"].is_array()) continue;
    std::vector<std::string> argv;
    for (const auto& a : j["argv"])
      if (a.is_string()) argv.push_back(a.get<std::string>());
    return std::optional<std::vector<std::string>>(argv);
  }
  return std::optional<std::vector<std::string>>();
}

std::string ShellJoin(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>(){}") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

}  // namespace sp::cli
