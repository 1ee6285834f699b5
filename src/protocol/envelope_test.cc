// The reply envelope: moved here from bus/ with the wire format.
#include "protocol/envelope.h"

#include <gtest/gtest.h>

namespace sp::protocol {
namespace {

TEST(Protocol, RoundTripsSuccessAndError) {
  auto ok = DecodeReply(EncodeReply(nlohmann::json{{"name", "hello"}}));
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["name"], "hello");
  auto err = DecodeReply(EncodeReply(Status::ResourceExhausted("asked 512 shares, 256 available")));
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(err.error().message(), "asked 512 shares, 256 available");
}

TEST(Protocol, GarbageRepliesAreErrorsNotCrashes) {
  for (const char* g : {"", "{", "[]", "{\"ok\":\"yes\"}", "\xff\xfe", "{\"ok\":false,\"error\":7}"}) {
    auto r = DecodeReply(g);
    EXPECT_FALSE(r) << g;
  }
  EXPECT_FALSE(ParseMessage("[1]", "deploy request"));
  EXPECT_TRUE(ParseMessage("{}", "deploy request"));
}

}  // namespace
}  // namespace sp::protocol
