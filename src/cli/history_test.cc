#include "cli/history.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "util/fs.h"

namespace sp::cli {
namespace {

TEST(History, LastDeployPerDirectory) {
  char tmpl[] = "/tmp/sp-hist-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/hist";
  EXPECT_FALSE(LastDeployIn(path, "/a")->has_value());
  ASSERT_TRUE(AppendHistory(path, "/a", {"deploy", "-c", "a.yaml"}).ok());
  ASSERT_TRUE(AppendHistory(path, "/b", {"deploy", "-c", "b.yaml"}).ok());
  ASSERT_TRUE(AppendHistory(path, "/a", {"deploy", "-c", "a2.yaml", "-n", "x y"}).ok());
  auto last = LastDeployIn(path, "/a");
  ASSERT_TRUE(last && last->has_value());
  EXPECT_EQ(**last, (std::vector<std::string>{"deploy", "-c", "a2.yaml", "-n", "x y"}));
  EXPECT_EQ(ShellJoin(**last), "deploy -c a2.yaml -n 'x y'");
  EXPECT_EQ((*LastDeployIn(path, "/b"))->at(2), "b.yaml");
  EXPECT_FALSE(LastDeployIn(path, "/c")->has_value());
  (void)RemoveAll(dir);
}

TEST(History, CapsEntriesAndSkipsCorruptLines) {
  char tmpl[] = "/tmp/sp-hist-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/hist";
  ASSERT_TRUE(WriteFileAtomic(path, "garbage\n{\"dir\":\"/a\",\"argv\":7}\n").ok());
  EXPECT_FALSE(LastDeployIn(path, "/a")->has_value());
  for (int i = 0; i < 600; ++i) ASSERT_TRUE(AppendHistory(path, "/d", {"deploy", std::to_string(i)}).ok());
  std::string text = *ReadFile(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 500);
  EXPECT_EQ((*LastDeployIn(path, "/d"))->at(1), "599");
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace sp::cli
