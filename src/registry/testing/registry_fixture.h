// Test fixtures for code that pulls images: a real registry (Debian's `docker-registry`, the
// CNCF distribution server) on a free loopback port with its storage in a temporary directory;
// helpers that push blobs, manifests, whole images and indexes to it over the distribution API;
// gzip tar layers built in memory with libarchive; and TokenProxy, a small Python server
// (token_proxy.py, next to this file) that fronts the registry to require Bearer or Basic
// authentication, cut or stall blob downloads, redirect blobs to another origin or answer 503.
//
// Usable by any test: include "registry/testing/registry_fixture.h" and link sp_registry and
// libarchive (PkgConfig::ARCHIVE). Header-only on purpose: the module's library takes every .cc of
// src/registry. Errors come back as Status so a test can ASSERT on them with a message.
//
// Every process is started with fork/exec, tracked by PID and stopped by that PID (SIGTERM, then
// SIGKILL after 5 s); every temporary directory is removed by the destructor. Not thread-safe:
// use a fixture object from one thread (the servers themselves serve any number of clients).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "registry/digest.h"
#include "registry/manifest.h"
#include "util/fs.h"
#include "util/status.h"
#include "util/subprocess.h"

extern char** environ;

namespace sp::registry_testing {

// The error of a Result, or OK.
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r ? Status::Ok() : r.error();
}

// ---- processes and ports ---------------------------------------------------------------------

// A TCP port on 127.0.0.1 that nothing listens on right now.
inline Result<int> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Status::FromErrno("socket", errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    return Err(Status::FromErrno("bind 127.0.0.1:0", e));
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

// A server process, stopped by its PID when destroyed.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { Stop(); }

  // Starts argv[0] (an absolute path) with stdin from /dev/null and stdout+stderr into `log_path`.
  // The child is killed if the thread that started it dies first (PR_SET_PDEATHSIG), so a test
  // process that crashes or is killed leaves no server behind: start fixtures from a thread that
  // outlives them (normally the test's own).
  Status Start(const std::vector<std::string>& argv, const std::string& log_path) {
    log_path_ = log_path;
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null_fd < 0 || log_fd < 0) {
      int e = errno;
      if (null_fd >= 0) ::close(null_fd);
      if (log_fd >= 0) ::close(log_fd);
      return Status::FromErrno("open " + log_path, e);
    }
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {  // only async-signal-safe calls from here on
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execve(args[0], args.data(), environ);
      ::_exit(127);
    }
    int fork_errno = errno;
    ::close(null_fd);
    ::close(log_fd);
    if (pid < 0) return Status::FromErrno("fork for " + argv[0], fork_errno);
    pid_ = pid;
    return Status::Ok();
  }

  // Whether the process is still running (reaps it if it exited).
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM, then SIGKILL if it has not exited within 5 s; always reaps it.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }
  // The last few KiB of the log, for error messages.
  std::string LogTail() const {
    auto text = ReadFile(log_path_);
    if (!text) return "";
    return text->size() > 4096 ? text->substr(text->size() - 4096) : *text;
  }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// ---- a little HTTP for the helpers (deliberately independent of the client under test) --------

struct HttpReply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; last value wins
};

inline size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

inline size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

inline Result<HttpReply> HttpCall(const std::string& method, const std::string& url,
                                  std::string_view body = {}, const std::vector<std::string>& headers = {}) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* h = curl_easy_init();
  if (!h) return Err(Status::Internal("curl_easy_init failed"));
  curl_slist* list = nullptr;
  for (const std::string& hd : headers) list = curl_slist_append(list, hd.c_str());
  HttpReply reply;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "PUT" || method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) return Err(Status::Unavailable(method + " " + url + ": " + curl_easy_strerror(rc)));
  return reply;
}

// Polls `url` until it answers (any HTTP status) or `server` exits or 20 s pass.
inline Status WaitUntilServing(const std::string& url, ChildProcess& server, const std::string& name) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!server.Running()) return Status::Unavailable(name + " exited during start-up:\n" + server.LogTail());
    if (HttpCall("GET", url)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::DeadlineExceeded(name + " did not answer " + url + " within 20 s:\n" + server.LogTail());
}

// ---- layers and images ---------------------------------------------------------------------

struct TestFile {
  std::string path;  // "etc/hello"; a path ending in "/" is a directory
  std::string data = {};
  unsigned mode = 0644;
};

struct TestLayer {
  std::string tar;   // uncompressed
  std::string blob;  // gzip-compressed, as pushed
  Digest diff_id;    // of `tar`
  Digest digest;     // of `blob`
};

