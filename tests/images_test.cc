// Integration tests for services run from images: a real docker-registry on loopback, a real
// spawnd (runc, overlayfs, CNI with portmap), and spawnctl. Images are built by the test from the
// host's static busybox and pushed with the registry API.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "image/testing/image_builder.h"
#include "registry/testing/registry_fixture.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp::test {
namespace {

using image_testing::BuiltImage;
using image_testing::MakeImage;
using layer_testing::Dir;
using layer_testing::Entry;
using layer_testing::File;
using registry_testing::TestRegistry;

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reg = TestRegistry::Start();
    ASSERT_TRUE(reg.has_value()) << reg.error().message();
    registry_ = std::move(*reg);
    DaemonSettings s;
    s.extra = "insecureRegistries: [\"" + registry_->host() + "\"]\nallowLocalSources: true\n";
    daemon_ = std::make_unique<TestDaemon>(s);
    daemon_->Start();
  }
  void TearDown() override {
    daemon_.reset();
    registry_.reset();
  }

  std::string Push(const std::string& repo, const std::string& tag, const BuiltImage& img) {
    for (const auto& l : img.layers) EXPECT_TRUE(registry_->PushBlob(repo, l.bytes).has_value());
    EXPECT_TRUE(registry_->PushBlob(repo, img.config.bytes).has_value());
    EXPECT_TRUE(registry_->PushManifest(repo, tag, img.manifest.bytes, img.manifest.media_type).has_value());
    return registry_->host() + "/" + repo + ":" + tag;
  }

  CommandResult Deploy(const std::string& name, const std::string& yaml, const std::string& tail = "2s") {
    std::string path = daemon_->WriteFile(name + ".yaml", "cpuShares: 128\nmemory: 64\n" + yaml);
    return daemon_->Spawnctl({"deploy", "-c", path, "-n", name, "-t", tail}, Millis(120000));
  }

  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestDaemon> daemon_;
};

BuiltImage WebImage(const std::string& page = "hello from the image\n") {
  std::vector<Entry> top = {Dir("www"), File("www/index.html", page)};
  return MakeImage({image_testing::BusyboxLayer(), top},
                   {{"Env", {"PATH=/bin", "GREETING=hello"}},
                    {"Cmd", {"/bin/sh", "-c", "echo \"$GREETING as $(id -u):$(id -g) in $(pwd)\"; exec sleep 1000"}},
                    {"WorkingDir", "/www"},
                    {"User", "app"},
                    {"ExposedPorts", {{"8080/tcp", nlohmann::json::object()}}}});
}

