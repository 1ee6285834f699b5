// The distribution API client (see registry_client.h).
//
// Layers of one request, inside out: HttpTransport::Perform sends one HTTP request;
// Impl::Follow follows redirects (Authorization only to the registry's origin); Impl::Authorized
// answers a 401 once through the Authenticator; Impl::Fetch retries transient failures with
// backoff. The public methods build the request, choose the sink (memory or a resumable file) and
// verify what arrived.
#include "registry/registry_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <thread>

#include "registry/http_transport.h"
#include "registry/registry_auth.h"

namespace sp {
namespace {

using registry_internal::Authorization;
using registry_internal::AuthScope;
using registry_internal::BodySink;
using registry_internal::HttpOutcome;
using registry_internal::HttpRequest;
using registry_internal::HttpResponse;
using registry_internal::RegistryErrorText;
using registry_internal::StringSink;
using registry_internal::UrlParts;

constexpr int kMaxRedirects = 10;
constexpr Millis kMaxBackoff{8000};
constexpr Millis kMaxRetryAfter{10000};

bool IsRedirect(long s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }
bool IsRetryableStatus(long s) {
  return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}
bool IsSuccess(long s) { return s >= 200 && s < 300; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "http://Host:5000/" -> "host:5000", as insecureRegistries entries are compared.
std::string NormalizeHostEntry(std::string_view entry) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (Lower(entry.substr(0, scheme.size())) == scheme) entry.remove_prefix(scheme.size());
  }
  while (!entry.empty() && entry.back() == '/') entry.remove_suffix(1);
  return Lower(entry);
}

std::string StripParams(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return std::string(content_type);
}

Millis RetryAfter(const HttpResponse& r) {
  std::string v = r.Header("retry-after");
  if (v.empty() || v.size() > 6 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Millis(0);
  return std::min(kMaxRetryAfter, Millis(std::stoll(v) * 1000));
}

// A request to one registry endpoint.
struct Target {
  AuthScope scope;
  UrlParts origin;   // the registry's scheme, host and port
  std::string base;  // "https://registry-1.docker.io"
  std::string path;  // "/v2/library/busybox/manifests/latest"
  std::string what;  // "manifest of docker.io/library/busybox:latest", for messages
  bool authenticate = true;
};

// Turns a final non-2xx answer into a Status.
Status CheckAnswer(const HttpResponse& r, const std::string& what) {
  if (IsSuccess(r.status)) return Status::Ok();
  std::string text = RegistryErrorText(r);
  if (r.status == 401 || r.status == 403)
    return Status::PermissionDenied(what + ": access denied (" + text + ")");
  if (r.status == 404) return Status::NotFound(what + ": not found (" + text + ")");
  if (r.status == 400)
    return Status::InvalidArgument(what + ": the registry refused the request (" + text + ")");
  return Status::Unavailable(what + ": unexpected answer from the registry (" + text + ")");
}

// Streams a blob into a file, hashing as it goes; resumes or restarts as the server answers.
class FileSink : public BodySink {
 public:
  FileSink(int fd, const Descriptor& d, std::string what, const std::function<void(int64_t)>& progress)
      : fd_(fd), limit_(d.size), what_(std::move(what)), progress_(progress) {
    hasher_.emplace();
  }

  int64_t offset() const { return offset_; }
  Digest Finish() { return hasher_->Finish(); }

  Status Begin(const HttpResponse& head) override {
    if (head.status == 206) {
      if (ContentRangeStart(head.Header("content-range")) == offset_) return Status::Ok();
      SP_RETURN_IF_ERROR(Reset());
      return Status::Unavailable(what_ + ": the server resumed at the wrong offset; starting again");
    }
    if (offset_ > 0) return Reset();  // Range not honoured: the whole blob comes again
    return Status::Ok();
  }

  Status Write(std::string_view chunk) override {
    if (limit_ >= 0 && static_cast<int64_t>(chunk.size()) > limit_ - offset_)
      return Status::InvalidArgument(what_ + ": the registry sent more than the " + std::to_string(limit_) +
                                     " bytes its descriptor states; refusing it");
    size_t done = 0;
    while (done < chunk.size()) {
      ssize_t n = ::write(fd_, chunk.data() + done, chunk.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno(what_ + ": write", errno);
      done += static_cast<size_t>(n);
    }
    hasher_->Update(chunk);
    offset_ += static_cast<int64_t>(chunk.size());
    if (progress_) progress_(offset_);
    return Status::Ok();
  }

 private:
  // The first byte position of "bytes START-END/TOTAL", or -1.
  static int64_t ContentRangeStart(std::string_view v) {
    if (v.substr(0, 6) != "bytes ") return -1;
    v.remove_prefix(6);
    int64_t start = 0;
    size_t i = 0;
    for (; i < v.size() && i < 19 && v[i] >= '0' && v[i] <= '9'; ++i) start = start * 10 + (v[i] - '0');
    return i > 0 && i < v.size() && v[i] == '-' ? start : -1;
  }

  Status Reset() {
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0)
      return Status::FromErrno(what_ + ": truncate the partial download", errno);
    hasher_.emplace();
    offset_ = 0;
    if (progress_) progress_(0);
    return Status::Ok();
  }

  int fd_;
  int64_t limit_;
  std::string what_;
  const std::function<void(int64_t)>& progress_;
  std::optional<Sha256Hasher> hasher_;
  int64_t offset_ = 0;
};

// Owns the partial download file: closes it, and removes it unless committed.
class PartialFile {
 public:
  explicit PartialFile(std::string path) : path_(std::move(path)) {}
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  Status Open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0) return Status::FromErrno("create " + path_, errno);
    return Status::Ok();
  }
  int fd() const { return fd_; }
  // fsyncs, closes and renames the file to `dest`, then syncs the directory.
  Status Commit(const std::string& dest) {
    if (::fsync(fd_) != 0) return Status::FromErrno("fsync " + path_, errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Status::FromErrno("close " + path_, errno);
    if (::rename(path_.c_str(), dest.c_str()) != 0) return Status::FromErrno("rename " + path_, errno);
    committed_ = true;
    size_t slash = dest.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dest.substr(0, slash));
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

struct RegistryClient::Impl {
  explicit Impl(RegistryOptions o)
      : opts(std::move(o)),
        http(registry_internal::TransportOptions{opts.connect_timeout, opts.stall_timeout, opts.user_agent}),
        auth(http, opts.auth_file, [this](const std::string& host) { return IsInsecure(host); }) {
    for (const std::string& e : opts.insecure_registries) insecure.insert(NormalizeHostEntry(e));
  }

  bool IsInsecure(const std::string& authority) const { return insecure.count(Lower(authority)) > 0; }

  Result<Target> MakeTarget(const ImageReference& ref, const std::string& path,
                            const std::string& what) const;
  Result<Target> MakeRegistryTarget(const std::string& registry, const std::string& host,
                                    const std::string& path, const std::string& what) const;
  HttpOutcome Follow(const Target& t, const std::vector<std::string>& headers, const Authorization& authz,
                     BodySink* sink);
  HttpOutcome Authorized(const Target& t, const std::vector<std::string>& headers, BodySink* sink);
  Result<HttpResponse> Fetch(const Target& t, const std::vector<std::string>& headers, BodySink* sink,
                             const std::function<void(std::vector<std::string>&)>& per_attempt = nullptr);
  Millis Backoff(int failures) const;

  const RegistryOptions opts;
  registry_internal::HttpTransport http;
  registry_internal::Authenticator auth;
  std::set<std::string> insecure;
};

Result<Target> RegistryClient::Impl::MakeRegistryTarget(const std::string& registry, const std::string& host,
                                                        const std::string& path,
                                                        const std::string& what) const {
  SP_RETURN_IF_ERROR(ValidateRegistryHost(registry));
  Target t;
  t.scope.registry = registry;
  std::string scheme = IsInsecure(registry) || IsInsecure(host) ? "http" : "https";
  t.base = scheme + "://" + host;
  SP_ASSIGN_OR_RETURN(t.origin, registry_internal::ParseHttpUrl(t.base + "/"));
  t.path = path;
  t.what = what;
  return t;
}

Result<Target> RegistryClient::Impl::MakeTarget(const ImageReference& ref, const std::string& path,
                                                const std::string& what) const {
  if (!ref.transport.empty() && ref.transport != "docker")
    return Err(Status::InvalidArgument("image " + ref.String() + " is not in a registry"));
  SP_RETURN_IF_ERROR(ValidateRepository(ref.repository).Annotate("image " + ref.String()));
  SP_ASSIGN_OR_RETURN(
      Target t, MakeRegistryTarget(ref.registry, ref.RegistryHost(), "/v2/" + ref.repository + path, what));
  t.scope.repository = ref.repository;
  return t;
}

HttpOutcome RegistryClient::Impl::Follow(const Target& t, const std::vector<std::string>& headers,
                                         const Authorization& authz, BodySink* sink) {
  std::string url = t.base + t.path;
  UrlParts here = t.origin;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    HttpRequest req;
    req.url = url;
    req.headers = headers;
    if (!authz.header.empty() && here.SameOrigin(t.origin))
      req.headers.push_back("Authorization: " + authz.header);
    HttpOutcome out = http.Perform(req, sink);
    if (!out.error.ok() || !IsRedirect(out.response.status)) return out;
    std::string next = out.response.redirect_url;
    auto parts = registry_internal::ParseHttpUrl(next);
    if (next.empty() || !parts) {
      out.error = Status::Unavailable(t.what + ": the registry answered HTTP " +
                                      std::to_string(out.response.status) + " without a usable Location");
      return out;
    }
    if (parts->scheme == "http" && t.origin.scheme == "https" && !IsInsecure(parts->Authority())) {
      out.error = Status::PermissionDenied(t.what + ": the registry redirected from HTTPS to plain HTTP (" +
                                           registry_internal::RedactUrl(next) + "); refusing to follow");
      return out;
    }
    url = next;
    here = *parts;
  }
  HttpOutcome out;
  out.error = Status::Unavailable(t.what + ": more than " + std::to_string(kMaxRedirects) + " redirects");
  return out;
}

HttpOutcome RegistryClient::Impl::Authorized(const Target& t, const std::vector<std::string>& headers,
                                             BodySink* sink) {
  if (!t.authenticate) return Follow(t, headers, {}, sink);
  Authorization cached = auth.Cached(t.scope);
  HttpOutcome first = Follow(t, headers, cached, sink);
  if (!first.error.ok() || first.response.status != 401) return first;
  if (!cached.header.empty()) auth.Forget(t.scope);
  auto answer = auth.Answer(t.scope, first.response.Headers("www-authenticate"));
  if (!answer) {
    HttpOutcome failed;
    failed.error =
        answer.error().code() == Code::kPermissionDenied ? answer.error() : answer.error().Annotate(t.what);
    failed.retryable = answer.error().code() == Code::kUnavailable;
    return failed;
  }
  HttpOutcome again = Follow(t, headers, *answer, sink);
  if (again.error.ok() && again.response.status == 401) {
    auth.Forget(t.scope);
    again.error = Status::PermissionDenied(
        "registry " + t.scope.registry + " refused access to " + t.scope.repository + ": tried " +
        (cached.header.empty() ? "anonymous access" : "a cached authorization") + ", then " + answer->how +
        " (" + RegistryErrorText(again.response) + ")");
  }
  return again;
}

Millis RegistryClient::Impl::Backoff(int failures) const {
  Millis d = opts.retry_backoff;
  for (int i = 1; i < failures && d < kMaxBackoff; ++i) d *= 2;
  return std::min(d, kMaxBackoff);
}

Result<HttpResponse> RegistryClient::Impl::Fetch(
    const Target& t, const std::vector<std::string>& headers, BodySink* sink,
    const std::function<void(std::vector<std::string>&)>& per_attempt) {
  int attempts = std::max(1, opts.max_attempts);
  Status last;
  Millis delay{0};
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(delay);
    std::vector<std::string> h = headers;
    if (per_attempt) per_attempt(h);
    HttpOutcome out = Authorized(t, h, sink);
    if (!out.error.ok()) {
      if (!out.retryable) return Err(out.error);
      last = out.error;
      delay = Backoff(attempt);
      continue;
    }
    if (IsRetryableStatus(out.response.status)) {
      last = Status::Unavailable("registry " + t.scope.registry + " answered " +
                                 RegistryErrorText(out.response));
      delay = std::max(Backoff(attempt), RetryAfter(out.response));
      continue;
    }
    return std::move(out.response);
  }
  return Err(Status::Unavailable(t.what + ": gave up after " + std::to_string(attempts) +
                                 (attempts == 1 ? " attempt: " : " attempts: ") + last.message()));
}

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryClient::~RegistryClient() = default;

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(RegistryOptions opts) {
  for (const std::string& entry : opts.insecure_registries) {
    Status st = ValidateRegistryHost(NormalizeHostEntry(entry));
    if (!st.ok()) return Err(st.Annotate("insecureRegistries entry \"" + entry.substr(0, 100) + "\""));
  }
  if (!opts.auth_file.empty()) {
    auto file = LoadAuthFile(opts.auth_file);
    if (!file && file.error().code() != Code::kNotFound) return Err(file.error());
  }
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::make_unique<Impl>(std::move(opts))));
}