inline la_ssize_t AppendArchiveOutput(struct archive*, void* out, const void* buf, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

// Writes one regular-file entry holding `data` into `a` (raw format: the data is the stream).
inline Status WriteArchiveEntry(struct archive* a, const std::string& path, unsigned type, unsigned mode,
                                std::string_view data) {
  struct archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, path.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, mode);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e, 1700000000, 0);
  bool ok = archive_write_header(a, e) == ARCHIVE_OK;
  if (ok && !data.empty())
    ok = archive_write_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size());
  archive_entry_free(e);
  if (!ok) return Status::Internal(std::string("libarchive: ") + archive_error_string(a));
  return Status::Ok();
}

// A gzip-compressed tar layer holding `files`.
inline Result<TestLayer> BuildLayer(const std::vector<TestFile>& files) {
  TestLayer layer;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open2(a, &layer.tar, nullptr, &AppendArchiveOutput, nullptr, nullptr);
  Status st;
  for (const TestFile& f : files) {
    bool dir = !f.path.empty() && f.path.back() == '/';
    st = WriteArchiveEntry(a, f.path, dir ? AE_IFDIR : AE_IFREG, dir ? 0755 : f.mode, dir ? "" : f.data);
    if (!st.ok()) break;
  }
  archive_write_close(a);
  archive_write_free(a);
  SP_RETURN_IF_ERROR(st);
  struct archive* z = archive_write_new();
  archive_write_add_filter_gzip(z);
  archive_write_set_format_raw(z);
  archive_write_open2(z, &layer.blob, nullptr, &AppendArchiveOutput, nullptr, nullptr);
  st = WriteArchiveEntry(z, "layer.tar", AE_IFREG, 0644, layer.tar);
  archive_write_close(z);
  archive_write_free(z);
  SP_RETURN_IF_ERROR(st);
  layer.diff_id = DigestOf(layer.tar);
  layer.digest = DigestOf(layer.blob);
  return layer;
}

struct TestImageSpec {
  std::vector<std::vector<TestFile>> layers = {{{"hello.txt", "hello\n"}}};
  Platform platform = HostPlatform();
  bool docker_media_types = false;  // Docker schema 2 instead of OCI
  std::vector<std::string> cmd = {"/bin/sh"};
  std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  std::map<std::string, std::string> manifest_annotations = {};  // OCI manifests only
};

struct TestImage {
  std::string manifest;
  std::string media_type;
  Digest manifest_digest;
  std::string config;
  Digest config_digest;
  std::vector<TestLayer> layers;
  Platform platform;
};

inline nlohmann::json DescriptorJson(std::string_view media_type, const Digest& d, size_t size) {
  return {{"mediaType", media_type}, {"digest", d.str()}, {"size", size}};
}

inline std::string ConfigJson(const TestImageSpec& spec, const std::vector<TestLayer>& layers) {
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const TestLayer& l : layers) diff_ids.push_back(l.diff_id.str());
  nlohmann::json c = {{"os", spec.platform.os},
                      {"architecture", spec.platform.architecture},
                      {"config", {{"Cmd", spec.cmd}, {"Env", spec.env}, {"WorkingDir", "/"}}},
                      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!spec.platform.variant.empty()) c["variant"] = spec.platform.variant;
  return c.dump();
}

// The manifest of an image: config and layers as built, media types as the spec asks.
inline std::string ManifestJson(const TestImageSpec& spec, const TestImage& image) {
  bool docker = spec.docker_media_types;
  nlohmann::json layers = nlohmann::json::array();
  for (const TestLayer& l : image.layers)
    layers.push_back(
        DescriptorJson(docker ? kDockerLayerTarGzip : kOciLayerTarGzip, l.digest, l.blob.size()));
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", docker ? kDockerManifest : kOciManifest},
                      {"config", DescriptorJson(docker ? kDockerConfig : kOciConfig, image.config_digest,
                                                image.config.size())},
                      {"layers", layers}};
  if (!docker && !spec.manifest_annotations.empty()) m["annotations"] = spec.manifest_annotations;
  return m.dump();
}

// Builds an image (layers, config, manifest) without pushing it.
inline Result<TestImage> BuildImage(const TestImageSpec& spec) {
  TestImage image;
  image.platform = spec.platform;
  for (const auto& files : spec.layers) {
    SP_ASSIGN_OR_RETURN(TestLayer layer, BuildLayer(files));
    image.layers.push_back(std::move(layer));
  }
  image.config = ConfigJson(spec, image.layers);
  image.config_digest = DigestOf(image.config);
  image.media_type = std::string(spec.docker_media_types ? kDockerManifest : kOciManifest);
  image.manifest = ManifestJson(spec, image);
  image.manifest_digest = DigestOf(image.manifest);
  return image;
}

