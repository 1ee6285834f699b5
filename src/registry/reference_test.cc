// Tests for image reference parsing: Docker normalisation, digests, local transports, and the
// errors for everything the grammar refuses.
#include "registry/reference.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

constexpr const char* kDigest = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

ImageReference MustParse(std::string_view text) {
  auto r = ParseImageReference(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << r.error().message();
  return r.value_or(ImageReference{});
}

std::string ErrorOf(std::string_view text) {
  auto r = ParseImageReference(text);
  EXPECT_FALSE(r.has_value()) << text << " was accepted as " << (r ? r->String() : "");
  return r ? "" : r.error().message();
}

TEST(ReferenceTest, NormalisesDockerHubNames) {
  ImageReference r = MustParse("busybox");
  EXPECT_EQ(r.transport, "docker");
  EXPECT_EQ(r.registry, "docker.io");
  EXPECT_EQ(r.repository, "library/busybox");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_EQ(r.digest, "");
  EXPECT_EQ(r.String(), "docker.io/library/busybox:latest");
  EXPECT_EQ(r.RegistryHost(), "registry-1.docker.io");

  EXPECT_EQ(MustParse("user/app:1.2").String(), "docker.io/user/app:1.2");
  EXPECT_EQ(MustParse("docker.io/busybox").String(), "docker.io/library/busybox:latest");
  EXPECT_EQ(MustParse("index.docker.io/library/busybox:1").String(), "docker.io/library/busybox:1");
  EXPECT_EQ(MustParse("docker://alpine:3.19").String(), "docker.io/library/alpine:3.19");
}

TEST(ReferenceTest, RecognisesRegistries) {
  ImageReference r = MustParse("127.0.0.1:5000/team/app:v2");
  EXPECT_EQ(r.registry, "127.0.0.1:5000");
  EXPECT_EQ(r.repository, "team/app");
  EXPECT_EQ(r.tag, "v2");
  EXPECT_EQ(r.RegistryHost(), "127.0.0.1:5000");
  EXPECT_EQ(MustParse("localhost/app").registry, "localhost");
  EXPECT_EQ(MustParse("localhost:5000/app").registry, "localhost:5000");
  EXPECT_EQ(MustParse("ghcr.io/org/tool").registry, "ghcr.io");
  EXPECT_EQ(MustParse("ghcr.io/org/tool").repository, "org/tool");
  EXPECT_EQ(MustParse("[::1]:5000/app").registry, "[::1]:5000");
  // A first component without '.', ':' or "localhost" is a Docker Hub namespace.
  EXPECT_EQ(MustParse("myhost/app").registry, "docker.io");
  EXPECT_EQ(MustParse("myhost/app").repository, "myhost/app");
}

TEST(ReferenceTest, ParsesDigests) {
  ImageReference r = MustParse(std::string("busybox@") + kDigest);
  EXPECT_EQ(r.digest, kDigest);
  EXPECT_EQ(r.tag, "");  // pinned: no default tag
  EXPECT_EQ(r.String(), std::string("docker.io/library/busybox@") + kDigest);

  r = MustParse(std::string("127.0.0.1:5000/app:v1@") + kDigest);
  EXPECT_EQ(r.tag, "v1");
  EXPECT_EQ(r.digest, kDigest);
  EXPECT_EQ(MustParse(r.String()).String(), r.String());
}

TEST(ReferenceTest, ParsesLocalTransports) {
  ImageReference r = MustParse("oci:/srv/images/layout:v1");
  EXPECT_EQ(r.transport, "oci");
  EXPECT_EQ(r.path, "/srv/images/layout");
  EXPECT_EQ(r.tag, "v1");
  EXPECT_EQ(r.String(), "oci:/srv/images/layout:v1");

  r = MustParse("oci:/srv/layout");
  EXPECT_EQ(r.path, "/srv/layout");
  EXPECT_EQ(r.tag, "");

  r = MustParse("oci-archive:/tmp/image.tar:docker.io/library/busybox:latest");
  EXPECT_EQ(r.transport, "oci-archive");
  EXPECT_EQ(r.path, "/tmp/image.tar");
  EXPECT_EQ(r.tag, "docker.io/library/busybox:latest");

  r = MustParse(std::string("oci:/srv/layout@") + kDigest);
  EXPECT_EQ(r.path, "/srv/layout");
  EXPECT_EQ(r.digest, kDigest);
  EXPECT_EQ(MustParse("oci:/srv/my images/x").path, "/srv/my images/x");
}

TEST(ReferenceTest, RefusesRelativeLocalPaths) {
  EXPECT_NE(ErrorOf("oci:relative/dir").find("absolute"), std::string::npos);
  EXPECT_NE(ErrorOf("oci-archive:image.tar").find("absolute"), std::string::npos);
  EXPECT_NE(ErrorOf("oci:").find("absolute"), std::string::npos);
  EXPECT_NE(ErrorOf("oci:/srv/layout:").find("empty tag"), std::string::npos);
  EXPECT_NE(ErrorOf("oci:/srv/layout:bad tag!").find("tag"), std::string::npos);
}

TEST(ReferenceTest, RefusesInvalidRepositories) {
  EXPECT_NE(ErrorOf("Busybox").find("lower case"), std::string::npos);
  EXPECT_NE(ErrorOf("docker.io/Library/busybox").find("lower case"), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com/app-").find("must end"), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com/-app").find("must start"), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com/a..b").find("\"..\""), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com/a___b").find("not allowed"), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com//app").find("empty path component"), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com/app/").find("empty path component"), std::string::npos);
  EXPECT_NE(ErrorOf("registry.example.com/../etc").find("repository component"), std::string::npos);
  EXPECT_FALSE(ErrorOf("").empty());
  EXPECT_FALSE(ErrorOf("busy box").empty());
  EXPECT_FALSE(ErrorOf("busybox\n").empty());
  EXPECT_NE(ErrorOf(std::string(300, 'a')).find("longer than"), std::string::npos);
  // Valid separators.
  EXPECT_EQ(MustParse("registry.example.com/a.b_c__d-e---f/g").repository, "a.b_c__d-e---f/g");
}

