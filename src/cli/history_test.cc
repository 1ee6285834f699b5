#include "cli/history.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
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
  // ~100-byte lines: 256 KiB is passed after about 2,600 of them, and the file is cut back to 500.
  const std::string pad(60, 'p');
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(AppendHistory(path, "/d", {"deploy", std::to_string(i), pad}).ok());
  std::string text = *ReadFile(path);
  auto lines = std::count(text.begin(), text.end(), '\n');
  EXPECT_GE(lines, 500);
  EXPECT_LT(lines, 1000);  // compacted once, then some appended
  EXPECT_LE(text.size(), 256u << 10);
  EXPECT_EQ(text.find("garbage"), std::string::npos);  // the oldest lines went
  EXPECT_EQ((*LastDeployIn(path, "/d"))->at(1), "2999");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace sp::cli
