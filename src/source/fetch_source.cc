// Source URL checks and the git clone that fetches a service's source (see the header).
#include "source/fetch_source.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <vector>

#include "source/streamed_command.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

constexpr std::string_view kAcceptedForms =
    "accepted forms: git+https://host/path[#ref], and git+file:///absolute/path[#ref] when the daemon "
    "config sets allowLocalSources";
constexpr size_t kMaxUrlLength = 4096;
constexpr size_t kMaxRefLength = 255;
constexpr size_t kErrorLines = 4;

// The URL as it may appear in a message: printable ASCII only, at most 200 characters.
std::string Printable(std::string_view url) {
  std::string out;
  for (char c : url.substr(0, 200)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (url.size() > 200) out += "...";
  return out;
}

Status Refuse(std::string_view url, std::string_view why) {
  return Status::InvalidArgument("source \"" + Printable(url) + "\": " + std::string(why) + "; " +
                                 std::string(kAcceptedForms));
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Whitespace, control characters, non-ASCII bytes and the characters URLs must escape.
bool HasUnsafeCharacter(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return true;
    if (std::string_view("\"<>\\^`{|}").find(c) != std::string_view::npos) return true;
  }
  return false;
}

// No path segment may start with '-' (git could read it as an option somewhere along the way).
bool HasDashSegment(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '-' && (i == 0 || path[i - 1] == '/')) return true;
  }
  return false;
}

bool IsValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

// host, host:port, [v6] or [v6]:port.
bool IsValidAuthority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : authority.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::string_view rest = authority.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && IsValidPort(rest.substr(1));
  }
  size_t colon = authority.find(':');
  if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!IsValidPort(port)) return false;
  }
  if (host.empty() || host.front() == '-' || host.front() == '.') return false;
  for (char c : host) {
    if (!IsAlnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

Result<SourceUrl> ParseHttps(std::string_view url, std::string_view rest) {
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos)
    return Err(Refuse(url,
                      "credentials in the URL are not accepted (deploy.yaml is stored and shown; only "
                      "public repositories can be fetched)"));
  if (!IsValidAuthority(authority)) return Err(Refuse(url, "the host is missing or not a valid host[:port]"));
  if (slash == std::string_view::npos || slash + 1 == rest.size())
    return Err(Refuse(url, "the repository path is missing"));
  if (HasDashSegment(rest.substr(slash + 1))) return Err(Refuse(url, "a path segment starts with '-'"));
  return SourceUrl{"https", "https://" + std::string(rest), ""};
}

Result<SourceUrl> ParseFile(std::string_view url, std::string_view rest, bool allow_local) {
  if (rest.empty() || rest.front() != '/')
    return Err(Refuse(url, "a git+file URL has an empty host and an absolute path (git+file:///path)"));
  if (rest == "/") return Err(Refuse(url, "the repository path is missing"));
  if (rest.find('%') != std::string_view::npos)
    return Err(Refuse(url, "percent-escapes are not supported in git+file paths"));
  if (HasDashSegment(rest)) return Err(Refuse(url, "a path segment starts with '-'"));
  if (!allow_local)
    return Err(Status::PermissionDenied("source \"" + Printable(url) +
                                        "\": local repositories (git+file://) are disabled on this daemon; "
                                        "the daemon config key allowLocalSources: true enables them"));
  return SourceUrl{"file", "file://" + std::string(rest), ""};
}

// Puts dest_dir back as it was found: an empty directory, or absent.
Status Restore(const std::string& dest_dir, bool existed) {
  if (!existed) return RemoveAll(dest_dir);
  if (!PathExists(dest_dir)) return MakeDirs(dest_dir);
  SP_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dest_dir));
  for (const std::string& name : names) SP_RETURN_IF_ERROR(RemoveAll(JoinPath(dest_dir, name)));
  return Status::Ok();
}

