// Hostile and broken layers: each must be refused with a message naming the problem, leave nothing
// at the destination or beside it, and change nothing outside (a sentinel directory, the host /etc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>

#include "layer/layer_testing.h"
#include "layer/unpack_layer.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

using layer_testing::Compress;
using layer_testing::Compressed;
using layer_testing::Dir;
using layer_testing::Entry;
using layer_testing::File;
using layer_testing::Hardlink;
using layer_testing::Node;
using layer_testing::Symlink;
using layer_testing::TempDir;
using ::testing::HasSubstr;

struct HostileCase {
  std::string name;
  std::vector<Entry> entries;
  std::string expected;  // part of the error message
  UnpackOptions options = {};
};

std::string Repeat(const std::string& part, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? "/" : "") + part;
  return out;
}

std::vector<HostileCase> HostileCases() {
  UnpackOptions devices;
  devices.allow_devices = true;
  UnpackOptions small;
  small.max_bytes = 1000;
  UnpackOptions few;
  few.max_entries = 5;
  Entry whiteout_with_data = File(".wh.x", "data");
  Entry bad_owner = File("f", "f");
  bad_owner.uid = 4294967295LL;
  return {
      {"DotDot", {File("../evil", "x")}, "'../evil' has a '..' component"},
      {"DotDotInside", {Dir("a"), File("a/../../evil", "x")}, "'..' component"},
      {"Absolute", {File("/etc/evil", "x")}, "'/etc/evil' has an absolute path"},
      {"SymlinkClimbingOut",
       {Symlink("link", "../../.."), File("link/evil", "x")},
       "climbs above the layer root"},
      {"SymlinkClimbingOutOfASubdir", {Symlink("a/b/l", "../../../x")}, "climbs above the layer root"},
      {"ThroughSymlinkToHostEtc",
       {Symlink("sub", "/etc"), File("sub/passwd", "root::0:0::/:/bin/sh\n")},
       "'sub/passwd' goes through 'sub', which is a symlink"},
      {"ThroughSymlinkToHostEtcNewFile",
       {Symlink("sub", "/etc"), File("sub/evil", "x")},
       "goes through 'sub'"},
      {"ThroughInternalSymlink", {Dir("real"), Symlink("l", "real"), File("l/f", "x")}, "goes through 'l'"},
      {"DirectoryThroughSymlink", {Symlink("l", "/etc"), Dir("l/new")}, "goes through 'l'"},
      {"HardlinkToHostPasswd", {Hardlink("x", "/etc/passwd")}, "absolute path"},
      {"HardlinkDotDot", {Hardlink("x", "../x")}, "'..' component"},
      {"HardlinkToALaterEntry", {Hardlink("x", "later"), File("later", "l")}, "not an earlier file"},
      {"HardlinkThroughSymlink", {Symlink("l", "/etc"), Hardlink("x", "l/passwd")}, "goes through 'l'"},
      {"HardlinkToDirectory", {Dir("d"), Hardlink("x", "d")}, "the target is a directory"},
      {"HardlinkToWhiteout", {File(".wh.w", ""), Hardlink("x", "w")}, "whited out"},
      {"HardlinkToItself", {File("x", "x"), Hardlink("x", "x")}, "links to itself"},
      {"CharDeviceWithoutOption",
       {Node("dev/null", AE_IFCHR, 1, 3)},
       "'dev/null' is a character device (1:3)"},
      {"BlockDeviceWithoutOption", {Node("dev/sda", AE_IFBLK, 8, 0)}, "'dev/sda' is a block device (8:0)"},
      {"WhiteoutDeviceEvenWithOption",
       {Node("w", AE_IFCHR, 0, 0)},
       "reserved for overlayfs whiteouts",
       devices},
      {"FileOverMaxBytes", {File("big", std::string(2000, 'b'))}, "more than the limit of", small},
      {"FilesAddingUpOverMaxBytes",
       {File("a", std::string(600, 'a')), File("b", std::string(600, 'b'))},
       "reached at entry 'b'",
       small},
      {"TooManyEntries",
       {File("1", ""), File("2", ""), File("3", ""), File("4", ""), File("5", ""), File("6", "")},
       "more than 5 entries",
       few},
      {"DirectoryReplacedByFile",
       {Dir("d"), File("d/x", "x"), File("d", "file")},
       "would replace the directory 'd'"},
      {"DirectoryReplacedBySymlink",
       {Dir("etc"), Symlink("etc", "/etc")},
       "would replace the directory 'etc'"},
      {"PathTooLong", {File(Repeat(std::string(100, 'p'), 50), "x")}, "the limit is 4095"},
      {"NameTooLong", {File(std::string(300, 'n'), "x")}, "has a name of 300 bytes"},
      {"TooDeep", {File(Repeat("a", 300), "x")}, "300 directories deep"},
      {"WhiteoutPrefixInADirectory", {File(".wh.d/f", "x")}, "reserved whiteout prefix"},
      {"WhiteoutWithData", {whiteout_with_data}, "carries data"},
      {"WhiteoutOfDotDot", {File("a/.wh...", "")}, "does not name a file"},
      {"OwnerOutOfRange", {bad_owner}, "has owner 4294967295:0"},
      {"XattrTheKernelRefuses",
       {Entry{.path = "f", .xattrs = {{"user.big", std::string(70000, 'x')}}}},
       "xattr user.big (70000 bytes) on 'f' is refused by the kernel"},
      {"RootAsAFile", {File(".", "x")}, "names the layer root but is a regular file"},
      {"RootAsASymlink", {Symlink(".", "/etc")}, "names the layer root but is a symlink"},
  };
}

