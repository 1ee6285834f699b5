// ServiceState: where a service is in its lifecycle, as the Supervisor sees it.
//
// The Supervisor decides on these values; they become text only where they
// leave the process: the `state` column of the Store (ServiceRecord::state)
// and the `state` field of the protocol's service description and heartbeats.
// The names are those of docs/protocol.md and of existing state databases, so
// they must never change. Every switch over a ServiceState lists all values
// (no `default:`), so the compiler finds the places a new state must be handled.
//
// Pure functions; thread-safe.
#pragma once

#include <iosfwd>
#include <optional>
#include <string_view>

namespace sp {

enum class ServiceState {
  kStarting,    // an instance is being created (files prepared, container launching)
  kRunning,     // an instance runs under its monitor
  kRestarting,  // Restart() terminates the current instance before starting the next
  kBackoff,     // no instance; the next start is due at next_start_ms
  kExited,      // no instance and no restart scheduled; its reservation is returned
  kStopping,    // Stop() terminates the instance; the service is removed when it exits
};

// Every value, in declaration order (for tests and documentation checks).
inline constexpr ServiceState kAllServiceStates[] = {
    ServiceState::kStarting, ServiceState::kRunning, ServiceState::kRestarting,
    ServiceState::kBackoff,  ServiceState::kExited,  ServiceState::kStopping,
};

// "starting", "running", "restarting", "backoff", "exited", "stopping".
std::string_view ServiceStateName(ServiceState state);

// The state named `text` (exactly, as ServiceStateName writes it); nullopt for any other text.
std::optional<ServiceState> ParseServiceState(std::string_view text);

// Writes ServiceStateName(state), so test failures and logs show the name.
std::ostream& operator<<(std::ostream& out, ServiceState state);

}  // namespace sp
