// IPv4 addresses and CIDR subnets for the container network.
//
// The bridge network is configured with an IPv4 subnet ("10.88.0.0/16"); the
// daemon needs its gateway (the first host address, which the CNI bridge
// plugin gives the bridge) and must check that addresses returned by plugins
// lie inside it. These helpers parse strictly (dotted quad, no leading zeros,
// host bits of a subnet must be zero) so a typo in a config is reported, not
// silently "fixed". Values are host byte order. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

struct Ipv4Subnet {
  uint32_t network = 0;  // host byte order, host bits zero
  int prefix = 0;        // 0..32

  uint32_t mask() const;
  bool Contains(uint32_t address) const;
  // First usable host address (network + 1); the bridge gateway.
  uint32_t FirstHost() const { return network + 1; }
  std::string ToString() const;  // "10.88.0.0/16"
};

// Parses "a.b.c.d".
Result<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t address);
// Parses "a.b.c.d/n". Host bits must be zero; the error names the subnet that was probably meant.
Result<Ipv4Subnet> ParseIpv4Subnet(std::string_view text);
// Parses the address part of "a.b.c.d/n" (as CNI results write addresses) and returns the address.
Result<uint32_t> ParseIpv4InterfaceAddress(std::string_view text);

}  // namespace sp
