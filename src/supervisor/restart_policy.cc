// Exponential backoff with jitter for crash loops (see restart_policy.h).
#include "supervisor/restart_policy.h"

#include <algorithm>
#include <cmath>

namespace sp {

int64_t NextFastFailures(const RestartPolicy& policy, int64_t previous, Millis run_time) {
  if (run_time >= policy.stable_after) return 0;
  return previous + 1;
}

Millis RestartDelay(const RestartPolicy& policy, int64_t fast_failures, double jitter_unit) {
  if (fast_failures <= 1) return Millis(0);
  double base = static_cast<double>(policy.initial_delay.count());
  double max = static_cast<double>(policy.max_delay.count());
  double exp = std::min<double>(static_cast<double>(fast_failures - 2), 62.0);
  double delay = std::min(base * std::pow(2.0, exp), max);
  double jitter = 0.8 + 0.4 * std::clamp(jitter_unit, 0.0, 1.0);
  return Millis(static_cast<int64_t>(std::min(delay * jitter, max)));
}

}  // namespace sp
