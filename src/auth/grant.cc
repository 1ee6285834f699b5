// The grant -> permissions mapping and subject matching (see grant.h). The
// JetStream API subjects are spelled here, from the stream names in
// uri/uri.h, so the daemon, the grants and the delegation template agree.
#include "auth/grant.h"

#include <algorithm>

#include "uri/uri.h"

namespace sp {
namespace {

constexpr std::string_view kJsApi = "$JS.API.";

std::string Str(std::string_view s) { return std::string(s); }

void AddUnique(std::vector<std::string>& list, std::string item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(std::move(item));
}

std::vector<std::string_view> Tokens(std::string_view subject) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t dot = subject.find('.', start);
    out.push_back(
        subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

bool WellFormed(const std::vector<std::string_view>& tokens) {
  return std::none_of(tokens.begin(), tokens.end(), [](std::string_view t) { return t.empty(); });
}

// '>' must be the last token of a pattern.
bool WellFormedPattern(const std::vector<std::string_view>& tokens) {
  if (!WellFormed(tokens)) return false;
  for (size_t i = 0; i + 1 < tokens.size(); ++i)
    if (tokens[i] == ">") return false;
  return true;
}

std::string Join(const std::vector<std::string_view>& tokens, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < tokens.size(); ++i) {
    if (i > from) out += '.';
    out += tokens[i];
  }
  return out;
}

// `head` followed by rest[from...].
std::string JoinWithRest(const std::vector<std::string_view>& head, const std::vector<std::string_view>& rest,
                         size_t from) {
  std::string joined = Join(head);
  return joined.empty() ? Join(rest, from) : joined + "." + Join(rest, from);
}

Status CheckPerms(unsigned perms, std::string_view uri) {
  if (perms == 0 || (perms & ~(kPublish | kConsume)) != 0)
    return Status::InvalidArgument("grant on \"" + Str(uri) + "\": permissions must be P, C or PC");
  return Status::Ok();
}

}  // namespace

std::vector<std::string> ConsumeApiSubjects(std::string_view s) {
  std::vector<std::string> out;
  for (std::string_view stream : {kHeartbeatStream, kLogStream})
    out.push_back(Str(kJsApi) + "CONSUMER.CREATE." + Str(stream) + ".*." + Str(s));
  for (std::string_view stream : {kLogStream, kHeartbeatStream})
    out.push_back(Str(kJsApi) + "DIRECT.GET." + Str(stream) + "." + Str(s));
  return out;
}

Result<unsigned> ParsePerms(std::string_view text) {
  unsigned perms = 0;
  for (char c : text) {
    unsigned bit = 0;
    if (c == 'P' || c == 'p') bit = kPublish;
    if (c == 'C' || c == 'c') bit = kConsume;
    if (bit == 0 || (perms & bit) != 0) {
      perms = 0;
      break;
    }
    perms |= bit;
  }
  if (perms == 0)
    return Err(Status::InvalidArgument("permissions \"" + Str(text) +
                                       "\": expected P (publish), C (consume) or PC (both)"));
  return perms;
}

std::string FormatPerms(unsigned perms) {
  SP_CHECK(perms >= 1 && perms <= 3);
  return std::string((perms & kPublish) ? "P" : "") + ((perms & kConsume) ? "C" : "");
}

Status ValidateGrantUri(std::string_view uri) {
  auto segs = ParseUriPattern(uri);
  if (!segs) return segs.error().Annotate("grant");
  const std::string& first = segs->front();
  if (first == "+" || first == "*")
    return Status::InvalidArgument("grant on \"" + Str(uri) +
                                   "\": the first segment must be a name, not a wildcard (it would also "
                                   "reach the JetStream API and other users' inboxes)");
  if (first.starts_with("_"))
    return Status::InvalidArgument("grant on \"" + Str(uri) + "\": a first segment starting with '_' (\"" +
                                   first + "\") is reserved for NATS inboxes and internals");
  if (segs->back() == "+")
    return Status::InvalidArgument(
        "grant on \"" + Str(uri) +
        "\": a pattern may not end in '+' (a client could use a literal '>' there and reach the whole "
        "subtree); end it with '*' to grant the subtree, or name the last segment");
  return Status::Ok();
}

void CloseEmptyAllowLists(Permissions& perms) {
  if (perms.pub_allow.empty()) perms.pub_allow.push_back(Str(kNothingSubject));
  if (perms.sub_allow.empty()) perms.sub_allow.push_back(Str(kNothingSubject));
}

std::string InboxPrefix(std::string_view user_pub) { return "_INBOX." + Str(user_pub); }

Result<Permissions> GrantPermissions(const std::vector<UriGrant>& grants, std::string_view user_pub) {
  if (grants.empty()) return Err(Status::InvalidArgument("a grant needs at least one URI"));
  auto type = PublicKeyType(user_pub);
  if (!type || *type != KeyType::kUser)
    return Err(Status::InvalidArgument("grant: \"" + Str(user_pub) + "\" is not a user public key (U...)"));
  Permissions perms;
  for (const UriGrant& g : grants) {
    SP_RETURN_IF_ERROR(ValidateGrantUri(g.uri));
    SP_RETURN_IF_ERROR(CheckPerms(g.perms, g.uri));
    std::string s = PatternToSubject(g.uri);
    if (g.perms & kPublish) AddUnique(perms.pub_allow, s);
    if (g.perms & kConsume) {
      AddUnique(perms.sub_allow, s);
      for (std::string& api : ConsumeApiSubjects(s)) AddUnique(perms.pub_allow, std::move(api));
    }
  }
  AddUnique(perms.sub_allow, InboxPrefix(user_pub) + ".>");
  CloseEmptyAllowLists(perms);  // cannot happen today (C publishes stream reads); kept against edits
  perms.allow_responses = false;
  return perms;
}

Permissions DaemonPermissions(std::string_view base_uri, std::string_view daemon_pub) {
  const std::string base = UriToSubject(base_uri);
  Permissions perms;
  perms.pub_allow = {base + ".>"};
  for (std::string_view stream : {kHeartbeatStream, kLogStream}) {
    perms.pub_allow.push_back(Str(kJsApi) + "STREAM.CREATE." + Str(stream));
    perms.pub_allow.push_back(Str(kJsApi) + "STREAM.UPDATE." + Str(stream));
  }
  perms.pub_allow.push_back(Str(kJsApi) + "STREAM.PURGE." + Str(kHeartbeatStream));
  perms.sub_allow = {base + ".s%2Espawnpoint.daemon.i%2Espawnpoint.slot.*",
                     base + ".s%2Espawnpoint.*.i%2Espawnable.slot.*", InboxPrefix(daemon_pub) + ".>"};
  perms.allow_responses = true;
  return perms;
}

Permissions ServicePermissions(std::string_view base_uri, std::string_view service,
                               std::string_view service_pub) {
  const std::string prefix = UriToSubject(SpawnpointUris(Str(base_uri)).ServicePrefix(service)) + ".>";
  Permissions perms;
  perms.pub_allow = {prefix};
  perms.sub_allow = {prefix, InboxPrefix(service_pub) + ".>"};
  perms.allow_responses = true;
  return perms;
}

bool SubjectMatches(std::string_view pattern, std::string_view subject) {
  auto p = Tokens(pattern);
  auto s = Tokens(subject);
  if (!WellFormedPattern(p) || !WellFormed(s)) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return i < s.size();
    if (i >= s.size()) return false;
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return p.size() == s.size();
}

std::optional<std::string> IntersectSubjects(std::string_view a, std::string_view b) {
  auto x = Tokens(a);
  auto y = Tokens(b);
  if (!WellFormedPattern(x) || !WellFormedPattern(y)) return std::nullopt;
  std::vector<std::string_view> out;
  for (size_t i = 0;; ++i) {
    bool x_done = i >= x.size(), y_done = i >= y.size();
    if (x_done || y_done) {
      if (!x_done || !y_done) return std::nullopt;  // one is longer and neither has '>' here
      return Join(out);
    }
    // A '>' matches one or more tokens: whatever the other pattern has left (at least this one).
    if (x[i] == ">") return JoinWithRest(out, y, i);
    if (y[i] == ">") return JoinWithRest(out, x, i);
    if (x[i] == "*") {
      out.push_back(y[i]);
    } else if (y[i] == "*" || x[i] == y[i]) {
      out.push_back(x[i]);
    } else {
      return std::nullopt;
    }
  }
}

Result<std::string> IssueGrantJwt(const Namespace& ns, std::string_view user_pub, std::string_view name,
                                  const std::vector<UriGrant>& grants, std::optional<int64_t> expires_unix) {
  SP_ASSIGN_OR_RETURN(Permissions perms, GrantPermissions(grants, user_pub));
  return UserJwt(ns.account, user_pub, name, perms, expires_unix);
}

}  // namespace sp
