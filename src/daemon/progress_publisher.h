// ProgressPublisher: sends one deploy's (or pull's) progress snapshots on the bus at a bounded rate,
// and keeps a quiet deploy visibly alive.
//
// A snapshot that changes the phase or a layer's state goes out at once; byte counts alone at most
// every `min_interval` (the newest one is sent when the interval ends, so the last bytes are never
// lost). While nothing changes, the latest snapshot is sent again every `keepalive`: a client waits
// for a long deploy (a pull, a build) only as long as progress keeps arriving.
//
// Thread-safe: Update may be called from several threads (a pull's workers). The destructor stops
// the keepalive thread; nothing is published after it returns.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "spawnpoint/progress.h"
#include "util/duration.h"

namespace sp {

class ProgressPublisher {
 public:
  using Publish = std::function<void(const std::string& payload)>;
  explicit ProgressPublisher(Publish publish, Millis min_interval = Millis(250), Millis keepalive = Millis(5000));
  ~ProgressPublisher();
  ProgressPublisher(const ProgressPublisher&) = delete;
  ProgressPublisher& operator=(const ProgressPublisher&) = delete;

  void Update(const DeployProgress& p);

 private:
  void Loop();
  void SendLocked(std::unique_lock<std::mutex>& lock);

  const Publish publish_;
  const Millis min_interval_, keepalive_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<DeployProgress> latest_;  // GUARDED_BY(mu_)
  bool pending_ = false;                  // latest_ not sent yet; GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point last_sent_{};  // GUARDED_BY(mu_)
  bool stopping_ = false;                              // GUARDED_BY(mu_)
  std::thread thread_;
};

// True if `b` differs from `a` in more than byte counts (phase, message, layer set or states).
bool ProgressChanged(const DeployProgress& a, const DeployProgress& b);

}  // namespace sp
