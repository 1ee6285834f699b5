// Test-only helper (header-only, shared by the auth and router tests that talk to a real
// nats-server): TestClient is a small RAII wrapper over a cnats connection that connects with a
// .creds file (no reconnects), records the asynchronous errors the server reports (such as
// NATS_NOT_PERMITTED) and the close, so tests can wait for them.
//
// Not thread-safe (one test thread drives it); cnats calls its callbacks on its own threads, which
// are synchronized.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace sp::testing {

class TestClient {
 public:
  TestClient() = default;
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  // Closes the connection and waits for cnats's closed callback, the last
  // one it makes, so no callback runs on a destroyed client.
  ~TestClient() {
    if (js_) jsCtx_Destroy(js_);
    if (nc_) {
      natsConnection_Close(nc_);
      WaitClosed(std::chrono::milliseconds(5000));
      natsConnection_Destroy(nc_);
    }
  }

  // Connects (no reconnects) with the creds file at `creds_path`; with a
  // non-empty `inbox_prefix`, request/reply uses it.
  //
  // cnats 3.4.1 drops the nonce signature from CONNECT when its first byte is
  // 0 (fixed upstream in 3.8.0, nats.c#705), so about 1 connect in 256 fails
  // with an authorization error that has nothing to do with the creds. A
  // refused connect is therefore tried up to three times; a refusal the
  // server means (revoked, expired) repeats every time.
  natsStatus Connect(const std::string& url, const std::string& creds_path,
                     const std::string& inbox_prefix = "") {
    natsStatus s = NATS_CONNECTION_AUTH_FAILED;
    for (int attempt = 0; attempt < 3 && s == NATS_CONNECTION_AUTH_FAILED; ++attempt)
      s = ConnectOnce(url, creds_path, inbox_prefix);
    if (s == NATS_OK) s = natsConnection_JetStream(&js_, nc_, nullptr);
    return s;
  }

  natsConnection* nc() const { return nc_; }
  jsCtx* js() const { return js_; }

  // Waits until the error handler has seen `want`; true if it did in time.
  bool WaitForError(natsStatus want, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (natsStatus s : errors_)
        if (s == want) return true;
      return false;
    });
  }
  void ClearErrors() {
    std::lock_guard lock(mu_);
    errors_.clear();
  }
  // True once the connection was closed (by the server, for example).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closed_; });
  }
  // The connection's last error text ("" if none).
  std::string LastError() const {
    const char* text = nullptr;
    natsConnection_GetLastError(nc_, &text);
    return text ? text : "";
  }

 private:
  natsStatus ConnectOnce(const std::string& url, const std::string& creds_path,
                         const std::string& inbox_prefix) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
    if (s == NATS_OK) s = natsOptions_SetUserCredentialsFromFiles(opts, creds_path.c_str(), nullptr);
    if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts, &TestClient::OnError, this);
    if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, &TestClient::OnClosed, this);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
    if (s == NATS_OK && !inbox_prefix.empty())
      s = natsOptions_SetCustomInboxPrefix(opts, inbox_prefix.c_str());
    if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    return s;
  }

  static void OnError(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
    auto* self = static_cast<TestClient*>(closure);
    std::lock_guard lock(self->mu_);
    self->errors_.push_back(err);
    self->cv_.notify_all();
  }
  static void OnClosed(natsConnection*, void* closure) {
    auto* self = static_cast<TestClient*>(closure);
    std::lock_guard lock(self->mu_);
    self->closed_ = true;
    self->cv_.notify_all();
  }

  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<natsStatus> errors_;
  bool closed_ = false;
};

}  // namespace sp::testing
