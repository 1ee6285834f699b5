// Status: names of codes, errno formatting and context prepending.
#include "util/status.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sp {
namespace {
struct CodeEntry {
  Code code;
  std::string_view name;
  int exit_code;
};
constexpr CodeEntry kCodes[] = {
    {Code::kOk, "ok", 0},
    {Code::kInvalidArgument, "invalid_argument", 2},
    {Code::kNotFound, "not_found", 3},
    {Code::kAlreadyExists, "already_exists", 4},
    {Code::kResourceExhausted, "resource_exhausted", 5},
    {Code::kPermissionDenied, "permission_denied", 6},
    {Code::kUnavailable, "unavailable", 7},
    {Code::kDeadlineExceeded, "deadline_exceeded", 8},
    {Code::kFailedPrecondition, "failed_precondition", 9},
    {Code::kUnimplemented, "unimplemented", 10},
    {Code::kInternal, "internal", 1},
};
}  // namespace

std::string_view CodeName(Code code) {
  for (const auto& e : kCodes)
    if (e.code == code) return e.name;
  return "internal";
}

Code CodeFromName(std::string_view name) {
  for (const auto& e : kCodes)
    if (e.name == name) return e.code;
  return Code::kInternal;
}

int ExitCodeFor(Code code) {
  for (const auto& e : kCodes)
    if (e.code == code) return e.exit_code;
  return 1;
}

Status Status::FromErrno(std::string_view what, int err) {
  Code code = Code::kInternal;
  if (err == ENOENT) code = Code::kNotFound;
  if (err == EACCES || err == EPERM) code = Code::kPermissionDenied;
  if (err == EEXIST) code = Code::kAlreadyExists;
  return Status(code, std::string(what) + ": " + std::strerror(err));
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

namespace internal {
void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s\n", file, line, cond);
  std::abort();
}
}  // namespace internal
}  // namespace sp
