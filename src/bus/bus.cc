// Bus implementation over cnats. Requests use the connection's shared reply
// subscription; the last-value read creates a short-lived push consumer with
// deliver policy "last_per_subject" and reads until the pending count in the
// JetStream ack subject reaches zero.
#include "bus/bus.h"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace sp {
namespace {

Status FromNats(natsStatus s, std::string_view what) {
  if (s == NATS_OK) return Status::Ok();
  std::string msg = std::string(what) + ": " + natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && std::strstr(msg.c_str(), last) == nullptr) msg += " (" + std::string(last) + ")";
  switch (s) {
    case NATS_TIMEOUT:
      return Status::DeadlineExceeded(msg);
    case NATS_NO_RESPONDERS:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
      return Status::Unavailable(msg);
    case NATS_NOT_PERMITTED:
    case NATS_CONNECTION_AUTH_FAILED:
      return Status::PermissionDenied(msg);
    default:
      return Status::Internal(msg);
  }
}

BusMessage ToMessage(natsMsg* m) {
  BusMessage out;
  out.subject = natsMsg_GetSubject(m);
  const char* reply = natsMsg_GetReply(m);
  if (reply) out.reply = reply;
  out.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  return out;
}


// Token `index` (from the end, 0 = last) of a JetStream ack subject
// "$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>", as a number; -1 if absent.
int64_t AckToken(const std::string& reply, int index_from_end) {
  size_t end = reply.size();
  for (int i = 0; i < index_from_end; ++i) {
    end = reply.rfind('.', end - 1);
    if (end == std::string::npos || end == 0) return -1;
  }
  size_t start = reply.rfind('.', end - 1);
  if (start == std::string::npos) return -1;
  try {
    return std::stoll(reply.substr(start + 1, end - start - 1));
  } catch (...) {
    return -1;
  }
}
int64_t JsonInt(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}
std::string JsonString(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int64_t PendingFromAckSubject(const std::string& reply) { return AckToken(reply, 0); }
int64_t StreamSeqFromAckSubject(const std::string& reply) { return AckToken(reply, 3); }

// A random token for consumer names and inbox suffixes.
std::string NewToken() {
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);  // "_INBOX.<nuid>"
  std::string s = inbox;
  natsInbox_Destroy(inbox);
  return s.substr(s.rfind('.') + 1);
}

// Consumers are created on "$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>": the form a grant can
// allow for exactly the subjects it covers (auth/grant.h), unlike the bare ".CREATE.<stream>".
std::string ConsumerCreateSubject(std::string_view stream, const std::string& name, std::string_view filter) {
  return "$JS.API.CONSUMER.CREATE." + std::string(stream) + "." + name + "." + std::string(filter);
}

struct NatsInit {
  NatsInit() { nats_Open(-1); }
};

}  // namespace

Subscription::~Subscription() {
  if (!sub_) return;
  if (natsSubscription_Unsubscribe(sub_) == NATS_OK) {
    std::unique_lock<std::mutex> lock(mu_);
    // Bounded: if the connection is already gone the library may never call back.
    done_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return done_; });
  }
  natsSubscription_Destroy(sub_);
}

struct BusCallbacks {
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* sub = static_cast<Subscription*>(closure);
    BusMessage m = ToMessage(msg);
    natsMsg_Destroy(msg);
    sub->handler_(std::move(m));
  }
  static void OnComplete(void* closure) {
    auto* sub = static_cast<Subscription*>(closure);
    std::lock_guard<std::mutex> lock(sub->mu_);
    sub->done_ = true;
    sub->done_cv_.notify_all();
  }

  // The credential callbacks run on the connecting thread and on reconnects; the closure is the
  // Bus's ClientCreds, which outlives the connection. cnats frees what they return.
  static natsStatus OnUserJwt(char** jwt, char** /*error_text*/, void* closure) {
    *jwt = ::strdup(static_cast<const ClientCreds*>(closure)->jwt.c_str());
    return *jwt ? NATS_OK : NATS_NO_MEMORY;
  }
  static natsStatus OnSignNonce(char** /*error_text*/, unsigned char** signature, int* length, const char* nonce,
                                void* closure) {
    std::string sig = static_cast<const ClientCreds*>(closure)->key.Sign(nonce);
    *signature = static_cast<unsigned char*>(::malloc(sig.size()));
    if (!*signature) return NATS_NO_MEMORY;
    std::memcpy(*signature, sig.data(), sig.size());
    *length = static_cast<int>(sig.size());
    return NATS_OK;
  }

  static void OnAsyncError(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
    auto* bus = static_cast<Bus*>(closure);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    std::lock_guard<std::mutex> lock(bus->mu_);
    bus->last_async_error_ = text && *text ? text : natsStatus_GetText(err);
    bus->async_errors_++;
  }
};

