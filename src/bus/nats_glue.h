// cnats glue shared by the Bus's two halves (bus.cc: connection, publish, request, subscribe;
// jetstream.cc: streams, last-value reads and the Follower): cnats statuses as Status, cnats
// messages as BusMessage, and random tokens. Internal to the bus module. Pure functions, safe from
// any thread.
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "bus/bus.h"
#include "util/status.h"

namespace sp::bus_internal {

// OK for NATS_OK, else a Status whose code says what kind of failure it is (DeadlineExceeded,
// Unavailable, PermissionDenied, else Internal) and whose message is "<what>: <cnats text>", with
// cnats' last error text added when it says more.
Status FromNats(natsStatus s, std::string_view what);
// A copy of the message's subject, reply subject and data. Does not take ownership of `m`.
BusMessage ToMessage(natsMsg* m);
// A random token (a NUID) for consumer names and inbox suffixes.
std::string NewToken();

}  // namespace sp::bus_internal
