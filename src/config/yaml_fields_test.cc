// Tests of the strict YAML loader and FieldReader: values, defaults, and the located error of each
// kind of mistake (the message text is the user interface, so it is asserted).
#include "config/yaml_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sp {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

YAML::Node Load(std::string_view text) {
  Result<YAML::Node> node = LoadYamlDocument(text, "t.yaml");
  EXPECT_TRUE(node) << node.error().ToString();
  return node ? *node : YAML::Node();
}

std::string LoadError(std::string_view text) {
  Result<YAML::Node> node = LoadYamlDocument(text, "t.yaml");
  EXPECT_FALSE(node);
  return node ? "" : node.error().message();
}

TEST(LoadYamlDocument, EmptyTextIsNull) { EXPECT_TRUE(Load("").IsNull()); }

TEST(LoadYamlDocument, MalformedYamlNamesLineAndColumn) {
  EXPECT_EQ(LoadError("a: 1\nb: [1, 2\nc: 3\n"), "t.yaml:3:2: invalid YAML: end of sequence flow not found");
  EXPECT_THAT(LoadError("a: b\n- c\n"), StartsWith("t.yaml:2:1: invalid YAML:"));
}

TEST(LoadYamlDocument, RefusesAliases) {
  EXPECT_THAT(LoadError("a: &x [1, 2]\nb: *x\n"),
              StartsWith("t.yaml:2:4: aliases (*name) are not supported"));
  // The classic "billion laughs" shape is refused at its first alias, before anything expands.
  EXPECT_THAT(LoadError("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"), StartsWith("t.yaml:2:8: aliases"));
}

TEST(LoadYamlDocument, RefusesSecondDocument) {
  EXPECT_THAT(LoadError("a: 1\n---\nb: 2\n"), HasSubstr("more than one YAML document"));
}

TEST(LoadYamlDocument, RefusesOversizedInput) {
  std::string big(kMaxConfigBytes + 1, '#');
  EXPECT_THAT(LoadError(big), HasSubstr("larger than the limit of 1048576 bytes"));
  std::string fits(kMaxConfigBytes, '#');
  EXPECT_TRUE(LoadYamlDocument(fits, "t.yaml"));
}

TEST(LoadYamlDocument, RefusesNodeFloods) {
  std::string flood = "a: [";
  for (size_t i = 0; i <= kMaxYamlNodes; ++i) flood += "1,";
  flood += "1]";
  EXPECT_THAT(LoadError(flood), HasSubstr("more than 100000 YAML values"));
}

TEST(LoadYamlDocument, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_THAT(LoadError(deep), StartsWith("t.yaml:"));
}

