// WorkQueue: a fixed pool of threads running submitted jobs in order of
// submission. Bus handlers hand requests to it so that a slow operation
// (a stop waiting out its grace period) never blocks message delivery.
// Thread-safe. The destructor finishes queued jobs, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sp {

class WorkQueue {
 public:
  explicit WorkQueue(int threads);
  ~WorkQueue();
  void Submit(std::function<void()> job);

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace sp
