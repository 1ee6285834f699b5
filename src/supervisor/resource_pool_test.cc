#include "supervisor/resource_pool.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(ResourcePool, ReservesUntilFullThenRefusesWithDetails) {
  ResourcePool pool({2048, 4096});
  ASSERT_TRUE(pool.Reserve("a", {1024, 1024}).ok());
  ASSERT_TRUE(pool.Reserve("b", {512, 2048}).ok());
  EXPECT_EQ(pool.Available().cpu_shares, 512);
  EXPECT_EQ(pool.Available().memory_mib, 1024);
  Status s = pool.Reserve("c", {1024, 512});
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_NE(s.message().find("asked for 1024 CPU shares"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("available 512/2048 CPU shares"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("1024/4096 MiB"), std::string::npos) << s.message();
  EXPECT_FALSE(pool.Holds("c"));
  EXPECT_EQ(pool.Reserve("d", {512, 2048}).code(), Code::kResourceExhausted) << "memory alone must not fit";
}

TEST(ResourcePool, ReleaseReturnsReservation) {
  ResourcePool pool({1024, 1024});
  ASSERT_TRUE(pool.Reserve("a", {1024, 1024}).ok());
  pool.Release("a");
  pool.Release("a");
  EXPECT_EQ(pool.Available().cpu_shares, 1024);
  EXPECT_TRUE(pool.Reserve("b", {1024, 1024}).ok());
}

TEST(ResourcePool, RestoreMayOvercommit) {
  ResourcePool pool({1024, 1024});
  pool.Restore("a", {2048, 512});
  EXPECT_EQ(pool.Available().cpu_shares, -1024);
  EXPECT_EQ(pool.Reserve("b", {2, 4}).code(), Code::kResourceExhausted);
}

}  // namespace
}  // namespace sp
