// Bus: the NATS connection every Spawnpoint program uses (cnats underneath).
//
// Offers what Spawnpoint needs and no more: publish, request/reply with a
// timeout, subscriptions with a callback, and the JetStream pieces used for
// last-value state (ensure a stream, read the last message per subject under
// a filter, purge a subject). Subjects are NATS subjects; map URIs with
// uri/uri.h first.
//
// Thread safety: all methods may be called from any thread. Subscription
// handlers run on cnats' delivery threads, one message at a time per
// subscription; they must not block for long. A Bus owns its connection;
// destroying it closes the connection after flushing pending publishes.
//
// Implemented in bus.cc (connection, publish, request, subscriptions) and
// jetstream.cc (streams, last-value reads, purge, Follower).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/creds.h"
#include "util/duration.h"
#include "util/status.h"

typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __natsOptions natsOptions;
typedef struct __jsCtx jsCtx;

namespace sp {

struct BusMessage {
  std::string subject;
  std::string reply;
  std::string data;
};

struct BusOptions {
  std::string url;         // nats://host:port[,nats://...]
  std::string creds_file;  // .creds file (JWT + seed); empty = no credentials
  std::string name;        // connection name shown by the server
  Millis connect_timeout{5000};
  // Daemons keep reconnecting forever (the router may restart); tools give up.
  bool reconnect_forever = false;
  // Prefix of this connection's reply subjects; an entity may only read its
  // own inbox (auth/grant.h InboxPrefix). Empty: the library default.
  std::string inbox_prefix;
};

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  int64_t max_msgs_per_subject = -1;
  Millis max_age{0};  // 0 = unlimited
  bool memory = false;
  bool allow_direct = false;  // last message of a subject readable with $JS.API.DIRECT.GET.<stream>.<subject>
};

class Bus;
class Follower;

// An active subscription; unsubscribes when destroyed, and the destructor
// returns only once the handler has returned for the last time, so the
// handler may use objects that die right after the Subscription.
// REQUIRES: not destroyed from inside its own handler.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  friend class Bus;
  friend struct BusCallbacks;
  Subscription() = default;
  natsSubscription* sub_ = nullptr;
  std::function<void(BusMessage)> handler_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;  // GUARDED_BY(mu_): the library will not call the handler again
};

class Bus {
 public:
  using Handler = std::function<void(BusMessage)>;

  static Result<std::unique_ptr<Bus>> Connect(const BusOptions& opts);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  Status Publish(std::string_view subject, std::string_view data);
  // Sends a request and waits for the first reply. Unavailable if nobody
  // listens on the subject, DeadlineExceeded on timeout, PermissionDenied if
  // the router refused the publish.
  Result<BusMessage> Request(std::string_view subject, std::string_view data, Millis timeout);
  // Same, for a long operation that shows signs of life: the timeout counts from the later of the
  // request and `last_activity()` (a steady-clock time the caller updates, e.g. on progress messages).
  using ActivityClock = std::function<std::chrono::steady_clock::time_point()>;
  Result<BusMessage> Request(std::string_view subject, std::string_view data, Millis timeout,
                             const ActivityClock& last_activity);
  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view subject, Handler handler);
  // Round trip to the server: every earlier publish has been processed.
  Status Flush(Millis timeout);
  bool Connected() const;

  // JetStream: creates the stream, or updates it to `spec` if it differs.
  Status EnsureStream(const StreamSpec& spec);
  // The last message of every subject matching one of `filters` in `stream`
  // (each filter must be a subset of one of the stream's subjects), within
  // `timeout` in all.
  Result<std::vector<BusMessage>> LastPerSubject(std::string_view stream, const std::vector<std::string>& filters,
                                                 Millis timeout);
  // Removes every message of `subject` from `stream`.
  Status PurgeSubject(std::string_view stream, std::string_view subject);
  // Delivers every message stored in `stream` under `filter` from now on, in
  // order, each once, across reconnects and router restarts (see Follower).
  Result<std::unique_ptr<Follower>> Follow(std::string_view stream, std::string_view filter, Handler handler);

  // Most recent asynchronous error reported by the server for this
  // connection (e.g. a permissions violation), or empty.
  std::string LastAsyncError() const;

 private:
  Bus() = default;
  friend struct BusCallbacks;
  friend class Follower;
  Result<BusMessage> RawRequest(std::string_view subject, std::string_view data, Millis timeout,
                                const ActivityClock& last_activity = {});
  Result<std::vector<BusMessage>> LastPerSubjectOne(std::string_view stream, std::string_view filter,
                                                    std::chrono::steady_clock::time_point deadline);
  // Sequence of the last message stored under `subject` in `stream`; 0 if none.
  Result<uint64_t> LastSequence(std::string_view stream, std::string_view subject, Millis timeout);

  // A fresh subject under this connection's inbox prefix.
  std::string NewInbox() const;

  std::unique_ptr<ClientCreds> creds_;  // before nc_: the connection's callbacks use it
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::string inbox_prefix_ = "_INBOX";
  mutable std::mutex mu_;
  std::string last_async_error_;  // GUARDED_BY(mu_)
  uint64_t async_errors_ = 0;     // GUARDED_BY(mu_): how many so far, so a waiter sees new ones
};

}  // namespace sp

namespace sp {

// Follows a JetStream stream from a point on. A push consumer (ack none,
// idle heartbeat 1 s) delivers the messages; their stream sequence numbers
// drop duplicates. When neither a message nor a heartbeat arrived for
// 3 s (the router restarted, the connection broke), a watchdog re-creates
// the consumer from the last sequence seen, so nothing stored is skipped.
// Handlers run on a library thread, one at a time, in stream order.
// Destroying the Follower stops delivery and deletes the consumer.
// REQUIRES: destroyed before the Bus that made it.
class Follower {
 public:
  ~Follower();
  // Waits until everything stored under the filter so far was delivered
  // (or `timeout` passed). REQUIRES: the filter is a single subject.
  Status CatchUp(Millis timeout);
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

 private:
  friend class Bus;
  Follower(Bus* bus, std::string stream, std::string filter, Bus::Handler handler);
  Status CreateConsumer(bool initial);
  void OnMessage(BusMessage m);
  void Watchdog();

  Bus* bus_;
  const std::string stream_, filter_, inbox_;
  Bus::Handler handler_;
  std::unique_ptr<Subscription> sub_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t last_seq_ = 0;                            // GUARDED_BY(mu_)
  std::string consumer_;                             // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point activity_;   // GUARDED_BY(mu_)
  bool stop_ = false;                                // GUARDED_BY(mu_)
  std::thread watchdog_;
};

}  // namespace sp
