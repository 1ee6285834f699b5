// Tests of ExtractOciArchive: a good layout (plain and compressed), and refusals of everything but
// regular files and directories, of paths leaving the layout, of duplicates, of missing layout
// files and of oversized archives, each leaving no destination and no temporary directory.
#include "layer/oci_archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "layer/layer_testing.h"
#include "registry/digest.h"
#include "util/fs.h"

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

const char kOciLayout[] = R"({"imageLayoutVersion": "1.0.0"})";
const char kBlob[] = "a blob";

std::string BlobPath() { return "blobs/sha256/" + std::string(DigestOf(kBlob).hex()); }

std::vector<Entry> GoodLayout() {
  Entry blob = File(BlobPath(), kBlob, 04755);  // mode and owner from the tar are not kept
  blob.uid = 1000;
  return {Dir("blobs"), Dir("blobs/sha256"), File("oci-layout", kOciLayout),
          File("index.json", R"({"schemaVersion": 2, "manifests": []})"), blob};
}

class OciArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(MakeDirs(tmp_ / "images").ok()); }

  std::string dest() const { return tmp_ / "images/layout"; }

  Status Extract(const std::vector<Entry>& entries, Compress c = Compress::kNone,
                 int64_t max_bytes = 1 << 20) {
    layer_testing::WriteBlob(tmp_ / "image.tar", Compressed(layer_testing::BuildTar(entries), c));
    return ExtractOciArchive(tmp_ / "image.tar", dest(), max_bytes);
  }

  void ExpectRefused(const Status& s, const std::string& expected) {
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(expected));
    EXPECT_EQ(*ListDir(tmp_ / "images"), std::vector<std::string>{});
    EXPECT_FALSE(PathExists(tmp_ / "escape"));
  }

  TempDir tmp_;
};

TEST_F(OciArchiveTest, ExtractsAGoodLayout) {
  Status s = Extract(GoodLayout());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadFile(dest() + "/oci-layout"), kOciLayout);
  EXPECT_EQ(*ReadFile(dest() + "/" + BlobPath()), kBlob);
  EXPECT_EQ(*DigestOfFile(dest() + "/" + BlobPath()), DigestOf(kBlob));
  struct stat blob = Lstat(dest() + "/" + BlobPath());
  EXPECT_EQ(blob.st_mode & 07777, 0644u);
  EXPECT_EQ(blob.st_uid, 0u);
  EXPECT_EQ(Lstat(dest()).st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(dest() + "/blobs/sha256").st_mode & 07777, 0755u);
  EXPECT_EQ(*ListDir(tmp_ / "images"), std::vector<std::string>{"layout"});
}

TEST_F(OciArchiveTest, ExtractsACompressedLayoutWithImplicitDirectories) {
  std::vector<Entry> entries = {File("./oci-layout", kOciLayout), File("./index.json", "{}"),
                                File("./" + BlobPath(), kBlob)};
  Status s = Extract(entries, Compress::kGzip);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadFile(dest() + "/" + BlobPath()), kBlob);
}

TEST_F(OciArchiveTest, RefusesASymlinkEntry) {
  auto entries = GoodLayout();
  entries.push_back(Symlink("blobs/sha256/link", "/etc/passwd"));
  ExpectRefused(Extract(entries), "'blobs/sha256/link' is a symlink");
}

TEST_F(OciArchiveTest, RefusesPathTraversal) {
  for (std::string path : {"../escape", "blobs/../../escape", "/escape"}) {
    SCOPED_TRACE(path);
    auto entries = GoodLayout();
    entries.push_back(File(path, "x"));
    ExpectRefused(Extract(entries), path.front() == '/' ? "absolute path" : "'..' component");
  }
}

TEST_F(OciArchiveTest, RefusesOtherEntryTypes) {
  for (const Entry& e : {Hardlink("blobs/sha256/copy", "oci-layout"), Node("blobs/fifo", AE_IFIFO),
                         Node("blobs/null", AE_IFCHR, 1, 3)}) {
    SCOPED_TRACE(e.path);
    auto entries = GoodLayout();
    entries.push_back(e);
    ExpectRefused(Extract(entries), "may hold only regular files and directories");
  }
}

TEST_F(OciArchiveTest, RefusesADuplicateFile) {
  auto entries = GoodLayout();
  entries.push_back(File("index.json", "{}"));
  ExpectRefused(Extract(entries), "'index.json' appears more than once");
}

TEST_F(OciArchiveTest, RefusesAnArchiveThatIsNotALayout) {
  ExpectRefused(Extract({File("oci-layout", kOciLayout), File("manifest.json", "[]")}), "no index.json");
}

TEST_F(OciArchiveTest, RefusesAnArchiveOverMaxBytes) {
  auto entries = GoodLayout();
  entries.push_back(File("blobs/sha256/big", std::string(5000, 'b')));
  ExpectRefused(Extract(entries, Compress::kNone, 4096), "more than the limit");
}

TEST_F(OciArchiveTest, RefusesAnExistingDestination) {
  ASSERT_TRUE(MakeDirs(dest()).ok());
  Status s = Extract(GoodLayout());
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(*ListDir(dest()), std::vector<std::string>{});
}

TEST_F(OciArchiveTest, RefusesACorruptArchive) {
  std::string blob = Compressed(layer_testing::BuildTar(GoodLayout()), Compress::kGzip);
  layer_testing::WriteBlob(tmp_ / "image.tar", blob.substr(0, blob.size() - 10));
  ExpectRefused(ExtractOciArchive(tmp_ / "image.tar", dest(), 1 << 20), "gzip");
}

}  // namespace
}  // namespace sp
