#include "daemon/log_shipper.h"

#include <gtest/gtest.h>

#include "protocol/published.h"
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "monitor/cri_log.h"
#include "monitor/log_segments.h"
#include "util/fs.h"

namespace sp {
namespace {

class LogShipperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sp-logs-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  void Append(int seg, const std::string& text) {
    std::ofstream(SegmentPath(dir_, static_cast<uint32_t>(seg)), std::ios::app) << text;
  }
  static std::string Rec(const std::string& text, const std::string& stream = "stdout", bool partial = false) {
    return FormatCriRecord("2026-11-23T11:00:00.000000001Z", stream == "stderr" ? LogStream::kStderr : LogStream::kStdout,
                           partial, text);
  }
  std::unique_ptr<LogShipper> Make() {
    return std::make_unique<LogShipper>(
        [this](const std::string& svc, const std::string& payload) {
          if (fail_publish_) return Status::Unavailable("router down");
          auto j = nlohmann::json::parse(payload);
          for (auto& e : j["entries"]) lines_.push_back(e["stream"].get<std::string>() + ":" + e["text"].get<std::string>());
          return Status::Ok();
        },
        [this](const std::string&, int64_t seg, int64_t off) {
          seg_ = seg;
          off_ = off;
        });
  }
  std::string dir_;
  std::vector<std::string> lines_;
  int64_t seg_ = 0, off_ = 0;
  bool fail_publish_ = false;
};

TEST(LogMessage, InvalidUtf8IsReplacedNotFatal) {
  std::string payload = protocol::EncodeLogMessage({"s", {{"t", "stdout", std::string("bad \xff\xfe bytes")}}});
  EXPECT_FALSE(nlohmann::json::parse(payload, nullptr, false).is_discarded());
}

TEST_F(LogShipperTest, ShipsWholeRecordsAndRemembersPosition) {
  std::string half = Rec("partial");
  Append(1, Rec("one") + Rec("two", "stderr") + half.substr(0, 20));
  auto s = Make();
  s->Track("svc", dir_, 0, 0);
  EXPECT_EQ(lines_, (std::vector<std::string>{"stdout:one", "stderr:two"}));
  EXPECT_EQ(seg_, 1);
  EXPECT_EQ(off_, static_cast<int64_t>(Rec("one").size() + Rec("two", "stderr").size()));
  Append(1, half.substr(20));
  s->Poll("svc");
  EXPECT_EQ(lines_.back(), "stdout:partial");
}

TEST_F(LogShipperTest, JoinsPartialChunksOfALongLine) {
  Append(1, Rec("aaa", "stdout", true) + Rec("err", "stderr") + Rec("bbb", "stdout", true) + Rec("ccc"));
  auto s = Make();
  s->Track("svc", dir_, 0, 0);
  EXPECT_EQ(lines_, (std::vector<std::string>{"stderr:err", "stdout:aaabbbccc"}));
}

TEST_F(LogShipperTest, FailedPublishIsRetriedWithoutLossOrRepeat) {
  Append(1, Rec("a"));
  auto s = Make();
  s->Track("svc", dir_, 0, 0);
  fail_publish_ = true;
  Append(1, Rec("x", "stdout", true) + Rec("b"));
  s->Poll("svc");
  fail_publish_ = false;
  s->Poll("svc");
  EXPECT_EQ(lines_, (std::vector<std::string>{"stdout:a", "stdout:xb"}));
}

TEST_F(LogShipperTest, FollowsRotationAcrossSegments) {
  Append(1, Rec("a"));
  auto s = Make();
  s->Track("svc", dir_, 0, 0);
  Append(1, Rec("b"));
  Append(2, Rec("c"));
  Append(3, Rec("d"));
  s->Poll("svc");
  EXPECT_EQ(lines_, (std::vector<std::string>{"stdout:a", "stdout:b", "stdout:c", "stdout:d"}));
  EXPECT_EQ(seg_, 3);
}

TEST_F(LogShipperTest, ResumesFromSavedPositionWithoutLossOrRepeat) {
  Append(1, Rec("a") + Rec("b"));
  {
    auto s = Make();
    s->Track("svc", dir_, 0, 0);
  }
  Append(1, Rec("c"));  // written while the "daemon" was down
  Append(2, Rec("d"));
  lines_.clear();
  auto s = Make();
  s->Track("svc", dir_, seg_, off_);
  EXPECT_EQ(lines_, (std::vector<std::string>{"stdout:c", "stdout:d"}));
}

TEST_F(LogShipperTest, SkipsToOldestSegmentWhenSavedOneWasRotatedAway) {
  Append(5, Rec("e"));
  auto s = Make();
  s->Track("svc", dir_, 2, 100);
  EXPECT_EQ(lines_, (std::vector<std::string>{"stdout:e"}));
}

TEST_F(LogShipperTest, InotifyReportsNewData) {
  Append(1, Rec("a"));
  auto s = Make();
  s->Track("svc", dir_, 0, 0);
  Append(1, Rec("b"));
  struct pollfd p = {s->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  s->HandleEvents();
  EXPECT_EQ(lines_.back(), "stdout:b");
  s->Untrack("svc");
  Append(1, Rec("c"));
  s->PollAll();
  EXPECT_EQ(lines_.back(), "stdout:b") << "untracked services are not shipped";
}

}  // namespace
}  // namespace sp
