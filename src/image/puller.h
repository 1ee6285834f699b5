// ImagePuller: brings an image into the ImageStore — from a registry, an OCI layout directory or
// an oci-archive file — and reports progress while it does.
//
// A pull resolves the reference to a manifest (choosing this host's platform from an index),
// fetches the image config, then fetches and unpacks the layers the store does not have yet,
// several at a time. Every blob is verified against its digest before use, and each layer's
// unpacked content against the config's diff_id. A layer already unpacked is reused, never
// downloaded again. Only once everything is in place is the image recorded, so an interrupted or
// failed pull leaves no record pointing at missing data (its leftovers go at the next Prune).
//
// Pull policy (deploy.yaml `pullPolicy`): "always" resolves the reference at the source every
// time; "missing" uses the local record when there is one; "never" only uses the local record.
// Empty means "always" for `:latest` or untagged references and "missing" otherwise.
//
// Thread-safe: concurrent pulls share the registry client and the store's layer locks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/image_store.h"
#include "registry/manifest.h"
#include "registry/reference.h"
#include "registry/registry_client.h"
#include "spawnpoint/progress.h"
#include "util/status.h"

namespace sp {

struct PullerOptions {
  RegistryOptions registry;
  bool allow_local = false;  // oci: and oci-archive: references (paths on this host)
  bool allow_layer_devices = false;
  int concurrency = 3;  // layers fetched at once
  Platform platform;    // empty os = this host's (HostPlatform())
};

struct PulledImage {
  ImageRecord record;
  ImageConfig config;
  std::vector<std::string> layer_dirs;  // unpacked layers, topmost first (overlayfs lowerdir order)
};

// A snapshot of a pull for display: phase "resolving" or "pulling", the blobs and their state.
struct PullSnapshot {
  std::string phase;
  std::string message;
  std::vector<LayerProgress> layers;
};
using PullProgress = std::function<void(const PullSnapshot&)>;

class ImagePuller {
 public:
  static Result<std::unique_ptr<ImagePuller>> Create(ImageStore& store, PullerOptions opts);

  // `progress` may be empty; it is called from the pulling threads, one call at a time.
  // REQUIRES: the caller holds store().GuardPull() from before this call until whatever marks the
  // image as used (a service's image.json) is written, so a Prune cannot remove it in between.
  Result<PulledImage> Pull(std::string_view reference, std::string_view policy, const PullProgress& progress);
  // The image a service already uses, from the store alone (after a daemon restart).
  Result<PulledImage> Load(const ImageRecord& record) const;

  ImageStore& store() { return store_; }

 private:
  ImagePuller(ImageStore& store, PullerOptions opts, std::unique_ptr<RegistryClient> client)
      : store_(store), opts_(std::move(opts)), client_(std::move(client)) {}
  class Session;

  ImageStore& store_;
  PullerOptions opts_;
  std::unique_ptr<RegistryClient> client_;
};

// The policy that applies to `ref` when deploy.yaml names none.
std::string EffectivePullPolicy(const ImageReference& ref, std::string_view policy);

}  // namespace sp
