// Who may do what, enforced by the real router: for each principal and each
// operation, allowed or refused as the grant says, and a refused operation
// changes nothing on the host. The matrix is printed in the test output.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "harness.h"
#include "util/base64.h"
#include "util/fs.h"

namespace sp::test {
namespace {

constexpr const char* kTicker = R"(cpuShares: 64
memory: 32
run: [/bin/sh, -c, 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
)";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class Permissions : public ::testing::Test {
 protected:
  void SetUp() override {
    d_.Start();
    ticker_ = d_.WriteFile("ticker.yaml", kTicker);
    Admin({"deploy", "-c", ticker_, "-n", "demosvc", "-t", "0s"});
    Admin({"deploy", "-c", ticker_, "-n", "othersvc", "-t", "0s"});
  }
  CommandResult Admin(std::vector<std::string> args) {
    auto r = d_.Spawnctl(args);
    EXPECT_EQ(r.exit_code, 0) << "admin: " << args[0] << ": " << r.err;
    return r;
  }
  // A new entity; returns {creds path, public key}.
  std::pair<std::string, std::string> Entity(const std::string& name) {
    std::string path = d_.work_dir() + "/" + name + ".creds";
    auto r = d_.Spawnctl({"entity", "new", "-o", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return {path, Trim(r.out)};
  }
  std::string Granted(const std::string& name, const std::vector<std::string>& grant_args) {
    auto [path, pub] = Entity(name);
    std::vector<std::string> args = {"grant", "--to", pub, "-o", path};
    args.insert(args.end(), grant_args.begin(), grant_args.end());
    auto r = d_.Spawnctl(args);
    EXPECT_EQ(r.exit_code, 0) << "grant " << name << ": " << r.err;
    pubs_[name] = pub;
    return path;
  }
  int DemoPid() {
    nlohmann::json info;
    WaitFor([&] { return (info = d_.Inspect("demosvc")).is_object(); }, Millis(10000));
    EXPECT_TRUE(info.is_object()) << "admin inspect of demosvc failed: " << d_.Spawnctl({"inspect", "-n", "demosvc"}).err;
    return info.is_object() ? info["pid"].get<int>() : 0;
  }
  // Runs every operation as `creds`; returns op -> allowed.
  std::map<std::string, bool> Probe(const std::string& who, const std::string& creds) {
    std::map<std::string, bool> out;
    auto as = [&](std::vector<std::string> args, Millis t = Millis(20000)) {
      args.insert(args.begin(), {"-e", creds});
      return d_.Spawnctl(args, t);
    };
    auto scan = as({"scan", "--json"});
    auto j = nlohmann::json::parse(scan.out, nullptr, false);
    bool sees = false;
    if (scan.ok() && j.is_object())
      for (auto& h : j["hosts"]) sees = sees || h["uri"] == d_.uri();
    out["scan"] = sees;
    out["inspect"] = as({"inspect", "-n", "demosvc", "--json"}).ok();
    auto tail = as({"tail", "-n", "demosvc", "-t", "1500ms"});
    out["tail"] = tail.ok() && tail.out.find("tick") != std::string::npos;

    std::string probe = "p-" + who;
    out["deploy"] = as({"deploy", "-c", ticker_, "-n", probe, "-t", "0s"}).ok();
    if (out["deploy"]) {
      Admin({"stop", "-n", probe});
    } else {
      EXPECT_TRUE(d_.Inspect(probe).is_null()) << who << ": a refused deploy changed nothing";
    }
    int pid = DemoPid();
    out["restart"] = as({"restart", "-n", "demosvc", "-t", "0s"}).ok();
    if (!out["restart"]) EXPECT_EQ(DemoPid(), pid) << who << ": a refused restart changed nothing";
    pid = DemoPid();
    out["stop"] = as({"stop", "-n", "demosvc"}).ok();
    if (out["stop"]) {
      Admin({"deploy", "-c", ticker_, "-n", "demosvc", "-t", "0s"});
    } else {
      EXPECT_EQ(DemoPid(), pid) << who << ": a refused stop changed nothing";
    }
    return out;
  }

  TestDaemon d_;
  std::string ticker_;
  std::map<std::string, std::string> pubs_;
};

TEST_F(Permissions, Matrix) {
  std::string base = d_.uri();
  std::string svc = base + "/s.spawnpoint/demosvc/i.spawnable/*";
  std::map<std::string, std::string> creds;
  creds["admin"] = nlohmann::json::parse(ReadText(d_.state_dir() + "/client.json"))["creds"];
  creds["host"] = Granted("host", {"--uri", base + "/*", "--perm", "PC"});
  creds["service"] = Granted("service", {"--uri", svc, "--perm", "PC"});
  creds["heartbeat"] = Granted("heartbeat", {"--uri", base + "/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat",
                                             "--perm", "C"});
  creds["otherhost"] = Granted("otherhost", {"--uri", "test/spawnpoint/elsewhere/*", "--perm", "PC"});
  creds["expired"] = Granted("expired", {"--uri", base + "/*", "--perm", "PC", "--expires", "1s"});
  creds["revoked"] = Granted("revoked", {"--uri", base + "/*", "--perm", "PC"});
  creds["nogrant"] = Entity("nogrant").first;  // a key with no JWT at all

  // Delegation: the owner lets an entity grant within this host; it grants one service.
  std::string deleg = d_.work_dir() + "/delegation.json";
  ASSERT_EQ(d_.Spawnctl({"delegate", "--uri", base, "-o", deleg}).exit_code, 0);
  creds["delegated"] = Granted("delegated", {"--uri", svc, "--perm", "PC", "--signer", deleg});
  auto [beyond_path, beyond_pub] = Entity("beyond");
  auto beyond = d_.Spawnctl({"grant", "--to", beyond_pub, "--uri", "test/spawnpoint/elsewhere/*", "--signer", deleg,
                             "-o", beyond_path});
  EXPECT_NE(beyond.exit_code, 0) << "a delegate cannot grant outside its subtree";

  // A forged grant: the host-wide JWT with its permissions edited and not re-signed.
  std::string forged_text = ReadText(creds["host"]);
  auto begin = forged_text.find('.') + 1, end = forged_text.find('.', begin);
  std::string payload = forged_text.substr(begin, end - begin);
  std::string b64 = payload;
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4) b64 += '=';
  auto claims = nlohmann::json::parse(*DecodeBase64(b64));
  claims["nats"]["pub"]["allow"] = {">"};
  std::string forged_payload = EncodeBase64(claims.dump());
  for (char& c : forged_payload) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!forged_payload.empty() && forged_payload.back() == '=') forged_payload.pop_back();
  forged_text.replace(begin, end - begin, forged_payload);
  creds["forged"] = d_.WriteFile("forged.creds", forged_text, 0600);

