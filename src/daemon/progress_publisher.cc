// Rate-limited progress publishing with keepalives (see progress_publisher.h).
#include "daemon/progress_publisher.h"

namespace sp {

bool ProgressChanged(const DeployProgress& a, const DeployProgress& b) {
  if (a.phase != b.phase || a.message != b.message || a.layers.size() != b.layers.size()) return true;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    if (a.layers[i].digest != b.layers[i].digest || a.layers[i].state != b.layers[i].state) return true;
  }
  return false;
}

ProgressPublisher::ProgressPublisher(Publish publish, Millis min_interval, Millis keepalive)
    : publish_(std::move(publish)), min_interval_(min_interval), keepalive_(keepalive) {
  thread_ = std::thread([this] { Loop(); });
}

ProgressPublisher::~ProgressPublisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ProgressPublisher::SendLocked(std::unique_lock<std::mutex>& lock) {
  std::string payload = EncodeProgress(*latest_);
  pending_ = false;
  last_sent_ = std::chrono::steady_clock::now();
  lock.unlock();
  publish_(payload);  // outside the lock: publishing may block briefly
  lock.lock();
}

void ProgressPublisher::Update(const DeployProgress& p) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return;
  bool changed = !latest_ || ProgressChanged(*latest_, p);
  latest_ = p;
  pending_ = true;
  if (changed || std::chrono::steady_clock::now() - last_sent_ >= min_interval_) {
    SendLocked(lock);
  } else {
    cv_.notify_all();  // the loop sends it when the interval ends
  }
}

void ProgressPublisher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto due = last_sent_ + (pending_ ? min_interval_ : keepalive_);
    cv_.wait_until(lock, due);
    if (stopping_) break;
    if (!latest_) continue;
    if (std::chrono::steady_clock::now() >= last_sent_ + (pending_ ? min_interval_ : keepalive_)) SendLocked(lock);
  }
}

}  // namespace sp
