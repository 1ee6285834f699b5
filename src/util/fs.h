// Small filesystem helpers over POSIX calls, returning Status.
//
// WriteFileAtomic writes to a temporary file in the same directory, fsyncs
// and renames it over the target, so readers see the old or the new content,
// never a torn file. It never follows a symlink (neither at the temporary
// name nor at the target, which rename replaces). All functions are thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace sp {

Result<std::string> ReadFile(const std::string& path);
// Reads at most `max_bytes`; a longer file is an InvalidArgument error.
Result<std::string> ReadFileCapped(const std::string& path, size_t max_bytes);
// Whether WriteFileAtomic fsyncs before the rename. kVolatile is for files rewritten at every
// container start (bundles, monitor parameters, generated /etc files): after a power loss the
// containers are gone too, and the sync costs milliseconds on a busy disk.
enum class Durability { kDurable, kVolatile };
// Writes all of `data` to `fd`, retrying on EINTR and short writes; false on error (errno says why).
bool WriteAll(int fd, std::string_view data);

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                       Durability durability = Durability::kDurable);
// Like WriteFileAtomic(kVolatile), but leaves the file alone when it already holds exactly `data`
// with mode `mode`.
Status WriteFileIfChanged(const std::string& path, std::string_view data, mode_t mode = 0644);
Status MakeDirs(const std::string& path, mode_t mode = 0755);
// Removes a file or a directory tree; a missing path is not an error.
// Does not cross into other mounts (refuses if a mount point is found inside).
Status RemoveAll(const std::string& path);
bool PathExists(const std::string& path);
// Entry names (not paths) in a directory, sorted, without "." and "..".
Result<std::vector<std::string>> ListDir(const std::string& path);
// Creates a fresh private (0700) directory from a mkdtemp pattern ending in "XXXXXX".
Result<std::string> MakeTempDir(std::string pattern);
// Joins two path parts with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace sp
