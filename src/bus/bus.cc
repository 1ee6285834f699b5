// Bus implementation over cnats. Requests use the connection's shared reply
// subscription; the last-value read creates a short-lived push consumer with
// deliver policy "last_per_subject" and reads until the pending count in the
// JetStream ack subject reaches zero.
#include "bus/bus.h"

#include <nats/nats.h>

#include <chrono>
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

void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* handler = static_cast<std::function<void(BusMessage)>*>(closure);
  BusMessage m = ToMessage(msg);
  natsMsg_Destroy(msg);
  (*handler)(std::move(m));
}

// "$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>" -> pending
int64_t PendingFromAckSubject(const std::string& reply) {
  auto pos = reply.rfind('.');
  if (pos == std::string::npos) return -1;
  try {
    return std::stoll(reply.substr(pos + 1));
  } catch (...) {
    return -1;
  }
}

std::string NewInbox() {
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);
  std::string s = inbox;
  natsInbox_Destroy(inbox);
  return s;
}

struct NatsInit {
  NatsInit() { nats_Open(-1); }
};

}  // namespace

Subscription::~Subscription() {
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

struct BusCallbacks {
  static void OnAsyncError(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
    auto* bus = static_cast<Bus*>(closure);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    std::lock_guard<std::mutex> lock(bus->mu_);
    bus->last_async_error_ = text && *text ? text : natsStatus_GetText(err);
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
  if (opts.reconnect_forever) {
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 250);
    natsOptions_SetRetryOnFailedConnect(o, true, nullptr, nullptr);
  }
  if (!opts.creds_file.empty()) {
    natsStatus s = natsOptions_SetUserCredentialsFromFiles(o, opts.creds_file.c_str(), nullptr);
    if (s != NATS_OK) return Err(FromNats(s, "load credentials " + opts.creds_file));
  }
  natsStatus s = natsConnection_Connect(&bus->nc_, o);
  if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;  // retrying in the background
  if (s != NATS_OK) return Err(FromNats(s, "connect to router " + opts.url));
  s = natsConnection_JetStream(&bus->js_, bus->nc_, nullptr);
  if (s != NATS_OK) return Err(FromNats(s, "JetStream context"));
  return bus;
}

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

Result<BusMessage> Bus::RawRequest(std::string_view subject, std::string_view data, Millis timeout) {
  std::string subj(subject);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, nc_, subj.c_str(), data.data(), static_cast<int>(data.size()),
                                        timeout.count());
  if (s != NATS_OK) {
    std::string async = LastAsyncError();
    if (s == NATS_TIMEOUT && async.find("Permissions Violation") != std::string::npos &&
        async.find(subj) != std::string::npos) {
      return Err(Status::PermissionDenied("the router refused publishing to " + subj + ": " + async));
    }
    return Err(FromNats(s, "request on " + subj));
  }
  BusMessage m = ToMessage(reply);
  natsMsg_Destroy(reply);
  return m;
}

Result<BusMessage> Bus::Request(std::string_view subject, std::string_view data, Millis timeout) {
  return RawRequest(subject, data, timeout);
}

Result<std::unique_ptr<Subscription>> Bus::Subscribe(std::string_view subject, Handler handler) {
  std::unique_ptr<Subscription> sub(new Subscription());
  sub->handler_ = std::move(handler);
  std::string subj(subject);
  natsStatus s = natsConnection_Subscribe(&sub->sub_, nc_, subj.c_str(), &OnMessage, &sub->handler_);
  if (s != NATS_OK) return Err(FromNats(s, "subscribe " + subj));
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
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(nullptr, js_, &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) s = js_UpdateStream(nullptr, js_, &cfg, nullptr, &jerr);
  return FromNats(s, "ensure stream " + spec.name);
}

Result<std::vector<BusMessage>> Bus::LastPerSubject(std::string_view stream, std::string_view filter,
                                                    Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string inbox = NewInbox();
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_SubscribeSync(&sub, nc_, inbox.c_str());
  if (s != NATS_OK) return Err(FromNats(s, "subscribe " + inbox));
  std::unique_ptr<natsSubscription, void (*)(natsSubscription*)> guard(sub, natsSubscription_Destroy);
  natsSubscription_SetPendingLimits(sub, -1, -1);

  nlohmann::json req = {{"stream_name", stream},
                        {"config",
                         {{"deliver_subject", inbox},
                          {"deliver_policy", "last_per_subject"},
                          {"ack_policy", "none"},
                          {"filter_subject", filter},
                          {"mem_storage", true},
                          {"num_replicas", 1},
                          {"inactive_threshold", int64_t{5'000'000'000}}}}};
  SP_ASSIGN_OR_RETURN(BusMessage resp, RawRequest("$JS.API.CONSUMER.CREATE." + std::string(stream), req.dump(), timeout));
  nlohmann::json info = nlohmann::json::parse(resp.data, nullptr, false);
  if (info.is_discarded()) return Err(Status::Internal("unreadable JetStream reply"));
  if (info.contains("error")) {
    std::string desc = info["error"].value("description", "error");
    if (info["error"].value("code", 0) == 404) return std::vector<BusMessage>{};  // no stream yet: nothing stored
    return Err(Status::Internal("read " + std::string(stream) + ": " + desc));
  }
  std::string consumer = info.value("name", "");
  int64_t total = info.value("num_pending", int64_t{0});
  if (info.contains("delivered")) total += info["delivered"].value("consumer_seq", int64_t{0});

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
  if (!consumer.empty()) {
    std::string del = "$JS.API.CONSUMER.DELETE." + std::string(stream) + "." + consumer;
    natsConnection_PublishRequest(nc_, del.c_str(), NewInbox().c_str(), "", 0);  // best effort, no wait
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
