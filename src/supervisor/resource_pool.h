// ResourcePool: the daemon's CPU shares and memory, and who holds what.
//
// A reservation is all-or-nothing: a service that does not fit is refused
// with an error stating what was asked and what is available. Not
// thread-safe: the Supervisor serialises access.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "util/status.h"

namespace sp {

struct Resources {
  int64_t cpu_shares = 0;
  int64_t memory_mib = 0;
};

class ResourcePool {
 public:
  explicit ResourcePool(Resources total) : total_(total) {}

  // Reserves `ask` for `name`. REQUIRES: name holds nothing yet.
  Status Reserve(const std::string& name, Resources ask);
  // Re-establishes a reservation found in the state database on restart,
  // even if it no longer fits (the service is already running).
  void Restore(const std::string& name, Resources held);
  // Returns what `name` holds to the pool; no-op if it holds nothing.
  void Release(const std::string& name);
  bool Holds(const std::string& name) const { return held_.count(name) != 0; }

  Resources Total() const { return total_; }
  Resources Available() const;

 private:
  Resources total_;
  std::map<std::string, Resources> held_;
};

}  // namespace sp
