// Pulling images into the store (see puller.h).
#include "image/puller.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "layer/oci_archive.h"
#include "layer/unpack_layer.h"
#include "registry/oci_layout.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;
constexpr size_t kMaxConfigBytes = 4 << 20;
constexpr int64_t kMaxArchiveBytes = 64LL << 30;
constexpr auto kByteProgressEvery = std::chrono::milliseconds(100);

}  // namespace

std::string EffectivePullPolicy(const ImageReference& ref, std::string_view policy) {
  if (!policy.empty()) return std::string(policy);
  if (ref.transport != "docker") return "always";  // a local layout is cheap to read again
  if (!ref.digest.empty()) return "missing";         // content-addressed: it cannot change
  return ref.tag.empty() || ref.tag == "latest" ? "always" : "missing";
}

// One pull: where its blobs come from, and its progress.
class ImagePuller::Session {
 public:
  Session(ImagePuller& puller, ImageReference ref, const PullProgress& progress)
      : p_(puller), ref_(std::move(ref)), progress_(progress) {}
  ~Session() {
    if (!temp_.empty()) (void)RemoveAll(temp_);
  }

  Result<PulledImage> Run();

 private:
  Status OpenSource();
  Result<std::string> ReadManifest(const std::optional<Descriptor>& d, Digest* digest, std::string* media_type);
  Result<std::string> ReadSmallBlob(const Descriptor& d, size_t max);
  Status FetchLayer(size_t i, const Descriptor& d, const Digest& diff_id);
  Status FetchLayers(const ImageManifest& m, const ImageConfig& cfg);

  void Phase(const std::string& phase, const std::string& message);
  void SetLayer(size_t i, const std::string& state, int64_t done, bool force);
  void EmitLocked();

  ImagePuller& p_;
  ImageReference ref_;
  const PullProgress& progress_;
  std::string layout_;  // oci/oci-archive: the layout directory
  std::string temp_;    // oci-archive: where it was extracted

  std::mutex mu_;
  PullSnapshot snap_;  // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point last_emit_{};
};

void ImagePuller::Session::EmitLocked() {
  last_emit_ = std::chrono::steady_clock::now();
  if (progress_) progress_(snap_);
}

void ImagePuller::Session::Phase(const std::string& phase, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  snap_.phase = phase;
  snap_.message = message;
  EmitLocked();
}

void ImagePuller::Session::SetLayer(size_t i, const std::string& state, int64_t done, bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  LayerProgress& l = snap_.layers.at(i);
  bool changed = l.state != state;
  l.state = state;
  l.done = done;
  if (changed || force || std::chrono::steady_clock::now() - last_emit_ >= kByteProgressEvery) EmitLocked();
}

Status ImagePuller::Session::OpenSource() {
  if (ref_.transport == "docker") return Status::Ok();
  if (!p_.opts_.allow_local)
    return Status::PermissionDenied("image \"" + ref_.String() +
                                    "\": images from paths on the host need allowLocalSources: true in the daemon config");
  if (ref_.transport == "oci") {
    layout_ = ref_.path;
    return Status::Ok();
  }
  // oci-archive: extracted (defensively) into a private temporary directory, then read as a layout.
  SP_ASSIGN_OR_RETURN(temp_, p_.store_.MakeTemp());
  layout_ = JoinPath(temp_, "layout");
  Phase("resolving", "extracting " + ref_.path);
  return ExtractOciArchive(ref_.path, layout_, kMaxArchiveBytes).Annotate("image archive " + ref_.path);
}

// The manifest named by `d`, or (when d is empty) the one the reference names.
Result<std::string> ImagePuller::Session::ReadManifest(const std::optional<Descriptor>& d, Digest* digest,
                                                       std::string* media_type) {
  if (ref_.transport == "docker") {
    std::string which = d ? d->digest.str() : (ref_.digest.empty() ? ref_.tag : ref_.digest);
    SP_ASSIGN_OR_RETURN(FetchedManifest m, p_.client_->GetManifest(ref_, which));
    *digest = m.digest;
    *media_type = m.media_type;
    return std::move(m.bytes);
  }
  Descriptor desc;
  if (d) {
    desc = *d;
  } else if (!ref_.digest.empty()) {
    SP_ASSIGN_OR_RETURN(desc.digest, Digest::Parse(ref_.digest));
  } else {
    SP_ASSIGN_OR_RETURN(desc, ResolveLayoutTag(layout_, ref_.tag));
  }
  SP_ASSIGN_OR_RETURN(std::string bytes, ReadLayoutBlob(layout_, desc, kMaxManifestBytes));
  *digest = desc.digest;
  *media_type = desc.media_type;
  return bytes;
}

