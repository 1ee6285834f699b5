// Supervisor decisions against a fake Host: reservations, exits, autoRestart
// with backoff, stop/restart with SIGTERM->SIGKILL, and recovery.
#include "supervisor/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "util/fs.h"

namespace sp {
namespace {

class FakeHost : public Host {
 public:
  ~FakeHost() override { JoinAll(); }
  int64_t NowMs() override { return now_ms; }
  double Random() override { return 0.5; }
  Status Prepare(const std::string& name, const ServiceConfig&, std::string_view files, std::string_view entity,
                 const ProgressSink&) override {
    std::lock_guard<std::mutex> l(mu);
    prepared.insert(name);
    return Status::Ok();
  }
  Result<Launched> Launch(const std::string& name, const ServiceConfig&) override {
    std::lock_guard<std::mutex> l(mu);
    if (fail_launches > 0) {
      --fail_launches;
      return Err(Status::Internal("runc create failed: boom"));
    }
    ++launches;
    int64_t pid = next_pid++;
    alive.insert(pid);
    current[name] = pid;
    return Launched{pid, pid + 10000, "10.88.0.2"};
  }
  void Watch(const std::string& name, int64_t monitor_pid, ExitSink sink) override {
    std::lock_guard<std::mutex> l(mu);
    sinks[name] = sink;
  }
  bool MonitorAlive(const std::string&, int64_t pid) override {
    std::lock_guard<std::mutex> l(mu);
    return alive.count(pid) != 0;
  }
  ExitStatus CollectExit(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu);
    collected.push_back(name);
    return next_exit.count(name) ? next_exit[name] : ExitStatus{0, 0, false, ""};
  }
  Status Kill(const std::string& name, int signal) override {
    std::lock_guard<std::mutex> l(mu);
    signals.push_back({name, signal});
    if (signal == SIGKILL || !ignore_sigterm) {
      ExitStatus ex{128 + signal, signal, false, ""};
      int64_t pid = current[name];
      threads.emplace_back([this, name, pid, ex] { Exit(name, pid, ex); });
    }
    return Status::Ok();
  }
  Status Remove(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu);
    removed.insert(name);
    return Status::Ok();
  }
  Result<ServiceUsage> Usage(const std::string&) override { return ServiceUsage{}; }

  // Simulates the monitor of `name` reporting an exit.
  void Exit(const std::string& name, int64_t pid, ExitStatus ex) {
    ExitSink sink;
    {
      std::lock_guard<std::mutex> l(mu);
      next_exit[name] = ex;
      alive.erase(pid);
      sink = sinks[name];
    }
    if (sink) sink(name, pid);
  }
  void Exit(const std::string& name, ExitStatus ex) { Exit(name, CurrentPid(name), ex); }
  int64_t CurrentPid(const std::string& name) {
    std::lock_guard<std::mutex> l(mu);
    return current[name];
  }
  void JoinAll() {
    for (;;) {
      std::thread t;
      {
        std::lock_guard<std::mutex> l(mu);
        if (threads.empty()) return;
        t = std::move(threads.back());
        threads.pop_back();
      }
      t.join();
    }
  }

  std::mutex mu;
  std::atomic<int64_t> now_ms{1'000'000};
  int fail_launches = 0;
  bool ignore_sigterm = false;
  int launches = 0;
  int64_t next_pid = 100;
  std::set<int64_t> alive;
  std::map<std::string, int64_t> current;
  std::map<std::string, ExitSink> sinks;
  std::map<std::string, ExitStatus> next_exit;
  std::vector<std::string> collected;
  std::vector<std::pair<std::string, int>> signals;
  std::set<std::string> prepared, removed;
  std::vector<std::thread> threads;
};

struct RecordingListener : SupervisorListener {
  void OnEvent(const EventRecord& e) override { events.push_back(e.kind + ":" + e.message); }
  void OnStarted(const std::string& n) override { started.push_back(n); }
  void OnRemoved(const std::string& n) override { removed.push_back(n); }
  void Wake() override { ++wakes; }
  std::vector<std::string> events, started, removed;
  int wakes = 0;
};

// What the daemon's loop does, on this thread: claims the due starts, starts each, and returns the
// milliseconds until the next scheduled start (-1 if none), after any failed start rescheduled.
int64_t Tick(Supervisor& sup) {
  int64_t next = -1;
  for (const std::string& name : sup.TakeDueStarts(&next)) sup.StartDue(name);
  sup.TakeDueStarts(&next);
  return next;
}

