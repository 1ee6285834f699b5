#include "util/status.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Err(Status::InvalidArgument("odd"));
  return x / 2;
}

Result<int> Quarter(int x) {
  SP_ASSIGN_OR_RETURN(int h, Half(x));
  SP_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, AnnotatePrependsContext) {
  Status s = Status::NotFound("no such service").Annotate("restart hello");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "restart hello: no such service");
  EXPECT_EQ(s.ToString(), "not_found: restart hello: no such service");
  EXPECT_TRUE(Status::Ok().Annotate("x").ok());
}

TEST(Status, CodeNamesRoundTrip) {
  for (Code c : {Code::kOk, Code::kInvalidArgument, Code::kResourceExhausted, Code::kUnimplemented})
    EXPECT_EQ(CodeFromName(CodeName(c)), c);
  EXPECT_EQ(CodeFromName("bogus"), Code::kInternal);
  EXPECT_NE(ExitCodeFor(Code::kResourceExhausted), 0);
  EXPECT_EQ(ExitCodeFor(Code::kOk), 0);
}

TEST(Status, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "odd");
}

TEST(Status, FromErrnoMapsCommonErrors) {
  EXPECT_EQ(Status::FromErrno("open x", ENOENT).code(), Code::kNotFound);
  EXPECT_EQ(Status::FromErrno("open x", EACCES).code(), Code::kPermissionDenied);
  EXPECT_NE(Status::FromErrno("open x", ENOENT).message().find("open x: "), std::string::npos);
}

}  // namespace
}  // namespace sp
