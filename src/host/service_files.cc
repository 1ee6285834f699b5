// LinuxHost, preparing a service's files: its directories and volumes, its
// image (pulled, recorded in image.json, mounted as the overlay root), its
// source, the included files, its entity, and its published ports
// (ports.json). See linux_host.h.
#include <unistd.h>

#include <set>

#include <nlohmann/json.hpp>

#include "archive/include_archive.h"
#include "fstree/tree.h"
#include "host/host_files.h"
#include "host/linux_host.h"
#include "host/service_image.h"
#include "runtime/image_rootfs.h"
#include "runtime/image_user.h"
#include "source/fetch_source.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp {
namespace {

std::vector<PublishedPort> ToPublished(const std::vector<PortMapping>& ports) {
  std::vector<PublishedPort> out;
  for (const PortMapping& p : ports) out.push_back(PublishedPort{p.host_port, p.container_port, p.protocol});
  return out;
}

// ports.json: the service's published ports (a corrupt file publishes nothing: it is rewritten at
// the next deploy).
std::vector<PublishedPort> ReadPortsFile(const std::string& path) {
  auto text = ReadFileCapped(path, 1 << 20);
  if (!text) return {};
  auto ports = PortMappingsFromJson(nlohmann::json::parse(*text, nullptr, false));
  return ports ? *ports : std::vector<PublishedPort>{};
}

}  // namespace

Status LinuxHost::Prepare(const std::string& name, const ServiceConfig& cfg, std::string_view files,
                          std::string_view entity, const ProgressSink& progress) {
  std::string dir = ServiceDir(name);
  // A redeploy starts from a clean directory (volumes are elsewhere); an earlier image root goes first.
  SP_RETURN_IF_ERROR(ReleaseImageRootfs(dir));
  ReleasePorts(name);
  SP_RETURN_IF_ERROR(RemoveAll(dir));
  std::string data = JoinPath(dir, "data");
  SP_RETURN_IF_ERROR(MakeDirs(data, 0755));
  SP_RETURN_IF_ERROR(MakeDirs(LogDirOf(name), 0700));
  for (const std::string& v : cfg.volumes) SP_RETURN_IF_ERROR(MakeDirs(JoinPath(opts_.volumes_dir, v), 0755));
  std::optional<PulledImage> image;
  SP_RETURN_IF_ERROR(PullImage(name, cfg, progress, &image));
  SP_RETURN_IF_ERROR(ReservePorts(name, cfg, image ? &image->config : nullptr));
  auto report = [&](const std::string& phase, const std::string& message) {
    if (progress) progress(DeployProgress{name, phase, cfg.image, message, WallClockMs(), {}});
  };
  if (!cfg.source.empty()) {
    report("cloning", "cloning " + cfg.source);
    SourceOptions so;
    so.allow_local = opts_.allow_local_sources;
    so.timeout = opts_.source_timeout;
    SP_RETURN_IF_ERROR(FetchSource(cfg.source, data, so, [&](std::string_view line) {
                         report("cloning", std::string(line));
                       }).Annotate("source"));
  }
  SP_RETURN_IF_ERROR(InstallFilesAndEntity(name, files, entity));
  if (image) {
    // /srv/spawnpoint belongs to the user the image runs as, so the service can write there.
    auto mounted = PrepareImageRootfs(dir, name, image->layer_dirs);
    if (!mounted) return mounted.error();
    SP_ASSIGN_OR_RETURN(ProcessUser user, ResolveImageUser(JoinPath(dir, "rootfs"), image->config.user));
    if (user.uid != 0 || user.gid != 0)  // lchown, links not followed, other filesystems left alone
      SP_RETURN_IF_ERROR(fstree::ChownTree(data, user.uid, user.gid).Annotate("give " + data + " to the image's user"));
  }
  if (!cfg.build.empty()) SP_RETURN_IF_ERROR(RunBuild(name, cfg, progress));
  return Status::Ok();
}