Result<std::string> ImagePuller::Session::ReadSmallBlob(const Descriptor& d, size_t max) {
  if (p_.store_.HasBlob(d.digest)) {
    auto stored = p_.store_.ReadBlob(d.digest, max);
    if (stored) return stored;  // a damaged copy is fetched again below
  }
  std::string bytes;
  if (ref_.transport == "docker") {
    SP_ASSIGN_OR_RETURN(bytes, p_.client_->GetBlobBytes(ref_, d, max));
  } else {
    SP_ASSIGN_OR_RETURN(bytes, ReadLayoutBlob(layout_, d, max));
  }
  SP_RETURN_IF_ERROR(p_.store_.PutBlob(d.digest, bytes));
  return bytes;
}

Status ImagePuller::Session::FetchLayer(size_t i, const Descriptor& d, const Digest& diff_id) {
  ImageStore& store = p_.store_;
  auto lock = store.LockLayer(d.digest);  // another pull of the same layer finishes first
  if (store.HasLayer(d.digest)) {
    SetLayer(i, "cached", d.size, true);
    return Status::Ok();
  }
  std::string blob;
  std::string temp;
  if (ref_.transport == "docker") {
    SP_ASSIGN_OR_RETURN(temp, store.MakeTemp());
    blob = JoinPath(temp, "blob");
    SetLayer(i, "downloading", 0, true);
    Status st = p_.client_->GetBlob(ref_, d, blob, [&](int64_t done) { SetLayer(i, "downloading", done, false); });
    if (!st.ok()) {
      (void)RemoveAll(temp);
      return st;
    }
  } else {
    // Unpacked straight from the layout; the diff_id check below covers the content read.
    blob = LayoutBlobPath(layout_, d.digest);
  }
  SetLayer(i, "unpacking", d.size, true);
  UnpackOptions uo;
  uo.allow_devices = p_.opts_.allow_layer_devices;
  auto unpacked = UnpackLayer(blob, store.LayerDir(d.digest), diff_id, uo);
  if (!temp.empty()) (void)RemoveAll(temp);
  if (!unpacked) return unpacked.error().Annotate("layer " + d.digest.str());
  SetLayer(i, "done", d.size, true);
  return Status::Ok();
}

Status ImagePuller::Session::FetchLayers(const ImageManifest& m, const ImageConfig& cfg) {
  if (cfg.diff_ids.size() != m.layers.size())
    return Status::InvalidArgument("image " + ref_.String() + ": the config lists " +
                                   std::to_string(cfg.diff_ids.size()) + " layers but the manifest " +
                                   std::to_string(m.layers.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap_.phase = "pulling";
    snap_.message = "";
    for (const Descriptor& l : m.layers) {
      bool have = p_.store_.HasLayer(l.digest);
      snap_.layers.push_back(LayerProgress{l.digest.str(), "layer", l.size, have ? l.size : 0, have ? "cached" : "waiting"});
    }
    EmitLocked();
  }
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  Status first_error;
  auto worker = [&] {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(err_mu);
        if (!first_error.ok()) return;
      }
      size_t i = next++;
      if (i >= m.layers.size()) return;
      Status st = FetchLayer(i, m.layers[i], cfg.diff_ids[i]);
      if (!st.ok()) {
        SetLayer(i, "failed", 0, true);
        std::lock_guard<std::mutex> lock(err_mu);
        if (first_error.ok()) first_error = st;
      }
    }
  };
  size_t threads = std::min<size_t>(std::max(1, p_.opts_.concurrency), m.layers.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return first_error;
}

