// Endpoint resolution: explicit values, then environment, then the local
// daemon's client.json (written by spawnd in its state directory).
#include <cstdlib>

#include "spawnpoint/client.h"
#include "util/fs.h"

namespace sp {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void FillFromEnv(Endpoint& ep) {
  if (ep.router.empty()) ep.router = Env("SPAWNPOINT_ROUTER");
  if (ep.creds.empty()) ep.creds = Env("SPAWNPOINT_ENTITY");
  if (ep.creds.empty()) ep.creds = Env("BW2_DEFAULT_ENTITY");  // seed spelling
  if (ep.default_uri.empty()) ep.default_uri = Env("SPAWNPOINT_DEFAULT_URI");
}

}  // namespace

Result<Endpoint> ResolveEndpoint(Endpoint ep) {
  FillFromEnv(ep);
  if (!ep.router.empty() && !ep.creds.empty() && !ep.default_uri.empty()) return ep;
  std::string state_dir = Env("SPAWNPOINT_STATE_DIR");
  if (state_dir.empty()) state_dir = "/var/lib/spawnpoint";
  std::string path = JoinPath(state_dir, "client.json");
  auto text = ReadFileCapped(path, 64 << 10);
  if (!text) {
    if (!ep.router.empty()) return ep;  // an explicit router without a local daemon is fine
    return Err(Status::Unavailable("no router given (-r or SPAWNPOINT_ROUTER) and no local daemon found (" +
                                   text.error().message() + "); is spawnd running?"));
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Err(Status::Internal(path + " is not valid JSON"));
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  bool local_router = ep.router.empty();
  if (local_router) ep.router = str("router");
  // The local admin entity only goes with the local router.
  if (ep.creds.empty() && local_router) ep.creds = str("creds");
  if (ep.default_uri.empty()) ep.default_uri = str("uri");
  return ep;
}

}  // namespace sp
