// ExitWatcher: pidfds on one epoll set (see exit_watcher.h).
#include "host/exit_watcher.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sp {

int PidfdOpen(int64_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)); }

Result<std::unique_ptr<ExitWatcher>> ExitWatcher::Start() {
  std::unique_ptr<ExitWatcher> w(new ExitWatcher());
  w->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  w->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->epoll_fd_ < 0 || w->wake_fd_ < 0) return Err(Status::FromErrno("epoll/eventfd", errno));
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = w->wake_fd_;
  ::epoll_ctl(w->epoll_fd_, EPOLL_CTL_ADD, w->wake_fd_, &ev);
  ExitWatcher* raw = w.get();
  w->thread_ = std::thread([raw] { raw->Loop(); });
  return w;
}

ExitWatcher::~ExitWatcher() {
  Stop();
  for (auto& [fd, w] : watched_) ::close(fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ExitWatcher::WakeUp() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void ExitWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  WakeUp();
  if (thread_.joinable()) thread_.join();
}

void ExitWatcher::Watch(const std::string& name, int64_t pid, Sink sink) {
  int fd = PidfdOpen(pid);
  int err = errno;
  std::lock_guard<std::mutex> lock(mu_);
  Watched w{name, pid, std::move(sink)};
  if (fd >= 0) {
    watched_[fd] = std::move(w);
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    return;
  }
  if (err == ESRCH) {
    exited_.push_back(std::move(w));  // already gone
  } else {
    polled_.push_back(std::move(w));  // out of descriptors or memory: fall back to polling
  }
  WakeUp();
}

std::vector<ExitWatcher::Watched> ExitWatcher::CollectLocked(const struct epoll_event* events, int n) {
  std::vector<Watched> report;
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      uint64_t v;
      (void)!::read(wake_fd_, &v, sizeof v);
      continue;
    }
    auto it = watched_.find(fd);
    if (it == watched_.end()) continue;
    report.push_back(std::move(it->second));
    watched_.erase(it);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
  }
  for (auto& w : exited_) report.push_back(std::move(w));
  exited_.clear();
  for (auto it = polled_.begin(); it != polled_.end();) {
    if (::kill(static_cast<pid_t>(it->pid), 0) != 0 && errno == ESRCH) {
      report.push_back(std::move(*it));
      it = polled_.erase(it);
    } else {
      ++it;
    }
  }
  return report;
}

void ExitWatcher::Loop() {
  for (;;) {
    struct epoll_event events[16];
    bool polling;
    {
      std::lock_guard<std::mutex> lock(mu_);
      polling = !polled_.empty();
    }
    int n = ::epoll_wait(epoll_fd_, events, 16, polling ? 1000 : -1);
    if (n < 0 && errno == EINTR) continue;
    std::vector<Watched> report;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      report = CollectLocked(events, n);
    }
    for (Watched& w : report) w.sink(w.name, w.pid);
  }
}

}  // namespace sp
