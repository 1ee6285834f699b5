// The cnats glue shared by the two halves of the Bus: status mapping and tokens.
#include "bus/nats_glue.h"

#include <gtest/gtest.h>

#include <set>

namespace sp::bus_internal {
namespace {

TEST(NatsGlue, OkIsOk) { EXPECT_TRUE(FromNats(NATS_OK, "publish x").ok()); }

TEST(NatsGlue, StatusesMapToCodes) {
  EXPECT_EQ(FromNats(NATS_TIMEOUT, "flush").code(), Code::kDeadlineExceeded);
  EXPECT_EQ(FromNats(NATS_NO_RESPONDERS, "request").code(), Code::kUnavailable);
  EXPECT_EQ(FromNats(NATS_NO_SERVER, "connect").code(), Code::kUnavailable);
  EXPECT_EQ(FromNats(NATS_CONNECTION_CLOSED, "publish").code(), Code::kUnavailable);
  EXPECT_EQ(FromNats(NATS_NOT_PERMITTED, "publish").code(), Code::kPermissionDenied);
  EXPECT_EQ(FromNats(NATS_CONNECTION_AUTH_FAILED, "connect").code(), Code::kPermissionDenied);
  EXPECT_EQ(FromNats(NATS_INVALID_ARG, "subscribe").code(), Code::kInternal);
}

TEST(NatsGlue, MessageNamesWhatFailed) {
  Status s = FromNats(NATS_TIMEOUT, "flush");
  EXPECT_EQ(s.message().rfind(std::string("flush: ") + natsStatus_GetText(NATS_TIMEOUT), 0), 0u)
      << s.message();
}

TEST(NatsGlue, TokensAreFreshAndHaveNoDots) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = NewToken();
    EXPECT_FALSE(t.empty());
    EXPECT_EQ(t.find('.'), std::string::npos) << t;
    EXPECT_TRUE(seen.insert(t).second) << t;
  }
}

}  // namespace
}  // namespace sp::bus_internal
