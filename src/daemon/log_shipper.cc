// Log shipping from segment files to the bus (see log_shipper.h).
#include "daemon/log_shipper.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr size_t kBatchBytes = 64 << 10;

// Segment numbers present in `dir`, ascending.
std::vector<int64_t> Segments(const std::string& dir) {
  std::vector<int64_t> out;
  auto names = ListDir(dir);
  if (!names) return out;
  for (const auto& n : *names) {
    if (n.size() != 12 || n.compare(8, 4, ".log") != 0) continue;
    bool digits = true;
    for (size_t i = 0; i < 8; ++i) digits = digits && std::isdigit(static_cast<unsigned char>(n[i]));
    if (digits) out.push_back(std::strtoll(n.substr(0, 8).c_str(), nullptr, 10));
  }
  return out;
}

std::string SegmentPath(const std::string& dir, int64_t seg) {
  char name[32];
  std::snprintf(name, sizeof name, "%08lld.log", static_cast<long long>(seg));
  return JoinPath(dir, name);
}

}  // namespace

bool ParseCriLine(std::string_view line, LogRecord* out) {
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  auto sp3 = line.find(' ', sp2 + 1);
  std::string_view tag = line.substr(sp2 + 1, sp3 == std::string_view::npos ? std::string_view::npos : sp3 - sp2 - 1);
  if (tag != "F" && tag != "P") return false;
  out->time = std::string(line.substr(0, sp1));
  out->stream = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  out->text = sp3 == std::string_view::npos ? "" : std::string(line.substr(sp3 + 1));
  return true;
}

std::string EncodeLogMessage(const std::string& service, const std::vector<LogRecord>& records) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& r : records) entries.push_back({{"time", r.time}, {"stream", r.stream}, {"text", r.text}});
  // Service output need not be UTF-8: replace what is not, never fail.
  return nlohmann::json{{"service", service}, {"entries", entries}}.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace);
}

LogShipper::LogShipper(Publish publish, SavePosition save)
    : publish_(std::move(publish)), save_(std::move(save)) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

LogShipper::~LogShipper() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void LogShipper::Track(const std::string& name, const std::string& log_dir, int64_t segment, int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  Tracked& t = tracked_[name];
  if (t.dir.empty()) {
    t.dir = log_dir;
    t.segment = segment;
    t.offset = offset;
  }
  if (t.wd < 0 && inotify_fd_ >= 0) {
    t.wd = ::inotify_add_watch(inotify_fd_, log_dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
    if (t.wd >= 0) by_wd_[t.wd] = name;
  }
  PollLocked(name, t);
}

void LogShipper::Untrack(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(name);
  if (it == tracked_.end()) return;
  PollLocked(name, it->second);
  if (it->second.wd >= 0) {
    ::inotify_rm_watch(inotify_fd_, it->second.wd);
    by_wd_.erase(it->second.wd);
  }
  tracked_.erase(it);
}

void LogShipper::Poll(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(name);
  if (it != tracked_.end()) PollLocked(name, it->second);
}

void LogShipper::PollAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, t] : tracked_) PollLocked(name, t);
}

void LogShipper::HandleEvents() {
  alignas(struct inotify_event) char buf[16384];
  std::vector<std::string> names;
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_wd_.find(ev->wd);
      if (it != by_wd_.end()) names.push_back(it->second);
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& n : names) Poll(n);
}

void LogShipper::PollLocked(const std::string& name, Tracked& t) {
  std::vector<int64_t> segs = Segments(t.dir);
  if (segs.empty()) return;
  int64_t start_seg = t.segment, start_off = t.offset;
  if (t.segment < segs.front()) {  // older segments were rotated away (or nothing shipped yet)
    t.segment = segs.front();
    t.offset = 0;
  }
  for (;;) {
    std::string path = SegmentPath(t.dir, t.segment);
    ShipSegment(name, t, path);
    auto next = std::upper_bound(segs.begin(), segs.end(), t.segment);
    if (next == segs.end()) break;
    // The monitor has moved on to a newer segment: this one is complete once read to its end.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && t.offset < st.st_size) break;
    t.segment = *next;
    t.offset = 0;
  }
  if (t.segment != start_seg || t.offset != start_off) save_(name, t.segment, t.offset);
}

int64_t LogShipper::ShipSegment(const std::string& name, Tracked& t, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int64_t consumed = 0;
  std::string buf(kReadChunk, '\0');
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), t.offset);
    if (n <= 0) break;
    std::string_view data(buf.data(), static_cast<size_t>(n));
    size_t end = data.rfind('\n');
    if (end == std::string_view::npos) break;  // only a partial record so far
    std::vector<LogRecord> batch;
    size_t batch_bytes = 0;
    size_t pos = 0;
    while (pos <= end) {
      size_t nl = data.find('\n', pos);
      LogRecord r;
      if (ParseCriLine(data.substr(pos, nl - pos), &r)) {
        batch_bytes += r.text.size() + 64;
        batch.push_back(std::move(r));
      }
      pos = nl + 1;
      if (batch_bytes >= kBatchBytes) {
        publish_(name, EncodeLogMessage(name, batch));
        batch.clear();
        batch_bytes = 0;
      }
    }
    if (!batch.empty()) publish_(name, EncodeLogMessage(name, batch));
    t.offset += static_cast<int64_t>(end + 1);
    consumed += static_cast<int64_t>(end + 1);
    if (static_cast<size_t>(n) < buf.size()) break;
  }
  ::close(fd);
  return consumed;
}

}  // namespace sp