// An index (OCI) or manifest list (Docker) over `images`, each entry carrying its image's platform.
inline std::string IndexJson(const std::vector<TestImage>& images, bool docker) {
  nlohmann::json entries = nlohmann::json::array();
  for (const TestImage& img : images) {
    nlohmann::json e = DescriptorJson(img.media_type, img.manifest_digest, img.manifest.size());
    e["platform"] = {{"os", img.platform.os}, {"architecture", img.platform.architecture}};
    if (!img.platform.variant.empty()) e["platform"]["variant"] = img.platform.variant;
    entries.push_back(e);
  }
  return nlohmann::json{
      {"schemaVersion", 2}, {"mediaType", docker ? kDockerManifestList : kOciIndex}, {"manifests", entries}}
      .dump();
}

// ---- the registry ------------------------------------------------------------------------

// What the registry and the proxy share: a temporary directory, a free 127.0.0.1 port, and the
// server process, stopped by its PID (and the directory removed) when the object goes.
class LoopbackServer {
 public:
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  ~LoopbackServer() {
    process_.Stop();
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + host(); }
  pid_t pid() const { return process_.pid(); }
  const std::string& dir() const { return dir_; }

 protected:
  LoopbackServer() = default;
  // Makes the directory (from a mkdtemp template) and picks the port.
  Status Prepare(const std::string& dir_template) {
    SP_ASSIGN_OR_RETURN(dir_, MakeTempDir(dir_template));
    SP_ASSIGN_OR_RETURN(port_, FreeLoopbackPort());
    return Status::Ok();
  }

  std::string dir_;
  int port_ = 0;
  ChildProcess process_;
};

class TestRegistry : public LoopbackServer {
 public:
  // Starts docker-registry on a free 127.0.0.1 port with storage in a fresh temporary directory,
  // and waits until GET /v2/ answers.
  static Result<std::unique_ptr<TestRegistry>> Start() {
    SP_ASSIGN_OR_RETURN(std::string program, FindProgram("docker-registry"));
    std::unique_ptr<TestRegistry> r(new TestRegistry());
    SP_RETURN_IF_ERROR(r->Prepare("/tmp/sp-test-registry-XXXXXX"));
    std::string config =
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        "storage:\n  filesystem:\n    rootdirectory: " +
        r->storage_dir() +
        "\n"
        "  delete:\n    enabled: true\n"
        "http:\n  addr: " +
        r->host() + "\n";
    SP_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(r->dir_, "config.yml"), config, 0600));
    SP_RETURN_IF_ERROR(r->process_.Start({program, "serve", JoinPath(r->dir_, "config.yml")},
                                         JoinPath(r->dir_, "registry.log")));
    SP_RETURN_IF_ERROR(WaitUntilServing(r->url() + "/v2/", r->process_, "docker-registry"));
    return r;
  }

  std::string storage_dir() const { return JoinPath(dir_, "storage"); }
  // Where the registry keeps a blob's bytes (manifests are blobs too): corrupt it to test clients.
  std::string BlobDataPath(const Digest& d) const {
    return storage_dir() + "/docker/registry/v2/blobs/sha256/" + std::string(d.hex().substr(0, 2)) + "/" +
           std::string(d.hex()) + "/data";
  }

  // Uploads a blob (POST an upload, then PUT its bytes with the digest).
  Result<Digest> PushBlob(std::string_view repo, std::string_view bytes) const {
    Digest digest = DigestOf(bytes);
    SP_ASSIGN_OR_RETURN(HttpReply started,
                        HttpCall("POST", url() + "/v2/" + std::string(repo) + "/blobs/uploads/"));
    std::string location = started.headers["location"];
    if (started.status != 202 || location.empty())
      return Err(
          Status::Internal("start upload: HTTP " + std::to_string(started.status) + " " + started.body));
    if (location.front() == '/') location = url() + location;
    location += (location.find('?') == std::string::npos ? "?" : "&") + std::string("digest=sha256%3A") +
                std::string(digest.hex());
    SP_ASSIGN_OR_RETURN(HttpReply done,
                        HttpCall("PUT", location, bytes, {"Content-Type: application/octet-stream"}));
    if (done.status != 201)
      return Err(Status::Internal("finish upload: HTTP " + std::to_string(done.status) + " " + done.body));
    return digest;
  }

  // PUTs a manifest or index under `reference` (a tag or its digest).
  Result<Digest> PushManifest(std::string_view repo, std::string_view reference, std::string_view bytes,
                              std::string_view media_type) const {
    SP_ASSIGN_OR_RETURN(
        HttpReply r,
        HttpCall("PUT", url() + "/v2/" + std::string(repo) + "/manifests/" + std::string(reference), bytes,
                 {"Content-Type: " + std::string(media_type)}));
    if (r.status != 201)
      return Err(Status::Internal("push manifest: HTTP " + std::to_string(r.status) + " " + r.body));
    return DigestOf(bytes);
  }

  // Pushes a built image's blobs and manifest; tagged `tag` unless empty (then by digest only).
  Result<TestImage> Push(std::string_view repo, std::string_view tag, TestImage image) const {
    for (const TestLayer& l : image.layers) SP_RETURN_IF_ERROR(StatusOf(PushBlob(repo, l.blob)));
    SP_RETURN_IF_ERROR(StatusOf(PushBlob(repo, image.config)));
    std::string ref = tag.empty() ? image.manifest_digest.str() : std::string(tag);
    SP_RETURN_IF_ERROR(StatusOf(PushManifest(repo, ref, image.manifest, image.media_type)));
    return image;
  }

  Result<TestImage> PushImage(std::string_view repo, std::string_view tag,
                              const TestImageSpec& spec = {}) const {
    SP_ASSIGN_OR_RETURN(TestImage image, BuildImage(spec));
    return Push(repo, tag, std::move(image));
  }

  // Pushes every image by digest, then an index (or Docker manifest list) over them as `tag`.
  Result<Digest> PushIndex(std::string_view repo, std::string_view tag, const std::vector<TestImage>& images,
                           bool docker) const {
    for (const TestImage& img : images) SP_RETURN_IF_ERROR(StatusOf(Push(repo, "", img)));
    return PushManifest(repo, tag, IndexJson(images, docker), docker ? kDockerManifestList : kOciIndex);
  }

 private:
  TestRegistry() = default;
};

