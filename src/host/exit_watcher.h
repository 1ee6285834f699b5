// ExitWatcher: reports when watched processes exit, whether this process
// started them or adopted them after a daemon restart (so they are not our
// children and cannot be waited for).
//
// Each process is watched through a pidfd on one epoll set, from one thread.
// A process that is already gone is reported at once; if no pidfd can be had
// (out of descriptors), the process is polled every second instead. Reports
// always come from the watcher thread, never from the caller of Watch (which
// may hold locks the report needs).
//
// Thread-safe. After Stop returns, no report is made.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/status.h"

struct epoll_event;

namespace sp {

class ExitWatcher {
 public:
  using Sink = std::function<void(const std::string& name, int64_t pid)>;

  static Result<std::unique_ptr<ExitWatcher>> Start();
  ~ExitWatcher();

  // Calls `sink(name, pid)` once `pid` has exited (also if it already has).
  void Watch(const std::string& name, int64_t pid, Sink sink);
  // Stops the thread: no report after this returns. Idempotent.
  void Stop();

 private:
  ExitWatcher() = default;
  struct Watched {
    std::string name;
    int64_t pid;
    Sink sink;
  };
  void Loop();
  // Takes what exited from the table (epoll events, the already-gone, the polled). REQUIRES: mu_ held.
  std::vector<Watched> CollectLocked(const struct epoll_event* events, int n);
  void WakeUp();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::map<int, Watched> watched_;  // pidfd -> process; GUARDED_BY(mu_)
  std::vector<Watched> exited_;     // to report from the thread; GUARDED_BY(mu_)
  std::vector<Watched> polled_;     // no pidfd could be had: checked every second; GUARDED_BY(mu_)
  bool stopping_ = false;           // GUARDED_BY(mu_)
  std::thread thread_;
};

// A pidfd for `pid` (pidfd_open), or -1 with errno set.
int PidfdOpen(int64_t pid);

}  // namespace sp
