// A gtest fixture for tests against the real CNI plugins: a test-specific bridge ("sptest<4 hex>") and
// subnet (10.231.<random>.0/24), a temp state dir, and cleanup of everything the test made (attachments,
// namespaces, router-access rules, the bridge) in TearDown, which runs even when an assertion failed.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "net/cni.h"
#include "net/link.h"
#include "net/net_test_util.h"
#include "net/netns.h"
#include "net/router_access.h"
#include "util/fs.h"

namespace sp::testing {

class BridgeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    std::string suffix = RandomHex(4);
    opts_.network_name = "sptest-" + suffix;
    opts_.bridge = "sptest" + suffix;
    opts_.subnet = "10.231." + std::to_string(RandomInt(0, 255)) + ".0/24";
    opts_.ipam_dir = JoinPath(tmp_.path(), "cni");
    netns_dir_ = JoinPath(tmp_.path(), "netns");
    ASSERT_FALSE(LinkExists(opts_.bridge)) << "bridge " << opts_.bridge << " already exists";
    net_ = std::make_unique<BridgeNetwork>(opts_);
    ASSERT_TRUE(net_->Validate().ok()) << net_->Validate().ToString();
  }

  void TearDown() override {
    for (const auto& [id, ns] : attached_) EXPECT_TRUE(net_->Detach(id, ns).ok()) << id;
    for (const auto& ns : namespaces_) EXPECT_TRUE(DeleteNetns(ns).ok()) << ns;
    for (int port : router_ports_) EXPECT_TRUE(RemoveRouterAccess(opts_.bridge, net_->gateway(), port).ok());
    EXPECT_TRUE(DeleteBridge(opts_.bridge).ok()) << opts_.bridge;
    EXPECT_TRUE(ReleaseNetnsDir(netns_dir_).ok());
  }

  // Creates a namespace that TearDown deletes; "" (and a test failure) if that fails.
  std::string NewNetns(const std::string& name) {
    auto ns = CreateNetns(netns_dir_, name);
    EXPECT_TRUE(ns) << ns.error().ToString();
    if (!ns) return "";
    namespaces_.push_back(*ns);
    return *ns;
  }

  // Attaches and remembers the attachment for TearDown.
  Result<Attachment> AttachTracked(const std::string& id, const std::string& ns) {
    auto a = net_->Attach(id, ns);
    if (a) attached_.emplace_back(id, ns);
    return a;
  }

  // Router-access rules made through this are removed in TearDown.
  Status EnsureRouterAccessTracked(int port) {
    router_ports_.push_back(port);
    return EnsureRouterAccess(opts_.bridge, net_->gateway(), port);
  }

  // host-local keeps one file per reserved address in <dataDir>/<network name>/.
  bool AddressReserved(const std::string& address) const {
    return PathExists(JoinPath(opts_.ipam_dir, opts_.network_name + "/" + address));
  }

  TempDir tmp_;
  BridgeNetworkOptions opts_;
  std::string netns_dir_;
  std::unique_ptr<BridgeNetwork> net_;
  std::vector<std::pair<std::string, std::string>> attached_;
  std::vector<std::string> namespaces_;
  std::vector<int> router_ports_;
};

}  // namespace sp::testing
