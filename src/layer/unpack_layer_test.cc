// Tests of UnpackLayer on well-formed layers: each compression, the diff_id, metadata, whiteouts,
// hard links, devices, duplicates, the layer root, and RemoveLayerDir. Runs as root (owners,
// devices, trusted.* xattrs).
#include "layer/unpack_layer.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "layer/layer_testing.h"
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
using layer_testing::Lstat;
using layer_testing::Node;
using layer_testing::Symlink;
using layer_testing::TempDir;
using ::testing::HasSubstr;

std::string GetXattr(const std::string& path, const std::string& name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? "<" + std::string(std::strerror(errno)) + ">" : std::string(buf, static_cast<size_t>(n));
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

class UnpackLayerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(MakeDirs(layers_dir()).ok()); }

  std::string layers_dir() const { return tmp_ / "layers"; }
  std::string dest() const { return tmp_ / "layers/layer"; }
  std::string at(std::string_view rel) const { return JoinPath(dest(), rel); }

  std::string WriteLayer(const std::string& bytes) {
    std::string path = tmp_ / ("blob" + std::to_string(++blobs_));
    layer_testing::WriteBlob(path, bytes);
    return path;
  }

  Result<UnpackedLayer> Unpack(const std::vector<Entry>& entries, Compress c = Compress::kGzip,
                               const UnpackOptions& options = {},
                               const std::optional<Digest>& expected = std::nullopt) {
    return UnpackLayer(WriteLayer(Compressed(layer_testing::BuildTar(entries), c)), dest(), expected,
                       options);
  }

  // Nothing at the destination and no temporary directory beside it.
  void ExpectNothingLeft() {
    EXPECT_FALSE(PathExists(dest()));
    EXPECT_EQ(*ListDir(layers_dir()), std::vector<std::string>{});
  }

  TempDir tmp_;
  int blobs_ = 0;
};

class CompressionTest : public UnpackLayerTest, public ::testing::WithParamInterface<Compress> {};

TEST_P(CompressionTest, UnpacksTheLayerAndComputesItsDiffId) {
  std::string big = RandomBytes(300 * 1024, 7);  // several read chunks
  std::string tar = layer_testing::BuildTar({
      Dir("etc"),
      File("etc/hello", "hello\n"),
      Dir("bin"),
      File("bin/tool", big, 0755),
      Symlink("bin/link", "tool"),
  });
  std::string blob = Compressed(tar, GetParam());
  const std::map<Compress, std::string> magic = {{Compress::kNone, std::string(tar.substr(0, 4))},
                                                 {Compress::kGzip, "\x1f\x8b"},
                                                 {Compress::kZstd, "\x28\xb5\x2f\xfd"}};
  ASSERT_EQ(blob.substr(0, magic.at(GetParam()).size()), magic.at(GetParam()));

  auto layer = UnpackLayer(WriteLayer(blob), dest(), std::nullopt, {});
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(layer->diff_id, DigestOf(tar));
  EXPECT_EQ(layer->bytes, static_cast<int64_t>(6 + big.size()));
  EXPECT_EQ(layer->entries, 5);
  EXPECT_EQ(*ReadFile(at("etc/hello")), "hello\n");
  EXPECT_EQ(*ReadFile(at("bin/tool")), big);
  EXPECT_EQ(*ReadFile(at("bin/link")), big);
  EXPECT_TRUE(S_ISLNK(Lstat(at("bin/link")).st_mode));
  EXPECT_EQ(Lstat(dest()).st_mode & 07777, 0755u);
  EXPECT_EQ(*ListDir(layers_dir()), std::vector<std::string>{"layer"});
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, CompressionTest,
                         ::testing::Values(Compress::kNone, Compress::kGzip, Compress::kZstd),
                         [](const auto& info) {
                           return std::string(layer_testing::CompressName(info.param));
                         });