Result<std::unique_ptr<Bus>> Bus::Connect(const BusOptions& opts) {
  static NatsInit init;
  std::unique_ptr<Bus> bus(new Bus());
  natsOptions* o = nullptr;
  if (natsOptions_Create(&o) != NATS_OK) return Err(Status::Internal("nats options"));
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> guard(o, natsOptions_Destroy);
  natsOptions_SetURL(o, opts.url.c_str());
  natsOptions_SetSendAsap(o, true);
  natsOptions_SetTimeout(o, opts.connect_timeout.count());
  natsOptions_SetErrorHandler(o, &BusCallbacks::OnAsyncError, bus.get());
  if (!opts.name.empty()) natsOptions_SetName(o, opts.name.c_str());
  if (!opts.inbox_prefix.empty()) natsOptions_SetCustomInboxPrefix(o, opts.inbox_prefix.c_str());
  if (opts.reconnect_forever) {
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetRetryOnFailedConnect(o, true, nullptr, nullptr);
  } else {
    natsOptions_SetMaxReconnect(o, 240);  // a minute of trying, then give up
  }
  natsOptions_SetReconnectWait(o, 250);
  if (!opts.creds_file.empty()) {
    // Our own reading and signing (libsodium) instead of cnats' file loader: cnats 3.4 signs with a
    // slow portable ed25519, about 2 ms of every short-lived spawnctl.
    SP_ASSIGN_OR_RETURN(ClientCreds creds, ReadClientCreds(opts.creds_file));
    bus->creds_ = std::make_unique<ClientCreds>(std::move(creds));
    natsStatus s = natsOptions_SetUserCredentialsCallbacks(o, &BusCallbacks::OnUserJwt, bus->creds_.get(),
                                                            &BusCallbacks::OnSignNonce, bus->creds_.get());
    if (s != NATS_OK) return Err(FromNats(s, "credentials " + opts.creds_file));
  }
  if (!opts.inbox_prefix.empty()) bus->inbox_prefix_ = opts.inbox_prefix;
  natsStatus s = natsConnection_Connect(&bus->nc_, o);
  // cnats 3.4.1 drops a nonce signature whose first byte is 0 when it encodes it (fixed upstream in
  // 3.8.0), whoever signed, so about one connect in 256 is refused as unauthorised: a new connect
  // signs a new nonce.
  for (int retry = 0; retry < 3 && s == NATS_CONNECTION_AUTH_FAILED; ++retry) s = natsConnection_Connect(&bus->nc_, o);
  if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;  // retrying in the background
  if (s != NATS_OK) return Err(FromNats(s, "connect to router " + opts.url));
  s = natsConnection_JetStream(&bus->js_, bus->nc_, nullptr);
  if (s != NATS_OK) return Err(FromNats(s, "JetStream context"));
  return bus;
}

std::string Bus::NewInbox() const { return inbox_prefix_ + "." + NewToken(); }