// Polls `done` until it holds (true) or 10 s pass (false).
bool PollUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sp-sup-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store_ = std::move(*Store::Open(dir_ + "/spawnd.db"));
    sup_ = MakeSupervisor();
  }
  void TearDown() override {
    host_.JoinAll();
    (void)RemoveAll(dir_);
  }
  std::unique_ptr<Supervisor> MakeSupervisor(SupervisorOptions opts = {}) {
    opts.kill_timeout = Millis(2000);
    return std::make_unique<Supervisor>(host_, *store_, Resources{2048, 4096}, opts, &listener_);
  }
  static DeployOrder Req(const std::string& name, const std::string& extra = "", int cpu = 512, int mem = 1024) {
    std::string yaml = "cpuShares: " + std::to_string(cpu) + "\nmemory: " + std::to_string(mem) +
                       "\nrun: [/bin/sh, -c, 'echo hi']\n" +
                       (extra.find("stopTimeout") == std::string::npos ? "stopTimeout: 200ms\n" : "") + extra;
    auto cfg = ParseServiceConfig(yaml, "deploy.yaml", name);
    EXPECT_TRUE(cfg) << cfg.error().ToString();
    return DeployOrder{*cfg, yaml, "deploy.yaml", "", ""};
  }

  std::string dir_;
  FakeHost host_;
  RecordingListener listener_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Supervisor> sup_;
};

TEST_F(SupervisorTest, DeployReservesAndRuns) {
  auto v = sup_->Deploy(Req("hello"));
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, ServiceState::kRunning);
  EXPECT_EQ(v->pid, 10100);
  EXPECT_EQ(sup_->Available().cpu_shares, 1536);
  EXPECT_EQ(sup_->Available().memory_mib, 3072);
  EXPECT_EQ(host_.prepared.count("hello"), 1u);
  auto rec = store_->Get("hello");
  ASSERT_TRUE(rec && rec->has_value());
  EXPECT_EQ((*rec)->state, "running");
  EXPECT_EQ(listener_.started, std::vector<std::string>{"hello"});
}

TEST_F(SupervisorTest, RefusesWhatDoesNotFitBeforeStartingAnything) {
  ASSERT_TRUE(sup_->Deploy(Req("a", "", 2000, 100)));
  auto v = sup_->Deploy(Req("b", "", 512, 100));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), Code::kResourceExhausted);
  EXPECT_NE(v.error().message().find("available 48/2048 CPU shares"), std::string::npos) << v.error().message();
  EXPECT_EQ(host_.launches, 1);
  EXPECT_EQ(host_.prepared.count("b"), 0u);
  EXPECT_FALSE(store_->Get("b")->has_value());
}

TEST_F(SupervisorTest, RefusesDuplicateRunningName) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  auto v = sup_->Deploy(Req("a"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(sup_->Available().cpu_shares, 1536) << "the refused deploy must not reserve";
}

TEST_F(SupervisorTest, ForbiddenFeaturesAreRefused) {
  auto ports = sup_->Deploy(Req("a", "useHostNet: true\nports: ['80']\n"));
  ASSERT_FALSE(ports);
  EXPECT_EQ(ports.error().code(), Code::kInvalidArgument);
  auto net = sup_->Deploy(Req("b", "useHostNet: true\n"));
  ASSERT_FALSE(net);
  EXPECT_EQ(net.error().code(), Code::kPermissionDenied);
  auto dev = sup_->Deploy(Req("c", "devices: [/dev/null]\n"));
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(host_.launches, 0);
  SupervisorOptions allow;
  allow.enable_host_networking = true;
  EXPECT_TRUE(CheckDeployable(Req("b", "useHostNet: true\n").config, allow).ok());
  // An image deploy is handed to the host, which pulls it.
  EXPECT_TRUE(sup_->Deploy(Req("img", "image: 127.0.0.1:5000/web:1.0\n")).has_value());
  EXPECT_EQ(host_.launches, 1);
}

TEST_F(SupervisorTest, ExitWithoutAutoRestartReturnsReservation) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  host_.Exit("a", ExitStatus{3, 0, false, ""});
  auto v = sup_->Get("a");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->state, ServiceState::kExited);
  ASSERT_TRUE(v->last_exit);
  EXPECT_EQ(v->last_exit->code, 3);
  EXPECT_EQ(sup_->Available().cpu_shares, 2048);
  EXPECT_EQ(host_.collected.size(), 1u);
  EXPECT_EQ(Tick(*sup_), -1) << "nothing to restart";
  EXPECT_EQ(host_.launches, 1);
}

