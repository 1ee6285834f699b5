// What a service takes from its image: the record of which image it runs (kept in the service
// directory as image.json, so a restarted daemon relaunches exactly that image even if the tag
// moved), and the process settings of the image config applied to the container.
//
// Process settings follow docker's rules: the command is Entrypoint + (deploy.yaml `run`, or the
// image's Cmd); the environment is the image's Env, then deploy.yaml's `env`, then Spawnpoint's own
// variables; the working directory is the image's WorkingDir (else /srv/spawnpoint); the user is
// the image's User resolved in the image's own /etc/passwd (runtime/image_user.h).
//
// Thread-safe (no shared state).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/service_config.h"
#include "image/image_store.h"
#include "registry/manifest.h"
#include "runtime/bundle.h"
#include "util/status.h"

namespace sp {

// Writes/reads `<service_dir>/image.json`. Reading a service dir without one gives nullopt.
Status WriteServiceImage(const std::string& service_dir, const ImageRecord& rec);
Result<std::optional<ImageRecord>> ReadServiceImage(const std::string& service_dir);

// The argv the image runs for this service (without spawn-init); InvalidArgument if neither `run`
// nor the image gives a command.
Result<std::vector<std::string>> ImageCommand(const ImageConfig& image, const ServiceConfig& cfg);

// Puts the image's Env under `env` (entries already in `env` are kept: callers add theirs after).
void MergeImageEnv(const ImageConfig& image, std::map<std::string, std::string>& env);

// The ports deploy.yaml asks for plus, with publishExposedPorts, the image's ExposedPorts that are
// not already published (on daemon-chosen host ports).
std::vector<PortMapping> WantedPorts(const ServiceConfig& cfg, const ImageConfig* image);

}  // namespace sp
