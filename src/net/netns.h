// Named network namespaces, as `ip netns` makes them, without the `ip` binary.
//
// Each service runs in its own network namespace. The namespace is kept alive
// by a bind mount of its nsfs file at `<dir>/<name>` (the daemon uses
// `<stateDir>/netns`), so it outlives the processes inside it and CNI plugins
// and runc can be given its path. The namespace is created on a short-lived
// thread: the daemon's own threads never leave the host namespace.
//
// All functions are thread-safe. CreateNetns serialises its mount-point setup
// within the process; concurrent calls for different names are fine.
// REQUIRES: CAP_SYS_ADMIN (mount, unshare, setns).
#pragma once

#include <functional>
#include <string>

#include "util/status.h"

namespace sp {

// Creates a new network namespace with `lo` up and bind-mounts it at dir/name. dir is created if missing
// and made a shared mount point (bind-mounted onto itself first if it is not a mount point), as
// `ip netns add` does, so unmounting a namespace file is seen by every mount namespace.
// Returns the path. AlreadyExists if a namespace is already mounted there; a stale plain file left by a
// crash is replaced.
// REQUIRES: name is a plain file name (no '/'), dir is an absolute path.
Result<std::string> CreateNetns(const std::string& dir, const std::string& name);

// Unmounts (MNT_DETACH) and unlinks a namespace file made by CreateNetns. A missing path is not an error.
// The namespace itself goes away once no process is left in it.
Status DeleteNetns(const std::string& path);

// Undoes the mount-point setup CreateNetns did on dir (for decommissioning and tests): one lazy unmount
// of dir. The namespaces under dir should be deleted first. A dir that is not a mount point is fine.
// REQUIRES: dir was not a mount point of its own before the first CreateNetns on it.
Status ReleaseNetnsDir(const std::string& dir);

// True if path is a mounted network namespace file (nsfs).
bool IsNetnsPath(const std::string& path);

// Runs fn on a new thread that has joined the network namespace at path and returns its Status. The
// calling thread stays where it is. fn must not start threads that expect to be in the namespace (new
// threads inherit the namespace, but fn's thread is discarded after fn returns).
Status RunInNetns(const std::string& path, const std::function<Status()>& fn);

}  // namespace sp
