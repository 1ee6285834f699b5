#include "util/base64.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const char* pairs[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto& p : pairs) {
    EXPECT_EQ(EncodeBase64(p[0]), p[1]);
    EXPECT_EQ(*DecodeBase64(p[1]), p[0]);
  }
}

TEST(Base64, BinaryRoundTripAndGarbage) {
  std::string bin;
  for (int i = 0; i < 256; ++i) bin += static_cast<char>(i);
  EXPECT_EQ(*DecodeBase64(EncodeBase64(bin)), bin);
  for (const char* bad : {"Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg="}) EXPECT_FALSE(DecodeBase64(bad)) << bad;
}

}  // namespace
}  // namespace sp