TEST_F(UnpackLayerTest, DiffIdMatchesSha256sumOfTheUncompressedTar) {
  std::string tar =
      layer_testing::BuildTar({File("a", "alpha"), Dir("b"), File("b/c", RandomBytes(5000, 1))});
  std::string tar_path = tmp_ / "plain.tar";
  layer_testing::WriteBlob(tar_path, tar);
  auto sum = RunChecked({"sha256sum", tar_path});
  ASSERT_TRUE(sum) << sum.error().ToString();
  auto layer = UnpackLayer(WriteLayer(Compressed(tar, Compress::kZstd)), dest(), std::nullopt, {});
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ("sha256:" + sum->out.substr(0, 64), layer->diff_id.str());
}

TEST_F(UnpackLayerTest, DiffIdCoversBytesAfterTheEndOfArchive) {
  // GNU tar pads to 10 KiB records; the diff_id is over the whole stream, padding included.
  std::string tar = layer_testing::BuildTar({File("a", "alpha")});
  // A megabyte of junk after the padding: far more than the tar reader reads ahead.
  std::string padded = tar + std::string(10240 - tar.size() % 10240, '\0') + RandomBytes(1 << 20, 5);
  auto layer = UnpackLayer(WriteLayer(Compressed(padded, Compress::kGzip)), dest(), std::nullopt, {});
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(layer->diff_id, DigestOf(padded));
  EXPECT_NE(layer->diff_id, DigestOf(tar));
}

TEST_F(UnpackLayerTest, AcceptsMultiMemberGzip) {
  // pigz and concatenated gzip files produce several members; they form one stream.
  std::string tar = layer_testing::BuildTar({File("a", RandomBytes(3000, 2)), File("b", "bee")});
  std::string blob =
      Compressed(tar.substr(0, 1000), Compress::kGzip) + Compressed(tar.substr(1000), Compress::kGzip);
  auto layer = UnpackLayer(WriteLayer(blob), dest(), DigestOf(tar), {});
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(*ReadFile(at("b")), "bee");
}

TEST_F(UnpackLayerTest, AcceptsTheExpectedDiffId) {
  std::vector<Entry> entries = {File("a", "alpha")};
  Digest expected = DigestOf(layer_testing::BuildTar(entries));
  auto layer = Unpack(entries, Compress::kGzip, {}, expected);
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(layer->diff_id, expected);
  EXPECT_EQ(*ReadFile(at("a")), "alpha");
}

