// ImageStore: the daemon's local images, content-addressed under `<stateDir>/images`.
//
//   blobs/sha256/<hex>   verified manifests, indexes and image configs (small JSON blobs)
//   layers/<hex>/        one unpacked layer tree per compressed layer digest, in overlayfs
//                        format; it exists only once complete (unpacked elsewhere, then renamed)
//   tmp/                 downloads and unpacks in progress; emptied when the store opens
//   images.json          the image records: reference -> digests (written atomically)
//
// A compressed layer blob is deleted once unpacked: the unpacked tree is what services use, and
// keeping both would double the disk use. Each layer is unpacked once: LockLayer serialises
// concurrent pulls of the same layer, and a pull that finds the tree present reuses it.
//
// Garbage collection (Prune) removes the images no service uses, then every blob and layer that
// no remaining image references; a layer mounted by a running service is always referenced
// because the service's image is in use. Pulls and Prune exclude each other (GuardPull).
//
// Thread-safe: an internal mutex guards the records; layer locks are per digest.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <functional>
#include <string>
#include <vector>

#include "registry/digest.h"
#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp {

struct ImageRecord {
  std::string reference;     // as pulled, normalised ("127.0.0.1:5000/web:1.0", "oci:/path:tag")
  Digest digest;             // what the reference resolved to (an index or a manifest)
  Digest manifest;           // the platform's image manifest
  Digest config;             // the image config blob
  std::vector<Digest> layers;  // compressed layer digests, bottom first
  int64_t size = 0;          // compressed bytes of the layers, as the manifest gives them
  int64_t pulled_ms = 0;
};

// What Prune removed: the protocol's PruneReport (images: references of the removed images; blobs,
// layers: how many were removed; bytes: disk space freed, apparent size).

class ImageStore {
 public:
  static Result<std::unique_ptr<ImageStore>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string BlobPath(const Digest& d) const;
  std::string LayerDir(const Digest& d) const;
  // A fresh private directory under tmp/ for one download or unpack; the caller removes it.
  Result<std::string> MakeTemp() const;

  bool HasBlob(const Digest& d) const;
  bool HasLayer(const Digest& d) const;
  // Reads a stored blob, verifying it again (a blob altered on disk is an error, not used).
  Result<std::string> ReadBlob(const Digest& d, size_t max_bytes) const;
  // Stores `bytes` under `d` after checking that they hash to it.
  Status PutBlob(const Digest& d, std::string_view bytes);

  // Holds the per-layer lock while alive; pulls of the same layer wait for each other.
  class LayerLock {
   public:
    LayerLock(LayerLock&& o) noexcept : store_(o.store_), key_(std::move(o.key_)) { o.store_ = nullptr; }
    LayerLock(const LayerLock&) = delete;
    LayerLock& operator=(const LayerLock&) = delete;
    ~LayerLock();

   private:
    friend class ImageStore;
    LayerLock(ImageStore* s, std::string key) : store_(s), key_(std::move(key)) {}
    ImageStore* store_;
    std::string key_;
  };
  LayerLock LockLayer(const Digest& d);

  // Adds or replaces (same reference) an image record.
  Status Record(const ImageRecord& rec);
  std::optional<ImageRecord> Find(const std::string& reference) const;
  std::optional<ImageRecord> FindByDigest(const Digest& digest) const;
  std::vector<ImageRecord> List() const;

  // A pull (and whatever records its result where `in_use` finds it) holds this shared guard from
  // start to end, so Prune never removes a blob or layer that a pull in progress relies on.
  std::shared_lock<std::shared_mutex> GuardPull() { return std::shared_lock<std::shared_mutex>(gc_mu_); }

  // Waits for pulls in progress, then removes the images whose manifest digest is not in
  // `in_use()` (called once no pull runs), then every blob and layer that no remaining image
  // references (including leftovers of interrupted pulls).
  Result<PruneReport> Prune(const std::function<std::set<std::string>()>& in_use);

 private:
  explicit ImageStore(std::string dir) : dir_(std::move(dir)) {}
  Status Load();
  Status SaveLocked() const;

  const std::string dir_;
  mutable std::mutex mu_;
  std::vector<ImageRecord> images_;  // GUARDED_BY(mu_)
  std::condition_variable layer_cv_;
  std::set<std::string> locked_layers_;  // GUARDED_BY(mu_)
  std::shared_mutex gc_mu_;              // shared: pulls; exclusive: Prune
};

// Apparent size in bytes of a file or a directory tree (symlinks not followed).
int64_t DiskUsage(const std::string& path);

}  // namespace sp
