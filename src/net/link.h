// Network links of the calling thread's network namespace: name checks,
// up/down, and Linux bridges.
//
// Small ioctl-based helpers (no `ip` binary): the router-access code must be
// able to create the service bridge before the first container is attached
// (the CNI bridge plugin would otherwise create it on the first ADD), a new
// network namespace needs its `lo` up, and tests and decommissioning remove
// bridges. Every call acts on the network namespace of the *calling thread*
// (see RunInNetns in net/netns.h). Thread-safe; no shared state.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

// Checks a Linux interface name: 1..15 characters from [A-Za-z0-9_.-], not "." or "..".
Status ValidateLinkName(std::string_view name);

bool LinkExists(const std::string& name);
// Sets or clears IFF_UP. NotFound if the link does not exist.
Status SetLinkUp(const std::string& name, bool up);
// Creates the bridge if no link of that name exists and sets it up. A link of that name that is not a
// bridge is a FailedPrecondition error.
Status EnsureBridge(const std::string& name);
// Sets the bridge down and deletes it; a missing bridge is not an error.
Status DeleteBridge(const std::string& name);
// Whether the link's driver is the Linux bridge; NotFound if the link does not exist.
Result<bool> IsBridge(const std::string& name);

}  // namespace sp
