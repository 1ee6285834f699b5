// Account JWT edits: lock, read and verify the file, edit the claims,
// re-sign, write atomically, update the Namespace.
#include "auth/account_edit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "util/fs.h"

namespace sp {
namespace {

using nlohmann::json;

constexpr size_t kMaxJwtFile = 1 << 20;

// Holds an exclusive flock on a file for its lifetime.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Err(Status::FromErrno("open " + path, errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Err(Status::FromErrno("lock " + path, e));
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The claims of <dir>/account.jwt, checked to be ns's account, signed by ns's operator.
Result<json> ReadAccountClaims(const Namespace& ns, const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kMaxJwtFile));
  auto claims = DecodeAndVerify(Trim(text));
  if (!claims) return Err(Status::FailedPrecondition(path + ": " + claims.error().message()));
  if (JsonString(*claims, "sub") != ns.account.PublicKey() || JsonString(*claims, "iss") != ns.op.PublicKey())
    return Err(Status::FailedPrecondition(path + ": not the JWT of this namespace's account (sub \"" +
                                          JsonString(*claims, "sub") + "\")"));
  if (!claims->contains("nats") || !(*claims)["nats"].is_object())
    return Err(Status::FailedPrecondition(path + ": the JWT has no \"nats\" object"));
  return claims;
}

}  // namespace

Status EditAccountJwt(Namespace& ns, const std::string& dir, const std::function<Status(json& nats)>& edit) {
  SP_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(JoinPath(dir, "account.lock")));
  const std::string path = JoinPath(dir, "account.jwt");
  SP_ASSIGN_OR_RETURN(json claims, ReadAccountClaims(ns, path));
  SP_RETURN_IF_ERROR(edit(claims["nats"]));
  std::string jwt = EncodeJwt(ns.op, std::move(claims));
  SP_RETURN_IF_ERROR(WriteFileAtomic(path, jwt + "\n", 0644));
  ns.account_jwt = std::move(jwt);
  return Status::Ok();
}

Status RevokeUser(Namespace& ns, const std::string& dir, std::string_view user_pub, int64_t at_unix) {
  if (user_pub != "*") {
    auto type = PublicKeyType(user_pub);
    if (!type || *type != KeyType::kUser)
      return Status::InvalidArgument("revoke: \"" + std::string(user_pub) +
                                     "\" is not a user public key (U...) or \"*\"");
  }
  if (at_unix <= 0)
    return Status::InvalidArgument("revoke: the revocation time must be a positive unix time");
  return EditAccountJwt(ns, dir, [&](json& nats) {
    json& revocations = nats["revocations"];
    if (!revocations.is_object()) revocations = json::object();
    const std::string key(user_pub);
    auto it = revocations.find(key);
    if (it == revocations.end() || !it->is_number_integer() || it->get<int64_t>() < at_unix)
      revocations[key] = at_unix;
    return Status::Ok();
  });
}

std::optional<int64_t> RevokedAt(const json& account_claims, std::string_view user_pub) {
  if (!account_claims.is_object()) return std::nullopt;
  auto nats = account_claims.find("nats");
  if (nats == account_claims.end() || !nats->is_object()) return std::nullopt;
  auto revocations = nats->find("revocations");
  if (revocations == nats->end() || !revocations->is_object()) return std::nullopt;
  auto it = revocations->find(std::string(user_pub));
  if (it == revocations->end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

}  // namespace sp