Result<FetchedManifest> RegistryClient::GetManifest(const ImageReference& ref, std::string_view reference) {
  std::optional<Digest> wanted;
  if (reference.find(':') != std::string_view::npos) {
    auto d = Digest::Parse(reference);
    if (!d) return Err(d.error().Annotate("image " + ref.String()));
    wanted = *d;
  } else {
    SP_RETURN_IF_ERROR(ValidateTag(reference).Annotate("image " + ref.String()));
  }
  std::string shown = ref.registry + "/" + ref.repository + (wanted ? "@" : ":") + std::string(reference);
  SP_ASSIGN_OR_RETURN(Target t,
                      impl_->MakeTarget(ref, "/manifests/" + std::string(reference), "manifest of " + shown));
  StringSink sink(kManifestSizeLimit, "the manifest of " + shown);
  SP_ASSIGN_OR_RETURN(HttpResponse r, impl_->Fetch(t, {"Accept: " + std::string(kManifestAccept)}, &sink));
  if (r.status == 404)
    return Err(Status::NotFound("image " + shown + " not found (manifest unknown; the registry said " +
                                RegistryErrorText(r) + ")"));
  SP_RETURN_IF_ERROR(CheckAnswer(r, t.what));
  FetchedManifest m;
  m.bytes = std::move(sink.data());
  m.media_type = StripParams(r.Header("content-type"));
  m.digest = DigestOf(m.bytes);
  if (wanted && !(m.digest == *wanted))
    return Err(Status::InvalidArgument("the manifest of " + shown + " does not match its digest (expected " +
                                       wanted->str() + ", got " + m.digest.str() + "); refusing it"));
  std::string claimed = r.Header("docker-content-digest");
  if (auto d = Digest::Parse(claimed); !wanted && d && !(*d == m.digest))
    return Err(Status::InvalidArgument("the manifest of " + shown + ": the registry says its digest is " +
                                       d->str() + " but the content hashes to " + m.digest.str() +
                                       "; refusing it"));
  return m;
}

