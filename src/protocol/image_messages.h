// What a daemon says about its image store: one image (the result of
// slot/pull), the list (slot/images) and what a prune removed (slot/prune).
// Like service_messages.h: JSON values inside the reply envelope, decoded
// defensively, Decode(ToJson(x)) == x. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp::protocol {

nlohmann::json ToJson(const ImageDescription& d);
Result<ImageDescription> DecodeImageDescription(const nlohmann::json& j);

nlohmann::json ToJson(const ImageList& l);
Result<ImageList> DecodeImageList(const nlohmann::json& j);

nlohmann::json ToJson(const PruneReport& r);
Result<PruneReport> DecodePruneReport(const nlohmann::json& j);

}  // namespace sp::protocol
