// Bus implementation over cnats, the connection half: connecting (with our own credential
// callbacks), publish, request/reply on a per-request inbox, and subscriptions. The JetStream half
// (streams, last-value reads, the Follower) is in jetstream.cc.
#include "bus/bus.h"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "bus/nats_glue.h"

namespace sp {
namespace {

using bus_internal::FromNats;
using bus_internal::NewToken;
using bus_internal::ToMessage;

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

}  // namespace sp
