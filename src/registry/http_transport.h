// One HTTP request over libcurl, with the safety settings every registry request needs, and
// nothing registry-specific: the RegistryClient builds on it (auth, redirects, retries).
//
// Each Perform is a single request: redirects are NOT followed here (the caller decides what a
// redirect may carry), only http and https are allowed, TLS uses libcurl's defaults (system CAs,
// peer and host verified), a connection attempt is bounded by `connect_timeout`, and a request
// during which no byte moves for `stall_timeout` (waiting for the answer included) is aborted.
// The body of a 2xx response streams into a BodySink; other bodies are kept (first 64 KiB) for
// error messages. Failures are classified as retryable (connection refused or dropped, timeouts,
// stalls, truncated transfers) or not (TLS failures, the sink refusing data).
//
// An HttpTransport keeps a small pool of idle curl handles so connections are reused; it is
// thread-safe (any number of concurrent Performs). curl_global_init runs once per process.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp::registry_internal {

struct HttpRequest {
  std::string method = "GET";  // "GET", "HEAD" or "POST"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POST body (application/x-www-form-urlencoded)
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case, in order received
  std::string error_body;                                    // the first 64 KiB of a non-2xx body
  std::string redirect_url;                                  // the absolute target of a 3xx Location
  // The first value of a header (name case-insensitive), or "".
  std::string Header(std::string_view name) const;
  std::vector<std::string> Headers(std::string_view name) const;
};

// Receives the body of a 2xx response. Begin is called once, when the headers are complete and
// before any byte of the body. A non-OK status aborts the transfer; a kUnavailable status marks the
// failure retryable.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Begin(const HttpResponse& head) = 0;
  virtual Status Write(std::string_view chunk) = 0;
};

// Collects a body in memory, refusing more than `max_bytes` (InvalidArgument naming `what`).
class StringSink : public BodySink {
 public:
  StringSink(size_t max_bytes, std::string what) : max_bytes_(max_bytes), what_(std::move(what)) {}
  Status Begin(const HttpResponse&) override {
    data_.clear();  // a retried request starts again
    return Status::Ok();
  }
  Status Write(std::string_view chunk) override {
    if (chunk.size() > max_bytes_ - data_.size())
      return Status::InvalidArgument(what_ + " is larger than " + std::to_string(max_bytes_) +
                                     " bytes; refusing it");
    data_.append(chunk);
    return Status::Ok();
  }
  std::string& data() { return data_; }

 private:
  size_t max_bytes_;
  std::string what_;
  std::string data_;
};

// The result of one request: either a complete response (any HTTP status) or a failure.
struct HttpOutcome {
  Status error;
  bool retryable = false;
  HttpResponse response;
};

struct TransportOptions {
  Millis connect_timeout{10000};
  Millis stall_timeout{30000};
  std::string user_agent;
};

class HttpTransport {
 public:
  explicit HttpTransport(TransportOptions opts);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // `sink` may be null (2xx bodies are then discarded).
  HttpOutcome Perform(const HttpRequest& request, BodySink* sink);

 private:
  void* Acquire();
  void Release(void* handle);

  TransportOptions opts_;
  std::mutex mu_;
  std::vector<void*> idle_;  // GUARDED_BY(mu_): CURL* handles
};

struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // lower case
  std::string port;    // explicit or the scheme's default
  bool explicit_port = false;
  // "host" or "host:port" as written (the form insecureRegistries lists).
  std::string Authority() const { return explicit_port ? host + ":" + port : host; }
  bool SameOrigin(const UrlParts& o) const { return scheme == o.scheme && host == o.host && port == o.port; }
};

// Parses an absolute http(s) URL; InvalidArgument for anything else.
Result<UrlParts> ParseHttpUrl(const std::string& url);
// Percent-encodes a query parameter value.
std::string UrlEscape(std::string_view value);
// The URL without its query string and fragment, safe to show (pre-signed storage URLs carry
// credentials in the query).
std::string RedactUrl(std::string_view url);

}  // namespace sp::registry_internal
