// Bus implementation over cnats, the JetStream half: ensuring a stream, the last-value read (a
// short-lived push consumer with deliver policy "last_per_subject", read until the pending count in
// the JetStream ack subject reaches zero), purging a subject, and the Follower (see bus.h).
// Consumers are made with plain requests on the $JS.API subjects a grant can allow.
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "bus/bus.h"
#include "bus/nats_glue.h"

namespace sp {
namespace {

using bus_internal::FromNats;
using bus_internal::NewToken;
using bus_internal::ToMessage;

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

// Consumers are created on "$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>": the form a grant can
// allow for exactly the subjects it covers (auth/grant.h), unlike the bare ".CREATE.<stream>".
std::string ConsumerCreateSubject(std::string_view stream, const std::string& name, std::string_view filter) {
  return "$JS.API.CONSUMER.CREATE." + std::string(stream) + "." + name + "." + std::string(filter);
}

}  // namespace

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
