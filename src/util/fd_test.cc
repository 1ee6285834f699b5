// Tests of Fd (closing, moving, releasing, resetting) and OpenPipe.
#include "util/fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

namespace sp {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

int OpenDevNull() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(FdTest, ClosesOnDestruction) {
  int raw = OpenDevNull();
  ASSERT_GE(raw, 0);
  {
    Fd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(FdTest, DefaultHoldsNothing) {
  Fd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(fd.get(), -1);
  EXPECT_EQ(fd.release(), -1);
}

TEST(FdTest, MoveTransfersOwnership) {
  int raw = OpenDevNull();
  Fd a(raw);
  Fd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  Fd c;
  c = std::move(b);
  EXPECT_FALSE(b.valid());
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(FdTest, MoveAssignmentClosesWhatWasHeld) {
  int first = OpenDevNull(), second = OpenDevNull();
  Fd a(first);
  a = Fd(second);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_EQ(a.get(), second);
}

TEST(FdTest, SelfMoveKeepsTheDescriptor) {
  int raw = OpenDevNull();
  Fd a(raw);
  Fd& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(FdTest, ReleaseGivesUpOwnership) {
  int raw = OpenDevNull();
  {
    Fd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(FdTest, ResetClosesAndTakesTheNewOne) {
  int first = OpenDevNull(), second = OpenDevNull();
  Fd fd(first);
  fd.reset(second);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset();
  EXPECT_FALSE(IsOpen(second));
  EXPECT_FALSE(fd.valid());
}

TEST(FdTest, OpenPipeIsCloseOnExecAndConnected) {
  auto pipe = OpenPipe();
  ASSERT_TRUE(pipe) << pipe.error().ToString();
  EXPECT_TRUE(::fcntl(pipe->read.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(pipe->write.get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(::write(pipe->write.get(), "x", 1), 1);
  pipe->write.reset();
  char buf[2];
  EXPECT_EQ(::read(pipe->read.get(), buf, sizeof buf), 1);
  EXPECT_EQ(::read(pipe->read.get(), buf, sizeof buf), 0);  // end of file once the writer closed
}

}  // namespace
}  // namespace sp