Bus::~Bus() {
  if (js_) jsCtx_Destroy(js_);
  if (nc_) {
    natsConnection_FlushTimeout(nc_, 1000);
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

bool Bus::Connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

std::string Bus::LastAsyncError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_async_error_;
}

Status Bus::Publish(std::string_view subject, std::string_view data) {
  std::string subj(subject);
  return FromNats(natsConnection_Publish(nc_, subj.c_str(), data.data(), static_cast<int>(data.size())),
                  "publish " + subj);
}

// A request on its own inbox subscription, so that a refusal by the router
// (reported asynchronously as a permissions violation naming the subject)
// ends the wait at once instead of after the whole timeout.
Result<BusMessage> Bus::RawRequest(std::string_view subject, std::string_view data, Millis timeout,
                                   const ActivityClock& last_activity) {
  std::string subj(subject);
  std::string inbox = NewInbox();
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_SubscribeSync(&sub, nc_, inbox.c_str());
  if (s != NATS_OK) return Err(FromNats(s, "subscribe " + inbox));
  std::unique_ptr<natsSubscription, void (*)(natsSubscription*)> guard(sub, natsSubscription_Destroy);
  natsSubscription_AutoUnsubscribe(sub, 1);
  uint64_t errors_before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    errors_before = async_errors_;
  }
  s = natsConnection_PublishRequest(nc_, subj.c_str(), inbox.c_str(), data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) return Err(FromNats(s, "request on " + subj));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    natsMsg* reply = nullptr;
    s = natsSubscription_NextMsg(&reply, sub, 25);
    if (s == NATS_OK) {
      bool no_responders = natsMsg_IsNoResponders(reply);
      BusMessage m = ToMessage(reply);
      natsMsg_Destroy(reply);
      if (no_responders) return Err(Status::Unavailable("request on " + subj + ": no responders"));
      return m;
    }
    if (s != NATS_TIMEOUT) return Err(FromNats(s, "request on " + subj));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (async_errors_ != errors_before && last_async_error_.find("Permissions Violation") != std::string::npos &&
          last_async_error_.find("\"" + subj + "\"") != std::string::npos)
        return Err(Status::PermissionDenied("the router refused publishing to " + subj + ": " + last_async_error_));
    }
    if (last_activity) deadline = std::max(deadline, last_activity() + timeout);
    if (std::chrono::steady_clock::now() >= deadline)
      return Err(Status::DeadlineExceeded("request on " + subj + ": no reply within " + FormatDuration(timeout)));
  }
}

Result<BusMessage> Bus::Request(std::string_view subject, std::string_view data, Millis timeout) {
  return RawRequest(subject, data, timeout);
}

Result<BusMessage> Bus::Request(std::string_view subject, std::string_view data, Millis timeout,
                                const ActivityClock& last_activity) {
  return RawRequest(subject, data, timeout, last_activity);
}

Result<std::unique_ptr<Subscription>> Bus::Subscribe(std::string_view subject, Handler handler) {
  std::unique_ptr<Subscription> sub(new Subscription());
  sub->handler_ = std::move(handler);
  std::string subj(subject);
  natsStatus s = natsConnection_Subscribe(&sub->sub_, nc_, subj.c_str(), &BusCallbacks::OnMessage, sub.get());
  if (s != NATS_OK) return Err(FromNats(s, "subscribe " + subj));
  natsSubscription_SetOnCompleteCB(sub->sub_, &BusCallbacks::OnComplete, sub.get());
  natsSubscription_SetPendingLimits(sub->sub_, 1 << 20, 256 << 20);
  return sub;
}

Status Bus::Flush(Millis timeout) { return FromNats(natsConnection_FlushTimeout(nc_, timeout.count()), "flush"); }

Status Bus::EnsureStream(const StreamSpec& spec) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  std::vector<const char*> subjects;
  for (const auto& s : spec.subjects) subjects.push_back(s.c_str());
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.MaxMsgsPerSubject = spec.max_msgs_per_subject;
  cfg.MaxAge = std::chrono::duration_cast<std::chrono::nanoseconds>(spec.max_age).count();
  cfg.Storage = spec.memory ? js_MemoryStorage : js_FileStorage;
  cfg.AllowDirect = spec.allow_direct;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(nullptr, js_, &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) s = js_UpdateStream(nullptr, js_, &cfg, nullptr, &jerr);
  return FromNats(s, "ensure stream " + spec.name);
}

