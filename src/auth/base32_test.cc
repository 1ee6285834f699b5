// Known-answer tests for base32, base64url and CRC16-XMODEM.
#include "auth/base32.h"

#include <gtest/gtest.h>

#include "auth/base64url.h"
#include "auth/crc16.h"

namespace sp {
namespace {

TEST(Base32Test, Rfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base32Encode(plain), encoded);
    auto decoded = Base32Decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base32Test, RejectsBadInput) {
  EXPECT_FALSE(Base32Decode("MZXW6==="));  // padding
  EXPECT_FALSE(Base32Decode("mzxw6"));     // lower case
  EXPECT_FALSE(Base32Decode("MZXW1"));     // '1' is not in the alphabet
  EXPECT_FALSE(Base32Decode("M"));         // impossible length
  EXPECT_FALSE(Base32Decode("MZ"));        // trailing bits not zero ("MY" is "f")
}

TEST(Base32Test, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    auto decoded = Base32Decode(Base32Encode(all.substr(0, n)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, all.substr(0, n));
  }
}

TEST(Base64UrlTest, Rfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64UrlTest, UsesUrlAlphabetAndRejectsBadInput) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("+/8"));    // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zg=="));   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));  // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh"));     // trailing bits not zero
}

TEST(Crc16Test, XmodemCheckValue) {
  EXPECT_EQ(Crc16Xmodem("123456789"), 0x31C3);
  EXPECT_EQ(Crc16Xmodem(""), 0);
}

}  // namespace
}  // namespace sp
