// Tests for source URLs and FetchSource. Clones come from a local repository the test builds
// (a branch, a tag, two commits on main); no test uses the network: the https case points at a
// closed loopback port.
#include "source/fetch_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

// ---- URL checks -------------------------------------------------------------------------------

TEST(ParseSourceUrl, AcceptsHttpsWithOptionalPortAndRef) {
  auto plain = ParseSourceUrl("git+https://example.com/oski/demo.git", false);
  ASSERT_TRUE(plain.has_value()) << plain.error().ToString();
  EXPECT_EQ(plain->scheme, "https");
  EXPECT_EQ(plain->git_url, "https://example.com/oski/demo.git");
  EXPECT_EQ(plain->ref, "");

  auto with_ref = ParseSourceUrl("git+https://git.example.com:8443/a/b#release/1.2", false);
  ASSERT_TRUE(with_ref.has_value()) << with_ref.error().ToString();
  EXPECT_EQ(with_ref->git_url, "https://git.example.com:8443/a/b");
  EXPECT_EQ(with_ref->ref, "release/1.2");

  auto v6 = ParseSourceUrl("git+https://[::1]:3000/r.git#v1.0", false);
  ASSERT_TRUE(v6.has_value()) << v6.error().ToString();
  EXPECT_EQ(v6->git_url, "https://[::1]:3000/r.git");
  EXPECT_EQ(v6->ref, "v1.0");
}

TEST(ParseSourceUrl, AcceptsLocalOnlyWhenAllowed) {
  auto local = ParseSourceUrl("git+file:///srv/repos/demo#main", true);
  ASSERT_TRUE(local.has_value()) << local.error().ToString();
  EXPECT_EQ(local->scheme, "file");
  EXPECT_EQ(local->git_url, "file:///srv/repos/demo");
  EXPECT_EQ(local->ref, "main");

  auto refused = ParseSourceUrl("git+file:///srv/repos/demo", false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("allowLocalSources"), std::string::npos)
      << refused.error().message();
}

TEST(ParseSourceUrl, RefusesEverythingElseNamingTheAcceptedForms) {
  const std::vector<std::string> refused = {
      "",
      "https://example.com/a/b",
      "http://example.com/a/b",
      "git+http://example.com/a/b",
      "git+ssh://example.com/a/b",
      "ssh://git@example.com/a/b",
      "git://example.com/a/b",
      "git+git://example.com/a/b",
      "git@example.com:a/b.git",
      "/srv/repos/demo",
      "file:///srv/repos/demo",
      "ext::sh -c touch% /tmp/pwned",
      "git+ext::sh",
      "git+fd::3",
      "-git+https://example.com/a/b",
      "git+https://user:secret@example.com/a/b",
      "git+https://token@example.com/a/b",
      "git+https://example.com/a b",
      "git+https://example.com/a/b\n",
      "git+https://example.com/a/b\tc",
      "git+https://example.com/a/\x01",
      "git+https://example.com/caf\xc3\xa9",
      "git+https://example.com/a|b",
      "git+https://-oProxyCommand=x/a",
      "git+https://example.com/--upload-pack=touch/x",
      "git+https://example.com",
      "git+https://example.com/",
      "git+https:///a/b",
      "git+https://example.com:0/a",
      "git+https://example.com:99999/a",
      "git+https://example.com:8x/a",
      "git+https://example.com/a#",
      "git+https://example.com/a#-b",
      "git+https://example.com/a#--upload-pack=x",
      "git+https://example.com/a#a..b",
      "git+https://example.com/a#x#y",
      "git+https://example.com/a#ref with space",
      "git+file://host/srv/repos/demo",
      "git+file://relative/path",
      "git+file:///",
      "git+file:///srv/repo%20s",
      "git+file:///srv/-repo",
  };
  for (const std::string& url : refused) {
    auto r = ParseSourceUrl(url, /*allow_local=*/true);
    ASSERT_FALSE(r.has_value()) << "accepted: " << url;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << url << ": " << r.error().ToString();
    EXPECT_NE(r.error().message().find("git+https://host/path[#ref]"), std::string::npos)
        << r.error().message();
    for (char c : r.error().message()) EXPECT_FALSE(c == '\n' || c == '\t') << "raw control character echoed";
  }
}

