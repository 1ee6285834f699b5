// Resource pool accounting (see resource_pool.h).
#include "supervisor/resource_pool.h"

#include "util/status.h"

namespace sp {

Resources ResourcePool::Available() const {
  Resources a = total_;
  for (const auto& [name, r] : held_) {
    a.cpu_shares -= r.cpu_shares;
    a.memory_mib -= r.memory_mib;
  }
  return a;
}

Status ResourcePool::Reserve(const std::string& name, Resources ask) {
  SP_CHECK(!Holds(name));
  Resources avail = Available();
  if (ask.cpu_shares > avail.cpu_shares || ask.memory_mib > avail.memory_mib) {
    return Status::ResourceExhausted(
        "insufficient resources: asked for " + std::to_string(ask.cpu_shares) + " CPU shares and " +
        std::to_string(ask.memory_mib) + " MiB memory; available " + std::to_string(avail.cpu_shares) + "/" +
        std::to_string(total_.cpu_shares) + " CPU shares and " + std::to_string(avail.memory_mib) + "/" +
        std::to_string(total_.memory_mib) + " MiB memory");
  }
  held_[name] = ask;
  return Status::Ok();
}

void ResourcePool::Restore(const std::string& name, Resources held) { held_[name] = held; }

void ResourcePool::Release(const std::string& name) { held_.erase(name); }

}  // namespace sp