Result<std::string> RegistryClient::GetBlobBytes(const ImageReference& ref, const Descriptor& d,
                                                 size_t max_bytes) {
  if (d.digest.empty())
    return Err(Status::InvalidArgument("image " + ref.String() + ": a blob without a digest"));
  std::string what = "blob " + d.digest.str() + " of " + ref.registry + "/" + ref.repository;
  if (d.size >= 0 && static_cast<uint64_t>(d.size) > max_bytes)
    return Err(Status::InvalidArgument(what + " is " + std::to_string(d.size) + " bytes (at most " +
                                       std::to_string(max_bytes) + " accepted here)"));
  SP_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(ref, "/blobs/" + d.digest.str(), what));
  StringSink sink(d.size >= 0 ? static_cast<size_t>(d.size) : max_bytes, what);
  SP_ASSIGN_OR_RETURN(HttpResponse r, impl_->Fetch(t, {}, &sink));
  SP_RETURN_IF_ERROR(CheckAnswer(r, what));
  if (d.size >= 0 && sink.data().size() != static_cast<size_t>(d.size))
    return Err(Status::InvalidArgument(what + ": received " + std::to_string(sink.data().size()) +
                                       " bytes, but its descriptor says " + std::to_string(d.size)));
  SP_RETURN_IF_ERROR(VerifyDigest(sink.data(), d.digest, what));
  return std::move(sink.data());
}

