// Path rules of image layers, and the descriptor walk with their wording.
#include "layer/layer_fs.h"

#include <stdio.h>

namespace sp::layer_internal {

std::string ShowPath(std::string_view path) {
  constexpr size_t kShown = 160;
  std::string out = "'";
  for (size_t i = 0; i < path.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (path.size() > kShown) out += "...";
  return out + "'";
}

Result<std::vector<std::string>> SplitLayerPath(std::string_view path) {
  if (path.empty()) return Err(Status::InvalidArgument("an entry has an empty path"));
  if (path.size() > kMaxPathBytes) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) + " has a path of " +
                                       std::to_string(path.size()) + " bytes; the limit is " +
                                       std::to_string(kMaxPathBytes)));
  }
  // "/" alone names the layer's root, as "./" does (umoci writes it so); any other absolute path is refused.
  if (path.find_first_not_of('/') == std::string_view::npos) return std::vector<std::string>{};
  if (path.front() == '/') {
    return Err(Status::InvalidArgument(
        "entry " + ShowPath(path) + " has an absolute path; paths in a layer must be relative to its root"));
  }
  auto parts = fstree::SplitEntryPath(path);
  if (!parts) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) +
                                       " has a '..' component; entries may not leave the layer"));
  }
  if (parts->size() > kMaxDepth) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) + " is " + std::to_string(parts->size()) +
                                       " directories deep; the limit is " + std::to_string(kMaxDepth)));
  }
  for (const auto& part : *parts) {
    if (part.size() > kMaxNameBytes) {
      return Err(Status::InvalidArgument("entry " + ShowPath(path) + " has a name of " +
                                         std::to_string(part.size()) + " bytes; the limit is " +
                                         std::to_string(kMaxNameBytes)));
    }
  }
  return parts;
}

Result<Fd> WalkDirs(int root_fd, const std::vector<std::string>& parts, size_t count, bool create,
                    const std::string& shown, const fstree::NonDirHook& hook) {
  fstree::WalkOptions options;
  options.create = create;
  options.replace = hook;
  options.refuse = [&shown](const std::string& through, mode_t type) {
    return Status::InvalidArgument("entry " + ShowPath(shown) + " goes through " + ShowPath(through) +
                                   ", which is a " + fstree::FileTypeName(type) + ", not a directory");
  };
  return fstree::WalkDirs(root_fd, parts, count, options);
}

}  // namespace sp::layer_internal
