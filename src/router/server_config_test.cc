// The nats-server config text, checked by nats-server itself (`-t`).
#include "router/server_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "auth/namespace.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

TEST(ServerConfigTest, QuotesEscapeSpecialCharacters) {
  EXPECT_EQ(QuoteConfigString("/a b/#c"), "\"/a b/#c\"");
  EXPECT_EQ(QuoteConfigString("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(QuoteConfigString(std::string("\x01", 1)), "\"\\u0001\"");
}

TEST(ServerConfigTest, RendersEveryField) {
  std::string text = RenderServerConfig({.server_name = "spawnpoint",
                                         .listen = {"127.0.0.1", 4222},
                                         .max_payload = 8 << 20,
                                         .store_dir = "/s",
                                         .pid_file = "/p",
                                         .log_file = "/l",
                                         .auth = "AUTH\n"});
  for (const char* want : {"server_name: \"spawnpoint\"\n", "listen: \"127.0.0.1:4222\"\n",
                           "max_payload: 8388608\n", "pid_file: \"/p\"\n", "log_file: \"/l\"\n",
                           "store_dir: \"/s\"\n", "debug: false\n", "trace: false\n", "AUTH\n"})
    EXPECT_NE(text.find(want), std::string::npos) << want;
}

TEST(ServerConfigTest, NatsServerAcceptsTheConfig) {
  char dir_template[] = "/tmp/sp-conf-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  std::string odd = JoinPath(dir, "with space #x");  // exercises quoting
  ASSERT_TRUE(MakeDirs(odd).ok());
  auto ns = LoadOrCreateNamespace(JoinPath(dir, "auth"));
  ASSERT_TRUE(ns);
  std::string conf = JoinPath(odd, "nats.conf");
  ASSERT_TRUE(WriteFileAtomic(conf, RenderServerConfig({.server_name = "spawnpoint",
                                                        .listen = {"127.0.0.1", 4222},
                                                        .max_payload = 8 << 20,
                                                        .store_dir = odd,
                                                        .pid_file = JoinPath(odd, "pid"),
                                                        .log_file = JoinPath(odd, "log"),
                                                        .auth = RouterAuthConfig(*ns)}))
                  .ok());
  auto checked = RunCommand({"nats-server", "-t", "-c", conf});
  ASSERT_TRUE(checked);
  EXPECT_EQ(checked->exit_code, 0) << checked->out << checked->err;
  ASSERT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace sp
