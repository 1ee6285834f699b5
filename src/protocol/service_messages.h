// What a daemon says about a service: the description that deploy, restart and
// inspect return, the result of stop, and the JSON form of published ports
// (CNI's `portMappings` convention, also used in heartbeats and in the
// daemon's own records). These travel inside the reply envelope
// (envelope.h), so they convert to and from JSON values, not bytes.
//
// Decoders read defensively (fields.h): missing fields keep their defaults,
// wrongly typed ones are an InvalidArgument naming the field. Round trip:
// Decode(ToJson(x)) == x for every value. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp::protocol {

nlohmann::json ToJson(const ServiceDescription& d);
Result<ServiceDescription> DecodeServiceDescription(const nlohmann::json& j);

nlohmann::json ToJson(const StopResult& r);
Result<StopResult> DecodeStopResult(const nlohmann::json& j);

// [{"hostPort", "containerPort", "protocol"}]
nlohmann::json PortsToJson(const std::vector<ServicePort>& ports);

class FieldReader;
// Reads the list `key` of `f` into `out` (the same form).
void ReadPorts(FieldReader& f, const char* key, std::vector<ServicePort>* out);

}  // namespace sp::protocol