TEST_F(SupervisorTest, OomKillIsRecorded) {
  ASSERT_TRUE(sup_->Deploy(Req("hog")));
  host_.Exit("hog", ExitStatus{137, 9, true, ""});
  auto v = sup_->Get("hog");
  ASSERT_TRUE(v->last_exit);
  EXPECT_TRUE(v->last_exit->oom_killed);
  auto events = store_->Events("hog", 10);
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().kind, "oom");
  EXPECT_NE(events->back().message.find("out of memory"), std::string::npos);
}

TEST_F(SupervisorTest, AutoRestartIsImmediateAfterStableRun) {
  ASSERT_TRUE(sup_->Deploy(Req("a", "autoRestart: true\n")));
  host_.now_ms += 60'000;
  host_.Exit("a", ExitStatus{1, 0, false, ""});
  EXPECT_EQ(sup_->Get("a")->state, ServiceState::kBackoff);
  EXPECT_GE(listener_.wakes, 1);
  EXPECT_EQ(sup_->Available().cpu_shares, 1536) << "a restarting service keeps its reservation";
  Tick(*sup_);
  auto v = sup_->Get("a");
  EXPECT_EQ(v->state, ServiceState::kRunning);
  EXPECT_EQ(v->restarts, 1);
  EXPECT_EQ(host_.launches, 2);
}

TEST_F(SupervisorTest, CrashLoopBacksOffExponentiallyAndResetsAfterStableRun) {
  ASSERT_TRUE(sup_->Deploy(Req("a", "autoRestart: true\nrestartPolicy: {initialDelay: 1s, maxDelay: 4s, "
                                    "stableAfter: 30s}\n")));
  std::vector<int64_t> delays;
  for (int i = 0; i < 5; ++i) {
    host_.now_ms += 100;  // fast failure
    host_.Exit("a", ExitStatus{1, 0, false, ""});
    auto v = sup_->Get("a");
    ASSERT_EQ(v->state, ServiceState::kBackoff);
    delays.push_back(v->next_start_ms - host_.now_ms);
    if (delays.back() > 0) {
      EXPECT_EQ(Tick(*sup_), delays.back()) << "not due yet";
      EXPECT_EQ(sup_->Get("a")->state, ServiceState::kBackoff);
      host_.now_ms += delays.back();
    }
    Tick(*sup_);
    ASSERT_EQ(sup_->Get("a")->state, ServiceState::kRunning);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{0, 1000, 2000, 4000, 4000}));
  host_.now_ms += 31'000;  // a stable run resets the count
  host_.Exit("a", ExitStatus{1, 0, false, ""});
  EXPECT_EQ(sup_->Get("a")->next_start_ms, host_.now_ms);
}

TEST_F(SupervisorTest, StopSendsSigtermRemovesAndReturnsReservation) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  ASSERT_TRUE(sup_->Stop("a").ok());
  EXPECT_FALSE(sup_->Get("a"));
  EXPECT_EQ(sup_->Available().cpu_shares, 2048);
  EXPECT_EQ(host_.removed.count("a"), 1u);
  ASSERT_EQ(host_.signals.size(), 1u);
  EXPECT_EQ(host_.signals[0].second, SIGTERM);
  EXPECT_FALSE(store_->Get("a")->has_value());
  EXPECT_EQ(listener_.removed, std::vector<std::string>{"a"});
  EXPECT_EQ(sup_->Stop("a").code(), Code::kNotFound);
}

TEST_F(SupervisorTest, StopEscalatesToSigkillAfterGracePeriod) {
  host_.ignore_sigterm = true;
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  ASSERT_TRUE(sup_->Stop("a").ok());
  ASSERT_EQ(host_.signals.size(), 2u);
  EXPECT_EQ(host_.signals[0].second, SIGTERM);
  EXPECT_EQ(host_.signals[1].second, SIGKILL);
  EXPECT_FALSE(sup_->Get("a"));
}

TEST_F(SupervisorTest, StopOfExitedServiceJustRemovesIt) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  host_.Exit("a", ExitStatus{0, 0, false, ""});
  ASSERT_TRUE(sup_->Stop("a").ok());
  EXPECT_TRUE(host_.signals.empty());
  EXPECT_FALSE(sup_->Get("a"));
}

TEST_F(SupervisorTest, RestartStartsANewInstance) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  int64_t first = sup_->Get("a")->pid;
  auto v = sup_->Restart("a");
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, ServiceState::kRunning);
  EXPECT_EQ(v->restarts, 1);
  EXPECT_NE(v->pid, first);
  EXPECT_EQ(host_.signals.at(0).second, SIGTERM);
  EXPECT_EQ(sup_->Available().cpu_shares, 1536);
  EXPECT_EQ(sup_->Restart("nope").error().code(), Code::kNotFound);
}

