// Shared spawnctl plumbing (see context.h).
#include "cli/context.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace sp::cli {
namespace {

std::mutex out_mu;
volatile sig_atomic_t interrupted = 0;

void OnInterrupt(int) { interrupted = 1; }

}  // namespace

Result<Endpoint> Context::GetEndpoint() {
  if (!endpoint_) {
    Endpoint given{flags_.router, flags_.entity, ""};
    SP_ASSIGN_OR_RETURN(Endpoint ep, ResolveEndpoint(given));
    endpoint_ = ep;
  }
  return *endpoint_;
}

Result<Client*> Context::Connect() {
  if (!client_) {
    SP_ASSIGN_OR_RETURN(Endpoint ep, GetEndpoint());
    SP_ASSIGN_OR_RETURN(client_, Client::Connect(ep));
  }
  return client_.get();
}

Result<std::string> Context::HostUri(const std::string& uri) {
  if (!uri.empty()) return uri;
  SP_ASSIGN_OR_RETURN(Endpoint ep, GetEndpoint());
  if (ep.default_uri.empty())
    return Err(Status::InvalidArgument("no host URI given (-u or SPAWNPOINT_DEFAULT_URI) and no local daemon found"));
  return ep.default_uri;
}

Result<Session> Context::Open(const std::string& uri) {
  SP_ASSIGN_OR_RETURN(std::string host, HostUri(uri));
  SP_ASSIGN_OR_RETURN(Client * client, Connect());
  return Session{client, std::move(host)};
}

void PrintLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void PrintError(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mu);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string FormatLogEntry(const LogEntry& e) { return e.stream == "spawnd" ? "[spawnd] " + e.text : e.text; }

void PrintLogEntry(const LogEntry& e) { PrintLine(FormatLogEntry(e)); }

void InstallInterruptHandler() {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void WaitForInterruptOr(std::optional<Millis> timeout) {
  auto deadline = std::chrono::steady_clock::now() + (timeout ? *timeout : Millis(0));
  while (!interrupted) {
    if (timeout && std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int Fail(const Status& s, const std::string& what) {
  // The daemon may already name the operation ("deploy web: ..."); say it once.
  bool named = s.message().rfind(what + ":", 0) == 0;
  PrintError("spawnctl: " + (named ? s.message() : what + ": " + s.message()));
  return ExitCodeFor(s.code());
}

}  // namespace sp::cli
