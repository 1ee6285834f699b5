// A client for the OCI distribution API (the registry protocol): fetches manifests and blobs,
// verified against their digests, with the authentication registries use.
//
// Transport: HTTPS with the system CAs (peer and host verified) for every registry except those
// listed in `insecure_registries` ("host[:port]"), which are spoken to over plain HTTP. A registry
// is never contacted over plain HTTP unless listed, and a TLS failure says so.
//
// Authentication: requests go out anonymously first. A 401 with a Bearer challenge makes the
// client fetch a token from the challenge's realm for "repository:<repo>:pull" (with the
// registry's credentials from the auth file, if any: Basic user/password, or an identity token as
// an OAuth2 refresh token); tokens are cached per registry and scope until they expire. A 401 with
// a Basic challenge is answered with the auth file's user and password. A second 401 is a
// PermissionDenied that says what was tried (never the password). Redirects (registries send blob
// downloads to storage) are followed, but the registry's Authorization header is only ever sent to
// the registry's own origin, and a redirect from HTTPS to plain HTTP is refused.
//
// Failures: connection problems, 429 and 5xx answers are retried (`max_attempts` in all, with
// exponential backoff, honouring Retry-After) and then reported as Unavailable with the
// registry's own error message; 404 is NotFound; content that does not match its digest is
// InvalidArgument. A request during which no byte moves for `stall_timeout` fails (and is retried).
//
// A RegistryClient is thread-safe: one instance serves all threads of a pull (each request uses
// its own curl handle from a small pool). Progress callbacks run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "registry/digest.h"
#include "registry/manifest.h"
#include "registry/reference.h"
#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct RegistryOptions {
  // "host[:port]" spoken to over plain HTTP; everything else is HTTPS.
  std::vector<std::string> insecure_registries;
  // A Docker/Podman auth file; empty or missing: anonymous access only.
  std::string auth_file;
  int max_attempts = 4;
  Millis connect_timeout{10000};
  Millis stall_timeout{30000};  // a request during which no byte moves for this long fails
  Millis retry_backoff{500};    // the first retry's delay; doubled each time, at most 8 s
  std::string user_agent = "spawnpoint/0.1";
};

struct FetchedManifest {
  std::string bytes;
  std::string media_type;  // the served Content-Type without parameters (may be empty or generic)
  Digest digest;           // of `bytes`
};

class RegistryClient {
 public:
  // InvalidArgument when the auth file exists but is malformed (a missing one is fine: it is read
  // again whenever a registry asks for credentials).
  static Result<std::unique_ptr<RegistryClient>> Create(RegistryOptions opts);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // The manifest or index `reference` (a tag or a "sha256:..." digest) names in ref's repository.
  // By digest, the bytes must hash to it; by tag, the digest is computed (and must agree with the
  // registry's Docker-Content-Digest header when it sends one). At most 4 MiB.
  // REQUIRES: ref.transport == "docker".
  Result<FetchedManifest> GetManifest(const ImageReference& ref, std::string_view reference);

  // Downloads blob `d` to `dest_path`: streamed into dest_path + ".partial" (created 0600, never
  // through a symlink), hashed on the way; a broken transfer resumes with a Range request when the
  // server honours it and restarts otherwise. More bytes than d.size are refused. Only when size and
  // digest match is the file fsynced and renamed to dest_path; on any failure no partial file is
  // left. `progress` (may be empty) receives the bytes received so far.
  Status GetBlob(const ImageReference& ref, const Descriptor& d, const std::string& dest_path,
                 const std::function<void(int64_t bytes_done)>& progress);

  // A small blob (an image config) in memory, verified; at most `max_bytes`.
  Result<std::string> GetBlobBytes(const ImageReference& ref, const Descriptor& d, size_t max_bytes);

  // Whether `registry` ("host[:port]") answers the distribution API (GET /v2/: 200 or 401).
  Status Ping(std::string_view registry);

 private:
  struct Impl;
  explicit RegistryClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sp
