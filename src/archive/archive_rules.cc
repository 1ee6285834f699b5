// Mode and naming rules shared by PackIncludes and UnpackIncludes, plus owning handles.
#include "archive/archive_rules.h"

#include <archive.h>
#include <sys/stat.h>

#include <cstdio>

namespace sp::archive_internal {

void ArchiveReadDeleter::operator()(struct archive* a) const { archive_read_free(a); }
void ArchiveWriteDeleter::operator()(struct archive* a) const { archive_write_free(a); }

std::string BaseName(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

mode_t NormalizedMode(mode_t mode, bool is_dir) {
  if (is_dir || (mode & 0111) != 0) return 0755;
  return 0644;
}

std::string DescribeBytes(uint64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB (%llu bytes)", static_cast<double>(bytes) / (1 << 20),
                static_cast<unsigned long long>(bytes));
  return buf;
}

std::string ArchiveError(struct archive* a, std::string_view fallback) {
  const char* msg = a ? archive_error_string(a) : nullptr;
  return msg && *msg ? std::string(msg) : std::string(fallback);
}

}  // namespace sp::archive_internal