class HostileLayerTest : public ::testing::TestWithParam<HostileCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(tmp_ / "layers").ok());
    ASSERT_TRUE(MakeDirs(tmp_ / "outside").ok());
    ASSERT_TRUE(WriteFileAtomic(tmp_ / "outside/secret", "secret").ok());
    outside_ = layer_testing::Snapshot(tmp_ / "outside");
    passwd_ = ReadFile("/etc/passwd").value_or("");
    passwd_links_ = layer_testing::Lstat("/etc/passwd").st_nlink;  // /tmp shares its filesystem here
  }

  // Refused with `expected` in the message; nothing left behind; nothing outside touched.
  void ExpectRefused(const Result<UnpackedLayer>& layer, const std::string& expected) {
    ASSERT_FALSE(layer) << "accepted";
    EXPECT_EQ(layer.error().code(), Code::kInvalidArgument) << layer.error().ToString();
    EXPECT_THAT(layer.error().message(), HasSubstr(expected));
    EXPECT_FALSE(PathExists(tmp_ / "layers/layer"));
    EXPECT_EQ(*ListDir(tmp_ / "layers"), std::vector<std::string>{});
    EXPECT_EQ(layer_testing::Snapshot(tmp_ / "outside"), outside_);
    EXPECT_EQ(ReadFile("/etc/passwd").value_or(""), passwd_);
    EXPECT_EQ(layer_testing::Lstat("/etc/passwd").st_nlink, passwd_links_);
    EXPECT_FALSE(PathExists("/etc/evil"));
    EXPECT_FALSE(PathExists(tmp_ / "evil"));
  }

  Result<UnpackedLayer> UnpackBytes(const std::string& blob, const UnpackOptions& options = {}) {
    layer_testing::WriteBlob(tmp_ / "blob", blob);
    return UnpackLayer(tmp_ / "blob", tmp_ / "layers/layer", std::nullopt, options);
  }

  TempDir tmp_;
  std::map<std::string, std::string> outside_;
  std::string passwd_;
  nlink_t passwd_links_ = 0;
};