TEST_F(ImagesTest, DeploysFromTheRegistryWithProgressAndReusesLayers) {
  BuiltImage img = WebImage();
  std::string ref = Push("web", "1.0", img);
  auto r = Deploy("web", "image: " + ref + "\npublishExposedPorts: true\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << daemon_->DaemonLog();
  // Progress (plain lines: spawnctl's output is not a terminal), then the image's own command.
  EXPECT_NE(r.out.find("pulling " + ref), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(img.layers[0].digest.Short() + ": done"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello as 1000:1000 in /www"), std::string::npos) << r.out;
  nlohmann::json info = daemon_->Inspect("web");
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info["state"], "running");
  EXPECT_EQ(info["image"]["reference"], ref);
  EXPECT_EQ(info["image"]["manifest"], img.manifest.digest.str());
  ASSERT_EQ(info["ports"].size(), 1u) << info.dump();  // the image's EXPOSE 8080, on a chosen host port
  EXPECT_EQ(info["ports"][0]["containerPort"], 8080);
  EXPECT_GT(info["ports"][0]["hostPort"].get<int>(), 0);

  // The service's changes live in its own upper directory, never in the shared layers.
  std::string svc = daemon_->state_dir() + "/services/web";
  auto wrote = RunCommand({"runc", "--root", daemon_->state_dir() + "/runc", "exec", "--user", "0:0", "web",
                           "/bin/sh", "-c", "echo changed > /www/new.txt"});
  ASSERT_TRUE(wrote.has_value() && wrote->exit_code == 0) << (wrote ? wrote->err : wrote.error().message());
  EXPECT_EQ(ReadText(svc + "/upper/www/new.txt"), "changed\n");
  EXPECT_FALSE(PathExists(daemon_->state_dir() + "/images/layers/" + std::string(img.layers[1].digest.hex()) +
                          "/www/new.txt"));

  // Deployed again (as another service): the layers are already on the host.
  auto again = Deploy("web2", "image: " + ref + "\npullPolicy: always\n");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("already present"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find(": done ("), std::string::npos) << again.out;  // nothing downloaded
  auto layers = ListDir(daemon_->state_dir() + "/images/layers");
  ASSERT_TRUE(layers.has_value());
  EXPECT_EQ(layers->size(), 2u);
}

TEST_F(ImagesTest, WhiteoutsHideLowerLayerFiles) {
  BuiltImage img = MakeImage({image_testing::BusyboxLayer(), {Dir("etc"), File("etc/deleteme", "x")},
                              {Dir("etc"), File("etc/.wh.deleteme", "")}},
                             {{"Env", {"PATH=/bin"}}});
  std::string ref = Push("wh", "1", img);
  auto r = Deploy("wh", "image: " + ref +
                            "\nrun: [/bin/sh, -c, 'test -e /etc/deleteme && echo STILL-THERE || echo WHITEOUT-OK; "
                            "sleep 100']\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("WHITEOUT-OK"), std::string::npos) << r.out;
}

TEST_F(ImagesTest, SourceFromALocalGitRepositoryWithBuildSteps) {
  std::string ref = Push("web", "1.0", WebImage());
  std::string repo = daemon_->work_dir() + "/repo";
  ASSERT_TRUE(MakeDirs(repo).ok());
  ASSERT_TRUE(WriteFileAtomic(repo + "/msg.txt", "from git\n").ok());
  auto git = RunCommand({"sh", "-c", "cd " + repo + " && git init -q && git add msg.txt && "
                                     "git -c user.name=t -c user.email=t@t commit -qm init"});
  ASSERT_TRUE(git.has_value() && git->exit_code == 0) << (git ? git->err : "");
  auto r = Deploy("built", "image: " + ref + "\nsource: git+file://" + repo +
                               "\nbuild: ['echo build-step-output', 'cat msg.txt > built.txt']"
                               "\nrun: [/bin/sh, -c, 'echo \"built: $(cat /srv/spawnpoint/built.txt)\"; sleep 100']\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << daemon_->DaemonLog();
  EXPECT_NE(r.out.find("build-step-output"), std::string::npos) << r.out;  // the build's output is the log
  EXPECT_NE(r.out.find("built: from git"), std::string::npos) << r.out;

  // A failing build fails the deploy, with its exit status and output; nothing is left running.
  auto bad = Deploy("broken", "image: " + ref + "\nsource: git+file://" + repo +
                                  "\nbuild: ['echo about to fail; exit 3']\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("exited with code 3"), std::string::npos) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("about to fail"), std::string::npos) << bad.err;
  EXPECT_TRUE(daemon_->Inspect("broken").is_null());
}

TEST_F(ImagesTest, PublishedPortAnswersOnTheHost) {
  std::string ref = Push("web", "1.0", WebImage("served by busybox httpd\n"));
  auto r = Deploy("httpd", "image: " + ref + "\nrun: [/bin/httpd, -f, -p, '8080', -h, /www]\nports: ['8080']\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << daemon_->DaemonLog();
  nlohmann::json info = daemon_->Inspect("httpd");
  ASSERT_EQ(info["ports"].size(), 1u) << info.dump();
  int host_port = info["ports"][0]["hostPort"];
  EXPECT_GT(host_port, 0);
  EXPECT_EQ(info["ports"][0]["containerPort"], 8080);
  std::string body;
  bool answered = WaitFor(
      [&] {
        auto reply = registry_testing::HttpCall("GET", "http://127.0.0.1:" + std::to_string(host_port) + "/");
        if (!reply || reply->status != 200) return false;
        body = reply->body;
        return true;
      },
      Millis(10000));
  ASSERT_TRUE(answered);
  EXPECT_EQ(body, "served by busybox httpd\n");
  // scan --json shows the port too.
  nlohmann::json scan = daemon_->Scan();
  bool seen = false;
  for (auto& h : scan["hosts"])
    for (auto& s : h["services"])
      if (s["name"] == "httpd" && s["ports"].size() == 1 && s["ports"][0]["hostPort"] == host_port) seen = true;
  EXPECT_TRUE(seen) << scan.dump();

  // The same host port again is refused clearly, and nothing is reserved for the refused deploy.
  auto clash = Deploy("clash", "image: " + ref + "\nports: ['" + std::to_string(host_port) + ":80']\n");
  EXPECT_NE(clash.exit_code, 0);
  EXPECT_NE(clash.err.find("host port " + std::to_string(host_port) + "/tcp is already published by another service"),
            std::string::npos)
      << clash.err;
  EXPECT_TRUE(daemon_->Inspect("clash").is_null());
  // So is a port a host process listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int busy = ntohs(addr.sin_port);
  auto taken = Deploy("taken", "image: " + ref + "\nports: ['" + std::to_string(busy) + ":80']\n");
  ::close(fd);
  EXPECT_NE(taken.exit_code, 0);
  EXPECT_NE(taken.err.find("host port " + std::to_string(busy) + "/tcp is already in use on this host"),
            std::string::npos)
      << taken.err;

  // Stopped: the port no longer answers.
  ASSERT_EQ(daemon_->Spawnctl({"stop", "-n", "httpd"}).exit_code, 0);
  auto after = registry_testing::HttpCall("GET", "http://127.0.0.1:" + std::to_string(host_port) + "/");
  EXPECT_TRUE(!after || after->status != 200);
}

TEST_F(ImagesTest, PruneRemovesOnlyWhatNoServiceUses) {
  BuiltImage used = WebImage();
  BuiltImage unused = MakeImage({image_testing::BusyboxLayer(), {File("other.txt", "other")}}, {{"Env", {"PATH=/bin"}}});
  std::string used_ref = Push("web", "1.0", used);
  std::string unused_ref = Push("other", "1.0", unused);
  ASSERT_EQ(Deploy("web", "image: " + used_ref + "\n").exit_code, 0);
  auto pull = daemon_->Spawnctl({"images", "pull", unused_ref});
  ASSERT_EQ(pull.exit_code, 0) << pull.out << pull.err;
  auto list = daemon_->Spawnctl({"images", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto images = nlohmann::json::parse(list.out)["images"];
  ASSERT_EQ(images.size(), 2u) << list.out;

  auto prune = daemon_->Spawnctl({"images", "prune", "--json"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  auto report = nlohmann::json::parse(prune.out);
  EXPECT_EQ(report["images"], nlohmann::json::array({unused_ref}));
  // The unused image's layers that the used one does not share (gzip output carries a timestamp,
  // so the two busybox layers may or may not be byte-identical).
  int only_unused = 0;
  for (const auto& l : unused.layers) {
    bool shared = false;
    for (const auto& u : used.layers) shared = shared || u.digest == l.digest;
    only_unused += shared ? 0 : 1;
  }
  EXPECT_EQ(report["layers"], only_unused);
  std::string layers = daemon_->state_dir() + "/images/layers/";
  for (const auto& l : used.layers) EXPECT_TRUE(PathExists(layers + std::string(l.digest.hex())));
  EXPECT_FALSE(PathExists(layers + std::string(unused.layers[1].digest.hex())));
  // The service still runs, and restarts from its image.
  ASSERT_EQ(daemon_->Spawnctl({"restart", "-n", "web", "-t", "1s"}).exit_code, 0);
  EXPECT_EQ(daemon_->Inspect("web")["state"], "running");

  ASSERT_EQ(daemon_->Spawnctl({"stop", "-n", "web"}).exit_code, 0);
  auto all = daemon_->Spawnctl({"images", "prune", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(nlohmann::json::parse(all.out)["images"], nlohmann::json::array({used_ref}));
  EXPECT_TRUE(ListDir(layers)->empty());
}

TEST_F(ImagesTest, DefaultImageAppliesWhenDeployYamlNamesNone) {
  std::string ref = Push("web", "1.0", WebImage());
  DaemonSettings s;
  s.extra = "insecureRegistries: [\"" + registry_->host() + "\"]\ndefaultImage: " + ref + "\n";
  TestDaemon other(s);
  other.Start();
  std::string path = other.WriteFile("d.yaml", "cpuShares: 64\nmemory: 32\n");
  auto r = other.Spawnctl({"deploy", "-c", path, "-n", "dflt", "-t", "2s"}, Millis(120000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << other.DaemonLog();
  EXPECT_NE(r.out.find("hello as 1000:1000 in /www"), std::string::npos) << r.out;
  EXPECT_EQ(other.Inspect("dflt")["image"]["reference"], ref);
  // image: host still runs on the host's system, and needs a command.
  std::string host = other.WriteFile("h.yaml", "cpuShares: 64\nmemory: 32\nimage: host\nrun: [/bin/true]\n");
  EXPECT_EQ(other.Spawnctl({"deploy", "-c", host, "-n", "onhost", "-t", "0s"}).exit_code, 0);
  EXPECT_EQ(other.Inspect("onhost")["image"]["reference"], "host");
}

TEST_F(ImagesTest, ImagesFromALocalLayout) {
  BuiltImage img = WebImage();
  std::string layout = daemon_->work_dir() + "/layout";
  image_testing::WriteLayout(layout, img, "v1");
  auto r = Deploy("local", "image: oci:" + layout + ":v1\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("hello as 1000:1000 in /www"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sp::test