  // Revocation: a tail connected as "revoked" is cut off when the grant is revoked.
  std::string tail_out = d_.work_dir() + "/revoked-tail.out";
  pid_t tail = d_.SpawnctlBackground({"-e", creds["revoked"], "tail", "-n", "demosvc", "-t", "30s"}, tail_out);
  ASSERT_TRUE(WaitFor([&] { return ReadText(tail_out).find("tick") != std::string::npos; }, Millis(10000)))
      << ReadText(tail_out);
  ASSERT_EQ(d_.Spawnctl({"revoke", pubs_["revoked"]}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  size_t at_revoke = ReadText(tail_out).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(ReadText(tail_out).size(), at_revoke) << "the revoked client still receives lines";
  ::kill(tail, SIGINT);
  ::waitpid(tail, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // let "expired" expire

  const std::vector<std::string> ops = {"scan", "inspect", "tail", "deploy", "restart", "stop"};
  const std::map<std::string, std::vector<bool>> expected = {
      {"admin", {true, true, true, true, true, true}},
      {"host", {true, true, true, true, true, true}},
      {"service", {true, true, true, false, true, true}},
      {"delegated", {true, true, true, false, true, true}},
      {"heartbeat", {true, false, false, false, false, false}},
      {"otherhost", {false, false, false, false, false, false}},
      {"expired", {false, false, false, false, false, false}},
      {"revoked", {false, false, false, false, false, false}},
      {"nogrant", {false, false, false, false, false, false}},
      {"forged", {false, false, false, false, false, false}},
  };
  std::ostringstream table;
  table << std::left << std::setw(11) << "principal";
  for (const auto& op : ops) table << std::setw(9) << op;
  table << "\n";
  for (const auto& [who, want] : expected) {
    auto got = Probe(who, creds[who]);
    table << std::setw(11) << who;
    for (size_t i = 0; i < ops.size(); ++i) {
      bool ok = got[ops[i]] == want[i];
      table << std::setw(9) << (std::string(got[ops[i]] ? "allow" : "refuse") + (ok ? "" : "(!)"));
      EXPECT_EQ(got[ops[i]], want[i]) << who << " " << ops[i];
    }
    table << "\n";
  }
  std::cout << "\nPermission matrix (real router; (!) = unexpected):\n" << table.str() << std::flush;
  EXPECT_TRUE(d_.Inspect("othersvc")["state"] == "running") << "no principal touched othersvc";
}

TEST_F(Permissions, ServiceEntityActsOnlyOnItsOwnSubtree) {
  // spawnctl itself runs inside the service, with the entity the daemon injected.
  auto strip = RunCommand({"strip", "-o", d_.work_dir() + "/spawnctl", BinDir() + "/spawnctl"});
  ASSERT_TRUE(strip && strip->ok()) << "strip (binutils) is needed to make spawnctl small enough to include";
  std::string cfg = d_.WriteFile("self.yaml", R"(cpuShares: 64
memory: 64
includedFiles: [spawnctl]
run: [/bin/sh, -c, 'ls -l $SPAWNPOINT_ENTITY | cut -c1-10; [ "$BW2_DEFAULT_ENTITY" = "$SPAWNPOINT_ENTITY" ] && echo seed-name-ok;
      ./spawnctl -r $SPAWNPOINT_ROUTER -e $SPAWNPOINT_ENTITY inspect -u $SPAWNPOINT_HOST_URI -n selfsvc > /dev/null && echo own=allowed || echo own=refused || echo own=refused;
      ./spawnctl -r $SPAWNPOINT_ROUTER -e $SPAWNPOINT_ENTITY inspect -u $SPAWNPOINT_HOST_URI -n demosvc > /dev/null 2>&1 && echo other=allowed || echo other=refused;
      ./spawnctl -r $SPAWNPOINT_ROUTER -e $SPAWNPOINT_ENTITY stop -u $SPAWNPOINT_HOST_URI -n demosvc > /dev/null 2>&1 && echo stop=allowed || echo stop=refused;
      sleep 100']
)");
  auto r = d_.Spawnctl({"deploy", "-c", cfg, "-n", "selfsvc", "-t", "8s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("-rw-------"), std::string::npos) << "the entity is private to the service:\n" << r.out;
  EXPECT_NE(r.out.find("seed-name-ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("own=allowed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("other=refused"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stop=refused"), std::string::npos) << r.out;
  EXPECT_EQ(d_.Inspect("demosvc")["state"], "running");
}

}  // namespace
}  // namespace sp::test

namespace sp::test {
namespace {

TEST_F(Permissions, Bw2EntityFromDeployYamlIsInjected) {
  std::string creds = Granted("given", {"--uri", d_.uri() + "/s.spawnpoint/withentity/i.spawnable/*", "--perm", "PC"});
  std::string cfg = d_.WriteFile("given.yaml", "cpuShares: 64\nmemory: 32\nbw2Entity: given.creds\n"
                                               "run: [/bin/sh, -c, 'sed -n 2p $BW2_DEFAULT_ENTITY; sleep 100']\n");
  auto r = d_.Spawnctl({"deploy", "-c", cfg, "-n", "withentity", "-t", "2s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string jwt_line = ReadText(creds).substr(ReadText(creds).find('\n') + 1);
  jwt_line = jwt_line.substr(0, jwt_line.find('\n'));
  ASSERT_FALSE(jwt_line.empty());
  EXPECT_NE(r.out.find(jwt_line), std::string::npos) << "the service holds the given entity:\n" << r.out;
  std::string bad = d_.WriteFile("bad.yaml", "cpuShares: 64\nmemory: 32\nbw2Entity: ticker.yaml\nrun: [/bin/true]\n");
  auto refused = d_.Spawnctl({"deploy", "-c", bad, "-n", "badentity", "-t", "0s"});
  EXPECT_NE(refused.exit_code, 0) << "a file that is not an entity is refused";
  EXPECT_TRUE(d_.Inspect("badentity").is_null());
}

}  // namespace
}  // namespace sp::test