Result<std::vector<BusMessage>> Bus::LastPerSubjectOne(std::string_view stream, std::string_view filter,
                                                       std::chrono::steady_clock::time_point deadline) {
  auto timeout = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
  if (timeout.count() <= 0) return Err(Status::DeadlineExceeded("reading " + std::string(stream) + " timed out"));
  std::string inbox = NewInbox();
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_SubscribeSync(&sub, nc_, inbox.c_str());
  if (s != NATS_OK) return Err(FromNats(s, "subscribe " + inbox));
  std::unique_ptr<natsSubscription, void (*)(natsSubscription*)> guard(sub, natsSubscription_Destroy);
  natsSubscription_SetPendingLimits(sub, -1, -1);

  std::string name = NewToken();
  nlohmann::json req = {{"stream_name", stream},
                        {"config",
                         {{"name", name},
                          {"deliver_subject", inbox},
                          {"deliver_policy", "last_per_subject"},
                          {"ack_policy", "none"},
                          {"filter_subject", filter},
                          {"mem_storage", true},
                          {"num_replicas", 1},
                          {"inactive_threshold", int64_t{2'000'000'000}}}}};
  SP_ASSIGN_OR_RETURN(BusMessage resp, RawRequest(ConsumerCreateSubject(stream, name, filter), req.dump(), timeout));
  nlohmann::json info = nlohmann::json::parse(resp.data, nullptr, false);
  if (info.is_discarded()) return Err(Status::Internal("unreadable JetStream reply"));
  if (!info.is_object()) return Err(Status::Internal("unreadable JetStream reply"));
  if (info.contains("error")) {
    const auto& e = info["error"];
    std::string desc = e.is_object() && e.contains("description") && e["description"].is_string()
                           ? e["description"].get<std::string>()
                           : "error";
    if (e.is_object() && e.contains("code") && e["code"] == 404) return std::vector<BusMessage>{};  // no stream yet
    return Err(Status::Internal("read " + std::string(stream) + ": " + desc));
  }
  int64_t total = JsonInt(info, "num_pending");
  if (info.contains("delivered") && info["delivered"].is_object()) total += JsonInt(info["delivered"], "consumer_seq");

  std::vector<BusMessage> out;
  while (static_cast<int64_t>(out.size()) < total) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return Err(Status::DeadlineExceeded("reading " + std::string(stream) + " timed out"));
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, left);
    if (s != NATS_OK) return Err(FromNats(s, "read " + std::string(stream)));
    BusMessage bm = ToMessage(m);
    natsMsg_Destroy(m);
    if (bm.reply.rfind("$JS.ACK.", 0) != 0) continue;  // flow control or heartbeat
    int64_t pending = PendingFromAckSubject(bm.reply);
    bm.reply.clear();
    out.push_back(std::move(bm));
    if (pending == 0) break;
  }
  // The consumer is not deleted: a grant does not allow that (it would allow deleting any consumer of
  // the stream); it goes away by itself once nobody listens (inactive_threshold).
  return out;
}

Result<std::vector<BusMessage>> Bus::LastPerSubject(std::string_view stream, const std::vector<std::string>& filters,
                                                    Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<BusMessage> out;
  for (const std::string& f : filters) {
    SP_ASSIGN_OR_RETURN(auto part, LastPerSubjectOne(stream, f, deadline));
    for (auto& m : part) out.push_back(std::move(m));
  }
  return out;
}

Status Bus::PurgeSubject(std::string_view stream, std::string_view subject) {
  jsOptions o;
  jsOptions_Init(&o);
  std::string subj(subject);
  o.Stream.Purge.Subject = subj.c_str();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  std::string name(stream);
  return FromNats(js_PurgeStream(js_, name.c_str(), &o, &jerr), "purge " + subj);
}

}  // namespace sp

namespace sp {

constexpr auto kFollowStall = std::chrono::seconds(3);

Result<std::unique_ptr<Follower>> Bus::Follow(std::string_view stream, std::string_view filter, Handler handler) {
  std::unique_ptr<Follower> f(new Follower(this, std::string(stream), std::string(filter), std::move(handler)));
  Follower* raw = f.get();
  SP_ASSIGN_OR_RETURN(f->sub_, Subscribe(f->inbox_, [raw](BusMessage m) { raw->OnMessage(std::move(m)); }));
  SP_RETURN_IF_ERROR(f->CreateConsumer(true));
  f->watchdog_ = std::thread([raw] { raw->Watchdog(); });
  return f;
}

Follower::Follower(Bus* bus, std::string stream, std::string filter, Bus::Handler handler)
    : bus_(bus),
      stream_(std::move(stream)),
      filter_(std::move(filter)),
      inbox_(bus->NewInbox()),
      handler_(std::move(handler)),
      activity_(std::chrono::steady_clock::now()) {}

Follower::~Follower() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  sub_.reset();  // the consumer then expires (inactive_threshold): a grant may not delete consumers
}

Status Follower::CreateConsumer(bool initial) {
  uint64_t start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start = last_seq_ + 1;
  }
  // A stalled consumer that still exists keeps delivering into the same inbox until it expires;
  // sequence numbers drop what it sends twice.
  std::string name = NewToken();
  nlohmann::json cfg = {{"name", name},
                        {"deliver_subject", inbox_},
                        {"ack_policy", "none"},
                        {"filter_subject", filter_},
                        {"idle_heartbeat", int64_t{1'000'000'000}},
                        {"inactive_threshold", int64_t{5'000'000'000}},
                        {"mem_storage", true},
                        {"num_replicas", 1}};
  if (initial) {
    cfg["deliver_policy"] = "new";
  } else {
    cfg["deliver_policy"] = "by_start_sequence";
    cfg["opt_start_seq"] = start;
  }
  nlohmann::json req = {{"stream_name", stream_}, {"config", cfg}};
  SP_ASSIGN_OR_RETURN(BusMessage resp,
                      bus_->RawRequest(ConsumerCreateSubject(stream_, name, filter_), req.dump(), Millis(5000)));
  nlohmann::json info = nlohmann::json::parse(resp.data, nullptr, false);
  if (!info.is_object()) return Status::Internal("unreadable JetStream reply");
  if (info.contains("error")) return Status::Unavailable("follow " + stream_ + ": " + info["error"].dump());
  std::lock_guard<std::mutex> lock(mu_);
  consumer_ = JsonString(info, "name");
  activity_ = std::chrono::steady_clock::now();
  if (initial && info.contains("delivered") && info["delivered"].is_object()) {
    // With deliver policy "new" the consumer starts after the stream's last message.
    last_seq_ = std::max<uint64_t>(last_seq_, static_cast<uint64_t>(JsonInt(info["delivered"], "stream_seq")));
  }
  return Status::Ok();
}

// Direct get ("$JS.API.DIRECT.GET.<stream>.<subject>"), which a grant can allow per subject.
Result<uint64_t> Bus::LastSequence(std::string_view stream, std::string_view subject, Millis timeout) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = timeout.count();
  jsDirectGetMsgOptions dg;
  jsDirectGetMsgOptions_Init(&dg);
  std::string subj(subject), name(stream);
  dg.LastBySubject = subj.c_str();
  natsMsg* m = nullptr;
  natsStatus s = js_DirectGetMsg(&m, js_, name.c_str(), &o, &dg);
  if (s == NATS_NOT_FOUND) return uint64_t{0};  // nothing stored under the subject
  if (s != NATS_OK) return Err(FromNats(s, "direct get " + subj));
  const char* seq = nullptr;
  uint64_t out = 0;
  if (natsMsgHeader_Get(m, "Nats-Sequence", &seq) == NATS_OK && seq) out = std::strtoull(seq, nullptr, 10);
  natsMsg_Destroy(m);
  return out;
}

Status Follower::CatchUp(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  SP_ASSIGN_OR_RETURN(uint64_t last, bus_->LastSequence(stream_, filter_, timeout));
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return last_seq_ >= last; }))
    return Status::DeadlineExceeded("log not caught up");
  return Status::Ok();
}

void Follower::OnMessage(BusMessage m) {
  int64_t seq = m.reply.rfind("$JS.ACK.", 0) == 0 ? StreamSeqFromAckSubject(m.reply) : -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    activity_ = std::chrono::steady_clock::now();
    if (seq <= 0) return;  // idle heartbeat
    if (static_cast<uint64_t>(seq) <= last_seq_) return;  // already delivered (by an earlier consumer)
  }
  m.reply.clear();
  handler_(std::move(m));
  std::lock_guard<std::mutex> lock(mu_);
  last_seq_ = std::max(last_seq_, static_cast<uint64_t>(seq));
  cv_.notify_all();
}

void Follower::Watchdog() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(500));
    if (stop_) return;
    if (std::chrono::steady_clock::now() - activity_ < kFollowStall) continue;
    lock.unlock();
    (void)CreateConsumer(false);  // fails while the router is away; retried on the next tick
    lock.lock();
    activity_ = std::chrono::steady_clock::now();
  }
}

}  // namespace sp
