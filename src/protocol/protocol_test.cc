// Every encoder/decoder pair: a round trip of a fully populated message, a
// newer protocol version refused with a clear error, and hostile input refused
// without a crash.
#include <gtest/gtest.h>

#include "protocol/fields.h"
#include "protocol/protocol_testing.h"

namespace sp::protocol {
namespace {

using namespace sp::protocol::testing;

// `encoded` with "v" replaced by `v`.
std::string WithVersion(const std::string& encoded, int v) {
  nlohmann::json j = nlohmann::json::parse(encoded);
  j["v"] = v;
  return j.dump();
}

template <typename Decode>
void ExpectNewerVersionRefused(const std::string& encoded, Decode decode) {
  auto newer = decode(WithVersion(encoded, kProtocolVersion + 1));
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code(), Code::kUnimplemented);
  EXPECT_NE(newer.error().message().find("protocol version " + std::to_string(kProtocolVersion + 1)), std::string::npos)
      << newer.error().message();
  EXPECT_NE(newer.error().message().find("reads version " + std::to_string(kProtocolVersion)), std::string::npos)
      << newer.error().message();
  EXPECT_TRUE(decode(WithVersion(encoded, kProtocolVersion))) << "the current version is read";
  nlohmann::json old = nlohmann::json::parse(encoded);
  old.erase("v");
  EXPECT_TRUE(decode(old.dump())) << "a message without \"v\" is version 1";
}

TEST(Protocol, EveryTopLevelMessageCarriesTheVersion) {
  for (const NamedMessage& m : AllSampleMessages()) {
    nlohmann::json j = nlohmann::json::parse(m.encoded);
    bool nested = m.name == "service-description" || m.name == "stop-result" || m.name == "image-list" ||
                  m.name == "image-description" || m.name == "prune-report";
    EXPECT_EQ(j.contains("v"), !nested) << m.name << " (results travel inside a versioned reply)";
    if (!nested) {
      EXPECT_EQ(j["v"], kProtocolVersion) << m.name;
    }
  }
}

TEST(DeployRequest, RoundTripsAndCarriesFilesAsBase64) {
  DeployRequest r = SampleDeployRequest();
  std::string wire = EncodeDeployRequest(r);
  EXPECT_TRUE(nlohmann::json::parse(wire)["files"].is_string());
  auto back = DecodeDeployRequest(wire);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, r);
  ExpectNewerVersionRefused(wire, DecodeDeployRequest);
}

TEST(DeployRequest, RefusesMalformedInput) {
  for (std::string bad : {"", "not json", "[1]", R"({"config": 7})", R"({"files": "!!notbase64"})",
                          R"({"name": ["x"]})", R"({"v": "one"})", R"({"v": 0})"}) {
    auto r = DecodeDeployRequest(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
  }
  auto r = DecodeDeployRequest(R"({"config": 7})");
  EXPECT_EQ(r.error().message(), "deploy request: \"config\" is not a string");
  EXPECT_TRUE(DecodeDeployRequest("{}")) << "every field is optional on the wire (the daemon validates the YAML)";
}

TEST(PullRequest, RoundTripsAndRequiresAReference) {
  std::string wire = EncodePullRequest(SamplePullRequest());
  auto back = DecodePullRequest(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, SamplePullRequest());
  ExpectNewerVersionRefused(wire, DecodePullRequest);
  auto missing = DecodePullRequest("{}");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "pull request: missing \"reference\"");
}

TEST(EmptyRequest, AcceptsNothingOrAnObjectOfAReadableVersion) {
  EXPECT_TRUE(DecodeEmptyRequest("", "restart request").ok());
  EXPECT_TRUE(DecodeEmptyRequest("{}", "restart request").ok());
  EXPECT_TRUE(DecodeEmptyRequest(EncodeEmptyRequest(), "restart request").ok());
  EXPECT_EQ(DecodeEmptyRequest("garbage", "restart request").code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodeEmptyRequest(R"({"v": 2})", "restart request").code(), Code::kUnimplemented);
}

// The round trip of results and errors is envelope_test.cc's.
TEST(Reply, RefusesNewerVersionsAndWhatIsNotAnEnvelope) {
  auto newer = DecodeReply(WithVersion(EncodeReply(nlohmann::json::object()), kProtocolVersion + 1));
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code(), Code::kUnimplemented);
  for (std::string g : {"", "garbage", "[]", R"({"ok": "yes"})"}) {
    auto r = DecodeReply(g);
    ASSERT_FALSE(r) << g;
    EXPECT_EQ(r.error().code(), Code::kInternal) << g;
  }
}

TEST(Reply, InvalidUtf8InAnErrorIsReplacedNotThrown) {
  std::string wire = EncodeReply(Status::InvalidArgument(std::string("bad \xff name")));
  auto r = DecodeReply(wire);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(VersionError, NamesTheReader) {
  SetReaderName("this spawnctl");
  Status st = CheckVersion(nlohmann::json{{"v", 9}}, "the daemon's reply");
  SetReaderName("this program");
  EXPECT_EQ(st.message(),
            "the daemon's reply uses protocol version 9; this spawnctl reads version 1 (upgrade it to talk to that peer)");
}

TEST(ServiceDescription, RoundTrips) {
  ServiceDescription d = SampleServiceDescription();
  auto back = DecodeServiceDescription(ToJson(d));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, d);
}

