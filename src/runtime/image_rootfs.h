// The root filesystem of a service that runs from an image: an overlayfs of the image's unpacked
// layers (read-only, shared by every service using them) with a per-service upper directory that
// holds the service's own changes.
//
// Layout under the service directory: `rootfs` (the merged mount point), `upper` (the changes,
// kept across restarts of one deploy), `work` (overlayfs' scratch directory) and `etc` (generated
// hostname, hosts and resolv.conf, bind-mounted read-only over the image's). The overlay is
// mounted in the daemon's mount namespace, so it survives a restart of spawnd; PrepareImageRootfs
// is idempotent and mounts it again when it is missing (after a reboot).
//
// Long layer lists: the mount options must fit in one page, so when absolute layer paths would not,
// the mount is made from a short-lived child process whose working directory is the layers'
// common parent, with relative layer names (as docker's overlay2 driver does).
//
// Thread-safe; concurrent calls must use different service directories.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/bundle.h"
#include "util/status.h"

namespace sp {

// At most this many layers (overlayfs' own limit is 500; images have far fewer).
inline constexpr size_t kMaxImageLayers = 128;

// Mounts an overlay at `target` with `lower_dirs` (topmost first), `upper` and `work`.
// InvalidArgument for paths overlayfs cannot take (',' ':' or '\' in them, relative paths).
Status MountOverlay(const std::vector<std::string>& lower_dirs, const std::string& upper, const std::string& work,
                    const std::string& target);

// True if `path` is a mount point (its device differs from its parent's, or it is listed in
// /proc/self/mountinfo).
bool IsMountPoint(const std::string& path);

// Lazily unmounts `path` if it is a mount point (MNT_DETACH); fine if it is not.
Status UnmountIfMounted(const std::string& path);

// Mounts service_dir/rootfs as the overlay of `lower_dirs` (topmost first) unless already mounted,
// writes service_dir/etc, and returns the mounts to add to the ContainerSpec (read-only binds of
// /etc/hostname, /etc/hosts and /etc/resolv.conf). The spec's rootfs is JoinPath(service_dir,
// "rootfs") and must be writable (readonly_root = false).
// REQUIRES: service_dir absolute; 1 <= lower_dirs.size() <= kMaxImageLayers.
Result<std::vector<Mount>> PrepareImageRootfs(const std::string& service_dir, std::string_view hostname,
                                              const std::vector<std::string>& lower_dirs);

// Unmounts service_dir/rootfs if mounted (before the service directory is removed).
Status ReleaseImageRootfs(const std::string& service_dir);

}  // namespace sp