TEST_F(UnpackLayerTest, RefusesAnUnexpectedDiffId) {
  Digest other = DigestOf("something else");
  auto layer = Unpack({File("a", "alpha")}, Compress::kGzip, {}, other);
  ASSERT_FALSE(layer);
  EXPECT_EQ(layer.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(layer.error().message(), HasSubstr("diff_id mismatch"));
  EXPECT_THAT(layer.error().message(), HasSubstr(other.str()));
  ExpectNothingLeft();
}

TEST_F(UnpackLayerTest, KeepsOwnersModesTimesAndXattrs) {
  // struct vfs_cap_data, revision 2, effective, permitted = CAP_NET_RAW (13).
  const std::string caps("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
                         20);
  Entry su = File("bin/su", "su", 04755);
  Entry wall = File("bin/wall", "wall", 02755);
  wall.gid = 5;
  Entry ping = File("bin/ping", "ping", 0755);
  ping.xattrs = {{"security.capability", caps}};
  Entry tmp = Dir("tmp", 01777);
  Entry home = Dir("home/u", 0750);
  home.uid = home.gid = 1000;
  home.mtime = 1111111111;
  home.xattrs = {{"user.dir", "d"}};
  Entry f = File("home/u/notes", "notes", 0640);
  f.uid = 1000;
  f.gid = 1001;
  f.mtime = 1234567890;
  f.mtime_nsec = 500000000;
  f.xattrs = {{"user.comment", "hello"},
              {"trusted.evil", "x"},
              {"security.selinux", "system_u:object_r:x"},
              {"user.overlay.opaque", "y"}};
  Entry link = Symlink("home/u/link", "notes");
  link.uid = 1000;
  link.gid = 1000;
  link.mtime = 1222222222;
  ASSERT_TRUE(Unpack({su, wall, ping, tmp, home, f, link}));

  EXPECT_EQ(Lstat(at("bin/su")).st_mode & 07777, 04755u);
  EXPECT_EQ(Lstat(at("bin/wall")).st_mode & 07777, 02755u);
  EXPECT_EQ(Lstat(at("bin/wall")).st_gid, 5u);
  EXPECT_EQ(Lstat(at("tmp")).st_mode & 07777, 01777u);
  EXPECT_EQ(GetXattr(at("bin/ping"), "security.capability"), caps);

  struct stat h = Lstat(at("home/u"));
  EXPECT_EQ(h.st_mode & 07777, 0750u);
  EXPECT_EQ(h.st_uid, 1000u);
  EXPECT_EQ(h.st_mtim.tv_sec, 1111111111);  // set after its children were created
  EXPECT_EQ(GetXattr(at("home/u"), "user.dir"), "d");

  struct stat n = Lstat(at("home/u/notes"));
  EXPECT_EQ(n.st_mode & 07777, 0640u);
  EXPECT_EQ(n.st_uid, 1000u);
  EXPECT_EQ(n.st_gid, 1001u);
  EXPECT_EQ(n.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(n.st_mtim.tv_nsec, 500000000);
  EXPECT_EQ(GetXattr(at("home/u/notes"), "user.comment"), "hello");
  EXPECT_EQ(GetXattr(at("home/u/notes"), "trusted.evil"), "<No data available>");
  EXPECT_EQ(GetXattr(at("home/u/notes"), "security.selinux").substr(0, 1), "<");
  EXPECT_EQ(GetXattr(at("home/u/notes"), "user.overlay.opaque"), "<No data available>");

  struct stat l = Lstat(at("home/u/link"));
  EXPECT_TRUE(S_ISLNK(l.st_mode));
  EXPECT_EQ(l.st_uid, 1000u);
  EXPECT_EQ(l.st_mtim.tv_sec, 1222222222);
}

TEST_F(UnpackLayerTest, DirectoryMetadataIsAppliedAfterItsChildren) {
  Entry early = Dir("early", 0700);
  early.uid = 7;
  early.mtime = 1000000000;
  Entry late = Dir("late", 0711);
  late.mtime = 1000000001;
  late.gid = 8;
  ASSERT_TRUE(Unpack({early, File("early/a", "a"), File("early/sub/b", "b"), File("late/c", "c"), late}));
  struct stat e = Lstat(at("early"));
  EXPECT_EQ(e.st_mode & 07777, 0700u);
  EXPECT_EQ(e.st_uid, 7u);
  EXPECT_EQ(e.st_mtim.tv_sec, 1000000000);
  struct stat l = Lstat(at("late"));
  EXPECT_EQ(l.st_mode & 07777, 0711u);
  EXPECT_EQ(l.st_gid, 8u);
  EXPECT_EQ(l.st_mtim.tv_sec, 1000000001);
  // A directory without an entry of its own is created 0755, owned by root.
  EXPECT_EQ(Lstat(at("early/sub")).st_mode & 07777, 0755u);
  EXPECT_EQ(*ReadFile(at("late/c")), "c");
}

TEST_F(UnpackLayerTest, ConvertsWhiteoutsToOverlayFormat) {
  auto layer = Unpack({
      Dir("a"), File("a/.wh.x", ""), File("d/.wh..wh..opq", ""), File("d/new", "new"), File(".wh.gone", ""),
      File(".wh..wh.plnk", ""),  // aufs metadata: ignored
  });
  ASSERT_TRUE(layer) << layer.error().ToString();
  for (const char* whiteout : {"a/x", "gone"}) {
    struct stat st = Lstat(at(whiteout));
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << whiteout;
    EXPECT_EQ(major(st.st_rdev), 0u) << whiteout;
    EXPECT_EQ(minor(st.st_rdev), 0u) << whiteout;
  }
  EXPECT_EQ(GetXattr(at("d"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(GetXattr(at("a"), "trusted.overlay.opaque"), "<No data available>");
  EXPECT_EQ(*ReadFile(at("d/new")), "new");
  EXPECT_EQ(*ListDir(dest()), (std::vector<std::string>{"a", "d", "gone"}));
  EXPECT_EQ(*ListDir(at("a")), std::vector<std::string>{"x"});
  EXPECT_EQ(*ListDir(at("d")), std::vector<std::string>{"new"});
}

TEST_F(UnpackLayerTest, WhiteoutsApplyOnlyToLowerLayers) {
  ASSERT_TRUE(Unpack({
      File("f", "kept"),
      File(".wh.f", ""),  // the layer's own file stays
      File("dir/c", "c"),
      File(".wh.dir", ""),  // its own directory stays, opaque
      File(".wh.g", ""),
      File("g", "recreated"),  // recreated after the whiteout
      File(".wh.h", ""),
      File("h/i", "i"),  // recreated as a directory: opaque
      File(".wh.k", ""),
      Dir("k"),
  }));
  EXPECT_EQ(*ReadFile(at("f")), "kept");
  EXPECT_EQ(*ReadFile(at("dir/c")), "c");
  EXPECT_EQ(GetXattr(at("dir"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(*ReadFile(at("g")), "recreated");
  EXPECT_EQ(*ReadFile(at("h/i")), "i");
  EXPECT_EQ(GetXattr(at("h"), "trusted.overlay.opaque"), "y");
  EXPECT_TRUE(S_ISDIR(Lstat(at("k")).st_mode));
  EXPECT_EQ(GetXattr(at("k"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(GetXattr(at("g"), "trusted.overlay.opaque").substr(0, 1), "<");
}

TEST_F(UnpackLayerTest, HardLinksShareTheInode) {
  ASSERT_TRUE(Unpack({File("usr/bin/a", "tool", 0755), Hardlink("usr/bin/b", "usr/bin/a"),
                      Symlink("s", "usr/bin/a"), Hardlink("s2", "s")}));
  struct stat a = Lstat(at("usr/bin/a")), b = Lstat(at("usr/bin/b"));
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_EQ(*ReadFile(at("usr/bin/b")), "tool");
  EXPECT_EQ(Lstat(at("s")).st_ino, Lstat(at("s2")).st_ino);  // a link to the symlink itself
  EXPECT_TRUE(S_ISLNK(Lstat(at("s2")).st_mode));
}

TEST_F(UnpackLayerTest, CreatesFifosAlwaysAndDevicesWhenAllowed) {
  UnpackOptions options;
  options.allow_devices = true;
  ASSERT_TRUE(Unpack(
      {Node("dev/null", AE_IFCHR, 1, 3), Node("dev/loop0", AE_IFBLK, 7, 0), Node("run/fifo", AE_IFIFO)},
      Compress::kGzip, options));
  struct stat null = Lstat(at("dev/null")), loop = Lstat(at("dev/loop0"));
  EXPECT_TRUE(S_ISCHR(null.st_mode));
  EXPECT_EQ(null.st_rdev, makedev(1, 3));
  EXPECT_EQ(null.st_mode & 07777, 0644u);
  EXPECT_TRUE(S_ISBLK(loop.st_mode));
  EXPECT_EQ(loop.st_rdev, makedev(7, 0));
  EXPECT_TRUE(S_ISFIFO(Lstat(at("run/fifo")).st_mode));
}

TEST_F(UnpackLayerTest, KeepsHolesInSparseFiles) {
  std::string data(4 << 20, '\0');
  std::fill_n(data.begin(), 4096, 'a');
  std::fill_n(data.begin() + (2 << 20), 4096, 'b');
  Entry sparse = File("sparse", data);
  sparse.sparse = {{0, 4096}, {2 << 20, 4096}};
  std::string tar = layer_testing::BuildTar({sparse});
  ASSERT_LT(tar.size(), 64u << 10);  // the holes are not in the archive
  auto layer = UnpackLayer(WriteLayer(Compressed(tar, Compress::kGzip)), dest(), std::nullopt, {});
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(layer->bytes, 4 << 20);
  EXPECT_EQ(*ReadFile(at("sparse")), data);
  EXPECT_LT(Lstat(at("sparse")).st_blocks * 512, 1 << 20);  // still sparse on disk
}

TEST_F(UnpackLayerTest, FifosNeedNoOption) {
  ASSERT_TRUE(Unpack({Node("fifo", AE_IFIFO)}));
  EXPECT_TRUE(S_ISFIFO(Lstat(at("fifo")).st_mode));
}

TEST_F(UnpackLayerTest, LaterEntriesReplaceEarlierNonDirectories) {
  Entry again = Dir("d", 0700);
  ASSERT_TRUE(Unpack({File("f", "one"), File("f", "two"), Symlink("s", "/etc/passwd"), File("s", "file now"),
                      Dir("d"), File("d/child", "c"), again, File("x", "x"), Symlink("x", "f")}));
  EXPECT_EQ(*ReadFile(at("f")), "two");
  EXPECT_TRUE(S_ISREG(Lstat(at("s")).st_mode));
  EXPECT_EQ(*ReadFile(at("s")), "file now");
  EXPECT_EQ(*ReadFile(at("d/child")), "c");
  EXPECT_EQ(Lstat(at("d")).st_mode & 07777, 0700u);
  EXPECT_TRUE(S_ISLNK(Lstat(at("x")).st_mode));
}

TEST_F(UnpackLayerTest, KeepsAbsoluteAndInsideRelativeSymlinks) {
  ASSERT_TRUE(Unpack({Symlink("bin", "usr/bin"), Symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
                      Symlink("usr/lib/up", "../../etc"), Symlink("a/b/c", "../../d/./e")}));
  char buf[256];
  ssize_t n = ::readlink(at("etc/localtime").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "/usr/share/zoneinfo/UTC");
  n = ::readlink(at("usr/lib/up").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "../../etc");
}

TEST_F(UnpackLayerTest, RootEntrySetsTheLayerRootMetadata) {
  Entry root = Dir("./", 0750);
  root.mtime = 1300000000;
  ASSERT_TRUE(Unpack({root, File("./a", "a")}));
  struct stat st = Lstat(dest());
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1300000000);
  EXPECT_EQ(*ReadFile(at("a")), "a");
}

TEST_F(UnpackLayerTest, SlashAloneNamesTheRootAsUmociWritesIt) {
  Entry root = Dir("/", 0711);
  ASSERT_TRUE(Unpack({root, Dir("bin/"), File("bin/tool", "t", 0755)}));
  EXPECT_EQ(Lstat(dest()).st_mode & 07777, 0711u);
  EXPECT_EQ(*ReadFile(at("bin/tool")), "t");
  EXPECT_FALSE(Unpack({root, File("/bin/tool", "t")}));  // other absolute paths stay refused
}

TEST_F(UnpackLayerTest, AcceptsATarEndingRightAfterTheLastDataAsUmociWritesIt) {
  std::string data(7950, 'q');  // not a multiple of 512: 242 bytes of padding follow it
  std::string tar = layer_testing::BuildTar({Dir("z"), File("z/first", "1"), File("z/last", data)});
  size_t data_end = tar.size() - 1024 - 242;
  ASSERT_EQ(tar.substr(data_end - 4, 4), "qqqq");
  std::string cut = tar.substr(0, data_end);  // no padding, no end-of-archive blocks
  for (Compress c : {Compress::kNone, Compress::kGzip}) {
    std::string out = dest() + CompressName(c);
    auto layer = UnpackLayer(WriteLayer(Compressed(cut, c)), out, DigestOf(cut), {});
    ASSERT_TRUE(layer) << layer.error().ToString();
    EXPECT_EQ(layer->diff_id, DigestOf(cut));  // the stream as it is, without the supplied zeros
    EXPECT_EQ(*ReadFile(out + "/z/last"), data);
  }
}

TEST_F(UnpackLayerTest, RefusesATarCutInsideFileDataOrAHeader) {
  std::string data(7950, 'q');
  std::string tar = layer_testing::BuildTar({File("a", "1"), File("last", data)});
  size_t data_end = tar.size() - 1024 - 242;
  for (size_t cut : {data_end - 100, data_end - 7950 - 200, size_t{700}}) {
    auto layer = UnpackLayer(WriteLayer(Compressed(tar.substr(0, cut), Compress::kGzip)), dest(), std::nullopt, {});
    ASSERT_FALSE(layer) << "cut at " << cut;
    EXPECT_EQ(layer.error().code(), Code::kInvalidArgument);
    ExpectNothingLeft();
  }
}

TEST_F(UnpackLayerTest, AcceptsAnEmptyLayer) {
  std::string tar = layer_testing::BuildTar({});
  ASSERT_EQ(tar, std::string(1024, '\0'));
  auto layer = UnpackLayer(WriteLayer(Compressed(tar, Compress::kGzip)), dest(), std::nullopt, {});
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(layer->entries, 0);
  EXPECT_EQ(layer->diff_id, DigestOf(tar));
  EXPECT_EQ(*ListDir(dest()), std::vector<std::string>{});
}

TEST_F(UnpackLayerTest, AcceptsLongPathsBeyondWhatTheHostPathCouldHold) {
  // 20 components of 200 bytes: 4019 bytes, inside the limit, but longer than PATH_MAX once the
  // temporary directory is put in front, so every step must be descriptor-relative.
  std::string path;
  for (int i = 0; i < 20; ++i) path += (i ? "/" : "") + std::string(200, static_cast<char>('a' + i));
  auto layer = Unpack({File(path, "deep")});
  ASSERT_TRUE(layer) << layer.error().ToString();
  int fd = ::open(dest().c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 20 && fd >= 0; ++i) {
    int next = ::openat(fd, std::string(200, static_cast<char>('a' + i)).c_str(), O_RDONLY | O_NOFOLLOW);
    ::close(fd);
    fd = next;
  }
  ASSERT_GE(fd, 0);
  char buf[8];
  EXPECT_EQ(::read(fd, buf, sizeof buf), 4);
  ::close(fd);
}

TEST_F(UnpackLayerTest, RefusesAnExistingDestinationAndLeavesItAlone) {
  ASSERT_TRUE(MakeDirs(dest()).ok());
  ASSERT_TRUE(WriteFileAtomic(at("mine"), "mine").ok());
  auto layer = Unpack({File("a", "a")});
  ASSERT_FALSE(layer);
  EXPECT_EQ(layer.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(*ListDir(dest()), std::vector<std::string>{"mine"});
  EXPECT_EQ(*ListDir(layers_dir()), std::vector<std::string>{"layer"});
}

TEST_F(UnpackLayerTest, RemoveLayerDirRemovesDeepTreesWithoutFollowingSymlinks) {
  std::string outside = tmp_ / "outside";
  ASSERT_TRUE(MakeDirs(outside).ok());
  ASSERT_TRUE(WriteFileAtomic(outside + "/keep", "keep").ok());
  std::string tree = tmp_ / "tree";
  ASSERT_TRUE(MakeDirs(tree).ok());
  int fd = ::open(tree.c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 600 && fd >= 0; ++i) {  // deeper than PATH_MAX and than a default fd limit/2
    ASSERT_EQ(::symlinkat(outside.c_str(), fd, "out"), 0);
    ASSERT_EQ(::mkdirat(fd, "directory-level", 0700), 0);
    int next = ::openat(fd, "directory-level", O_RDONLY | O_DIRECTORY);
    ::close(fd);
    fd = next;
  }
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE(RemoveLayerDir(tree + "/").ok());
  EXPECT_FALSE(PathExists(tree));
  EXPECT_EQ(*ReadFile(outside + "/keep"), "keep");
  EXPECT_TRUE(RemoveLayerDir(tree).ok());  // already gone
}

}  // namespace
}  // namespace sp
