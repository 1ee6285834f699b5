// Tests for the ioctl link helpers. Bridges are made inside a throwaway network namespace, so the host's
// links are never touched.
#include "net/link.h"

#include <gtest/gtest.h>

#include "net/net_test_util.h"
#include "net/netns.h"

namespace sp {
namespace {

TEST(LinkNameTest, AcceptsLinuxInterfaceNames) {
  for (const char* good : {"spawn0", "br-1.2_x", "a", "abcdefghijklmno"}) {
    EXPECT_TRUE(ValidateLinkName(good).ok()) << good;
  }
}

TEST(LinkNameTest, RejectsBadNames) {
  for (const char* bad : {"", ".", "..", "abcdefghijklmnop", "br 0", "br/0", "br:0", "br\"0", "bür"}) {
    Status st = ValidateLinkName(bad);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
  }
}

class LinkInNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    auto ns = CreateNetns(JoinPath(tmp_.path(), "netns"), "links");
    ASSERT_TRUE(ns) << ns.error().ToString();
    ns_ = *ns;
  }
  void TearDown() override {
    if (!ns_.empty()) {
      EXPECT_TRUE(DeleteNetns(ns_).ok());
    }
    EXPECT_TRUE(ReleaseNetnsDir(JoinPath(tmp_.path(), "netns")).ok());
  }
  Status InNs(const std::function<Status()>& fn) { return RunInNetns(ns_, fn); }

  testing::TempDir tmp_;
  std::string ns_;
};

TEST_F(LinkInNetnsTest, EnsureBridgeCreatesItUpAndIsIdempotent) {
  Status st = InNs([]() -> Status {
    if (LinkExists("br-t")) return Status::Internal("bridge exists before EnsureBridge");
    SP_RETURN_IF_ERROR(EnsureBridge("br-t"));
    SP_RETURN_IF_ERROR(EnsureBridge("br-t"));
    if (!LinkExists("br-t")) return Status::Internal("bridge missing after EnsureBridge");
    if (!testing::LinkIsUp("br-t")) return Status::Internal("bridge is not up");
    auto bridge = IsBridge("br-t");
    if (!bridge || !*bridge) return Status::Internal("IsBridge does not report a bridge");
    SP_RETURN_IF_ERROR(DeleteBridge("br-t"));
    if (LinkExists("br-t")) return Status::Internal("bridge still exists after DeleteBridge");
    return DeleteBridge("br-t");  // missing is fine
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(LinkInNetnsTest, RefusesNonBridges) {
  Status st = InNs([]() -> Status {
    auto bridge = IsBridge("lo");
    if (!bridge || *bridge) return Status::Internal("lo reported as a bridge");
    Status ensure = EnsureBridge("lo");
    if (ensure.code() != Code::kFailedPrecondition)
      return Status::Internal("EnsureBridge(lo): " + ensure.ToString());
    Status del = DeleteBridge("lo");
    if (del.code() != Code::kFailedPrecondition)
      return Status::Internal("DeleteBridge(lo): " + del.ToString());
    if (!LinkExists("lo")) return Status::Internal("lo was deleted");
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(LinkInNetnsTest, SetLinkUpAndDown) {
  Status st = InNs([]() -> Status {
    SP_RETURN_IF_ERROR(SetLinkUp("lo", false));
    if (testing::LinkIsUp("lo")) return Status::Internal("lo still up");
    SP_RETURN_IF_ERROR(SetLinkUp("lo", true));
    if (!testing::LinkIsUp("lo")) return Status::Internal("lo not up");
    Status missing = SetLinkUp("nosuch0", true);
    if (missing.code() != Code::kNotFound) return Status::Internal("missing link: " + missing.ToString());
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

}  // namespace
}  // namespace sp
