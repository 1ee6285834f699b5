// Tests for WWW-Authenticate parsing: the forms registries send, several challenges in one
// header, quoting and escapes, and malformed input refused rather than guessed at.
#include "registry/challenge.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

std::vector<AuthChallenge> MustParse(std::string_view header) {
  auto r = ParseChallenges(header);
  EXPECT_TRUE(r.has_value()) << header << ": " << r.error().message();
  return r.value_or(std::vector<AuthChallenge>{});
}

TEST(ChallengeTest, ParsesDockerHubBearer) {
  auto c = MustParse(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/busybox:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c[0].Param("service"), "registry.docker.io");
  EXPECT_EQ(c[0].Param("scope"), "repository:library/busybox:pull");
  EXPECT_EQ(c[0].Param("REALM"), "https://auth.docker.io/token");
  EXPECT_EQ(c[0].Param("missing"), "");
}

TEST(ChallengeTest, ParsesBasicAndTokenValues) {
  auto c = MustParse("Basic realm=Registry");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].Param("realm"), "Registry");
  c = MustParse("BASIC");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_TRUE(c[0].params.empty());
  c = MustParse("Negotiate abc123+/==");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].token68, "abc123+/==");
  c = MustParse("Bearer realm=");  // by the grammar a token68, not an empty parameter
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].token68, "realm=");
  EXPECT_EQ(c[0].Param("realm"), "");
}

TEST(ChallengeTest, HandlesQuotingEscapesAndWhitespace) {
  auto c = MustParse(
      R"(Bearer  realm = "a \"quoted\" realm, with comma" ,  service="s\\x" ,error="invalid_token")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].Param("realm"), "a \"quoted\" realm, with comma");
  EXPECT_EQ(c[0].Param("service"), "s\\x");
  EXPECT_EQ(c[0].Param("error"), "invalid_token");
}

TEST(ChallengeTest, SplitsSeveralChallenges) {
  auto c = MustParse(R"(Basic realm="basic", Bearer realm="https://t/token",service="svc", Newauth)");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].Param("realm"), "basic");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].Param("realm"), "https://t/token");
  EXPECT_EQ(c[1].Param("service"), "svc");
  EXPECT_EQ(c[2].scheme, "newauth");
}

TEST(ChallengeTest, RefusesMalformedHeaders) {
  for (std::string_view bad : {R"(Bearer realm="unterminated)", R"(Bearer realm=,service=x)",
                               R"(Bearer realm="a" service="b")", R"(Bearer realm="a",realm="b")", "",
                               "  ,  ", "=x", R"(Bearer realm="a\)", "Bearer realm=\"a\x01\""}) {
    auto r = ParseChallenges(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    }
  }
  std::string many = "Bearer ";
  for (int i = 0; i < 40; ++i) many += "p" + std::to_string(i) + "=v,";
  EXPECT_FALSE(ParseChallenges(many).has_value());
  EXPECT_FALSE(ParseChallenges("Bearer realm=\"" + std::string(20000, 'x') + "\"").has_value());
}

}  // namespace
}  // namespace sp
