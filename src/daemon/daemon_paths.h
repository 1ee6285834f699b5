// Where spawnd keeps what it owns, under its state directory (default
// /var/lib/spawnpoint; see docs/design.md for what each holds).
#pragma once

#include <string>

#include "util/fs.h"

namespace sp {

struct DaemonPaths {
  explicit DaemonPaths(const std::string& s)
      : state(s),
        auth(JoinPath(s, "auth")),
        router(JoinPath(s, "router")),
        services(JoinPath(s, "services")),
        volumes(JoinPath(s, "volumes")),
        netns(JoinPath(s, "netns")),
        cni(JoinPath(s, "cni")),
        runc(JoinPath(s, "runc")),
        images(JoinPath(s, "images")),
        db(JoinPath(s, "spawnd.db")),
        lock(JoinPath(s, "spawnd.lock")),
        client_json(JoinPath(s, "client.json")),
        daemon_id(JoinPath(s, "daemon.id")) {}
  std::string state, auth, router, services, volumes, netns, cni, runc, images, db, lock, client_json, daemon_id;
};

}  // namespace sp
