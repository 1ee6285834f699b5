// ServiceState names: every value round-trips through its text, and any other text is refused.
#include "supervisor/service_state.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

namespace sp {
namespace {

TEST(ServiceState, EveryValueRoundTrips) {
  for (ServiceState state : kAllServiceStates) {
    std::optional<ServiceState> parsed = ParseServiceState(ServiceStateName(state));
    ASSERT_TRUE(parsed.has_value()) << ServiceStateName(state);
    EXPECT_EQ(*parsed, state);
  }
}

TEST(ServiceState, NamesAreTheStoredAndProtocolTexts) {
  // These texts are in existing state databases and in docs/protocol.md: they must not change.
  EXPECT_EQ(ServiceStateName(ServiceState::kStarting), "starting");
  EXPECT_EQ(ServiceStateName(ServiceState::kRunning), "running");
  EXPECT_EQ(ServiceStateName(ServiceState::kRestarting), "restarting");
  EXPECT_EQ(ServiceStateName(ServiceState::kBackoff), "backoff");
  EXPECT_EQ(ServiceStateName(ServiceState::kExited), "exited");
  EXPECT_EQ(ServiceStateName(ServiceState::kStopping), "stopping");
  std::set<std::string_view> names;
  for (ServiceState state : kAllServiceStates) names.insert(ServiceStateName(state));
  EXPECT_EQ(names.size(), std::size(kAllServiceStates)) << "names are distinct";
}

TEST(ServiceState, UnknownTextIsRefused) {
  for (std::string_view text :
       {"", "failed", "stopped", "Running", "running ", " running", "runningx", "unknown"})
    EXPECT_FALSE(ParseServiceState(text).has_value()) << '"' << text << '"';
  EXPECT_FALSE(ParseServiceState(std::string_view("running\0", 8)).has_value());
}

TEST(ServiceState, StreamsItsName) {
  std::ostringstream out;
  out << ServiceState::kBackoff;
  EXPECT_EQ(out.str(), "backoff");
}

}  // namespace
}  // namespace sp
