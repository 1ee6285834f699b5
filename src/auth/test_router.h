// Test-only helpers (header-only, used by the auth tests that talk to a real
// nats-server): TestRouter runs nats-server 2.9.10 on 127.0.0.1 with a
// random port, JetStream, debug logging (so auth failures are explained in
// its log) and the namespace's auth fragment; it can rewrite its config and
// send SIGHUP, which is how the router applies account JWT edits, and it
// stops the server by PID. Its clients are TestClient (auth/test_nats_client.h).
//
// Not thread-safe (one test thread drives it).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "auth/namespace.h"
#include "auth/test_nats_client.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp::testing {

class TestRouter {
 public:
  explicit TestRouter(std::string dir) : dir_(std::move(dir)) {}
  TestRouter(const TestRouter&) = delete;
  TestRouter& operator=(const TestRouter&) = delete;
  ~TestRouter() { Stop(); }

  // Writes the config with `auth` (RouterAuthConfig) and starts the server;
  // waits until it listens. Returns false (with the log in `error`) on failure.
  bool Start(const std::string& auth, std::string* error) {
    auto binary = FindProgram("nats-server");
    if (!binary) return Fail(error, binary.error().ToString());
    if (!MakeDirs(dir_, 0700).ok()) return Fail(error, "mkdir " + dir_);
    if (!WriteConfig(auth)) return Fail(error, "write config");
    std::vector<std::string> args = {*binary, "-c", Path("server.conf")};
    pid_ = Spawn(args, Path("stdio.log"));
    if (pid_ < 0) return Fail(error, "fork failed");
    for (auto deadline = Deadline(10); std::chrono::steady_clock::now() < deadline; Nap()) {
      std::string log = Log();
      size_t at = log.find("Listening for client connections on 127.0.0.1:");
      if (at != std::string::npos && log.find("Server is ready") != std::string::npos) {
        port_ = std::stoi(
            log.substr(at + std::string_view("Listening for client connections on 127.0.0.1:").size()));
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Fail(error, "nats-server exited: " + Log() + ReadOr(Path("stdio.log")));
      }
    }
    return Fail(error, "nats-server did not become ready: " + Log());
  }

  // Rewrites the config with `auth` and sends SIGHUP; waits for the reload to
  // be logged. Returns false if it is not.
  bool Reload(const std::string& auth) {
    size_t before = Count(Log(), "Reloaded server configuration");
    if (!WriteConfig(auth) || ::kill(pid_, SIGHUP) != 0) return false;
    for (auto deadline = Deadline(5); std::chrono::steady_clock::now() < deadline; Nap())
      if (Count(Log(), "Reloaded server configuration") > before) return true;
    return false;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (auto deadline = Deadline(5); std::chrono::steady_clock::now() < deadline; Nap()) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::string Log() const { return ReadOr(Path("server.log")); }

 private:
  static std::string ReadOr(const std::string& path) {
    auto text = ReadFile(path);
    return text ? *text : std::string();
  }
  static size_t Count(const std::string& text, std::string_view what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
  static std::chrono::steady_clock::time_point Deadline(int seconds) {
    return std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  }
  static void Nap() { std::this_thread::sleep_for(std::chrono::milliseconds(10)); }
  static bool Fail(std::string* error, std::string what) {
    *error = std::move(what);
    return false;
  }
  std::string Path(const char* name) const { return JoinPath(dir_, name); }

  bool WriteConfig(const std::string& auth) {
    std::string conf = "server_name: \"sp-auth-test\"\n";
    conf += "listen: \"127.0.0.1:-1\"\n";
    conf += "log_file: \"" + Path("server.log") + "\"\n";
    conf += "debug: true\n";
    conf += "jetstream {\n  store_dir: \"" + Path("js") + "\"\n}\n";
    conf += auth;
    return WriteFileAtomic(Path("server.conf"), conf, 0600).ok();
  }

  // fork + exec with stdin from /dev/null and stdout/stderr to `log`; the
  // child dies with this process's main thread (PR_SET_PDEATHSIG).
  static pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::setpgid(0, 0);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::closefrom(3);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace sp::testing