TEST_P(HostileLayerTest, IsRefusedAndLeavesNothing) {
  const HostileCase& c = GetParam();
  for (Compress compress : {Compress::kNone, Compress::kGzip}) {
    SCOPED_TRACE(layer_testing::CompressName(compress));
    ExpectRefused(UnpackBytes(Compressed(layer_testing::BuildTar(c.entries), compress), c.options),
                  c.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Layers, HostileLayerTest, ::testing::ValuesIn(HostileCases()),
                         [](const auto& info) { return info.param.name; });

class BrokenStreamTest : public HostileLayerTest {};

std::string GoodTar() {
  std::mt19937 rng(3);
  std::string data(256 * 1024, '\0');
  for (auto& ch : data) ch = static_cast<char>('a' + rng() % 4);  // compressible, but not trivially
  return layer_testing::BuildTar({Dir("d"), File("d/data", data), File("d/small", "small")});
}

TEST_F(BrokenStreamTest, CorruptGzip) {
  std::string blob = Compressed(GoodTar(), Compress::kGzip);
  for (size_t i = blob.size() / 3; i < blob.size() / 3 + 16; ++i) blob[i] = static_cast<char>(blob[i] ^ 0x5a);
  ExpectRefused(UnpackBytes(blob), "gzip");
}

TEST_F(BrokenStreamTest, CorruptGzipChecksum) {
  std::string blob = Compressed(GoodTar(), Compress::kGzip);
  blob[blob.size() - 6] = static_cast<char>(blob[blob.size() - 6] ^ 1);  // the CRC32 in the trailer
  ExpectRefused(UnpackBytes(blob), "gzip");
}

TEST_F(BrokenStreamTest, TruncatedGzip) {
  std::string blob = Compressed(GoodTar(), Compress::kGzip);
  ExpectRefused(UnpackBytes(blob.substr(0, blob.size() / 2)), "gzip");
}

TEST_F(BrokenStreamTest, CorruptZstd) {
  std::string blob = Compressed(GoodTar(), Compress::kZstd);
  for (size_t i = blob.size() / 3; i < blob.size() / 3 + 16; ++i) blob[i] = static_cast<char>(blob[i] ^ 0x5a);
  ExpectRefused(UnpackBytes(blob), "zstd");
}

TEST_F(BrokenStreamTest, TruncatedZstd) {
  std::string blob = Compressed(GoodTar(), Compress::kZstd);
  ExpectRefused(UnpackBytes(blob.substr(0, blob.size() / 2)), "zstd");
}

TEST_F(BrokenStreamTest, CorruptZstdChecksum) {
  // The zstd tool writes a content checksum into each frame (libarchive's writer does not).
  layer_testing::WriteBlob(tmp_ / "layer.tar", GoodTar());
  auto zstd = RunChecked({"zstd", "-q", "-c", tmp_ / "layer.tar"});
  ASSERT_TRUE(zstd) << zstd.error().ToString();
  std::string blob = zstd->out;
  layer_testing::WriteBlob(tmp_ / "good.zst", blob);
  ASSERT_TRUE(UnpackLayer(tmp_ / "good.zst", tmp_ / "good", std::nullopt, {}));  // intact, it is accepted
  blob[blob.size() - 1] = static_cast<char>(blob[blob.size() - 1] ^ 1);          // last byte of the checksum
  ExpectRefused(UnpackBytes(blob), "zstd");
}

TEST_F(BrokenStreamTest, DoublyCompressedZstd) {
  ExpectRefused(UnpackBytes(Compressed(Compressed(GoodTar(), Compress::kZstd), Compress::kZstd)),
                "not a single zstd-compressed stream");
}

TEST_F(BrokenStreamTest, GarbageAfterTheGzipStream) {
  ExpectRefused(UnpackBytes(Compressed(GoodTar(), Compress::kGzip) + "garbage"),
                "data after the end of the gzip stream");
}

TEST_F(BrokenStreamTest, TruncatedPlainTar) {
  std::string tar = GoodTar();
  ExpectRefused(UnpackBytes(tar.substr(0, tar.size() / 2)), "'d/data'");
}

TEST_F(BrokenStreamTest, CompressedDataThatIsNotATar) {
  ExpectRefused(UnpackBytes(Compressed(std::string(4096, 'x'), Compress::kGzip)), "not a tar archive");
}

TEST_F(BrokenStreamTest, DoublyCompressedLayer) {
  ExpectRefused(UnpackBytes(Compressed(Compressed(GoodTar(), Compress::kGzip), Compress::kGzip)),
                "not a tar archive");
}

TEST_F(BrokenStreamTest, UnsupportedCompressions) {
  ExpectRefused(UnpackBytes("BZh91AY&SY" + std::string(600, 'x')), "bzip2-compressed data");
  ExpectRefused(UnpackBytes(std::string("\xfd"
                                        "7zXZ\0",
                                        6) +
                            std::string(600, 'x')),
                "xz-compressed data");
  ExpectRefused(UnpackBytes(std::string(600, 'x')), "unrecognised data");
  ExpectRefused(UnpackBytes("tiny"), "too short for a tar archive");
  ExpectRefused(UnpackBytes(""), "too short");
}

TEST_F(BrokenStreamTest, DecompressionBombAfterTheEndOfArchive) {
  // 64 MiB of zeros after a one-file tar: the gzip is tiny, the stream is not.
  std::string tar = layer_testing::BuildTar({File("a", "a")});
  ExpectRefused(UnpackBytes(Compressed(tar + std::string(64 << 20, '\0'), Compress::kGzip)),
                "decompression bomb");
}

TEST_F(BrokenStreamTest, DecompressionBombInTarHeaders) {
  // Entries whose pax headers (one 300 KiB xattr, stored twice by libarchive's writer) dwarf their
  // data: refused long before all 100 (70 MiB) are decompressed.
  std::vector<Entry> entries;
  for (int i = 0; i < 100; ++i) {
    Entry f = File("f" + std::to_string(i), "f");
    f.xattrs = {{"trusted.bomb", std::string(300 << 10, 'z')}};  // dropped, but still read
    entries.push_back(std::move(f));
  }
  auto layer = UnpackBytes(Compressed(layer_testing::BuildTar(entries), Compress::kGzip));
  ExpectRefused(layer, "decompression bomb");
  EXPECT_THAT(layer.error().message(), ::testing::Not(HasSubstr("than its 100 entries")));
}

TEST_F(BrokenStreamTest, MissingBlob) {
  auto layer = UnpackLayer(tmp_ / "no-such-blob", tmp_ / "layers/layer", std::nullopt, {});
  ASSERT_FALSE(layer);
  EXPECT_THAT(layer.error().message(), HasSubstr("no-such-blob"));
  EXPECT_EQ(*ListDir(tmp_ / "layers"), std::vector<std::string>{});
}

TEST_F(BrokenStreamTest, NegativeLimits) {
  UnpackOptions options;
  options.max_bytes = -1;
  auto layer = UnpackBytes(Compressed(GoodTar(), Compress::kGzip), options);
  ASSERT_FALSE(layer);
  EXPECT_EQ(layer.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sp
