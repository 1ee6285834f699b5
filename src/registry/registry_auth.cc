// Registry authentication: challenges answered, tokens fetched and cached (see registry_auth.h).
#include "registry/registry_auth.h"

#include "registry/json_fields.h"
#include "util/base64.h"

namespace sp::registry_internal {
namespace {

constexpr size_t kMaxTokenReply = 64 << 10;
constexpr size_t kMaxTokenBytes = 16 << 10;
constexpr std::chrono::seconds kDefaultTokenTtl{60};
constexpr std::chrono::seconds kBasicTtl{3600};
constexpr size_t kMaxErrorText = 300;

std::string Clean(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (s.size() > max) out += "...";
  return out;
}

bool IsTokenText(std::string_view t) {
  if (t.empty() || t.size() > kMaxTokenBytes) return false;
  for (char c : t) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

struct Token {
  std::string value;
  std::chrono::seconds ttl = kDefaultTokenTtl;
};

Result<Token> ParseTokenReply(std::string_view body, const std::string& realm) {
  std::string what = "token reply from " + realm;
  SP_ASSIGN_OR_RETURN(Json doc, ParseJson(body, kMaxTokenReply, what));
  if (!doc.is_object()) return Err(Status::Unavailable(what + ": expected a JSON object"));
  Token t;
  SP_ASSIGN_OR_RETURN(t.value, ReadString(doc, "token", what + ": token"));
  if (t.value.empty()) {
    SP_ASSIGN_OR_RETURN(t.value, ReadString(doc, "access_token", what + ": access_token"));
  }
  if (!IsTokenText(t.value))
    return Err(Status::Unavailable(what + ": no usable \"token\" or \"access_token\" in the reply"));
  const Json* expires = Member(doc, "expires_in");
  if (expires && expires->is_number_integer() && expires->get<int64_t>() > 0)
    t.ttl = std::chrono::seconds(std::min<int64_t>(expires->get<int64_t>(), 24 * 3600));
  return t;
}

// How long to keep a token: a little less than it lives, so it is not used as it expires.
std::chrono::seconds CacheTtl(std::chrono::seconds ttl) {
  if (ttl > std::chrono::seconds(30)) return ttl - std::chrono::seconds(10);
  return std::max(std::chrono::seconds(1), ttl / 2);
}

}  // namespace

std::string RegistryErrorText(const HttpResponse& response) {
  std::string status = "HTTP " + std::to_string(response.status);
  if (response.error_body.empty()) return status;
  auto doc = ParseJson(response.error_body, 64 << 10, "error reply");
  std::string text;
  if (doc && doc->is_object()) {
    const Json* errors = Member(*doc, "errors");
    if (errors && errors->is_array()) {
      for (size_t i = 0; i < errors->size() && i < 3; ++i) {
        const Json& e = (*errors)[i];
        if (!e.is_object()) continue;
        std::string code = ReadString(e, "code", "code").value_or("");
        std::string message = ReadString(e, "message", "message").value_or("");
        if (code.empty() && message.empty()) continue;
        text += (text.empty() ? "" : "; ") + code + (code.empty() || message.empty() ? "" : ": ") + message;
      }
    }
  } else if (response.error_body.find('<') == std::string::npos) {  // plain text, not an HTML page
    text = response.error_body;
  }
  if (text.empty()) return status;
  return status + ", " + Clean(text, kMaxErrorText);
}

Authenticator::Authenticator(HttpTransport& http, std::string auth_file,
                             std::function<bool(const std::string&)> is_insecure)
    : http_(http), auth_file_(std::move(auth_file)), is_insecure_(std::move(is_insecure)) {}

Authorization Authenticator::Cached(const AuthScope& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  for (const std::string& key : {scope.registry + " " + scope.Scope(), scope.registry + " basic"}) {
    auto it = cache_.find(key);
    if (it == cache_.end()) continue;
    if (it->second.expires > now) return it->second.auth;
    cache_.erase(it);
  }
  return {};
}

void Authenticator::Forget(const AuthScope& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(scope.registry + " " + scope.Scope());
  cache_.erase(scope.registry + " basic");
}

void Authenticator::Store(const std::string& key, Authorization auth, std::chrono::seconds ttl) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_[key] = CachedEntry{std::move(auth), std::chrono::steady_clock::now() + ttl};
}

Result<std::optional<RegistryCredentials>> Authenticator::Credentials(const AuthScope& scope) {
  if (auth_file_.empty()) return std::nullopt;
  auto file = LoadAuthFile(auth_file_);
  if (!file) {
    if (file.error().code() == Code::kNotFound) return std::nullopt;
    return Err(file.error());
  }
  return file->For(scope.registry, scope.repository);
}

std::string Authenticator::DescribeCredentialSource(const AuthScope& scope) {
  if (auth_file_.empty()) return "no auth file is configured (registryAuth), so no credentials were sent";
  auto file = LoadAuthFile(auth_file_);
  if (!file) return "the auth file " + auth_file_ + " could not be used (" + file.error().message() + ")";
  auto creds = file->For(scope.registry, scope.repository);
  if (!creds) return "the auth file " + auth_file_ + " has no credentials for " + scope.registry;
  if (!creds->identity_token.empty())
    return "the identity token for " + scope.registry + " from " + auth_file_;
  return "user \"" + Clean(creds->username, 100) + "\" from " + auth_file_;
}

Result<Authorization> Authenticator::Answer(const AuthScope& scope,
                                            const std::vector<std::string>& www_authenticate) {
  if (www_authenticate.empty())
    return Err(Status::PermissionDenied("registry " + scope.registry +
                                        " answered 401 Unauthorized without saying how to authenticate "
                                        "(no WWW-Authenticate header)"));
  std::vector<AuthChallenge> challenges;
  for (const std::string& header : www_authenticate) {
    auto parsed = ParseChallenges(header);
    if (!parsed) return Err(parsed.error().Annotate("registry " + scope.registry));
    challenges.insert(challenges.end(), parsed->begin(), parsed->end());
  }
  std::string schemes;
  for (const AuthChallenge& c : challenges) {
    if (c.scheme == "bearer") return AnswerBearer(scope, c);
  }
  for (const AuthChallenge& c : challenges) {
    if (c.scheme == "basic") return AnswerBasic(scope);
    schemes += (schemes.empty() ? "" : ", ") + Clean(c.scheme, 40);
  }
  return Err(Status::PermissionDenied("registry " + scope.registry + " asks for authentication by " +
                                      schemes + ", which is not supported (only Bearer and Basic)"));
}

Result<Authorization> Authenticator::AnswerBasic(const AuthScope& scope) {
  SP_ASSIGN_OR_RETURN(std::optional<RegistryCredentials> creds, Credentials(scope));
  if (!creds || creds->username.empty())
    return Err(Status::PermissionDenied(
        "registry " + scope.registry + " requires a user name and password (HTTP Basic authentication); " +
        DescribeCredentialSource(scope) + ". Add them to the auth file (podman login " + "--authfile FILE " +
        scope.registry + ")"));
  Authorization auth;
  auth.header = "Basic " + EncodeBase64(creds->username + ":" + creds->password);
  auth.how = "HTTP Basic authentication as " + DescribeCredentialSource(scope);
  Store(scope.registry + " basic", auth, kBasicTtl);
  return auth;
}

Result<HttpRequest> Authenticator::TokenRequest(const AuthScope& scope, const AuthChallenge& challenge,
                                                const std::optional<RegistryCredentials>& creds,
                                                std::string* realm_shown) {
  std::string realm = challenge.Param("realm");
  if (realm.empty())
    return Err(
        Status::PermissionDenied("registry " + scope.registry + " sent a Bearer challenge without a realm"));
  *realm_shown = RedactUrl(realm);
  auto url = ParseHttpUrl(realm);
  if (!url) return Err(url.error().Annotate("registry " + scope.registry + ": token realm"));
  if (url->scheme == "http" && !is_insecure_(url->Authority()))
    return Err(Status::PermissionDenied(
        "registry " + scope.registry + " sends clients to a token service over plain HTTP (" + *realm_shown +
        "); refusing to use it unless " + url->Authority() + " is listed in insecureRegistries"));
  std::string scope_text = scope.Scope().empty() ? challenge.Param("scope") : scope.Scope();
  std::string query = "service=" + UrlEscape(challenge.Param("service"));
  if (!scope_text.empty()) query += "&scope=" + UrlEscape(scope_text);
  HttpRequest req;
  if (creds && !creds->identity_token.empty()) {  // OAuth2 refresh-token grant
    req.method = "POST";
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = "grant_type=refresh_token&client_id=spawnpoint&" + query +
               "&refresh_token=" + UrlEscape(creds->identity_token);
    return req;
  }
  req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
  if (creds && !creds->username.empty())
    req.headers.push_back("Authorization: Basic " + EncodeBase64(creds->username + ":" + creds->password));
  return req;
}

Result<Authorization> Authenticator::AnswerBearer(const AuthScope& scope, const AuthChallenge& challenge) {
  SP_ASSIGN_OR_RETURN(std::optional<RegistryCredentials> creds, Credentials(scope));
  std::string realm;
  SP_ASSIGN_OR_RETURN(HttpRequest req, TokenRequest(scope, challenge, creds, &realm));
  StringSink sink(kMaxTokenReply, "token reply from " + realm);
  HttpOutcome out = http_.Perform(req, &sink);
  if (!out.error.ok()) return Err(out.error.Annotate("token service"));
  long status = out.response.status;
  std::string who = creds ? DescribeCredentialSource(scope) : "anonymous access";
  if (status == 401 || status == 403)
    return Err(Status::PermissionDenied(
        "the token service " + realm + " of registry " + scope.registry + " refused " + who +
        (creds ? "" : " to " + scope.repository + "; " + DescribeCredentialSource(scope)) + " (" +
        RegistryErrorText(out.response) + ")"));
  if (status == 429 || status >= 500)
    return Err(Status::Unavailable("token service " + realm + ": " + RegistryErrorText(out.response)));
  if (status != 200)
    return Err(
        Status::PermissionDenied("token service " + realm + " answered " + RegistryErrorText(out.response)));
  SP_ASSIGN_OR_RETURN(Token token, ParseTokenReply(sink.data(), realm));
  Authorization auth;
  auth.header = "Bearer " + token.value;
  auth.how = "a bearer token from " + realm + " (" + who + ")";
  Store(scope.registry + " " + scope.Scope(), auth, CacheTtl(token.ttl));
  return auth;
}

}  // namespace sp::registry_internal
