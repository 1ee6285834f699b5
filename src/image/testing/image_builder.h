// Test helper (image and integration tests): builds small OCI images in memory — a busybox layer, extra layers (with
// whiteouts, or hostile entries), the image config and the manifest — ready to push to a registry
// or to write as an OCI layout directory.
//
// Header-only; reports problems as gtest failures.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layer/layer_testing.h"
#include "registry/digest.h"
#include "util/fs.h"

namespace sp::image_testing {

using layer_testing::Entry;

struct BuiltBlob {
  std::string media_type;
  std::string bytes;
  Digest digest;
};

struct BuiltImage {
  BuiltBlob config;
  std::vector<BuiltBlob> layers;
  BuiltBlob manifest;
};

inline BuiltBlob Blob(std::string media_type, std::string bytes) {
  Digest d = DigestOf(bytes);
  return BuiltBlob{std::move(media_type), std::move(bytes), d};
}

inline nlohmann::json Descriptor(const BuiltBlob& b) {
  return {{"mediaType", b.media_type}, {"digest", b.digest.str()}, {"size", b.bytes.size()}};
}

// /bin/busybox (the static binary from busybox-static) and the applets the tests use.
inline std::vector<Entry> BusyboxLayer() {
  std::vector<Entry> e = {layer_testing::Dir("bin"), layer_testing::Dir("etc"), layer_testing::Dir("tmp", 01777),
                          layer_testing::Dir("www")};
  auto bin = ReadFile("/bin/busybox");
  EXPECT_TRUE(bin.has_value()) << "busybox-static is needed (apt-get install busybox-static)";
  e.push_back(layer_testing::File("bin/busybox", bin ? *bin : "", 0755));
  for (const char* applet : {"sh", "echo", "cat", "sleep", "id", "test", "httpd", "nc", "pwd", "env", "ls", "touch",
                             "mkdir", "true", "false", "wc"}) {
    e.push_back(layer_testing::Symlink(std::string("bin/") + applet, "busybox"));
  }
  e.push_back(layer_testing::File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"));
  e.push_back(layer_testing::File("etc/group", "root:x:0:\napp:x:1000:\n"));
  return e;
}

// An image of gzip-compressed layers; `config` holds the image config's "config" object
// (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts).
inline BuiltImage MakeImage(const std::vector<std::vector<Entry>>& layers, nlohmann::json config,
                            const std::string& architecture = "amd64") {
  BuiltImage img;
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& entries : layers) {
    std::string tar = layer_testing::BuildTar(entries);
    diff_ids.push_back(DigestOf(tar).str());
    img.layers.push_back(Blob("application/vnd.oci.image.layer.v1.tar+gzip",
                              layer_testing::Compressed(tar, layer_testing::Compress::kGzip)));
  }
  nlohmann::json cfg = {{"architecture", architecture},
                        {"os", "linux"},
                        {"config", config},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  img.config = Blob("application/vnd.oci.image.config.v1+json", cfg.dump());
  nlohmann::json layer_descs = nlohmann::json::array();
  for (const auto& l : img.layers) layer_descs.push_back(Descriptor(l));
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config", Descriptor(img.config)},
                             {"layers", layer_descs}};
  img.manifest = Blob("application/vnd.oci.image.manifest.v1+json", manifest.dump());
  return img;
}

// An OCI image index over manifests for the given platforms (architecture names, os linux).
inline BuiltBlob MakeIndex(const std::vector<std::pair<std::string, const BuiltImage*>>& platforms) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& [arch, img] : platforms) {
    nlohmann::json d = Descriptor(img->manifest);
    d["platform"] = {{"architecture", arch}, {"os", "linux"}};
    manifests.push_back(d);
  }
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests", manifests}};
  return Blob("application/vnd.oci.image.index.v1+json", index.dump());
}

// Writes `img` as an OCI image layout at `dir` with `tag`.
inline void WriteLayout(const std::string& dir, const BuiltImage& img, const std::string& tag) {
  ASSERT_TRUE(MakeDirs(dir + "/blobs/sha256").ok());
  auto put = [&](const BuiltBlob& b) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/blobs/sha256/" + std::string(b.digest.hex()), b.bytes).ok());
  };
  put(img.config);
  put(img.manifest);
  for (const auto& l : img.layers) put(l);
  nlohmann::json desc = Descriptor(img.manifest);
  desc["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array({desc})}};
  ASSERT_TRUE(WriteFileAtomic(dir + "/index.json", index.dump()).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})").ok());
}

}  // namespace sp::image_testing