TEST(ReferenceTest, RefusesInvalidRegistriesTagsAndDigests) {
  EXPECT_NE(ErrorOf("reg.example.com:99999/app").find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf("reg.example.com:port/app").find("not a number"), std::string::npos);
  EXPECT_NE(ErrorOf("-bad.example.com/app").find("not a host name"), std::string::npos);
  EXPECT_NE(ErrorOf("busybox:").find("empty tag"), std::string::npos);
  EXPECT_NE(ErrorOf("busybox:.hidden").find("must start"), std::string::npos);
  EXPECT_NE(ErrorOf("busybox:" + std::string(129, 'a')).find("longer than 128"), std::string::npos);
  EXPECT_NE(ErrorOf("busybox:a+b").find("may contain only"), std::string::npos);
  EXPECT_NE(ErrorOf("busybox@sha256:abc").find("64"), std::string::npos);
  EXPECT_NE(ErrorOf("busybox@sha512:abcd").find("only sha256"), std::string::npos);
  EXPECT_FALSE(ErrorOf("busybox@").empty());
  EXPECT_EQ(MustParse("busybox:" + std::string(128, 'a')).tag.size(), 128u);
  EXPECT_EQ(MustParse("busybox:_under.score-1").tag, "_under.score-1");
}

TEST(ReferenceTest, ValidatorsAreUsableOnTheirOwn) {
  EXPECT_TRUE(ValidateRegistryHost("127.0.0.1:5000").ok());
  EXPECT_TRUE(ValidateRegistryHost("[fe80::1]:443").ok());
  EXPECT_FALSE(ValidateRegistryHost("host/path").ok());
  EXPECT_FALSE(ValidateRegistryHost("host@evil").ok());
  EXPECT_FALSE(ValidateRegistryHost("[zz]:1").ok());
  EXPECT_TRUE(ValidateRepository("library/busybox").ok());
  EXPECT_FALSE(ValidateRepository("library/busybox/../x").ok());
  EXPECT_FALSE(ValidateRepository("a?b").ok());
  EXPECT_TRUE(ValidateTag("v1.0-rc_1").ok());
  EXPECT_FALSE(ValidateTag("../x").ok());
}

}  // namespace
}  // namespace sp
