// The wording of strict YAML errors: located errors, node descriptions, escaping and the
// "did you mean" hint.
#include "config/yaml_messages.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(YamlMessages, ErrorAtNamesFileLineAndColumn) {
  YAML::Node node = YAML::Load("a: 1\nbb: [x, y]\n");
  Status s = ErrorAt("deploy.yaml", node["bb"].Mark(), "expected a string");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "deploy.yaml:2:5: expected a string");
  EXPECT_EQ(ErrorAt("deploy.yaml", YAML::Mark::null_mark(), "too big").message(), "deploy.yaml: too big");
}

TEST(YamlMessages, DescribeNodeByKind) {
  YAML::Node node = YAML::Load("list: [1]\nmap: {a: 1}\ntext: hi\n");
  EXPECT_EQ(DescribeNode(node["list"]), "a list");
  EXPECT_EQ(DescribeNode(node["map"]), "a mapping");
  EXPECT_EQ(DescribeNode(node["text"]), "\"hi\"");
  EXPECT_EQ(DescribeNode(YAML::Node()), "nothing");
}

TEST(YamlMessages, EscapeKeepsOneLineOfUtf8) {
  EXPECT_EQ(EscapeForMessage("a\nb\tc\x01", false), "a\\nb\\tc\\x01");
  EXPECT_EQ(EscapeForMessage("caf\xc3\xa9 \xff", false), "caf\xc3\xa9 \\xff");
  EXPECT_EQ(EscapeForMessage("say \"hi\\\"", false), "say \"hi\\\"");
  EXPECT_EQ(EscapeForMessage("say \"hi\\\"", true), "say \\\"hi\\\\\\\"");
}

TEST(YamlMessages, ExpectedGotQuotesTheText) {
  Status s = ExpectedGot("an integer", "lots");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "expected an integer, got \"lots\"");
}

TEST(YamlMessages, ClosestKeySuggestsLikelyTypos) {
  std::set<std::string> known = {"memory", "cpuShares", "enableHostNetwork", "image"};
  EXPECT_EQ(ClosestKey("memroy", known), "memory");
  EXPECT_EQ(ClosestKey("CPUshares", known), "cpuShares");
  EXPECT_EQ(ClosestKey("enableHostNetwrk", known), "enableHostNetwork");
  EXPECT_EQ(ClosestKey("volumes", known), std::nullopt);
  EXPECT_EQ(ClosestKey(std::string(100, 'm'), known), std::nullopt);
}

}  // namespace
}  // namespace sp
