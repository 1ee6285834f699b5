// SpawnProgram against real programs: descriptors, /dev/null, environment, working directory,
// process group and signal dispositions as the child sees them.
#include "util/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace sp {
namespace {

// Runs `script` with /bin/sh, stdout on a pipe; returns what it printed, after it exited 0.
std::string RunShell(SpawnSpec spec, const std::string& script) {
  int out[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  int high = ::fcntl(out[1], F_DUPFD_CLOEXEC, 10);  // above every target below
  ::close(out[1]);
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.fds.insert(spec.fds.begin(), {1, high});
  auto pid = SpawnProgram(spec);
  ::close(high);
  EXPECT_TRUE(pid) << pid.error().ToString();
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  if (pid) EXPECT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  return text;
}

TEST(Spawn, DescriptorsEnvironmentAndDirectory) {
  SpawnSpec spec;
  spec.env = std::vector<std::string>{"ONLY=this"};
  spec.fds = {{0, kDevNull}, {5, kDevNull}};
  spec.cwd = "/tmp";
  std::string out = RunShell(spec, "echo \"$ONLY $(env | grep -c =) $(pwd)\"; read x; echo \"read=$?\"; "
                                   "test -e /proc/self/fd/5 && echo fd5; test -e /proc/self/fd/7 || echo no7");
  // sh adds PWD (and maybe SHLVL, _): the caller's environment was not passed on.
  EXPECT_EQ(out.substr(0, 5), "this ");
  EXPECT_NE(out.find(" /tmp\n"), std::string::npos) << out;
  EXPECT_NE(out.find("read=1\n"), std::string::npos) << out;  // /dev/null: end of input at once
  EXPECT_NE(out.find("fd5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("no7\n"), std::string::npos) << out;
  EXPECT_LT(std::stoi(out.substr(5)), 5) << out;
}

TEST(Spawn, CallersEnvironmentByDefault) {
  ::setenv("SP_SPAWN_TEST", "inherited", 1);
  EXPECT_EQ(RunShell(SpawnSpec{}, "echo $SP_SPAWN_TEST"), "inherited\n");
  ::unsetenv("SP_SPAWN_TEST");
}

// Whether SIGHUP is ignored, from a /proc/PID/status "SigIgn:\t<hex mask>" line (bit 0 = SIGHUP).
bool HupIgnored(const std::string& line) {
  EXPECT_EQ(line.rfind("SigIgn:\t", 0), 0u) << line;
  return (std::stoull(line.substr(8), nullptr, 16) & 1) != 0;
}

TEST(Spawn, ProcessGroupAndSignals) {
  // SIGHUP ignored here: kept in the child (exec keeps ignored signals) unless all are reset.
  struct sigaction ignore = {}, old = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGHUP, &ignore, &old), 0);
  std::string kept = RunShell(SpawnSpec{}, "grep '^SigIgn' /proc/$$/status");
  SpawnSpec reset;
  reset.reset_all_signals = true;
  reset.new_process_group = true;
  std::string b =
      RunShell(reset, "grep '^SigIgn' /proc/$$/status; echo \"$(cut -d' ' -f5 /proc/$$/stat) $$\"");
  ASSERT_EQ(::sigaction(SIGHUP, &old, nullptr), 0);
  EXPECT_TRUE(HupIgnored(kept));
  EXPECT_FALSE(HupIgnored(b.substr(0, b.find('\n'))));
  std::string ids = b.substr(b.find('\n') + 1);  // "<pgid> <pid>\n"
  EXPECT_EQ(ids.substr(0, ids.find(' ')) + "\n", ids.substr(ids.find(' ') + 1)) << ids;  // a group of its own
}

TEST(Spawn, MissingProgramIsAnError) {
  SpawnSpec spec;
  spec.path = "/no/such/program";
  spec.argv = {"x"};
  auto pid = SpawnProgram(spec);
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().message().find("/no/such/program"), std::string::npos);
}

}  // namespace
}  // namespace sp