Result<PulledImage> ImagePuller::Session::Run() {
  SP_RETURN_IF_ERROR(OpenSource());
  Phase("resolving", "");
  Digest top;
  std::string media_type;
  SP_ASSIGN_OR_RETURN(std::string bytes, ReadManifest(std::nullopt, &top, &media_type));
  SP_RETURN_IF_ERROR(p_.store_.PutBlob(top, bytes));
  SP_ASSIGN_OR_RETURN(auto parsed, ParseManifest(bytes, media_type));
  Digest manifest_digest = top;
  if (auto* index = std::get_if<ImageIndex>(&parsed)) {
    Platform want = p_.opts_.platform.os.empty() ? HostPlatform() : p_.opts_.platform;
    SP_ASSIGN_OR_RETURN(Descriptor chosen, ChoosePlatform(*index, want));
    SP_ASSIGN_OR_RETURN(bytes, ReadManifest(chosen, &manifest_digest, &media_type));
    if (!(manifest_digest == chosen.digest))
      return Err(Status::InvalidArgument("image " + ref_.String() + ": the manifest for " + want.os + "/" +
                                         want.architecture + " does not match its digest"));
    SP_RETURN_IF_ERROR(p_.store_.PutBlob(manifest_digest, bytes));
    SP_ASSIGN_OR_RETURN(parsed, ParseManifest(bytes, media_type.empty() ? chosen.media_type : media_type));
  }
  auto* manifest = std::get_if<ImageManifest>(&parsed);
  if (!manifest)
    return Err(Status::InvalidArgument("image " + ref_.String() + ": an index points at another index"));
  if (manifest->layers.empty()) return Err(Status::InvalidArgument("image " + ref_.String() + " has no layers"));
  SP_ASSIGN_OR_RETURN(std::string config_bytes, ReadSmallBlob(manifest->config, kMaxConfigBytes));
  SP_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_bytes));
  if (!config.os.empty() && config.os != "linux")
    return Err(Status::InvalidArgument("image " + ref_.String() + " is for " + config.os + ", not linux"));
  SP_RETURN_IF_ERROR(FetchLayers(*manifest, config));

  ImageRecord rec;
  rec.reference = ref_.String();
  rec.digest = top;
  rec.manifest = manifest_digest;
  rec.config = manifest->config.digest;
  for (const Descriptor& l : manifest->layers) {
    rec.layers.push_back(l.digest);
    rec.size += l.size;
  }
  rec.pulled_ms = WallClockMs();
  SP_RETURN_IF_ERROR(p_.store_.Record(rec));
  Phase("pulled", "");
  return p_.Load(rec);
}

Result<std::unique_ptr<ImagePuller>> ImagePuller::Create(ImageStore& store, PullerOptions opts) {
  SP_ASSIGN_OR_RETURN(std::unique_ptr<RegistryClient> client, RegistryClient::Create(opts.registry));
  return std::unique_ptr<ImagePuller>(new ImagePuller(store, std::move(opts), std::move(client)));
}

Result<PulledImage> ImagePuller::Load(const ImageRecord& record) const {
  PulledImage out;
  out.record = record;
  SP_ASSIGN_OR_RETURN(std::string config_bytes, store_.ReadBlob(record.config, kMaxConfigBytes));
  SP_ASSIGN_OR_RETURN(out.config, ParseImageConfig(config_bytes));
  for (auto it = record.layers.rbegin(); it != record.layers.rend(); ++it) {
    if (!store_.HasLayer(*it))
      return Err(Status::FailedPrecondition("layer " + it->str() + " of image " + record.reference +
                                            " is missing from the image store; deploy again to pull it"));
    out.layer_dirs.push_back(store_.LayerDir(*it));
  }
  return out;
}

Result<PulledImage> ImagePuller::Pull(std::string_view text, std::string_view policy, const PullProgress& progress) {
  SP_ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(text));
  std::string effective = EffectivePullPolicy(ref, policy);
  std::optional<ImageRecord> local = store_.Find(ref.String());
  if (!local && !ref.digest.empty()) {
    if (auto d = Digest::Parse(ref.digest)) local = store_.FindByDigest(*d);
  }
  if (local && effective != "always") {
    auto loaded = Load(*local);
    if (loaded) return loaded;
  }
  if (effective == "never") {
    if (local) return Load(*local);
    return Err(Status::NotFound("image " + ref.String() + " is not on this host, and pullPolicy is never"));
  }
  Session session(*this, ref, progress);
  auto pulled = session.Run();
  if (!pulled && local && pulled.error().code() == Code::kUnavailable) {
    // The source is unreachable but a copy is here: run what we have, and say so.
    auto loaded = Load(*local);
    if (loaded) {
      if (progress) progress(PullSnapshot{"pulled", "registry unreachable (" + pulled.error().message() +
                                                        "); using the local copy", {}});
      return loaded;
    }
  }
  return pulled;
}

}  // namespace sp
