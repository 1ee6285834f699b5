// URI validation and the URI <-> subject mapping (see uri.h for the rules).
#include "uri/uri.h"

namespace sp {
namespace {

constexpr size_t kMaxUriLength = 1024;

bool SegmentCharOk(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~' || c == ':' || c == '@' || c == '=';
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

Status CheckSegment(std::string_view uri, const std::string& seg) {
  if (seg.empty()) return Status::InvalidArgument("invalid URI \"" + std::string(uri) + "\": empty segment");
  for (char c : seg) {
    if (!SegmentCharOk(c)) {
      return Status::InvalidArgument("invalid URI \"" + std::string(uri) + "\": character '" + std::string(1, c) +
                                     "' not allowed in segment \"" + seg + "\" (allowed: A-Z a-z 0-9 - _ . ~ : @ =)");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Parse(std::string_view uri, bool pattern) {
  if (uri.empty()) return Err(Status::InvalidArgument("empty URI"));
  if (uri.size() > kMaxUriLength) return Err(Status::InvalidArgument("URI longer than 1024 characters"));
  auto segs = Split(uri, '/');
  for (size_t i = 0; i < segs.size(); ++i) {
    if (pattern && segs[i] == "+") continue;
    if (pattern && segs[i] == "*") {
      if (i + 1 != segs.size())
        return Err(Status::InvalidArgument("invalid URI pattern \"" + std::string(uri) + "\": '*' must be last"));
      continue;
    }
    SP_RETURN_IF_ERROR(CheckSegment(uri, segs[i]));
  }
  return segs;
}

std::string EscapeSegment(const std::string& seg) {
  std::string out;
  for (char c : seg) {
    if (c == '.') {
      out += "%2E";
    } else {
      out += c;
    }
  }
  return out;
}

std::string JoinSubject(const std::vector<std::string>& segs, bool pattern) {
  std::string out(kSubjectRoot);
  for (size_t i = 0; i < segs.size(); ++i) {
    out += '.';
    if (pattern && segs[i] == "*") {
      out += '>';
    } else if (pattern && segs[i] == "+") {
      out += '*';
    } else {
      out += EscapeSegment(segs[i]);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ParseUri(std::string_view uri) { return Parse(uri, false); }
Status ValidateUri(std::string_view uri, std::string_view what) {
  auto r = ParseUri(uri);
  return r ? Status::Ok() : r.error().Annotate(what);
}

Result<std::vector<std::string>> ParseUriPattern(std::string_view pattern) { return Parse(pattern, true); }

std::string UriToSubject(std::string_view uri) {
  auto segs = ParseUri(uri);
  SP_CHECK(segs.has_value());
  return JoinSubject(*segs, false);
}

std::string PatternToSubject(std::string_view pattern) {
  auto segs = ParseUriPattern(pattern);
  SP_CHECK(segs.has_value());
  return JoinSubject(*segs, true);
}

Result<std::string> SubjectToUri(std::string_view subject) {
  std::string root = std::string(kSubjectRoot) + ".";
  if (subject.substr(0, root.size()) != root)
    return Err(Status::InvalidArgument("subject \"" + std::string(subject) + "\" is not a Spawnpoint subject"));
  std::string uri;
  bool first = true;
  for (const std::string& tok : Split(subject.substr(root.size()), '.')) {
    if (!first) uri += '/';
    first = false;
    std::string seg;
    for (size_t i = 0; i < tok.size(); ++i) {
      if (tok[i] == '%') {
        if (tok.compare(i, 3, "%2E") != 0)
          return Err(Status::InvalidArgument("subject \"" + std::string(subject) + "\" has a bad escape"));
        seg += '.';
        i += 2;
      } else {
        seg += tok[i];
      }
    }
    uri += seg;
  }
  auto parsed = ParseUri(uri);
  if (!parsed) return Err(parsed.error().Annotate("subject \"" + std::string(subject) + "\""));
  return uri;
}

namespace {
constexpr std::string_view kHeartbeatTail = "s%2Espawnpoint.*.*.signal.heartbeat";
constexpr std::string_view kLogTail = "s%2Espawnpoint.*.i%2Espawnable.signal.log";

std::vector<std::string> PerDepth(std::string_view tail) {
  std::vector<std::string> out;
  std::string prefix = std::string(kSubjectRoot) + ".";
  for (int depth = 1; depth <= kMaxBaseDepth; ++depth) {
    prefix += "*.";
    out.push_back(prefix + std::string(tail));
  }
  return out;
}
}  // namespace

std::vector<std::string> HeartbeatStreamSubjects() { return PerDepth(kHeartbeatTail); }
std::vector<std::string> LogStreamSubjects() { return PerDepth(kLogTail); }

std::vector<std::string> HeartbeatScanFilters(std::string_view prefix) {
  auto segs = ParseUri(prefix);
  SP_CHECK(segs.has_value());
  std::vector<std::string> out;
  std::string filter = UriToSubject(prefix) + ".";
  for (int depth = static_cast<int>(segs->size()); depth <= kMaxBaseDepth; ++depth) {
    out.push_back(filter + std::string(kHeartbeatTail));
    filter += "*.";
  }
  return out;
}

std::string SpawnpointUris::Alias() const {
  auto pos = base_.rfind('/');
  return pos == std::string::npos ? base_ : base_.substr(pos + 1);
}

std::string SpawnpointUris::DaemonHeartbeat() const {
  return base_ + "/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat";
}
std::string SpawnpointUris::DaemonConfigSlot() const { return base_ + "/s.spawnpoint/daemon/i.spawnpoint/slot/config"; }
std::string SpawnpointUris::ServicePrefix(std::string_view svc) const {
  return base_ + "/s.spawnpoint/" + std::string(svc) + "/i.spawnable";
}
std::string SpawnpointUris::ServiceHeartbeat(std::string_view svc) const {
  return ServicePrefix(svc) + "/signal/heartbeat";
}
std::string SpawnpointUris::ServiceLog(std::string_view svc) const { return ServicePrefix(svc) + "/signal/log"; }
std::string SpawnpointUris::ServiceProgress(std::string_view svc) const {
  return ServicePrefix(svc) + "/signal/progress";
}
std::string SpawnpointUris::DaemonSlot(std::string_view kind) const {
  return base_ + "/s.spawnpoint/daemon/i.spawnpoint/slot/" + std::string(kind);
}
std::string SpawnpointUris::DaemonProgress() const {
  return base_ + "/s.spawnpoint/daemon/i.spawnpoint/signal/progress";
}
std::string SpawnpointUris::ServiceRestartSlot(std::string_view svc) const {
  return ServicePrefix(svc) + "/slot/restart";
}
std::string SpawnpointUris::ServiceStopSlot(std::string_view svc) const { return ServicePrefix(svc) + "/slot/stop"; }
std::string SpawnpointUris::ServiceInspectSlot(std::string_view svc) const {
  return ServicePrefix(svc) + "/slot/inspect";
}

}  // namespace sp
