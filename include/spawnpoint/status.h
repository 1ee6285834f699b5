// Status and Result<T>: the one error type of Spawnpoint.
//
// Every fallible function returns Status (no value) or Result<T>
// (tl::expected<T, Status>). A Status carries a Code, which maps onto reply
// codes on the bus and exit statuses of the command-line tools, and a
// human-readable message. As an error travels up, callers prepend context
// ("deploy hello: start container: runc create: ...") with Annotate().
//
// Untrusted input and likely environment failures are reported as Status;
// broken invariants are programming errors and abort (SP_CHECK).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace sp {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // bad input: config, request, flag
  kNotFound,           // unknown service, file, key
  kAlreadyExists,      // a service with that name is running
  kResourceExhausted,  // the pool cannot fit a reservation
  kPermissionDenied,   // refused by policy (daemon config, router)
  kUnavailable,        // router, runtime or peer not reachable
  kDeadlineExceeded,   // timed out
  kFailedPrecondition, // system not in a state to do this
  kUnimplemented,      // parsed but not supported yet
  kInternal,           // bug or unexpected environment failure
};

// Stable lower-case name of a code ("resource_exhausted"), used on the wire.
std::string_view CodeName(Code code);
// Inverse of CodeName; unknown names map to kInternal.
Code CodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  // Lets `return Err(s);` (and the macros below) work in functions returning
  // Status as well as in those returning Result<T>.
  Status(tl::unexpected<Status> u) : Status(std::move(u.value())) {}  // NOLINT: implicit on purpose

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  // errno-based failure of a system call: "<what>: <strerror(err)>".
  static Status FromErrno(std::string_view what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy with "<context>: " prepended to the message.
  Status Annotate(std::string_view context) const;
  // "resource_exhausted: <message>", or "ok".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
using Result = tl::expected<T, Status>;

// Wraps a non-OK status for returning from a function that returns Result<T>.
inline tl::unexpected<Status> Err(Status s) { return tl::unexpected<Status>(std::move(s)); }

// Exit status a command-line tool uses for an error of this code.
int ExitCodeFor(Code code);

}  // namespace sp

#define SP_CONCAT_INNER(a, b) a##b
#define SP_CONCAT(a, b) SP_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
// Works for functions returning Status or Result<T>.
#define SP_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    ::sp::Status sp_status_ = (expr);                 \
    if (!sp_status_.ok()) return ::sp::Err(sp_status_); \
  } while (0)

// SP_ASSIGN_OR_RETURN(auto x, FunctionReturningResult());
#define SP_ASSIGN_OR_RETURN(lhs, expr) SP_ASSIGN_OR_RETURN_IMPL(SP_CONCAT(sp_result_, __LINE__), lhs, expr)
#define SP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp) return ::sp::Err(std::move(tmp).error()); \
  lhs = std::move(*tmp)

// Aborts with a message when an invariant is broken (a bug, not bad input).
#define SP_CHECK(cond)                                                   \
  do {                                                                   \
    if (!(cond)) ::sp::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace sp::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
