// One HTTP request over libcurl (see http_transport.h).
#include "registry/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

namespace sp::registry_internal {
namespace {

constexpr size_t kMaxErrorBody = 64 << 10;
constexpr size_t kMaxHeaderBytes = 256 << 10;
constexpr size_t kMaxIdleHandles = 8;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The state of one request, shared with the curl callbacks.
struct Transfer {
  BodySink* sink = nullptr;
  HttpResponse response;
  bool begun = false;
  Status sink_error;
  bool error_body_full = false;
  size_t header_bytes = 0;
  // Stall detection: when the byte counts last moved.
  std::chrono::steady_clock::duration stall_timeout{};
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
  bool stalled = false;
};

// Called by curl about once a second and whenever data moves: aborts a transfer that moved no
// byte for stall_timeout (waiting for the answer counts too).
int OnProgress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  auto now = std::chrono::steady_clock::now();
  if (dlnow + ulnow != t->last_bytes) {
    t->last_bytes = dlnow + ulnow;
    t->last_change = now;
    return 0;
  }
  if (now - t->last_change < t->stall_timeout) return 0;
  t->stalled = true;
  return 1;
}

bool IsSuccess(long status) { return status >= 200 && status < 300; }

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  t->header_bytes += len;
  if (t->header_bytes > kMaxHeaderBytes) return 0;
  std::string_view line = Trim(std::string_view(data, len));
  if (line.substr(0, 5) == "HTTP/") {  // a new response (an interim 1xx, or the final one)
    size_t space = line.find(' ');
    long status = 0;
    for (size_t i = space == std::string_view::npos ? line.size() : space + 1;
         i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && status < 1000; ++i)
      status = status * 10 + (line[i] - '0');
    t->response.status = status;
    t->response.headers.clear();
    return len;
  }
  if (line.empty()) {  // end of this response's headers
    if (IsSuccess(t->response.status) && t->sink && !t->begun) {
      t->begun = true;
      Status st = t->sink->Begin(t->response);
      if (!st.ok()) {
        t->sink_error = st;
        return 0;
      }
    }
    return len;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos)
    t->response.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                     std::string(Trim(line.substr(colon + 1))));
  return len;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  if (IsSuccess(t->response.status)) {
    if (!t->sink) return len;
    Status st = t->begun ? Status::Ok() : t->sink->Begin(t->response);
    t->begun = true;
    if (st.ok()) st = t->sink->Write(std::string_view(data, len));
    if (!st.ok()) {
      t->sink_error = st;
      return 0;
    }
    return len;
  }
  size_t room = kMaxErrorBody - std::min(kMaxErrorBody, t->response.error_body.size());
  t->response.error_body.append(data, std::min(room, len));
  if (len > room) {  // enough to explain the error; stop reading
    t->error_body_full = true;
    return 0;
  }
  return len;
}

bool IsRetryable(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool IsTlsFailure(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return true;
    default:
      return false;
  }
}

std::string DescribeFailure(const HttpRequest& req, CURLcode rc, const char* errbuf) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  std::string out = req.method + " " + RedactUrl(req.url) + ": " + detail;
  if (rc == CURLE_OPERATION_TIMEDOUT) out += " (the server stalled or did not answer in time)";
  if (IsTlsFailure(rc))
    out +=
        " (TLS connection failed; if this registry serves plain HTTP, it must be listed in "
        "insecureRegistries)";
  return out;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
};

void SetOptions(CURL* h, const HttpRequest& req, const TransportOptions& opts, Transfer* t,
                curl_slist* headers, char* errbuf) {
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, opts.connect_timeout.count())));
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt(h, CURLOPT_USERAGENT, opts.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (req.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
  }
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  std::string lower = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == lower) return v;
  }
  return "";
}

std::vector<std::string> HttpResponse::Headers(std::string_view name) const {
  std::string lower = Lower(name);
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == lower) out.push_back(v);
  }
  return out;
}

HttpTransport::HttpTransport(TransportOptions opts) : opts_(std::move(opts)) { GlobalInit(); }

HttpTransport::~HttpTransport() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpTransport::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpTransport::Release(void* handle) {
  curl_easy_reset(static_cast<CURL*>(handle));  // options go; the connection cache stays
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

HttpOutcome HttpTransport::Perform(const HttpRequest& request, BodySink* sink) {
  HttpOutcome out;
  CURL* h = static_cast<CURL*>(Acquire());
  if (!h) {
    out.error = Status::Internal("curl_easy_init failed");
    return out;
  }
  HeaderList headers;
  for (const std::string& hd : request.headers) headers.list = curl_slist_append(headers.list, hd.c_str());
  Transfer t;
  t.sink = sink;
  t.stall_timeout = std::max(opts_.stall_timeout, Millis(1));
  char errbuf[CURL_ERROR_SIZE] = {0};
  SetOptions(h, request, opts_, &t, headers.list, errbuf);
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  char* redirect = nullptr;
  curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect);
  if (redirect) t.response.redirect_url = redirect;
  Release(h);
  if (status != 0) t.response.status = status;
  out.response = std::move(t.response);
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.error_body_full)) return out;
  if (!t.sink_error.ok()) {
    out.error = t.sink_error;
    out.retryable = t.sink_error.code() == Code::kUnavailable;
    return out;
  }
  if (t.stalled) {
    out.error = Status::Unavailable(request.method + " " + RedactUrl(request.url) + ": no data for " +
                                    FormatDuration(opts_.stall_timeout) + " (the server stalled)");
    out.retryable = true;
    return out;
  }
  out.error = Status::Unavailable(DescribeFailure(request, rc, errbuf));
  out.retryable = IsRetryable(rc);
  return out;
}

Result<UrlParts> ParseHttpUrl(const std::string& url) {
  CURLU* u = curl_url();
  if (!u) return Err(Status::Internal("curl_url failed"));
  UrlParts parts;
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
  auto get = [&](CURLUPart part, unsigned flags, std::string* into) {
    char* value = nullptr;
    if (curl_url_get(u, part, &value, flags) != CURLUE_OK || !value) return false;
    *into = value;
    curl_free(value);
    return true;
  };
  std::string explicit_port;
  bool ok = rc == CURLUE_OK && get(CURLUPART_SCHEME, 0, &parts.scheme) &&
            get(CURLUPART_HOST, 0, &parts.host) && get(CURLUPART_PORT, CURLU_DEFAULT_PORT, &parts.port);
  parts.explicit_port = ok && get(CURLUPART_PORT, 0, &explicit_port);
  curl_url_cleanup(u);
  parts.scheme = Lower(parts.scheme);
  parts.host = Lower(parts.host);
  if (!ok || (parts.scheme != "http" && parts.scheme != "https"))
    return Err(Status::InvalidArgument("\"" + RedactUrl(url.substr(0, 200)) + "\" is not an http(s) URL"));
  return parts;
}

std::string UrlEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  size_t cut = url.find_first_of("?#");
  std::string out(url.substr(0, cut));
  if (cut != std::string_view::npos) out += "?...";
  size_t scheme_end = out.find("://");
  size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  size_t at = out.find('@', start);
  if (at != std::string::npos && at < out.find('/', start))
    out.erase(start, at + 1 - start);  // user:password@
  return out;
}

}  // namespace sp::registry_internal
