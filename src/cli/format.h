// Rendering of what daemons answer, as text (like the seed's spawnctl) and
// as the JSON that scripts depend on (keys documented in docs/guide.md; the
// JSON of inspect and images is the protocol's own, src/protocol).
// Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "spawnpoint/client.h"

namespace sp::cli {

nlohmann::json ScanJson(const std::vector<HostStatus>& hosts);
std::string ScanText(const std::vector<HostStatus>& hosts, int64_t now_ms);
std::string InspectText(const ServiceDescription& info);
std::string ImagesText(const ImageList& images);
std::string PruneText(const PruneReport& report);
// "17 Nov 26 17:42 UTC" (local time zone).
std::string FormatWhen(int64_t ms);

}  // namespace sp::cli
