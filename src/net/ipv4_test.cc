// Tests for strict IPv4 / CIDR parsing and subnet arithmetic.
#include "net/ipv4.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(Ipv4Test, ParsesAndFormatsAddresses) {
  auto a = ParseIpv4("10.88.0.5");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(*a, 0x0A580005u);
  EXPECT_EQ(FormatIpv4(*a), "10.88.0.5");
  EXPECT_EQ(FormatIpv4(0xFFFFFFFFu), "255.255.255.255");
}

TEST(Ipv4Test, RejectsMalformedAddresses) {
  for (const char* bad :
       {"", "10.88.0", "10.88.0.256", "10.88.0.5.1", "a.b.c.d", "::1", " 10.0.0.1", "10.0.0.1/8"}) {
    auto a = ParseIpv4(bad);
    ASSERT_FALSE(a) << bad;
    EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
    EXPECT_NE(a.error().message().find("a.b.c.d"), std::string::npos) << a.error().message();
  }
}

TEST(Ipv4Test, SubnetGatewayAndContains) {
  auto s = ParseIpv4Subnet("10.88.0.0/16");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->prefix, 16);
  EXPECT_EQ(s->mask(), 0xFFFF0000u);
  EXPECT_EQ(FormatIpv4(s->FirstHost()), "10.88.0.1");
  EXPECT_EQ(s->ToString(), "10.88.0.0/16");
  EXPECT_TRUE(s->Contains(*ParseIpv4("10.88.255.254")));
  EXPECT_FALSE(s->Contains(*ParseIpv4("10.89.0.1")));
  auto all = ParseIpv4Subnet("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->mask(), 0u);
  EXPECT_TRUE(all->Contains(*ParseIpv4("192.168.1.1")));
}

TEST(Ipv4Test, SubnetWithHostBitsSuggestsNetwork) {
  auto s = ParseIpv4Subnet("10.88.0.1/16");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  EXPECT_NE(s.error().message().find("did you mean 10.88.0.0/16"), std::string::npos) << s.error().message();
}

TEST(Ipv4Test, RejectsMalformedSubnets) {
  for (const char* bad :
       {"10.88.0.0", "10.88.0.0/", "10.88.0.0/33", "10.88.0.0/-1", "10.88.0.0/1x", "/16", "10.88.0.0/16/2"}) {
    auto s = ParseIpv4Subnet(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Ipv4Test, InterfaceAddressKeepsHostPart) {
  auto a = ParseIpv4InterfaceAddress("10.231.4.7/24");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(FormatIpv4(*a), "10.231.4.7");
  EXPECT_FALSE(ParseIpv4InterfaceAddress("fd00::5/64"));
}

}  // namespace
}  // namespace sp