// Whether dest_dir exists; FailedPrecondition unless it is absent or an empty, real directory.
Result<bool> CheckDestination(const std::string& dest_dir) {
  if (dest_dir.empty()) return Err(Status::InvalidArgument("fetch source: no destination directory given"));
  struct stat st;
  if (::lstat(dest_dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return Err(Status::FromErrno("fetch source: inspect " + dest_dir, errno));
  }
  if (S_ISLNK(st.st_mode))
    return Err(Status::FailedPrecondition("fetch source: " + dest_dir +
                                          " is a symlink; it must be a real directory"));
  if (!S_ISDIR(st.st_mode))
    return Err(Status::FailedPrecondition("fetch source: " + dest_dir + " exists and is not a directory"));
  SP_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dest_dir));
  if (!names.empty())
    return Err(Status::FailedPrecondition("fetch source: " + dest_dir + " is not empty (" +
                                          std::to_string(names.size()) +
                                          " entries); a source is cloned only into an empty directory"));
  return true;
}

std::vector<std::string> GitArgv(const SourceOptions& options, const SourceUrl& src,
                                 const std::string& dest) {
  std::vector<std::string> argv = {options.git_binary, "-c", "protocol.allow=never", "-c",
                                   "protocol.https.allow=always"};
  if (src.scheme == "file") argv.insert(argv.end(), {"-c", "protocol.file.allow=always"});
  argv.insert(argv.end(),
              {"-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "clone", "--depth", "1"});
  if (!src.ref.empty()) argv.insert(argv.end(), {"--branch", src.ref});
  argv.insert(argv.end(), {"--no-recurse-submodules", "--progress", "--", src.git_url, dest});
  return argv;
}

std::vector<std::string> GitEnv(const std::string& home) {
  std::vector<std::string> env = {"HOME=" + home,          "LC_ALL=C",
                                  "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
                                  "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false"};
  const char* path = ::getenv("PATH");
  env.push_back(std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
  for (const char* name :
       {"http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY",
        "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "SSL_CERT_FILE", "SSL_CERT_DIR"}) {
    if (const char* value = ::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

// git's last meaningful lines, joined for a one-line message.
std::string Excerpt(const std::vector<std::string>& tail) {
  std::vector<std::string> lines;
  for (const std::string& line : tail) {
    if (line.rfind("Cloning into", 0) != 0) lines.push_back(line);
  }
  size_t first = lines.size() > kErrorLines ? lines.size() - kErrorLines : 0;
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) out += (out.empty() ? "" : "; ") + lines[i];
  return out;
}

// A missing repository or ref is NotFound; anything else git reports is Unavailable. git runs with
// LC_ALL=C, so its messages are the English ones matched here.
Code ClassifyFailure(const std::vector<std::string>& tail) {
  for (const std::string& line : tail) {
    if (line.find("not found") != std::string::npos ||
        line.find("does not appear to be a git repository") != std::string::npos)
      return Code::kNotFound;
  }
  return Code::kUnavailable;
}

Status CloneFailure(std::string_view url, const SourceOptions& options, const StreamedResult& r) {
  std::string excerpt = Excerpt(r.tail);
  std::string detail = excerpt.empty() ? "" : ": " + excerpt;
  std::string prefix = "fetch source " + std::string(url) + ": git clone ";
  if (r.timed_out)
    return Status::DeadlineExceeded(prefix + "did not finish within " + FormatDuration(options.timeout) +
                                    " and was stopped" + detail);
  std::string how = r.signal ? "killed by signal " + std::to_string(r.signal)
                             : "exit status " + std::to_string(r.exit_code);
  for (const std::string& line : r.tail) {
    if (line.find("detected dubious ownership") != std::string::npos)
      return Status::PermissionDenied(prefix + "failed (" + how +
                                      "): the repository is owned by another user than "
                                      "the daemon's, and git refuses to read it: " +
                                      line);
  }
  return Status(ClassifyFailure(r.tail), prefix + "failed (" + how + ")" + detail);
}

Result<StreamedResult> RunGit(const SourceOptions& options, const SourceUrl& src, const std::string& dest,
                              const std::function<void(std::string_view)>& on_output) {
  SP_ASSIGN_OR_RETURN(std::string home, MakeTempDir("/tmp/sp-git-home-XXXXXX"));
  StreamedCommand cmd{GitArgv(options, src, dest), GitEnv(home), options.timeout};
  Result<StreamedResult> r = RunStreamed(cmd, on_output);
  (void)RemoveAll(home);
  return r;
}

}  // namespace

bool IsSafeRefName(std::string_view ref) {
  if (ref.empty() || ref.size() > kMaxRefLength) return false;
  if (ref.front() == '-' || ref.front() == '/' || ref.back() == '/' || ref.back() == '.') return false;
  if (ref.find("..") != std::string_view::npos || ref.find("//") != std::string_view::npos) return false;
  for (char c : ref) {
    if (!IsAlnum(c) && std::string_view("._-/+").find(c) == std::string_view::npos) return false;
  }
  size_t start = 0;
  while (start <= ref.size()) {
    size_t end = ref.find('/', start);
    if (end == std::string_view::npos) end = ref.size();
    std::string_view component = ref.substr(start, end - start);
    if (component.front() == '.') return false;
    if (component.size() >= 5 && component.substr(component.size() - 5) == ".lock") return false;
    start = end + 1;
  }
  return true;
}

Result<SourceUrl> ParseSourceUrl(std::string_view url, bool allow_local) {
  if (url.empty()) return Err(Refuse(url, "the URL is empty"));
  if (url.size() > kMaxUrlLength) return Err(Refuse(url, "the URL is longer than 4096 characters"));
  if (HasUnsafeCharacter(url))
    return Err(
        Refuse(url, "the URL contains whitespace, a control or non-ASCII character, or one of \"<>\\^`{|}"));
  size_t hash = url.find('#');
  std::string_view base = url.substr(0, hash);
  std::string_view ref = hash == std::string_view::npos ? std::string_view() : url.substr(hash + 1);
  if (hash != std::string_view::npos && !IsSafeRefName(ref))
    return Err(
        Refuse(url,
               "the ref after '#' must be a branch or tag name (letters, digits, \"._-/+\"; no leading "
               "'-', no \"..\")"));
  Result<SourceUrl> parsed;
  if (base.rfind("git+https://", 0) == 0) {
    parsed = ParseHttps(url, base.substr(12));
  } else if (base.rfind("git+file://", 0) == 0) {
    parsed = ParseFile(url, base.substr(11), allow_local);
  } else if (base.rfind("git+", 0) == 0) {
    return Err(Refuse(url, "only the https and file transports are supported"));
  } else {
    return Err(Refuse(url, "a source URL starts with git+https:// or git+file://"));
  }
  if (parsed) parsed->ref = std::string(ref);
  return parsed;
}

Status FetchSource(std::string_view url, const std::string& dest_dir, const SourceOptions& options,
                   const std::function<void(std::string_view line)>& on_output) {
  SP_ASSIGN_OR_RETURN(SourceUrl src, ParseSourceUrl(url, options.allow_local));
  SP_ASSIGN_OR_RETURN(bool existed, CheckDestination(dest_dir));
  if (!FindProgram(options.git_binary))
    return Status::NotFound("fetch source " + std::string(url) + ": git is not installed (no '" +
                            options.git_binary + "' in PATH); install git to use source:");
  Result<StreamedResult> r = RunGit(options, src, dest_dir, on_output);
  Status failure;
  if (!r) {
    failure = r.error().Annotate("fetch source " + std::string(url));
  } else if (!r->ok()) {
    failure = CloneFailure(url, options, *r);
  } else {
    return Status::Ok();
  }
  Status restored = Restore(dest_dir, existed);
  if (!restored.ok())
    return Status(failure.code(),
                  failure.message() + "; also could not empty " + dest_dir + ": " + restored.message());
  return failure;
}

}  // namespace sp