Status RegistryClient::GetBlob(const ImageReference& ref, const Descriptor& d, const std::string& dest_path,
                               const std::function<void(int64_t)>& progress) {
  if (d.digest.empty()) return Status::InvalidArgument("image " + ref.String() + ": a blob without a digest");
  if (dest_path.empty()) return Status::InvalidArgument("GetBlob: empty destination path");
  std::string what = "blob " + d.digest.str() + " of " + ref.registry + "/" + ref.repository;
  SP_ASSIGN_OR_RETURN(Target t, impl_->MakeTarget(ref, "/blobs/" + d.digest.str(), what));
  PartialFile partial(dest_path + ".partial");
  SP_RETURN_IF_ERROR(partial.Open());
  FileSink sink(partial.fd(), d, what, progress);
  auto range = [&sink](std::vector<std::string>& headers) {
    if (sink.offset() > 0) headers.push_back("Range: bytes=" + std::to_string(sink.offset()) + "-");
  };
  SP_ASSIGN_OR_RETURN(HttpResponse r, impl_->Fetch(t, {}, &sink, range));
  bool complete_already =
      r.status == 416 && d.size > 0 && sink.offset() == d.size;  // the drop came at the end
  if (!complete_already) SP_RETURN_IF_ERROR(CheckAnswer(r, what));
  if (d.size >= 0 && sink.offset() != d.size)
    return Status::InvalidArgument(what + ": received " + std::to_string(sink.offset()) +
                                   " bytes, but its descriptor says " + std::to_string(d.size));
  Digest got = sink.Finish();
  if (!(got == d.digest))
    return Status::InvalidArgument(what + ": content does not match its digest (expected " + d.digest.str() +
                                   ", got " + got.str() + "); the download was discarded");
  return partial.Commit(dest_path);
}

Status RegistryClient::Ping(std::string_view registry) {
  ImageReference ref;
  ref.registry = std::string(registry);
  SP_ASSIGN_OR_RETURN(Target t, impl_->MakeRegistryTarget(ref.registry, ref.RegistryHost(), "/v2/",
                                                          "registry " + ref.registry));
  t.authenticate = false;
  SP_ASSIGN_OR_RETURN(HttpResponse r, impl_->Fetch(t, {}, nullptr));
  if (r.status == 200 || r.status == 401) return Status::Ok();
  return Status::Unavailable("registry " + ref.registry +
                             " does not answer the distribution API (GET /v2/: " + RegistryErrorText(r) +
                             ")");
}

}  // namespace sp
