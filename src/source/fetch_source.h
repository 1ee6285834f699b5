// Fetching a service's source: the `source:` field of deploy.yaml.
//
// A service may name a git repository as its source; before its build runs, the daemon clones it
// into the service's data directory (mounted at /srv/spawnpoint in the container). The URL comes
// from a user's deploy.yaml, so it is treated as hostile: only two forms are accepted, and git runs
// with everything that could turn a URL into a command or a credential leak switched off.
//
// Accepted forms:
//   git+https://host[:port]/path[#ref]   always
//   git+file:///absolute/path[#ref]      only when the daemon config sets `allowLocalSources`
// `ref` is a branch or tag name (a commit id is not accepted: `git clone --branch` needs a name).
// Everything else is refused with InvalidArgument: http, ssh, git://, scp-like and plain paths,
// transport helpers (`ext::`, `fd::`), and any URL with
//   - credentials (`user[:password]@host`): deploy.yaml is stored, replayed by deploy-last and shown
//     by inspect, so it must never hold a secret; only public repositories can be fetched;
//   - whitespace, control characters, non-ASCII bytes, or characters that URLs must escape
//     (`"<>\^`{|}`), or a component starting with '-' (which git could read as an option).
//
// How git runs: never through a shell; `git -c protocol.allow=never -c protocol.https.allow=always
// [-c protocol.file.allow=always] -c core.hooksPath=/dev/null -c credential.helper= clone --depth 1
// [--branch ref] --no-recurse-submodules --progress -- URL dest`, with an environment built from
// scratch: PATH, LC_ALL=C, HOME set to a fresh empty directory (no user config), GIT_CONFIG_NOSYSTEM=1,
// GIT_CONFIG_GLOBAL=/dev/null, GIT_TERMINAL_PROMPT=0, GIT_ASKPASS=/bin/false, plus the proxy and CA
// variables of the daemon's environment (http_proxy, https_proxy, no_proxy, all_proxy in either
// case, GIT_SSL_CAINFO, GIT_SSL_CAPATH, SSL_CERT_FILE, SSL_CERT_DIR) so a daemon behind a proxy or
// with a private CA can still fetch.
//
// A local repository must belong to the user the daemon runs as: git refuses to read another user's
// repository ("dubious ownership"), and no user config can add an exception, since none is read.
//
// The clone may contain symlinks pointing anywhere; they are meant to be resolved inside the
// container, so host-side code must not follow links inside a service's data directory.
//
// Thread-safe: no shared state. The callback is called on the calling thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct SourceOptions {
  bool allow_local = false;        // git+file:// only when the daemon config allows it (allowLocalSources)
  Millis timeout{600000};          // the whole clone; then git's process group is killed
  std::string git_binary = "git";  // searched in PATH unless it contains '/'
};

// A source URL taken apart.
struct SourceUrl {
  std::string scheme;   // "https" or "file"
  std::string git_url;  // what git is given: the URL without "git+" and without "#ref"
  std::string ref;      // branch or tag, empty for the remote's default branch
};

// Checks a `source:` URL. InvalidArgument (naming the accepted forms) for any form not accepted;
// PermissionDenied for git+file:// when allow_local is false (naming `allowLocalSources`).
Result<SourceUrl> ParseSourceUrl(std::string_view url, bool allow_local);

// True if `ref` is a branch or tag name FetchSource accepts: the basic rules of
// `git check-ref-format` (no "..", no component starting with '.' or ending in ".lock", no "//",
// no leading or trailing '/', no trailing '.', no "@{"), letters, digits and "._-/+" only, no
// leading '-', at most 255 characters.
bool IsSafeRefName(std::string_view ref);

// Clones the repository `url` names (a shallow clone of `#ref`, or of the default branch) into
// dest_dir, passing each line git prints (progress included) to on_output, which may be empty.
// dest_dir must be absent (it is created, with its parents) or an empty directory; it must not be
// a symlink. On failure dest_dir is left as it was found (absent, or empty) and the error carries
// git's last output lines and its exit status:
//   InvalidArgument / PermissionDenied  the URL (see ParseSourceUrl); PermissionDenied also for a local
//                                       repository owned by another user
//   FailedPrecondition                  dest_dir is not empty, not a directory, or a symlink
//   NotFound                            git is not installed, or the repository or ref does not exist
//   DeadlineExceeded                    the clone did not finish within options.timeout
//   Unavailable                         git failed otherwise (network, TLS, server)
Status FetchSource(std::string_view url, const std::string& dest_dir, const SourceOptions& options,
                   const std::function<void(std::string_view line)>& on_output);

}  // namespace sp
