// The `image: host` root filesystem: a read-only view of the host's programs and libraries, and a
// generated minimal /etc, with nothing private.
//
// The container's root is an empty skeleton directory (service_dir/rootfs) holding only mount
// points and the merged-/usr symlinks the host has (bin -> usr/bin, ...). Onto it go read-only binds
// of /usr (and of /bin, /sbin, /lib* where they are real directories rather than symlinks) and of a
// generated /etc (service_dir/etc: passwd and group with root and nobody, hostname, hosts,
// nsswitch.conf, the host's resolv.conf), plus read-only binds of the few host /etc entries
// programs need: ssl/certs, ld.so.cache, alternatives, localtime. Nothing else of the host is
// visible: not /root, /home, /var, /etc/shadow, the daemon's state directory or other services.
//
// Thread-safe; concurrent calls must use different service directories.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/bundle.h"
#include "util/status.h"

namespace sp {

// Creates service_dir/rootfs (the skeleton) and service_dir/etc (the generated /etc), replacing the
// generated files of an earlier call, and returns the mounts to add to the ContainerSpec, in order.
// The spec's rootfs is then JoinPath(service_dir, "rootfs").
// REQUIRES: service_dir is an absolute path.
Result<std::vector<Mount>> PrepareHostRootfs(const std::string& service_dir, std::string_view hostname);

// Writes the name-service files every container gets into `etc`: hostname, hosts (localhost and the
// hostname) and the host's resolv.conf (empty if the host has none).
Status WriteNameFiles(const std::string& etc, std::string_view hostname);

// What both kinds of container root require of their arguments: InvalidArgument unless
// `service_dir` is absolute and `hostname` is 1-253 letters, digits, '-', '.' or '_'.
Status CheckRootfsRequest(const std::string& service_dir, std::string_view hostname);

}  // namespace sp
