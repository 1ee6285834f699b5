// Rendering of scan and inspect results, as text (like the seed's spawnctl)
// and as the JSON that scripts depend on (keys documented in docs/guide.md).
// Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "spawnpoint/client.h"

namespace sp::cli {

nlohmann::json ScanJson(const std::vector<HostStatus>& hosts);
std::string ScanText(const std::vector<HostStatus>& hosts, int64_t now_ms);
std::string InspectText(const nlohmann::json& info);
// "17 Nov 26 17:42 UTC" (local time zone).
std::string FormatWhen(int64_t ms);

}  // namespace sp::cli
