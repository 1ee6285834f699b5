// Tests for the local image store: blobs, records, layer locks and garbage collection.
#include "image/image_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "util/fs.h"

namespace sp {
namespace {

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = MakeTempDir("/tmp/sp-imgstore-XXXXXX");
    ASSERT_TRUE(d.has_value());
    dir_ = *d;
    auto s = ImageStore::Open(dir_ + "/images");
    ASSERT_TRUE(s.has_value()) << s.error().message();
    store_ = std::move(*s);
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  // An image with a manifest, a config and the given layers (each an unpacked dir with one file).
  ImageRecord AddImage(const std::string& ref, const std::vector<std::string>& layer_contents) {
    ImageRecord r;
    r.reference = ref;
    std::string manifest = "manifest of " + ref;
    std::string config = "config of " + ref;
    r.manifest = r.digest = DigestOf(manifest);
    r.config = DigestOf(config);
    EXPECT_TRUE(store_->PutBlob(r.manifest, manifest).ok());
    EXPECT_TRUE(store_->PutBlob(r.config, config).ok());
    for (const std::string& c : layer_contents) {
      Digest d = DigestOf(c);
      EXPECT_TRUE(MakeDirs(store_->LayerDir(d)).ok());
      EXPECT_TRUE(WriteFileAtomic(store_->LayerDir(d) + "/file", c).ok());
      r.layers.push_back(d);
    }
    EXPECT_TRUE(store_->Record(r).ok());
    return r;
  }

  std::string dir_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageStoreTest, BlobsAreVerifiedOnTheWayInAndOut) {
  Digest d = DigestOf("hello");
  EXPECT_FALSE(store_->PutBlob(d, "hellO").ok());
  EXPECT_FALSE(store_->HasBlob(d));
  ASSERT_TRUE(store_->PutBlob(d, "hello").ok());
  EXPECT_EQ(*store_->ReadBlob(d, 100), "hello");
  // Altered on disk: refused rather than used.
  ASSERT_TRUE(WriteFileAtomic(store_->BlobPath(d), "tampered").ok());
  EXPECT_FALSE(store_->ReadBlob(d, 100).has_value());
}

TEST_F(ImageStoreTest, RecordsPersistAndReplaceBySameReference) {
  ImageRecord a = AddImage("reg/a:1", {"l1"});
  AddImage("reg/b:1", {"l2"});
  ImageRecord a2 = AddImage("reg/a:1", {"l3"});
  auto reopened = ImageStore::Open(dir_ + "/images");
  ASSERT_TRUE(reopened.has_value());
  auto list = (*reopened)->List();
  ASSERT_EQ(list.size(), 2u);
  auto found = (*reopened)->Find("reg/a:1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->manifest, a2.manifest);
  ASSERT_EQ(found->layers.size(), 1u);
  EXPECT_EQ(found->layers[0], DigestOf("l3"));
  EXPECT_TRUE((*reopened)->FindByDigest(a2.manifest).has_value());
  EXPECT_FALSE((*reopened)->Find("reg/none:1").has_value());
  (void)a;
}

TEST_F(ImageStoreTest, OpenClearsLeftoversOfInterruptedPulls) {
  auto tmp = store_->MakeTemp();
  ASSERT_TRUE(tmp.has_value());
  ASSERT_TRUE(WriteFileAtomic(*tmp + "/partial", "x").ok());
  auto reopened = ImageStore::Open(dir_ + "/images");
  ASSERT_TRUE(reopened.has_value());
  EXPECT_FALSE(PathExists(*tmp));
}

TEST_F(ImageStoreTest, CorruptIndexIsAClearError) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/images/images.json", "{not json").ok());
  auto reopened = ImageStore::Open(dir_ + "/images");
  ASSERT_FALSE(reopened.has_value());
  EXPECT_NE(reopened.error().message().find("images.json"), std::string::npos);
}

TEST_F(ImageStoreTest, PruneRemovesOnlyWhatNoServiceUses) {
  ImageRecord used = AddImage("reg/used:1", {"shared", "only-used"});
  ImageRecord unused = AddImage("reg/unused:1", {"shared", "only-unused"});
  // A leftover layer of an interrupted unpack and a stray blob.
  ASSERT_TRUE(MakeDirs(store_->dir() + "/layers/" + std::string(DigestOf("x").hex()) + ".tmp-abc").ok());
  ASSERT_TRUE(store_->PutBlob(DigestOf("stray"), "stray").ok());

  auto report = store_->Prune([&] { return std::set<std::string>{used.manifest.str()}; });
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->images, std::vector<std::string>{"reg/unused:1"});
  EXPECT_EQ(report->layers, 2);  // only-unused and the leftover; "shared" stays
  EXPECT_EQ(report->blobs, 3);   // unused's manifest and config, and the stray blob
  EXPECT_GT(report->bytes, 0);
  for (const Digest& l : used.layers) EXPECT_TRUE(store_->HasLayer(l));
  EXPECT_FALSE(store_->HasLayer(DigestOf("only-unused")));
  EXPECT_TRUE(store_->HasBlob(used.manifest));
  EXPECT_TRUE(store_->HasBlob(used.config));
  EXPECT_FALSE(store_->HasBlob(unused.config));
  EXPECT_FALSE(store_->Find("reg/unused:1").has_value());
  // Nothing more to do the second time.
  auto again = store_->Prune([&] { return std::set<std::string>{used.manifest.str()}; });
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->images.empty());
  EXPECT_EQ(again->blobs + again->layers, 0);
}

TEST_F(ImageStoreTest, PruneWaitsForPullsInProgress) {
  ImageRecord img = AddImage("reg/a:1", {"l"});
  std::atomic<bool> pruned{false};
  std::thread pruner;
  {
    auto guard = store_->GuardPull();
    pruner = std::thread([&] {
      (void)store_->Prune([] { return std::set<std::string>{}; });
      pruned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(pruned.load());  // blocked by the pull
    EXPECT_TRUE(store_->HasLayer(img.layers[0]));
  }
  pruner.join();
  EXPECT_TRUE(pruned.load());
  EXPECT_FALSE(store_->HasLayer(img.layers[0]));
}

TEST_F(ImageStoreTest, LayerLockSerialisesTheSameLayerOnly) {
  Digest a = DigestOf("a"), b = DigestOf("b");
  std::atomic<int> inside{0}, max_inside{0};
  auto work = [&](const Digest& d) {
    auto lock = store_->LockLayer(d);
    int now = ++inside;
    max_inside = std::max(max_inside.load(), now);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --inside;
  };
  std::thread t1(work, a), t2(work, a);
  t1.join();
  t2.join();
  EXPECT_EQ(max_inside.load(), 1);
  auto la = store_->LockLayer(a);
  auto lb = store_->LockLayer(b);  // a different layer does not wait
  SUCCEED();
}

}  // namespace
}  // namespace sp
