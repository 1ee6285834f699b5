// Deploy progress messages (see include/spawnpoint/progress.h).
#include "spawnpoint/progress.h"

#include <nlohmann/json.hpp>

#include "protocol/envelope.h"

namespace sp {
namespace {

constexpr size_t kMaxLayers = 1000;

Result<std::string> Text(const nlohmann::json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Err(Status::InvalidArgument(std::string("progress: missing \"") + key + "\""));
    return std::string();
  }
  if (!it->is_string()) return Err(Status::InvalidArgument(std::string("progress: \"") + key + "\" is not a string"));
  return it->get<std::string>();
}

Result<int64_t> Count(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return int64_t{0};
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    return Err(Status::InvalidArgument(std::string("progress: \"") + key + "\" is not a non-negative integer"));
  return it->get<int64_t>();
}

}  // namespace

std::string EncodeProgress(const DeployProgress& p) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerProgress& l : p.layers) {
    layers.push_back({{"digest", l.digest}, {"kind", l.kind}, {"size", l.size}, {"done", l.done}, {"state", l.state}});
  }
  return protocol::Serialize({{"service", p.service}, {"phase", p.phase}, {"image", p.image},
                             {"message", p.message}, {"timeMs", p.time_ms}, {"layers", layers}});
}

Result<DeployProgress> ParseProgress(std::string_view data) {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Err(Status::InvalidArgument("progress: not a JSON object"));
  SP_RETURN_IF_ERROR(protocol::CheckVersion(j, "progress"));
  DeployProgress p;
  SP_ASSIGN_OR_RETURN(p.service, Text(j, "service", true));
  SP_ASSIGN_OR_RETURN(p.phase, Text(j, "phase", true));
  SP_ASSIGN_OR_RETURN(p.image, Text(j, "image", false));
  SP_ASSIGN_OR_RETURN(p.message, Text(j, "message", false));
  SP_ASSIGN_OR_RETURN(p.time_ms, Count(j, "timeMs"));
  auto it = j.find("layers");
  if (it != j.end()) {
    if (!it->is_array()) return Err(Status::InvalidArgument("progress: \"layers\" is not a list"));
    if (it->size() > kMaxLayers) return Err(Status::InvalidArgument("progress: too many layers"));
    for (const nlohmann::json& l : *it) {
      if (!l.is_object()) return Err(Status::InvalidArgument("progress: a layer is not an object"));
      LayerProgress lp;
      SP_ASSIGN_OR_RETURN(lp.digest, Text(l, "digest", true));
      SP_ASSIGN_OR_RETURN(lp.kind, Text(l, "kind", false));
      SP_ASSIGN_OR_RETURN(lp.state, Text(l, "state", true));
      SP_ASSIGN_OR_RETURN(lp.size, Count(l, "size"));
      SP_ASSIGN_OR_RETURN(lp.done, Count(l, "done"));
      p.layers.push_back(std::move(lp));
    }
  }
  return p;
}

}  // namespace sp
