// Segment files: discovery, appending with single writes, rotation and pruning.
#include "monitor/log_segments.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/fs.h"

namespace sp {
namespace {

// "NNNNNNNN.log" -> NNNNNNNN; -1 for any other name.
int64_t SegmentNumber(const std::string& name) {
  if (name.size() != 12 || name.compare(8, 4, ".log") != 0) return -1;
  int64_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

}  // namespace

std::string SegmentPath(const std::string& dir, uint32_t number) {
  char name[32];
  std::snprintf(name, sizeof name, "%08u.log", number);
  return JoinPath(dir, name);
}

Result<std::vector<uint32_t>> ListSegments(const std::string& dir) {
  SP_ASSIGN_OR_RETURN(auto names, ListDir(dir));
  std::vector<uint32_t> out;
  for (const auto& n : names) {
    int64_t num = SegmentNumber(n);
    if (num >= 0) out.push_back(static_cast<uint32_t>(num));
  }
  return out;  // ListDir sorts names, and fixed-width numbers sort like their names
}

Result<LogSegments> LogSegments::Open(const std::string& dir, uint64_t max_bytes, int max_files) {
  SP_CHECK(max_bytes > 0 && max_files >= 1);
  SP_RETURN_IF_ERROR(MakeDirs(dir, 0755).Annotate("log directory"));
  SP_ASSIGN_OR_RETURN(auto numbers, ListSegments(dir));
  LogSegments segs(dir, max_bytes, max_files);
  SP_RETURN_IF_ERROR(segs.OpenSegment(numbers.empty() ? 0 : numbers.back()));
  SP_RETURN_IF_ERROR(segs.Prune());
  return segs;
}

Status LogSegments::OpenSegment(uint32_t number) {
  std::string path = SegmentPath(dir_, number);
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd.valid()) return Status::FromErrno("open log segment " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat log segment " + path, errno);
  fd_ = std::move(fd);
  number_ = number;
  size_ = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

Status LogSegments::Rotate() {
  SP_RETURN_IF_ERROR(OpenSegment(number_ + 1));
  return Prune();
}

Status LogSegments::Prune() {
  SP_ASSIGN_OR_RETURN(auto numbers, ListSegments(dir_));
  for (size_t i = 0; i + static_cast<size_t>(max_files_) < numbers.size(); ++i) {
    if (numbers[i] == number_) continue;  // never the one being written
    std::string path = SegmentPath(dir_, numbers[i]);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::FromErrno("delete old log segment " + path, errno);
  }
  return Status::Ok();
}

Status LogSegments::Append(std::string_view record) {
  if (size_ > 0 && size_ + record.size() > max_bytes_) SP_RETURN_IF_ERROR(Rotate());
  // One write per record; a short write only happens when the disk is full, and then the rest is
  // retried so the record is not silently cut.
  while (!record.empty()) {
    ssize_t n = ::write(fd_.get(), record.data(), record.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write log segment " + SegmentPath(dir_, number_), errno);
    }
    size_ += static_cast<uint64_t>(n);
    record.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace sp
