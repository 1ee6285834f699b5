// Strict IPv4 and CIDR parsing on top of inet_pton.
#include "net/ipv4.h"

#include <arpa/inet.h>

#include <charconv>

namespace sp {

uint32_t Ipv4Subnet::mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

bool Ipv4Subnet::Contains(uint32_t address) const { return (address & mask()) == network; }

std::string Ipv4Subnet::ToString() const { return FormatIpv4(network) + "/" + std::to_string(prefix); }

Result<uint32_t> ParseIpv4(std::string_view text) {
  std::string s(text);
  in_addr a{};
  if (s.empty() || ::inet_pton(AF_INET, s.c_str(), &a) != 1)
    return Err(Status::InvalidArgument("not an IPv4 address: \"" + s + "\" (expected a.b.c.d)"));
  return ntohl(a.s_addr);
}

std::string FormatIpv4(uint32_t address) {
  in_addr a{};
  a.s_addr = htonl(address);
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

namespace {

struct AddressAndPrefix {
  uint32_t address;
  int prefix;
};

Result<AddressAndPrefix> SplitCidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return Err(
        Status::InvalidArgument("not an IPv4 CIDR: \"" + std::string(text) + "\" (expected a.b.c.d/n)"));
  SP_ASSIGN_OR_RETURN(uint32_t address, ParseIpv4(text.substr(0, slash)));
  std::string_view p = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > 32)
    return Err(
        Status::InvalidArgument("bad prefix length in \"" + std::string(text) + "\" (expected 0..32)"));
  return AddressAndPrefix{address, prefix};
}

}  // namespace

Result<Ipv4Subnet> ParseIpv4Subnet(std::string_view text) {
  SP_ASSIGN_OR_RETURN(AddressAndPrefix ap, SplitCidr(text));
  Ipv4Subnet net{0, ap.prefix};
  net.network = ap.address & net.mask();
  if (net.network != ap.address)
    return Err(Status::InvalidArgument("subnet \"" + std::string(text) +
                                       "\" has host bits set (did you mean " + net.ToString() + "?)"));
  return net;
}

Result<uint32_t> ParseIpv4InterfaceAddress(std::string_view text) {
  SP_ASSIGN_OR_RETURN(AddressAndPrefix ap, SplitCidr(text));
  return ap.address;
}

}  // namespace sp
