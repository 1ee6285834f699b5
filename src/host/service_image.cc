// A service's image record and process settings (see service_image.h).
#include "host/service_image.h"

#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace sp {
namespace {

constexpr const char* kImageFile = "image.json";

}  // namespace

Status WriteServiceImage(const std::string& service_dir, const ImageRecord& rec) {
  nlohmann::json layers = nlohmann::json::array();
  for (const Digest& d : rec.layers) layers.push_back(d.str());
  nlohmann::json j = {{"reference", rec.reference}, {"digest", rec.digest.str()}, {"manifest", rec.manifest.str()},
                      {"config", rec.config.str()},  {"layers", layers},           {"size", rec.size}};
  return WriteFileAtomic(JoinPath(service_dir, kImageFile), j.dump(1), 0600);
}

Result<std::optional<ImageRecord>> ReadServiceImage(const std::string& service_dir) {
  std::string path = JoinPath(service_dir, kImageFile);
  if (!PathExists(path)) return std::optional<ImageRecord>();
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 1 << 20));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&] { return Status::InvalidArgument(path + ": malformed image record"); };
  if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array()) return Err(bad());
  auto digest = [&](const char* k) -> Result<Digest> {
    if (!j.contains(k) || !j[k].is_string()) return Err(bad());
    return Digest::Parse(j[k].get<std::string>());
  };
  ImageRecord rec;
  rec.reference = j.value("reference", "");
  SP_ASSIGN_OR_RETURN(rec.digest, digest("digest"));
  SP_ASSIGN_OR_RETURN(rec.manifest, digest("manifest"));
  SP_ASSIGN_OR_RETURN(rec.config, digest("config"));
  for (const auto& l : j["layers"]) {
    if (!l.is_string()) return Err(bad());
    SP_ASSIGN_OR_RETURN(Digest d, Digest::Parse(l.get<std::string>()));
    rec.layers.push_back(d);
  }
  rec.size = j.value("size", int64_t{0});
  return std::optional<ImageRecord>(std::move(rec));
}

Result<std::vector<std::string>> ImageCommand(const ImageConfig& image, const ServiceConfig& cfg) {
  std::vector<std::string> argv = image.entrypoint;
  const std::vector<std::string>& rest = cfg.run.empty() ? image.cmd : cfg.run;
  argv.insert(argv.end(), rest.begin(), rest.end());
  if (argv.empty() || argv[0].empty())
    return Err(Status::InvalidArgument("the image has no Entrypoint or Cmd; give the command with run: [...]"));
  return argv;
}

void MergeImageEnv(const ImageConfig& image, std::map<std::string, std::string>& env) {
  for (const std::string& kv : image.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;  // malformed entries are ignored, as runtimes do
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
}

std::vector<PortMapping> WantedPorts(const ServiceConfig& cfg, const ImageConfig* image) {
  std::vector<PortMapping> out = cfg.ports;
  if (!cfg.publish_exposed_ports || !image) return out;
  for (const std::string& exposed : image->exposed_ports) {
    auto p = ParsePortMapping(exposed);  // "80/tcp" is the container-port form
    if (!p) continue;
    bool already = false;
    for (const PortMapping& m : out) {
      if (m.container_port == p->container_port && m.protocol == p->protocol) already = true;
    }
    if (!already) out.push_back(*p);
  }
  return out;
}

}  // namespace sp