TEST(IsSafeRefName, FollowsTheBasicCheckRefFormatRules) {
  for (const char* ok : {"main", "v1.0.2", "release/2024-01", "feature_x", "a+b", "HEAD"}) {
    EXPECT_TRUE(IsSafeRefName(ok)) << ok;
  }
  for (const char* bad :
       {"",       "-b",         "--upload-pack=x", "a..b", "a//b", "/a", "a/",  "a.", ".hidden", "a/.b",
        "x.lock", "a/x.lock/b", "a@{1}",           "a b",  "a~1",  "a^", "a:b", "a?", "a*",      "a[",
        "a\\b"}) {
    EXPECT_FALSE(IsSafeRefName(bad)) << bad;
  }
  EXPECT_TRUE(IsSafeRefName(std::string(255, 'a')));
  EXPECT_FALSE(IsSafeRefName(std::string(256, 'a')));
}

// ---- Cloning ----------------------------------------------------------------------------------

class FetchSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("/tmp/sp-source-test-XXXXXX");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_ = *dir;
    repo_ = dir_ + "/origin.git";
    BuildRepository();
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  void Git(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "git", "-C", repo_, "-c", "user.name=Test", "-c", "user.email=test@example.com"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions opts;
    opts.env = {{"HOME", dir_}, {"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}};
    auto r = RunChecked(argv, opts);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }

  void Commit(const std::string& file, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(repo_ + "/" + file, text).ok());
    Git({"add", file});
    Git({"commit", "-q", "-m", "add " + file});
  }

  // main: README (tagged v1), then main2.txt. feature: README, feature.txt.
  void BuildRepository() {
    ASSERT_TRUE(MakeDirs(repo_).ok());
    Git({"init", "-q", "-b", "main"});
    Commit("README", "hello\n");
    Git({"tag", "v1"});
    Git({"checkout", "-q", "-b", "feature"});
    Commit("feature.txt", "feature\n");
    Git({"checkout", "-q", "main"});
    Commit("main2.txt", "second\n");
  }

  std::string LocalUrl() const { return "git+file://" + repo_; }
  SourceOptions Local() const {
    SourceOptions o;
    o.allow_local = true;
    o.timeout = Millis(60000);
    return o;
  }
  bool Has(const std::string& dest, const std::string& file) const { return PathExists(dest + "/" + file); }
  std::vector<std::string> Entries(const std::string& path) const {
    auto names = ListDir(path);
    EXPECT_TRUE(names.has_value());
    return names ? *names : std::vector<std::string>{};
  }

  std::string dir_;
  std::string repo_;
};

TEST_F(FetchSourceTest, ClonesDefaultBranchIntoAbsentDirectory) {
  std::string dest = dir_ + "/data dir/srv";  // a space: it travels as one argument, never via a shell
  Status s = FetchSource(LocalUrl(), dest, Local(), nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadFile(dest + "/README"), "hello\n");
  EXPECT_TRUE(Has(dest, "main2.txt"));
  EXPECT_FALSE(Has(dest, "feature.txt"));
  EXPECT_TRUE(Has(dest, ".git/shallow")) << "expected a shallow (--depth 1) clone";
}

TEST_F(FetchSourceTest, ClonesBranchAndTagIntoEmptyDirectory) {
  std::string branch = dir_ + "/branch";
  ASSERT_TRUE(MakeDirs(branch).ok());
  Status s = FetchSource(LocalUrl() + "#feature", branch, Local(), nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Has(branch, "feature.txt"));
  EXPECT_FALSE(Has(branch, "main2.txt"));

  std::string tag = dir_ + "/tag";
  s = FetchSource(LocalUrl() + "#v1", tag, Local(), nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Has(tag, "README"));
  EXPECT_FALSE(Has(tag, "main2.txt"));
  EXPECT_FALSE(Has(tag, "feature.txt"));
}

TEST_F(FetchSourceTest, OutputCallbackReceivesGitLines) {
  std::vector<std::string> lines;
  Status s =
      FetchSource(LocalUrl(), dir_ + "/out", Local(), [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front().rfind("Cloning into", 0), 0u) << lines.front();
  for (const std::string& l : lines) {
    EXPECT_FALSE(l.empty());
    EXPECT_EQ(l.find_first_of("\r\n"), std::string::npos);
  }
}

TEST_F(FetchSourceTest, LocalRefusedWithoutAllowLocal) {
  std::string dest = dir_ + "/refused";
  SourceOptions o = Local();
  o.allow_local = false;
  Status s = FetchSource(LocalUrl(), dest, o, nullptr);
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("allowLocalSources"), std::string::npos) << s.message();
  EXPECT_FALSE(PathExists(dest));
}