// ---- the misbehaving front -----------------------------------------------------------------

struct ProxyOptions {
  std::string auth = "none";  // "none", "bearer", "basic"
  std::string user = {};
  std::string password = {};
  std::string identity_token = {};  // accepted as an OAuth2 refresh token by /token (POST)
  int token_ttl = 300;
  int cut_blobs = 0;
  bool no_range = false;
  bool redirect_blobs = false;
  bool stall_blobs = false;
  int fail_first = 0;
};

class TokenProxy : public LoopbackServer {
 public:
  static Result<std::unique_ptr<TokenProxy>> Start(const TestRegistry& upstream, const ProxyOptions& o) {
    std::string here = __FILE__;
    std::string script = here.substr(0, here.rfind('/') + 1) + "token_proxy.py";
    if (!PathExists(script)) return Err(Status::NotFound("test proxy script " + script + " is missing"));
    std::unique_ptr<TokenProxy> p(new TokenProxy());
    SP_RETURN_IF_ERROR(p->Prepare("/tmp/sp-test-proxy-XXXXXX"));
    std::vector<std::string> argv = {"/usr/bin/python3", script,
                                     "--port",           std::to_string(p->port_),
                                     "--upstream",       upstream.host(),
                                     "--auth",           o.auth,
                                     "--token-ttl",      std::to_string(o.token_ttl),
                                     "--cut-blobs",      std::to_string(o.cut_blobs),
                                     "--fail-first",     std::to_string(o.fail_first)};
    // Credentials go on the command line: acceptable for a throw-away test server on loopback.
    if (!o.user.empty()) argv.insert(argv.end(), {"--user", o.user, "--password", o.password});
    if (!o.identity_token.empty()) argv.insert(argv.end(), {"--identity-token", o.identity_token});
    if (o.no_range) argv.push_back("--no-range");
    if (o.redirect_blobs) argv.push_back("--redirect-blobs");
    if (o.stall_blobs) argv.push_back("--stall-blobs");
    SP_RETURN_IF_ERROR(p->process_.Start(argv, JoinPath(p->dir_, "proxy.log")));
    SP_RETURN_IF_ERROR(WaitUntilServing(p->url() + "/_proxy/stats", p->process_, "token_proxy.py"));
    return p;
  }


  // The proxy's counters: requests, range_requests, cuts, token_requests, tokens_issued, refused,
  // failures_sent, blobstore_requests, blobstore_with_auth, stalls, last_scope, last_service.
  Result<nlohmann::json> Stats() const {
    SP_ASSIGN_OR_RETURN(HttpReply r, HttpCall("GET", url() + "/_proxy/stats"));
    auto doc = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || doc.is_discarded()) return Err(Status::Internal("proxy stats: " + r.body));
    return doc;
  }
  // One counter (-1 if the stats cannot be read).
  int64_t Stat(const std::string& name) const {
    auto s = Stats();
    if (!s || !s->contains(name) || !(*s)[name].is_number_integer()) return -1;
    return (*s)[name].get<int64_t>();
  }

 private:
  TokenProxy() = default;
};

}  // namespace sp::registry_testing
