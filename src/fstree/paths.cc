// Splitting, joining and lexically checking the paths of archive entries.
#include "fstree/paths.h"

namespace sp::fstree {

std::vector<std::string_view> SplitComponents(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

Result<std::vector<std::string>> SplitEntryPath(std::string_view path) {
  if (path.empty()) return Err(Status::InvalidArgument("entry with an empty path"));
  if (path.front() == '/') {
    return Err(Status::InvalidArgument("entry '" + std::string(path) + "' has an absolute path"));
  }
  std::vector<std::string> parts;
  for (std::string_view part : SplitComponents(path)) {
    if (part == "..") {
      return Err(Status::InvalidArgument("entry '" + std::string(path) + "' has a '..' component"));
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
  }
  return parts;
}

Status CheckSymlinkTargetLexically(const std::vector<std::string>& parent, std::string_view target) {
  if (target.empty()) return Status::InvalidArgument("symlink with an empty target");
  if (target.front() == '/') {
    return Status::InvalidArgument("symlink target '" + std::string(target) +
                                   "' is absolute; only relative targets inside the directory are allowed");
  }
  size_t depth = parent.size();
  for (std::string_view part : SplitComponents(target)) {
    if (part == "..") {
      if (depth == 0) {
        return Status::InvalidArgument("symlink target '" + std::string(target) +
                                       "' points outside the directory it is unpacked into");
      }
      --depth;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
  }
  return Status::Ok();
}

std::string JoinParts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

}  // namespace sp::fstree