TEST(ServiceDescription, OptionalPartsStayAbsent) {
  ServiceDescription d;
  d.name = "onhost";
  nlohmann::json j = ToJson(d);
  EXPECT_TRUE(j["lastExit"].is_null());
  EXPECT_FALSE(j.contains("events"));
  EXPECT_FALSE(j.contains("nextStartAt"));
  EXPECT_EQ(j["image"], (nlohmann::json{{"reference", "host"}}));
  auto back = DecodeServiceDescription(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, d);
  d.events = std::vector<ServiceEvent>{};  // inspect of a service without events: an empty list, kept
  back = DecodeServiceDescription(ToJson(d));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, d);
}

TEST(ServiceDescription, RefusesWrongTypesNamingTheField) {
  nlohmann::json j = ToJson(SampleServiceDescription());
  j["ports"][1]["hostPort"] = "8080";
  auto r = DecodeServiceDescription(j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "service description: an item of \"ports\": \"hostPort\" is not an integer");
  j = ToJson(SampleServiceDescription());
  j["lastExit"] = "yesterday";
  EXPECT_FALSE(DecodeServiceDescription(j));
  EXPECT_FALSE(DecodeServiceDescription(nlohmann::json::array()));
}

TEST(StopResult, RoundTrips) {
  auto back = DecodeStopResult(ToJson(SampleStopResult()));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, SampleStopResult());
}

TEST(Images, ListDescriptionAndPruneReportRoundTrip) {
  auto list = DecodeImageList(ToJson(SampleImageList()));
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, SampleImageList());
  auto one = DecodeImageDescription(ToJson(SampleImageDescription()));
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, SampleImageDescription());
  auto pruned = DecodePruneReport(ToJson(SamplePruneReport()));
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, SamplePruneReport());
  nlohmann::json bad = ToJson(SampleImageList());
  bad["images"][0]["usedBy"] = {1, 2};
  EXPECT_FALSE(DecodeImageList(bad));
}

TEST(Heartbeats, RoundTripAndRefuseNewerVersions) {
  std::string d = EncodeDaemonHeartbeat(SampleDaemonHeartbeat());
  auto daemon = DecodeDaemonHeartbeat(d);
  ASSERT_TRUE(daemon) << daemon.error().ToString();
  EXPECT_EQ(*daemon, SampleDaemonHeartbeat());
  ExpectNewerVersionRefused(d, DecodeDaemonHeartbeat);
  std::string s = EncodeServiceHeartbeat(SampleServiceHeartbeat());
  auto service = DecodeServiceHeartbeat(s);
  ASSERT_TRUE(service) << service.error().ToString();
  EXPECT_EQ(*service, SampleServiceHeartbeat());
  ExpectNewerVersionRefused(s, DecodeServiceHeartbeat);
  auto odd = DecodeServiceHeartbeat(R"({"timeMs": "soon", "cpuShares": [1], "memory": 1e300, "state": "running"})");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->time_ms, 0);
  EXPECT_EQ(odd->memory_mib, 0) << "a float is not an integer";
  EXPECT_EQ(odd->state, "running");
  EXPECT_FALSE(DecodeDaemonHeartbeat("[1,2]"));
  EXPECT_EQ(nlohmann::json::parse(d)["kind"], "daemon");
  EXPECT_EQ(nlohmann::json::parse(s)["kind"], "service");
}

TEST(LogMessage, RoundTripsAndReplacesInvalidUtf8) {
  std::string wire = EncodeLogMessage(SampleLogMessage());
  auto back = DecodeLogMessage(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, SampleLogMessage());
  ExpectNewerVersionRefused(wire, DecodeLogMessage);
  auto bytes = DecodeLogMessage(EncodeLogMessage({"s", {{"t", "stdout", std::string("bad \xff\xfe bytes")}}}));
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->entries[0].text.substr(0, 4), "bad ");
  EXPECT_FALSE(DecodeLogMessage(R"({"service": "s"})")) << "entries are required";
  auto lenient = DecodeLogMessage(R"({"service": "s", "entries": [{"text": "a"}, 7, {"text": 8}, {"text": "b"}]})");
  ASSERT_TRUE(lenient) << "published messages are read leniently";
  ASSERT_EQ(lenient->entries.size(), 3u) << "the item that is not an object is skipped";
  EXPECT_EQ(lenient->entries[1].text, "") << "a field of the wrong type keeps its default";
}

TEST(Progress, RoundTripsAndRefusesNewerVersions) {
  std::string wire = EncodeProgress(SampleProgress());
  auto back = ParseProgress(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, SampleProgress());
  ExpectNewerVersionRefused(wire, ParseProgress);
}

TEST(FieldReader, HugeListsAreRefused) {
  nlohmann::json j = {{"images", nlohmann::json::array()}};
  for (size_t i = 0; i <= kMaxListItems; ++i) j["images"].push_back("x");
  EXPECT_FALSE(DecodePruneReport(j));
}

}  // namespace
}  // namespace sp::protocol
