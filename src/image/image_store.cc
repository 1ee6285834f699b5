// The daemon's local images (see image_store.h).
#include "image/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "layer/unpack_layer.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kMaxIndexBytes = 64 << 20;
constexpr int kIndexVersion = 1;

nlohmann::json ToJson(const ImageRecord& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const Digest& d : r.layers) layers.push_back(d.str());
  return {{"reference", r.reference}, {"digest", r.digest.str()}, {"manifest", r.manifest.str()},
          {"config", r.config.str()}, {"layers", layers},         {"size", r.size},
          {"pulledMs", r.pulled_ms}};
}

Result<Digest> DigestField(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string())
    return Err(Status::InvalidArgument(std::string("missing \"") + key + "\""));
  return Digest::Parse(j[key].get<std::string>());
}

Result<ImageRecord> FromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("reference") || !j["reference"].is_string() || !j.contains("layers") ||
      !j["layers"].is_array())
    return Err(Status::InvalidArgument("malformed image record"));
  ImageRecord r;
  r.reference = j["reference"].get<std::string>();
  SP_ASSIGN_OR_RETURN(r.digest, DigestField(j, "digest"));
  SP_ASSIGN_OR_RETURN(r.manifest, DigestField(j, "manifest"));
  SP_ASSIGN_OR_RETURN(r.config, DigestField(j, "config"));
  for (const auto& l : j["layers"]) {
    if (!l.is_string()) return Err(Status::InvalidArgument("malformed layer digest"));
    SP_ASSIGN_OR_RETURN(Digest d, Digest::Parse(l.get<std::string>()));
    r.layers.push_back(d);
  }
  r.size = j.value("size", int64_t{0});
  r.pulled_ms = j.value("pulledMs", int64_t{0});
  return r;
}

}  // namespace

int64_t DiskUsage(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? st.st_size : 0;
  int64_t total = 0;
  auto names = ListDir(path);
  if (!names) return 0;
  for (const std::string& n : *names) total += DiskUsage(JoinPath(path, n));
  return total;
}

Result<std::unique_ptr<ImageStore>> ImageStore::Open(const std::string& dir) {
  std::unique_ptr<ImageStore> s(new ImageStore(dir));
  for (const char* sub : {"blobs/sha256", "layers", "tmp"})
    SP_RETURN_IF_ERROR(MakeDirs(JoinPath(dir, sub), 0700).Annotate("image store"));
  // Whatever an interrupted pull left behind is incomplete by construction.
  SP_RETURN_IF_ERROR(RemoveAll(JoinPath(dir, "tmp")).Annotate("image store"));
  SP_RETURN_IF_ERROR(MakeDirs(JoinPath(dir, "tmp"), 0700).Annotate("image store"));
  // An unpack interrupted by a crash leaves layers/<hex>.tmp-XXXXXX: incomplete, never used.
  if (auto names = ListDir(JoinPath(dir, "layers"))) {
    for (const std::string& n : *names) {
      if (n.find(".tmp-") != std::string::npos)
        SP_RETURN_IF_ERROR(RemoveLayerDir(JoinPath(JoinPath(dir, "layers"), n)).Annotate("image store"));
    }
  }
  SP_RETURN_IF_ERROR(s->Load());
  return s;
}

Status ImageStore::Load() {
  std::string path = JoinPath(dir_, "images.json");
  if (!PathExists(path)) return Status::Ok();
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kMaxIndexBytes));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("images") || !j["images"].is_array())
    return Status::InvalidArgument(path + ": not an image index; move it away to start with an empty store");
  for (const auto& e : j["images"]) {
    auto rec = FromJson(e);
    if (!rec) return rec.error().Annotate(path);
    images_.push_back(std::move(*rec));
  }
  return Status::Ok();
}

Status ImageStore::SaveLocked() const {
  nlohmann::json list = nlohmann::json::array();
  for (const ImageRecord& r : images_) list.push_back(ToJson(r));
  nlohmann::json j = {{"version", kIndexVersion}, {"images", list}};
  return WriteFileAtomic(JoinPath(dir_, "images.json"), j.dump(1), 0600);
}

std::string ImageStore::BlobPath(const Digest& d) const {
  return JoinPath(JoinPath(dir_, "blobs/sha256"), std::string(d.hex()));
}