TEST_F(FetchSourceTest, RefusedFormsRunNothing) {
  std::string dest = dir_ + "/refused";
  for (const char* url : {"https://example.com/a", "ext::sh -c true", "/srv/repo", "git+ssh://h/a"}) {
    Status s = FetchSource(url, dest, Local(), nullptr);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << url << ": " << s.ToString();
    EXPECT_FALSE(PathExists(dest));
  }
}

TEST_F(FetchSourceTest, MissingRepositoryIsNotFoundAndLeavesDestinationEmpty) {
  std::string missing = dir_ + "/no-such-repo";
  std::string dest = dir_ + "/empty";
  ASSERT_TRUE(MakeDirs(dest).ok());
  Status s = FetchSource("git+file://" + missing, dest, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("exit status"), std::string::npos) << s.message();
  EXPECT_TRUE(PathExists(dest));
  EXPECT_TRUE(Entries(dest).empty());

  std::string absent = dir_ + "/absent";
  s = FetchSource("git+file://" + missing, absent, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_FALSE(PathExists(absent));
}

TEST_F(FetchSourceTest, MissingRefIsNotFound) {
  std::string dest = dir_ + "/dest";
  Status s = FetchSource(LocalUrl() + "#no-such-branch", dest, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("no-such-branch"), std::string::npos) << s.message();
  EXPECT_FALSE(PathExists(dest));
}

TEST_F(FetchSourceTest, RepositoryOfAnotherUserIsRefused) {
  // The daemon (and this test) run as root; a repository owned by someone else is not read.
  ASSERT_EQ(::chown(repo_.c_str(), 65534, 65534), 0) << "this test needs root";
  ASSERT_EQ(::chown((repo_ + "/.git").c_str(), 65534, 65534), 0);
  std::string dest = dir_ + "/dest";
  Status s = FetchSource(LocalUrl(), dest, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("owned by another user"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(repo_), std::string::npos) << s.message();
  EXPECT_FALSE(PathExists(dest));
}

TEST_F(FetchSourceTest, DestinationMustBeEmptyRealDirectory) {
  std::string full = dir_ + "/full";
  ASSERT_TRUE(MakeDirs(full).ok());
  ASSERT_TRUE(WriteFileAtomic(full + "/keep", "mine").ok());
  Status s = FetchSource(LocalUrl(), full, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(*ReadFile(full + "/keep"), "mine");

  std::string link = dir_ + "/link";
  std::string target = dir_ + "/target";
  ASSERT_TRUE(MakeDirs(target).ok());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  s = FetchSource(LocalUrl(), link, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(Entries(target).empty());

  std::string file = dir_ + "/file";
  ASSERT_TRUE(WriteFileAtomic(file, "x").ok());
  s = FetchSource(LocalUrl(), file, Local(), nullptr);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
}

// Port that nothing listens on: bound once to get a free number, then closed.
int ClosedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return -1;
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(FetchSourceTest, UnreachableHttpsFailsClearlyBeforeTheTimeout) {
  // A proxy from the environment would be asked instead of the loopback port.
  for (const char* v : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) ::unsetenv(v);
  int port = ClosedLoopbackPort();
  ASSERT_GT(port, 0);
  std::string url = "git+https://127.0.0.1:" + std::to_string(port) + "/demo.git";
  std::string dest = dir_ + "/https";
  SourceOptions o;
  o.timeout = Millis(60000);
  Status s = FetchSource(url, dest, o, nullptr);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("127.0.0.1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("connect"), std::string::npos) << s.message();
  EXPECT_FALSE(PathExists(dest));
}

// A stand-in for git, to drive failures git itself cannot be made to produce on demand.
std::string FakeGit(const std::string& dir, const std::string& body) {
  std::string path = dir + "/fake-git";
  std::string script = "#!/bin/sh\nfor a; do dest=$a; done\n" + body;
  EXPECT_TRUE(WriteFileAtomic(path, script, 0755).ok());
  return path;
}

TEST_F(FetchSourceTest, FailureCarriesLastLinesAndExitStatusAndEmptiesDestination) {
  SourceOptions o = Local();
  o.git_binary = FakeGit(dir_,
                         "mkdir -p \"$dest/sub\"; echo partial > \"$dest/sub/file\"\n"
                         "i=0; while [ $i -lt 30 ]; do echo noise$i; i=$((i+1)); done\n"
                         "echo 'fatal: the server hung up' >&2\nexit 3\n");
  std::string dest = dir_ + "/dest";
  ASSERT_TRUE(MakeDirs(dest).ok());
  Status s = FetchSource(LocalUrl(), dest, o, nullptr);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("exit status 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("fatal: the server hung up"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("noise5"), std::string::npos) << "only the last lines: " << s.message();
  EXPECT_TRUE(Entries(dest).empty());
}

TEST_F(FetchSourceTest, GitArgumentsAndEnvironmentAreLockedDown) {
  SourceOptions o = Local();
  std::string args = dir_ + "/args";
  std::string env = dir_ + "/env";
  std::string home_list = dir_ + "/home-list";
  o.git_binary = FakeGit(dir_, "for a; do echo \"$a\"; done > '" + args + "'\nenv > '" + env +
                                   "'\nls -A \"$HOME\" > '" + home_list + "'\nmkdir -p \"$dest\"\n");
  ::setenv("GIT_DIR", "/somewhere/else", 1);  // inherited variables must not reach git
  ::setenv("SP_TEST_SECRET", "hunter2", 1);
  Status s = FetchSource(LocalUrl() + "#feature", dir_ + "/dest", o, nullptr);
  ::unsetenv("GIT_DIR");
  ::unsetenv("SP_TEST_SECRET");
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<std::string> expected = {"-c",
                                       "protocol.allow=never",
                                       "-c",
                                       "protocol.https.allow=always",
                                       "-c",
                                       "protocol.file.allow=always",
                                       "-c",
                                       "core.hooksPath=/dev/null",
                                       "-c",
                                       "credential.helper=",
                                       "clone",
                                       "--depth",
                                       "1",
                                       "--branch",
                                       "feature",
                                       "--no-recurse-submodules",
                                       "--progress",
                                       "--",
                                       "file://" + repo_,
                                       dir_ + "/dest"};
  std::string want;
  for (const std::string& a : expected) want += a + "\n";
  EXPECT_EQ(*ReadFile(args), want);
  std::string e = "\n" + *ReadFile(env);
  for (const char* v :
       {"\nGIT_TERMINAL_PROMPT=0\n", "\nGIT_CONFIG_NOSYSTEM=1\n", "\nGIT_ASKPASS=/bin/false\n",
        "\nGIT_CONFIG_GLOBAL=/dev/null\n", "\nLC_ALL=C\n", "\nHOME=/tmp/sp-git-home-"}) {
    EXPECT_NE(e.find(v), std::string::npos) << v << " missing from:" << e;
  }
  EXPECT_EQ(e.find("GIT_DIR"), std::string::npos) << e;
  EXPECT_EQ(e.find("SP_TEST_SECRET"), std::string::npos) << e;
  EXPECT_EQ(*ReadFile(home_list), "") << "HOME was not empty";
  size_t home = e.find("\nHOME=") + 6;
  EXPECT_FALSE(PathExists(e.substr(home, e.find('\n', home) - home))) << "temporary HOME not removed";
}

TEST_F(FetchSourceTest, HttpsDoesNotAllowFileProtocol) {
  SourceOptions o;
  std::string args = dir_ + "/args";
  o.git_binary = FakeGit(dir_, "for a; do echo \"$a\"; done > '" + args + "'\nmkdir -p \"$dest\"\n");
  Status s = FetchSource("git+https://example.com/a.git", dir_ + "/dest", o, nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string a = *ReadFile(args);
  EXPECT_EQ(a.find("protocol.file.allow"), std::string::npos) << a;
  EXPECT_NE(a.find("protocol.allow=never"), std::string::npos) << a;
  EXPECT_EQ(a.find("--branch"), std::string::npos) << a;
}

TEST_F(FetchSourceTest, TimeoutStopsGitAndItsChildren) {
  SourceOptions o = Local();
  o.timeout = Millis(3000);
  o.git_binary =
      FakeGit(dir_, "mkdir -p \"$dest\"; echo junk > \"$dest/junk\"\nsleep 300 & echo child $!\nwait\n");
  std::vector<std::string> lines;
  std::string dest = dir_ + "/slow";
  Status s = FetchSource(LocalUrl(), dest, o, [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find("3s"), std::string::npos) << s.message();
  EXPECT_FALSE(PathExists(dest));
  // The fake's own output was passed on before it was stopped (the group kill itself is covered
  // by streamed_command_test).
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("child ", 0), 0u);
}

TEST_F(FetchSourceTest, MissingGitIsNotFound) {
  SourceOptions o = Local();
  o.git_binary = "/nonexistent/git";
  Status s = FetchSource(LocalUrl(), dir_ + "/dest", o, nullptr);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("install git"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sp
