// When to start a crashed service again.
//
// A service that ran at least `stable_after` before exiting is restarted at
// once and its failure count is reset. A service that exits sooner is a
// "fast failure": the first is also restarted at once (a single crash should
// cost as little downtime as possible); from the second consecutive fast
// failure on, the delay is initial_delay * 2^(n-2), capped at max_delay,
// with +-20% jitter so that many crashing services do not restart in step.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "config/service_config.h"
#include "util/duration.h"

namespace sp {

// Consecutive fast failures after a run of `run_time` that followed
// `previous` consecutive fast failures.
int64_t NextFastFailures(const RestartPolicy& policy, int64_t previous, Millis run_time);

// Delay before the next start given the consecutive fast failures so far.
// `jitter_unit` is uniform in [0, 1).
Millis RestartDelay(const RestartPolicy& policy, int64_t fast_failures, double jitter_unit);

}  // namespace sp
