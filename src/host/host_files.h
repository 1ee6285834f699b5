// The names of the files LinuxHost keeps in a service's directory
// (services/<name>/, see linux_host.h), shared by the files that implement it.
#pragma once

namespace sp {

inline constexpr const char* kEntityFile = "entity.key";  // in data/: the service's .creds, 0600
inline constexpr const char* kPortsFile = "ports.json";   // the published ports, host ports resolved

}  // namespace sp
