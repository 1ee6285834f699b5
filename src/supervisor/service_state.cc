// Service state names (see service_state.h).
#include "supervisor/service_state.h"

#include <ostream>

namespace sp {

std::string_view ServiceStateName(ServiceState state) {
  switch (state) {
    case ServiceState::kStarting:
      return "starting";
    case ServiceState::kRunning:
      return "running";
    case ServiceState::kRestarting:
      return "restarting";
    case ServiceState::kBackoff:
      return "backoff";
    case ServiceState::kExited:
      return "exited";
    case ServiceState::kStopping:
      return "stopping";
  }
  return "unknown";  // not reached: the switch covers every value
}

std::optional<ServiceState> ParseServiceState(std::string_view text) {
  for (ServiceState state : kAllServiceStates) {
    if (ServiceStateName(state) == text) return state;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, ServiceState state) { return out << ServiceStateName(state); }

}  // namespace sp
