// Keeps docs/protocol.md honest. Each message the protocol defines has an
// example in the document: a ```json block right after a line
// `<!-- message: NAME -->`. For every message, the fields of the example and
// the fields the encoder writes (for a fully populated sample) must be the same
// set: every documented field exists, every encoded field is documented. The
// examples must also decode.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "protocol/protocol_testing.h"
#include "util/fs.h"

namespace sp::protocol {
namespace {

using namespace sp::protocol::testing;

std::string DocPath() {
  std::string here = __FILE__;  // "<repository>/src/protocol/protocol_docs_test.cc"
  return here.substr(0, here.rfind("src/protocol/")) + "docs/protocol.md";
}

// NAME -> the JSON text of its example.
std::map<std::string, std::string> Examples(const std::string& markdown) {
  std::map<std::string, std::string> out;
  const std::string marker = "<!-- message: ", open = "```json\n", close = "```";
  for (size_t at = markdown.find(marker); at != std::string::npos; at = markdown.find(marker, at + 1)) {
    size_t name_end = markdown.find(" -->", at);
    size_t block = markdown.find(open, name_end);
    if (name_end == std::string::npos || block == std::string::npos) break;
    size_t start = block + open.size();
    out[markdown.substr(at + marker.size(), name_end - at - marker.size())] =
        markdown.substr(start, markdown.find(close, start) - start);
  }
  return out;
}

// Every field path: "a", "a.b", "list[]", "list[].b".
void Paths(const nlohmann::json& j, const std::string& prefix, std::set<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      std::string p = prefix.empty() ? k : prefix + "." + k;
      out.insert(p);
      Paths(v, p, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) Paths(v, prefix + "[]", out);
  }
}

std::set<std::string> PathsOf(const std::string& text) {
  std::set<std::string> out;
  Paths(nlohmann::json::parse(text), "", out);
  return out;
}

TEST(ProtocolDocs, EveryMessageIsDocumentedFieldForField) {
  auto doc = ReadFile(DocPath());
  ASSERT_TRUE(doc) << doc.error().ToString();
  std::map<std::string, std::string> examples = Examples(*doc);
  std::set<std::string> names;
  for (const NamedMessage& m : AllSampleMessages()) {
    names.insert(m.name);
    auto it = examples.find(m.name);
    ASSERT_NE(it, examples.end()) << "docs/protocol.md has no example of " << m.name;
    nlohmann::json example = nlohmann::json::parse(it->second, nullptr, false);
    ASSERT_FALSE(example.is_discarded()) << m.name << ": the example is not JSON:\n" << it->second;
    std::set<std::string> documented = PathsOf(it->second), encoded = PathsOf(m.encoded);
    for (const std::string& p : encoded) EXPECT_TRUE(documented.count(p)) << m.name << ": \"" << p << "\" is not documented";
    for (const std::string& p : documented) EXPECT_TRUE(encoded.count(p)) << m.name << ": \"" << p << "\" is documented but not sent";
  }
  for (const auto& [name, text] : examples) EXPECT_TRUE(names.count(name)) << "an example of an unknown message: " << name;
}

TEST(ProtocolDocs, EveryExampleDecodes) {
  auto doc = ReadFile(DocPath());
  ASSERT_TRUE(doc);
  std::map<std::string, std::string> ex = Examples(*doc);
  auto json = [&](const char* name) { return nlohmann::json::parse(ex[name]); };
  EXPECT_TRUE(DecodeDeployRequest(ex["deploy-request"]));
  EXPECT_TRUE(DecodePullRequest(ex["pull-request"]));
  EXPECT_TRUE(DecodeEmptyRequest(ex["empty-request"], "request").ok());
  EXPECT_TRUE(DecodeReply(ex["reply-ok"]));
  EXPECT_EQ(DecodeReply(ex["reply-error"]).error().code(), Code::kResourceExhausted);
  EXPECT_TRUE(DecodeServiceDescription(json("service-description")));
  EXPECT_TRUE(DecodeStopResult(json("stop-result")));
  EXPECT_TRUE(DecodeImageList(json("image-list")));
  EXPECT_TRUE(DecodeImageDescription(json("image-description")));
  EXPECT_TRUE(DecodePruneReport(json("prune-report")));
  EXPECT_TRUE(DecodeDaemonHeartbeat(ex["daemon-heartbeat"]));
  EXPECT_TRUE(DecodeServiceHeartbeat(ex["service-heartbeat"]));
  EXPECT_TRUE(DecodeLogMessage(ex["log-message"]));
  EXPECT_TRUE(ParseProgress(ex["progress"]));
}

}  // namespace
}  // namespace sp::protocol
