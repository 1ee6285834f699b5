// URI grants: the Bosswave-style "publish / consume on this URI pattern"
// permission, turned into the NATS permissions of a user JWT.
//
// A grant names a URI pattern (uri/uri.h: '+' one segment, a trailing '*' any
// depth) and the rights P (publish) and/or C (consume). Its NATS subject S is
// PatternToSubject(uri). P lets the holder publish on S. C lets it subscribe
// to S and read what JetStream keeps of S: create its own push consumer on the
// heartbeat and log streams with a filter inside S (the consumer-create
// subject carries the filter, so the router checks it), and direct-get the
// last message of a subject inside S. Every holder may subscribe to its own
// inbox, "_INBOX.<user public key>.>", and must set that inbox prefix on its
// connection (cnats: natsOptions_SetCustomInboxPrefix) for request/reply;
// nobody else can listen there.
//
// Grants whose pattern ends in '+' are refused: a client may publish or
// subscribe with a literal '>' token, which a permission ending in NATS '*'
// matches, so "a/b/+" would let it read all of a/b's subtree. Use "a/b/*" to
// give the subtree on purpose. Grants whose first segment is a wildcard or
// starts with '_' are refused too: they would reach JetStream's API and other
// users' inboxes.
//
// DaemonPermissions and ServicePermissions are what spawnd and a service's
// own entity need, and no more. SubjectMatches and IntersectSubjects reason
// about NATS subjects the way the router does, for callers that need to know
// what a grant allows.
//
// All functions are pure (IssueGrantJwt reads only its arguments) and
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "auth/namespace.h"
#include "util/status.h"

namespace sp {

enum GrantPerm : unsigned { kPublish = 1, kConsume = 2 };

struct UriGrant {
  std::string uri;  // a URI pattern
  unsigned perms;   // kPublish | kConsume
};

// "P", "C", "PC" or "CP", any case; InvalidArgument otherwise.
Result<unsigned> ParsePerms(std::string_view text);
// "P", "C" or "PC" (for messages and listings). REQUIRES: perms is 1, 2 or 3.
std::string FormatPerms(unsigned perms);

// OK if `uri` is a URI pattern a grant may name (see the header paragraph);
// otherwise InvalidArgument saying what to write instead.
Status ValidateGrantUri(std::string_view uri);

// "_INBOX.<user_pub>": the inbox prefix the holder of `user_pub` must use.
std::string InboxPrefix(std::string_view user_pub);

// A subject nobody publishes or listens on: what an allow list holds when it
// must allow nothing (an empty allow list means "anything").
inline constexpr std::string_view kNothingSubject = "_SP.NOTHING";

// Puts kNothingSubject into an empty publish or subscribe allow list, so the
// list restricts instead of allowing everything. GrantPermissions and the
// functions below already do; use it for permissions built elsewhere.
void CloseEmptyAllowLists(Permissions& perms);

// The JetStream API subjects a consumer of subject pattern `s` publishes to:
// creating its own consumer with a filter inside `s` on the heartbeat and log
// streams (the name token is '*'; never the filter-less form), and direct-get
// of the last message of a subject inside `s` on both streams.
std::vector<std::string> ConsumeApiSubjects(std::string_view s);

// The permissions of a user holding `grants`. Lists are deduplicated, the
// publish allow list is never empty (an empty list would mean "anything"),
// allow_responses is false. InvalidArgument for an empty list, a bad URI,
// perms outside P/C/PC, or a user_pub that is not a user key.
Result<Permissions> GrantPermissions(const std::vector<UriGrant>& grants, std::string_view user_pub);

// What spawnd with base URI `base_uri` needs: publish below its base
// (heartbeats, logs), create/update its two streams and purge heartbeat
// subjects, answer requests (allow_responses), and subscribe to its config
// slot, to the service slots and to its inbox.
// REQUIRES: base_uri is a valid concrete URI.
Permissions DaemonPermissions(std::string_view base_uri, std::string_view daemon_pub);

// What a service's own entity needs: publish and subscribe below
// <base>/s.spawnpoint/<service>/i.spawnable, its inbox, and answer requests.
// REQUIRES: base_uri is a valid URI and service a valid URI segment.
Permissions ServicePermissions(std::string_view base_uri, std::string_view service,
                               std::string_view service_pub);

// Whether the permission pattern `pattern` admits `subject` as nats-server
// decides it: subject tokens are literal (a '*' or '>' in the subject is a
// plain token), a pattern '*' matches any one token (including a literal '>',
// which is why grants must not end in '*'), a pattern '>' matches one or more
// remaining tokens. Malformed subjects (empty tokens) match nothing.
bool SubjectMatches(std::string_view pattern, std::string_view subject);

// The subjects matched by both NATS patterns `a` and `b`, as one pattern:
// token by token, equal literals stay, a literal and '*' give the literal,
// '*' and '*' give '*', a '>' takes the rest of the other pattern (at least
// one token). nullopt if no subject matches both, or either is malformed.
std::optional<std::string> IntersectSubjects(std::string_view a, std::string_view b);

// A user JWT signed by the namespace's account for `user_pub` with
// GrantPermissions(grants, user_pub); `expires_unix` is the optional `exp`.
Result<std::string> IssueGrantJwt(const Namespace& ns, std::string_view user_pub, std::string_view name,
                                  const std::vector<UriGrant>& grants, std::optional<int64_t> expires_unix);

}  // namespace sp
