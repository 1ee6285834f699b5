// Keeps docs/configuration.md honest: every ```yaml example in it must parse with the parser it
// documents (a block with "path:" is a daemon configuration, any other a deploy.yaml).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/daemon_config.h"
#include "config/service_config.h"
#include "util/fs.h"

namespace sp {
namespace {

std::string DocPath() {
  std::string here = __FILE__;  // "<repository>/src/config/config_docs_test.cc", absolute under CMake
  return here.substr(0, here.rfind("src/config/")) + "docs/configuration.md";
}

std::vector<std::string> YamlBlocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  const std::string open = "```yaml\n", close = "```";
  for (size_t at = markdown.find(open); at != std::string::npos; at = markdown.find(open, at)) {
    size_t start = at + open.size();
    size_t end = markdown.find(close, start);
    if (end == std::string::npos) break;
    blocks.push_back(markdown.substr(start, end - start));
    at = end + close.size();
  }
  return blocks;
}

TEST(ConfigDocs, EveryYamlExampleParses) {
  Result<std::string> doc = ReadFile(DocPath());
  ASSERT_TRUE(doc) << doc.error().ToString();
  std::vector<std::string> blocks = YamlBlocks(*doc);
  int daemon_examples = 0, service_examples = 0;
  for (const std::string& block : blocks) {
    if (block.find("\npath:") != std::string::npos || block.rfind("path:", 0) == 0) {
      Result<DaemonConfig> c = ParseDaemonConfig(block, "configuration.md");
      EXPECT_TRUE(c) << c.error().ToString() << "\n" << block;
      ++daemon_examples;
    } else {
      Result<ServiceConfig> c = ParseServiceConfig(block, "configuration.md", "example");
      EXPECT_TRUE(c) << c.error().ToString() << "\n" << block;
      ++service_examples;
    }
  }
  EXPECT_GE(daemon_examples, 2);
  EXPECT_GE(service_examples, 2);
}

}  // namespace
}  // namespace sp
