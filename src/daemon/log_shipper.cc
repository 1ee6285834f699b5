// Log shipping from segment files to the bus (see log_shipper.h).
#include "daemon/log_shipper.h"

#include "protocol/published.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "monitor/cri_log.h"
#include "monitor/log_segments.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr size_t kBatchBytes = 64 << 10;

}  // namespace

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
  auto listed = ListSegments(t.dir);
  if (!listed || listed->empty()) return;
  const std::vector<uint32_t>& segs = *listed;
  int64_t start_seg = t.segment, start_off = t.offset;
  if (t.segment < segs.front()) {  // older segments were rotated away (or nothing shipped yet)
    t.segment = segs.front();
    t.offset = 0;
  }
  for (;;) {
    std::string path = SegmentPath(t.dir, static_cast<uint32_t>(t.segment));
    if (!ShipSegment(name, t, path)) break;  // publishing failed: try again later
    auto next = std::upper_bound(segs.begin(), segs.end(), static_cast<uint32_t>(t.segment));
    if (next == segs.end()) break;
    // The monitor has moved on to a newer segment: this one is complete once read to its end.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && t.offset < st.st_size) break;
    t.segment = *next;
    t.offset = 0;
  }
  if (t.segment != start_seg || t.offset != start_off) save_(name, t.segment, t.offset);
}

bool LogShipper::ShipSegment(const std::string& name, Tracked& t, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  bool ok = true;
  std::string buf(kReadChunk, '\0');
  while (ok) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), t.offset);
    if (n <= 0) break;
    std::string_view data(buf.data(), static_cast<size_t>(n));
    size_t end = data.rfind('\n');
    if (end == std::string_view::npos) break;  // only a partial record so far
    std::vector<LogRecord> batch;
    size_t batch_bytes = 0, pos = 0, published_to = 0;
    std::string committed[2] = {t.partial[0], t.partial[1]};  // partial lines as of published_to
    auto flush = [&](size_t upto) {
      if (!batch.empty() && !publish_(name, protocol::EncodeLogMessage({name, batch})).ok()) {
        t.partial[0] = committed[0];  // these records will be read again
        t.partial[1] = committed[1];
        return false;
      }
      batch.clear();
      batch_bytes = 0;
      published_to = upto;
      committed[0] = t.partial[0];
      committed[1] = t.partial[1];
      return true;
    };
    while (pos <= end && ok) {
      size_t nl = data.find('\n', pos);
      auto rec = ParseCriRecord(data.substr(pos, nl - pos));
      pos = nl + 1;
      if (!rec) continue;  // not a record: skip it
      std::string& partial = t.partial[rec->stream == LogStream::kStderr ? 1 : 0];
      if (rec->partial) {
        partial += rec->text;
        continue;
      }
      batch.push_back({rec->time, std::string(LogStreamName(rec->stream)), partial + rec->text});
      partial.clear();
      batch_bytes += batch.back().text.size() + 64;
      if (batch_bytes >= kBatchBytes) ok = flush(pos);
    }
    if (ok) ok = flush(end + 1);
    t.offset += static_cast<int64_t>(published_to);
    if (static_cast<size_t>(n) < buf.size()) break;
  }
  ::close(fd);
  return ok;
}

}  // namespace sp