TEST_F(SupervisorTest, RestartOfExitedServiceReservesAgain) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  host_.Exit("a", ExitStatus{0, 0, false, ""});
  EXPECT_EQ(sup_->Available().cpu_shares, 2048);
  auto v = sup_->Restart("a");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->state, ServiceState::kRunning);
  EXPECT_EQ(sup_->Available().cpu_shares, 1536);
}

TEST_F(SupervisorTest, FailedLaunchLeavesNothingBehind) {
  host_.fail_launches = 1;
  auto v = sup_->Deploy(Req("a"));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("boom"), std::string::npos);
  EXPECT_FALSE(sup_->Get("a"));
  EXPECT_EQ(sup_->Available().cpu_shares, 2048);
  EXPECT_FALSE(store_->Get("a")->has_value());
  EXPECT_EQ(host_.removed.count("a"), 1u);
}

TEST_F(SupervisorTest, RecoverAdoptsLiveAndHandlesExitedServices) {
  ASSERT_TRUE(sup_->Deploy(Req("live")));
  ASSERT_TRUE(sup_->Deploy(Req("dead", "autoRestart: true\n")));
  ASSERT_TRUE(sup_->Deploy(Req("gone")));
  int64_t live_pid = host_.CurrentPid("live");
  // The daemon "dies": a new Supervisor over the same store. Meanwhile two monitors exited.
  sup_.reset();
  host_.alive.erase(host_.CurrentPid("dead"));
  host_.alive.erase(host_.CurrentPid("gone"));
  host_.sinks.clear();
  sup_ = MakeSupervisor();
  ASSERT_TRUE(sup_->Recover().ok());
  EXPECT_EQ(sup_->Get("live")->state, ServiceState::kRunning);
  EXPECT_EQ(sup_->Get("live")->monitor_pid, live_pid);
  EXPECT_EQ(host_.sinks.count("live"), 1u) << "adopted monitors are watched";
  EXPECT_EQ(sup_->Get("dead")->state, ServiceState::kBackoff);
  EXPECT_EQ(sup_->Get("gone")->state, ServiceState::kExited);
  EXPECT_EQ(sup_->Available().cpu_shares, 2048 - 512 - 512);
  Tick(*sup_);
  EXPECT_EQ(sup_->Get("dead")->state, ServiceState::kRunning);
  host_.Exit("live", ExitStatus{0, 0, false, ""});
  EXPECT_EQ(sup_->Get("live")->state, ServiceState::kExited) << "exits of adopted services are handled";
}

TEST_F(SupervisorTest, RefusedRedeployKeepsTheExitedService) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  host_.Exit("a", ExitStatus{1, 0, false, ""});
  ASSERT_TRUE(sup_->Deploy(Req("big", "", 2048, 100)));
  auto v = sup_->Deploy(Req("a"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), Code::kResourceExhausted);
  ASSERT_TRUE(sup_->Get("a")) << "the exited service is still known";
  EXPECT_EQ(sup_->Get("a")->state, ServiceState::kExited);
  EXPECT_TRUE(store_->Get("a")->has_value());
}

TEST_F(SupervisorTest, RedeployOverExitedServiceStartsAFreshLog) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  ASSERT_TRUE(store_->SetLogPosition("a", 3, 4096).ok());
  host_.Exit("a", ExitStatus{1, 0, false, ""});
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  EXPECT_EQ((*store_->Get("a"))->log_segment, 0);
  EXPECT_EQ((*store_->Get("a"))->log_offset, 0);
  EXPECT_EQ(listener_.removed, std::vector<std::string>{"a"}) << "the old instance's log is let go first";
}

TEST_F(SupervisorTest, HugeStopTimeoutStillWaitsForTheExit) {
  ASSERT_TRUE(sup_->Deploy(Req("a", "stopTimeout: 200000d\n")));
  ASSERT_TRUE(sup_->Stop("a").ok());
  ASSERT_EQ(host_.signals.size(), 1u) << "no SIGKILL: the wait must not overflow into an immediate timeout";
  EXPECT_EQ(host_.signals[0].second, SIGTERM);
}