TEST(QuoteForMessage, EscapesAndShortens) {
  EXPECT_EQ(QuoteForMessage("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\x01\"");
  // Valid UTF-8 is kept; stray bytes are escaped so the message stays valid UTF-8.
  EXPECT_EQ(QuoteForMessage("caf\xc3\xa9 \xff\xc3"), "\"caf\xc3\xa9 \\xff\\xc3\"");
  EXPECT_EQ(QuoteForMessage("\xf0\x9f\x98\x80|\xf5\x80\x80|\xed\xa0\x80|\xe0\x80\x80"),
            "\"\xf0\x9f\x98\x80|\\xf5\\x80\\x80|\\xed\\xa0\\x80|\\xe0\\x80\\x80\"");
  std::string long_text(200, 'x');
  EXPECT_EQ(QuoteForMessage(long_text), "\"" + std::string(80, 'x') + "...\"");
}

TEST(FieldReader, ReadsEveryKind) {
  YAML::Node node = Load(
      "s: hello\n"
      "i: -42\n"
      "b: yes\n"
      "d: 1m30s\n"
      "secs: 7\n"
      "l: [a, 2, 'c d']\n"
      "m: {X: 1, Y: true, Z: text}\n"
      "child: {k: v}\n"
      "p: 12\n"
      "pl: [1, 2]\n");
  FieldReader r(node, "t.yaml");
  EXPECT_EQ(r.String("s", Need::kRequired), "hello");
  EXPECT_EQ(r.Int("i", Need::kRequired, 0), -42);
  EXPECT_TRUE(r.Bool("b", false));
  EXPECT_EQ(r.Duration("d", Need::kRequired, Millis(0)), Millis(90000));
  EXPECT_EQ(r.Duration("secs", Need::kRequired, Millis(0)), Millis(7000));
  EXPECT_EQ(r.StringList("l", Need::kRequired), (std::vector<std::string>{"a", "2", "c d"}));
  std::map<std::string, std::string> want = {{"X", "1"}, {"Y", "true"}, {"Z", "text"}};
  EXPECT_EQ(r.StringMap("m", Need::kRequired), want);
  EXPECT_EQ(r.Child("child", Need::kRequired).String("k", Need::kRequired), "v");
  auto twice = [](const std::string& t) -> Result<int> { return 2 * std::stoi(t); };
  EXPECT_EQ(r.Parsed<int>("p", Need::kRequired, 0, twice), 24);
  EXPECT_EQ(r.List<int>("pl", Need::kRequired, twice), (std::vector<int>{2, 4}));
  EXPECT_TRUE(r.Finish().ok()) << r.Finish().ToString();
}

TEST(FieldReader, AbsentAndNullOptionalKeysGiveDefaults) {
  YAML::Node node = Load("s:\nn: ~\n");
  FieldReader r(node, "t.yaml");
  EXPECT_EQ(r.String("s", Need::kOptional, "def"), "def");
  EXPECT_EQ(r.Int("n", Need::kOptional, 5), 5);
  EXPECT_EQ(r.Int("absent", Need::kOptional, 6), 6);
  EXPECT_FALSE(r.Bool("absent2", false));
  EXPECT_TRUE(r.Bool("absent3", true));
  EXPECT_TRUE(r.StringList("absent4", Need::kOptional).empty());
  EXPECT_FALSE(r.Has("s"));
  EXPECT_TRUE(r.Finish().ok());
}

TEST(FieldReader, EmptyDocumentReadsAsEmptyMapping) {
  FieldReader r(Load(""), "t.yaml");
  r.String("a", Need::kOptional);
  EXPECT_TRUE(r.Finish().ok());
}

Status ReadOneInt(std::string_view text, IntRange range = {}) {
  FieldReader r(Load(text), "t.yaml");
  r.Int("memory", Need::kRequired, 0, range);
  r.Int("other", Need::kOptional, 0);
  return r.Finish();
}

TEST(FieldReader, IntErrorsNameFileLineKeyAndValue) {
  IntRange mib{.min = 16, .unit = "MiB"};
  EXPECT_EQ(ReadOneInt("other: 1\nmemory: lots\n", mib).message(),
            "t.yaml:2:9: key \"memory\": expected an integer >= 16 (MiB), got \"lots\"");
  EXPECT_EQ(ReadOneInt("memory: 8\n", mib).message(),
            "t.yaml:1:9: key \"memory\": expected an integer >= 16 (MiB), got \"8\"");
  EXPECT_EQ(ReadOneInt("memory: \"512\"\n", mib).message(),
            "t.yaml:1:9: key \"memory\": expected an integer >= 16 (MiB), got the quoted string \"512\" "
            "(remove the "
            "quotes)");
  EXPECT_THAT(ReadOneInt("memory: [1]\n").message(), HasSubstr("expected an integer, got a list"));
  EXPECT_THAT(ReadOneInt("memory: 1.5\n").message(), HasSubstr("got \"1.5\""));
  EXPECT_THAT(ReadOneInt("memory: 99999999999999999999\n").message(), HasSubstr("expected an integer"));
  EXPECT_THAT(ReadOneInt("memory: 5\n", {1, 3}).message(), HasSubstr("expected an integer from 1 to 3"));
  EXPECT_THAT(ReadOneInt("memory: 5\n", {.max = 3}).message(), HasSubstr("expected an integer <= 3"));
  EXPECT_TRUE(ReadOneInt("memory: +5\n").ok());
  EXPECT_TRUE(ReadOneInt("memory: !!int 5\n").ok());
}

TEST(FieldReader, MissingRequiredKeyIsNamed) {
  EXPECT_EQ(ReadOneInt("other: 1\n").message(), "t.yaml: missing required key \"memory\"");
  EXPECT_EQ(ReadOneInt("memory:\n").message(), "t.yaml:1:1: key \"memory\": missing value");
  FieldReader r(Load("a: 1\n"), "t.yaml");
  r.String({"entity", "bw2Entity"}, Need::kRequired);
  r.Int("a", Need::kOptional, 0);
  EXPECT_EQ(r.Finish().message(),
            "t.yaml: missing required key \"entity\" (or its older spelling \"bw2Entity\")");
}

TEST(FieldReader, UnknownKeyGetsLineAndHint) {
  FieldReader r(Load("cpuShares: 2\nmemroy: 512\n"), "t.yaml");
  r.Int("cpuShares", Need::kRequired, 0);
  r.Int("memory", Need::kRequired, 0);
  // The misspelling explains the missing key, so it is reported first.
  EXPECT_EQ(r.Finish().message(), "t.yaml:2:1: unknown key \"memroy\" (did you mean \"memory\"?)");

  FieldReader r2(Load("a: 1\nCPUSHARES: 2\n"), "t.yaml");
  r2.Int("a", Need::kRequired, 0);
  r2.Int("cpuShares", Need::kOptional, 0);
  EXPECT_EQ(r2.Finish().message(), "t.yaml:2:1: unknown key \"CPUSHARES\" (did you mean \"cpuShares\"?)");

  FieldReader r3(Load("a: 1\nzzz: 2\n"), "t.yaml");
  r3.Int("a", Need::kRequired, 0);
  r3.Int("b", Need::kOptional, 0);
  EXPECT_EQ(r3.Finish().message(), "t.yaml:2:1: unknown key \"zzz\" (known keys: a, b)");
}

TEST(FieldReader, UnknownKeyInChild) {
  FieldReader r(Load("policy:\n  delay: 1s\n  dleay: 2s\n"), "t.yaml");
  FieldReader& child = r.Child("policy", Need::kOptional);
  child.Duration("delay", Need::kOptional, Millis(0));
  EXPECT_EQ(r.Finish().message(),
            "t.yaml:3:3: unknown key \"policy.dleay\" (did you mean \"policy.delay\"?)");
}

TEST(FieldReader, ChildMustBeAMapping) {
  FieldReader r(Load("policy: 5\n"), "t.yaml");
  r.Child("policy", Need::kOptional).Duration("delay", Need::kOptional, Millis(0));
  EXPECT_EQ(r.Finish().message(),
            "t.yaml:1:9: key \"policy\": expected a mapping of \"key: value\" lines, got \"5\"");
}

TEST(FieldReader, TopLevelMustBeAMapping) {
  FieldReader r(Load("- a\n- b\n"), "t.yaml");
  EXPECT_EQ(r.Finish().message(), "t.yaml:1:1: expected a mapping of \"key: value\" lines, got a list");
}

TEST(FieldReader, DuplicateKeyIsAnError) {
  FieldReader r(Load("a: 1\nb: 2\na: 3\n"), "t.yaml");
  r.Int("a", Need::kRequired, 0);
  r.Int("b", Need::kRequired, 0);
  EXPECT_EQ(r.Finish().message(), "t.yaml:3:1: key \"a\": given twice (first at line 1)");
}

TEST(FieldReader, KeyAndSeedAliasTogetherIsAnError) {
  FieldReader r(Load("entity: a.creds\nbw2Entity: b.ent\n"), "t.yaml");
  EXPECT_EQ(r.String({"entity", "bw2Entity"}, Need::kOptional), "a.creds");
  EXPECT_EQ(
      r.Finish().message(),
      "t.yaml:2:1: key \"bw2Entity\": \"entity\" is given too (line 1); they mean the same, keep only one");
}

TEST(FieldReader, SeedAliasAloneIsAccepted) {
  FieldReader r(Load("bw2Entity: b.ent\n"), "t.yaml");
  EXPECT_EQ(r.String({"entity", "bw2Entity"}, Need::kRequired), "b.ent");
  EXPECT_TRUE(r.Finish().ok());
}

TEST(FieldReader, WrongTypes) {
  FieldReader r(Load("s: [a]\n"), "t.yaml");
  r.String("s", Need::kRequired);
  EXPECT_EQ(r.Finish().message(), "t.yaml:1:4: key \"s\": expected a string, got a list");

  FieldReader r2(Load("l: abc\n"), "t.yaml");
  r2.StringList("l", Need::kRequired);
  EXPECT_EQ(r2.Finish().message(),
            "t.yaml:1:4: key \"l\": expected a list ([a, b] or lines starting with \"- \"), got \"abc\"");

  FieldReader r3(Load("l:\n  - a\n  - [b]\n"), "t.yaml");
  r3.StringList("l", Need::kRequired);
  EXPECT_EQ(r3.Finish().message(), "t.yaml:3:5: key \"l\" item 2: expected a single value, got a list");

  FieldReader r4(Load("b: maybe\n"), "t.yaml");
  r4.Bool("b", false);
  EXPECT_EQ(r4.Finish().message(), "t.yaml:1:4: key \"b\": expected true or false, got \"maybe\"");

  FieldReader r5(Load("b: \"true\"\n"), "t.yaml");
  r5.Bool("b", false);
  EXPECT_THAT(r5.Finish().message(), HasSubstr("got the quoted string \"true\" (remove the quotes)"));

  FieldReader r6(Load("m: [a]\n"), "t.yaml");
  r6.StringMap("m", Need::kRequired);
  EXPECT_THAT(r6.Finish().message(),
              HasSubstr("key \"m\": expected a mapping of \"NAME: value\" lines, got a list"));

  FieldReader r7(Load("m:\n  A: [1]\n"), "t.yaml");
  r7.StringMap("m", Need::kRequired);
  EXPECT_THAT(r7.Finish().message(), StartsWith("t.yaml:2:6: key \"m.A\": expected a value"));
}

TEST(FieldReader, DurationErrors) {
  FieldReader r(Load("d: soon\n"), "t.yaml");
  r.Duration("d", Need::kRequired, Millis(0));
  EXPECT_EQ(r.Finish().message(),
            "t.yaml:1:4: key \"d\": expected a duration such as 500ms, 10s, 2m or 1h30m (a bare number is "
            "seconds), "
            "got \"soon\"");
  FieldReader r2(Load("d: 50ms\n"), "t.yaml");
  r2.Duration("d", Need::kRequired, Millis(0), Millis(100));
  EXPECT_THAT(r2.Finish().message(), HasSubstr("of at least 100ms, got \"50ms\""));
}

TEST(FieldReader, NulCharactersAreRefused) {
  FieldReader r(Load("s: \"a\\0b\"\n"), "t.yaml");
  r.String("s", Need::kRequired);
  EXPECT_THAT(r.Finish().message(), HasSubstr("expected text without NUL characters"));
}

TEST(FieldReader, ParserErrorsAreLocated) {
  FieldReader r(Load("l:\n  - ok\n  - bad\n"), "t.yaml");
  auto check = [](const std::string& t) -> Result<std::string> {
    if (t == "bad") return Err(ExpectedGot("ok", t));
    return t;
  };
  r.List<std::string>("l", Need::kRequired, check);
  EXPECT_EQ(r.Finish().message(), "t.yaml:3:5: key \"l\" item 2: expected ok, got \"bad\"");
}

TEST(FieldReader, FirstErrorWinsAndFailIsLocated) {
  FieldReader r(Load("a: x\nb: y\n"), "t.yaml");
  r.Int("a", Need::kRequired, 0);
  r.Int("b", Need::kRequired, 0);
  r.Fail("b", "ignored: an error is already recorded");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.Finish().message(), StartsWith("t.yaml:1:4: key \"a\""));

  FieldReader r2(Load("a: 1\nb: 2\n"), "t.yaml");
  r2.Int("a", Need::kRequired, 0);
  r2.Int("b", Need::kRequired, 0);
  r2.Fail("b", "must be less than a");
  EXPECT_EQ(r2.Finish().message(), "t.yaml:2:4: key \"b\": must be less than a");
}

TEST(FieldReader, KeysReadAfterAnErrorAreStillKnown) {
  FieldReader r(Load("a: x\nb: 1\n"), "t.yaml");
  r.Int("a", Need::kRequired, 0);
  r.Int("b", Need::kRequired, 0);
  // The error is about "a"; "b" must not be reported as unknown.
  EXPECT_THAT(r.Finish().message(), HasSubstr("key \"a\""));
}

}  // namespace
}  // namespace sp