std::string ImageStore::LayerDir(const Digest& d) const { return JoinPath(JoinPath(dir_, "layers"), std::string(d.hex())); }

Result<std::string> ImageStore::MakeTemp() const { return MakeTempDir(JoinPath(dir_, "tmp/pull-XXXXXX")); }

bool ImageStore::HasBlob(const Digest& d) const { return PathExists(BlobPath(d)); }
bool ImageStore::HasLayer(const Digest& d) const { return PathExists(LayerDir(d)); }

Result<std::string> ImageStore::ReadBlob(const Digest& d, size_t max_bytes) const {
  SP_ASSIGN_OR_RETURN(std::string bytes, ReadFileCapped(BlobPath(d), max_bytes));
  SP_RETURN_IF_ERROR(VerifyDigest(bytes, d, "stored blob " + d.str()));
  return bytes;
}

Status ImageStore::PutBlob(const Digest& d, std::string_view bytes) {
  SP_RETURN_IF_ERROR(VerifyDigest(bytes, d, "blob " + d.str()));
  return WriteFileAtomic(BlobPath(d), bytes, 0600);
}

ImageStore::LayerLock ImageStore::LockLayer(const Digest& d) {
  std::unique_lock<std::mutex> lock(mu_);
  layer_cv_.wait(lock, [&] { return !locked_layers_.count(d.str()); });
  locked_layers_.insert(d.str());
  return LayerLock(this, d.str());
}

ImageStore::LayerLock::~LayerLock() {
  if (!store_) return;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    store_->locked_layers_.erase(key_);
  }
  store_->layer_cv_.notify_all();
}

Status ImageStore::Record(const ImageRecord& rec) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ImageRecord> before = images_;
  bool replaced = false;
  for (ImageRecord& r : images_) {
    if (r.reference == rec.reference) {
      r = rec;
      replaced = true;
    }
  }
  if (!replaced) images_.push_back(rec);
  Status st = SaveLocked();
  if (!st.ok()) images_ = std::move(before);
  return st;
}

std::optional<ImageRecord> ImageStore::Find(const std::string& reference) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const ImageRecord& r : images_) {
    if (r.reference == reference) return r;
  }
  return std::nullopt;
}

std::optional<ImageRecord> ImageStore::FindByDigest(const Digest& digest) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const ImageRecord& r : images_) {
    if (r.digest == digest || r.manifest == digest) return r;
  }
  return std::nullopt;
}

std::vector<ImageRecord> ImageStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return images_;
}

Result<PruneReport> ImageStore::Prune(const std::function<std::set<std::string>()>& in_use) {
  std::unique_lock<std::shared_mutex> no_pulls(gc_mu_);
  std::set<std::string> in_use_manifests = in_use();
  std::lock_guard<std::mutex> lock(mu_);
  PruneReport report;
  std::vector<ImageRecord> keep;
  for (ImageRecord& r : images_) {
    if (in_use_manifests.count(r.manifest.str())) {
      keep.push_back(std::move(r));
    } else {
      report.images.push_back(r.reference);
    }
  }
  images_ = std::move(keep);
  SP_RETURN_IF_ERROR(SaveLocked());

  std::set<std::string> blobs, layers;  // hex digests still referenced
  for (const ImageRecord& r : images_) {
    for (const Digest* d : {&r.digest, &r.manifest, &r.config}) blobs.insert(std::string(d->hex()));
    for (const Digest& l : r.layers) layers.insert(std::string(l.hex()));
  }
  auto sweep = [&](const std::string& sub, const std::set<std::string>& live, int64_t* count) -> Status {
    std::string dir = JoinPath(dir_, sub);
    SP_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
    for (const std::string& n : names) {
      if (live.count(n)) continue;  // no pull runs now, so anything else is unused or a leftover
      std::string path = JoinPath(dir, n);
      int64_t bytes = DiskUsage(path);
      SP_RETURN_IF_ERROR(RemoveLayerDir(path).Annotate("prune"));
      report.bytes += bytes;
      ++*count;
    }
    return Status::Ok();
  };
  SP_RETURN_IF_ERROR(sweep("blobs/sha256", blobs, &report.blobs));
  SP_RETURN_IF_ERROR(sweep("layers", layers, &report.layers));
  return report;
}

}  // namespace sp