TEST_F(SupervisorTest, RecoverEndsAServiceWhoseStoredConfigIsUnreadable) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  int64_t pid = host_.CurrentPid("a");
  auto rec = **store_->Get("a");
  rec.config_yaml = "cpuShares: [not, a, number]\n";
  ASSERT_TRUE(store_->Put(rec).ok());
  sup_.reset();
  host_.sinks.clear();
  sup_ = MakeSupervisor();
  ASSERT_TRUE(sup_->Recover().ok());
  EXPECT_FALSE(sup_->Get("a"));
  EXPECT_FALSE(store_->Get("a")->has_value());
  ASSERT_FALSE(host_.signals.empty());
  EXPECT_EQ(host_.signals.back(), std::make_pair(std::string("a"), SIGKILL));
  EXPECT_EQ(host_.removed.count("a"), 1u);
  EXPECT_EQ(host_.collected.back(), "a");
  (void)pid;
}

TEST_F(SupervisorTest, StoreKeepsEveryStateByItsName) {
  auto stored = [&](const std::string& name) { return (*store_->Get(name))->state; };
  ASSERT_TRUE(sup_->Deploy(Req("a", "autoRestart: true\nstopTimeout: 60s\n")));
  EXPECT_EQ(stored("a"), "running");
  host_.now_ms += 60'000;
  host_.Exit("a", ExitStatus{1, 0, false, ""});
  EXPECT_EQ(stored("a"), "backoff");
  Tick(*sup_);
  ASSERT_TRUE(sup_->Deploy(Req("b")));
  host_.Exit("b", ExitStatus{0, 0, false, ""});
  EXPECT_EQ(stored("b"), "exited");
  // Restart and Stop wait for the exit (SIGTERM is ignored here); the state is stored meanwhile.
  host_.ignore_sigterm = true;
  std::thread restart([&] { (void)sup_->Restart("a"); });
  EXPECT_TRUE(PollUntil([&] { return stored("a") == "restarting"; }));
  host_.Exit("a", ExitStatus{143, 15, false, ""});
  restart.join();
  EXPECT_EQ(stored("a"), "running");
  std::thread stop([&] { (void)sup_->Stop("a"); });
  EXPECT_TRUE(PollUntil([&] { return stored("a") == "stopping"; }));
  host_.Exit("a", ExitStatus{143, 15, false, ""});
  stop.join();
  EXPECT_FALSE(store_->Get("a")->has_value());
}

TEST_F(SupervisorTest, RecoverReadsEveryStoredStateName) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  auto rec = **store_->Get("a");
  for (ServiceState state : {ServiceState::kBackoff, ServiceState::kExited}) {
    rec.state = std::string(ServiceStateName(state));
    ASSERT_TRUE(store_->Put(rec).ok());
    sup_.reset();
    sup_ = MakeSupervisor();
    ASSERT_TRUE(sup_->Recover().ok());
    EXPECT_EQ(sup_->Get("a")->state, state);
  }
}

TEST_F(SupervisorTest, RecoverReadsAnUnknownStoredStateAsExited) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  auto rec = **store_->Get("a");
  rec.state = "paused";  // e.g. written by a newer spawnd
  ASSERT_TRUE(store_->Put(rec).ok());
  sup_.reset();
  host_.sinks.clear();
  sup_ = MakeSupervisor();
  ASSERT_TRUE(sup_->Recover().ok());
  auto v = sup_->Get("a");
  ASSERT_TRUE(v) << "the service is still known";
  EXPECT_EQ(v->state, ServiceState::kExited);
  EXPECT_EQ(host_.sinks.count("a"), 0u) << "nothing is adopted";
  EXPECT_TRUE(host_.collected.empty()) << "no exit is collected";
  EXPECT_TRUE(host_.signals.empty());
  EXPECT_EQ(Tick(*sup_), -1) << "no restart is scheduled";
  auto restarted = sup_->Restart("a");
  ASSERT_TRUE(restarted) << restarted.error().ToString();
  EXPECT_EQ(restarted->state, ServiceState::kRunning);
  EXPECT_EQ((*store_->Get("a"))->state, "running");
}

TEST_F(SupervisorTest, ConcurrentStopAndRestartAreSerialised) {
  ASSERT_TRUE(sup_->Deploy(Req("a")));
  std::thread t([&] { (void)sup_->Restart("a"); });
  Status st = sup_->Stop("a");
  t.join();
  host_.JoinAll();
  // Whatever the order, the service is either gone, or running with a fresh instance; never stuck busy.
  auto v = sup_->Get("a");
  if (v) {
    EXPECT_EQ(v->state, ServiceState::kRunning);
    EXPECT_TRUE(sup_->Stop("a").ok());
  } else {
    EXPECT_TRUE(st.ok());
  }
}

}  // namespace
}  // namespace sp
