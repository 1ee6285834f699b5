// spawnd's event loop, what it does when the supervisor reports, and
// decommissioning (see daemon.h; start-up is in daemon_start.cc).
#include "daemon/daemon.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>

#include "daemon/daemon_log.h"
#include "daemon/log_shipper.h"
#include "protocol/published.h"

namespace sp {

void BlockDaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void Daemon::OnEvent(const EventRecord& ev) {
  LogMessage m{ev.service, {{Rfc3339Millis(ev.at_ms), "spawnd", ev.kind + ": " + ev.message}}};
  (void)bus_->Publish(UriToSubject(uris_.ServiceLog(ev.service)), protocol::EncodeLogMessage(m));
  heartbeats_->MarkDirty(ev.service);
}

void Daemon::OnStarted(const std::string& name) {
  auto rec = store_->Get(name);
  int64_t seg = 0, off = 0;
  if (rec && *rec) {
    seg = (*rec)->log_segment;
    off = (*rec)->log_offset;
  }
  shipper_->Track(name, host_->LogDir(name), seg, off);
  heartbeats_->MarkDirty(name);
}

void Daemon::OnRemoved(const std::string& name) {
  shipper_->Untrack(name);  // ships the last lines now, before the files go
  heartbeats_->MarkRemoved(name);
}

// Restarts whose backoff expired run on the work queue, not on the loop.
void Daemon::StartDueServices(int64_t* next_ms) {
  for (const std::string& name : supervisor_->TakeDueStarts(next_ms))
    work_->Submit([this, name] { supervisor_->StartDue(name); });
}

void Daemon::Wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

// SIGHUP: the namespace changed on disk (spawnctl revoke, delegate): reload it
// and make the router apply it (revoked entities are cut off at once).
void Daemon::ReloadIdentities() {
  if (!router_) return;
  auto ns = LoadOrCreateNamespace(paths_.auth);
  if (!ns) {
    DaemonLog("reload: " + ns.error().message());
    return;
  }
  std::lock_guard<std::mutex> lock(ns_mu_);
  *ns_ = std::move(*ns);
  Status st = router_->Reload(*ns_);
  DaemonLog(st.ok() ? "reload: router reloaded the namespace" : "reload: " + st.message());
}

void Daemon::CheckRouter() {
  if (!router_ || router_->Alive()) return;
  DaemonLog("router (nats-server) exited; restarting it on " + router_->url());
  Status st = router_->Restart();
  if (!st.ok()) DaemonLog("router restart failed: " + st.message());
}

// A signal arrived: SIGHUP reloads identities, SIGTERM and SIGINT end the loop.
void Daemon::HandleSignal(bool* stop) {
  struct signalfd_siginfo si;
  if (::read(signal_fd_, &si, sizeof si) != sizeof si) return;
  if (si.ssi_signo == SIGHUP) return ReloadIdentities();
  DaemonLog("signal " + std::to_string(si.ssi_signo) + ": exiting; services keep running");
  *stop = true;
}

void Daemon::Housekeeping() {
  shipper_->PollAll();
  CheckRouter();
}

Status Daemon::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Status::FromErrno("signalfd", errno);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Status::FromErrno("epoll", errno);
  for (int fd : {signal_fd_, shipper_->fd(), wake_fd_}) {
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  DaemonLog("serving " + cfg_.path + " on " + router_url_);
  auto steady = [] {
    return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  int64_t next_heartbeat = 0, next_housekeeping = 0, next_tick = 0;
  for (bool stop = false; !stop;) {
    int64_t now = steady();
    int64_t wait = std::min({next_heartbeat - now, next_housekeeping - now, next_tick < 0 ? 1000 : next_tick});
    struct epoll_event events[8];
    int n = ::epoll_wait(ep, events, 8, static_cast<int>(std::clamp<int64_t>(wait, 0, 1000)));
    for (int i = 0; i < n && !stop; ++i) {
      int fd = events[i].data.fd;
      if (fd == signal_fd_) {
        HandleSignal(&stop);
      } else if (fd == shipper_->fd()) {
        shipper_->HandleEvents();
      } else if (fd == wake_fd_) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      }
    }
    if (stop) break;
    StartDueServices(&next_tick);
    now = steady();
    bool full = now >= next_heartbeat;
    heartbeats_->PublishDue(full);
    heartbeats_->PurgeRemoved();
    if (full) next_heartbeat = now + cfg_.heartbeat_interval.count();
    if (now >= next_housekeeping) {
      Housekeeping();
      next_housekeeping = now + 1000;
    }
  }
  ::close(ep);
  return Status::Ok();
}

Status Daemon::Decommission() {
  for (const ServiceView& v : supervisor_->List()) {
    Status st = supervisor_->Stop(v.name);
    if (!st.ok()) return st.Annotate("stop " + v.name);
    DaemonLog("stopped " + v.name);
  }
  heartbeats_->PurgeRemoved();  // no loop runs here to do it
  SP_RETURN_IF_ERROR(host_->Decommission().Annotate("clean up host"));
  return heartbeats_->PurgeDaemon();
}

}  // namespace sp