Status LinuxHost::InstallFilesAndEntity(const std::string& name, std::string_view files, std::string_view entity) {
  std::string data = JoinPath(ServiceDir(name), "data");
  if (!files.empty()) SP_RETURN_IF_ERROR(UnpackIncludes(files, data).Annotate("included files"));
  // The entity goes in last, so an included file of the same name cannot replace it.
  std::string creds(entity);
  if (creds.empty() && opts_.mint_service_creds) {
    SP_ASSIGN_OR_RETURN(creds, opts_.mint_service_creds(name));
  }
  if (!creds.empty()) {
    std::string path = JoinPath(data, kEntityFile);
    ::unlink(path.c_str());  // whatever an archive put there (even a symlink) is replaced, never followed
    SP_RETURN_IF_ERROR(WriteFileAtomic(path, creds, 0600).Annotate("service entity"));
  }
  return Status::Ok();
}

Status LinuxHost::PullImage(const std::string& name, const ServiceConfig& cfg, const ProgressSink& progress,
                            std::optional<PulledImage>* pulled) {
  if (cfg.image.empty() || cfg.image == "host") return Status::Ok();
  if (!opts_.images) return Status::Unimplemented("this daemon has no image store; use image: host");
  auto on_pull = [&](const PullSnapshot& snap) {
    if (progress) progress(DeployProgress{name, snap.phase, cfg.image, snap.message, WallClockMs(), snap.layers});
  };
  auto no_prune = opts_.images->store().GuardPull();  // until image.json marks the image as used
  SP_ASSIGN_OR_RETURN(PulledImage img, opts_.images->Pull(cfg.image, cfg.pull_policy, on_pull));
  SP_RETURN_IF_ERROR(WriteServiceImage(ServiceDir(name), img.record).Annotate("image record"));
  *pulled = std::move(img);
  return Status::Ok();
}

Status LinuxHost::ReservePorts(const std::string& name, const ServiceConfig& cfg, const ImageConfig* image) {
  std::vector<PublishedPort> wanted = ToPublished(WantedPorts(cfg, image));
  if (wanted.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(ports_mu_);
  std::set<std::pair<int, std::string>> taken;
  for (const auto& [other, ports] : ports_) {
    if (other == name) continue;
    for (const PublishedPort& p : ports) taken.insert({p.host_port, p.protocol});
  }
  auto resolved = ResolvePorts(wanted, taken);
  if (!resolved) return resolved.error().Annotate("ports");
  SP_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(ServiceDir(name), kPortsFile), PortMappingsJson(*resolved).dump(), 0600));
  ports_[name] = std::move(*resolved);
  return Status::Ok();
}

void LinuxHost::ReleasePorts(const std::string& name) {
  std::lock_guard<std::mutex> lock(ports_mu_);
  ports_.erase(name);
}

std::vector<PublishedPort> LinuxHost::PortsOf(const std::string& name) const {
  std::lock_guard<std::mutex> lock(ports_mu_);
  auto it = ports_.find(name);
  return it == ports_.end() ? std::vector<PublishedPort>{} : it->second;
}

void LinuxHost::LoadPublishedPorts() {
  auto names = ListDir(opts_.services_dir);
  if (!names) return;
  std::lock_guard<std::mutex> lock(ports_mu_);
  for (const std::string& n : *names) {  // ports published before a restart stay taken
    auto ports = ReadPortsFile(JoinPath(ServiceDir(n), kPortsFile));
    if (!ports.empty()) ports_[n] = std::move(ports);
  }
}

std::map<std::string, std::vector<std::string>> LinuxHost::ImageUsers() {
  std::map<std::string, std::vector<std::string>> users;
  auto names = ListDir(opts_.services_dir);
  if (!names) return users;
  for (const std::string& n : *names) {
    auto rec = ReadServiceImage(ServiceDir(n));
    if (rec && *rec) users[(*rec)->manifest.str()].push_back(n);
  }
  return users;
}

}  // namespace sp
