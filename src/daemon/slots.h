// The daemon's request/reply slots: one table from slot to handler.
//
//   daemon slots  <base>/s.spawnpoint/daemon/i.spawnpoint/slot/{config,images,pull,prune}
//   service slots <base>/s.spawnpoint/<svc>/i.spawnable/slot/{restart,stop,inspect}
//
// Each daemon slot has its own subscription; the slots of every service share
// one wildcard subscription and are told apart by the table. Requests run on
// the work queue (a slow stop never blocks delivery); each handler decodes its
// request with src/protocol, acts through the Supervisor (and the image store
// for the image slots) and answers with one reply envelope. Messages that are
// not client requests (no reply subject, or a reply into the JetStream API)
// are ignored.
//
// Thread-safe: handlers run concurrently on the work queue.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "config/daemon_config.h"
#include "daemon/describe.h"
#include "daemon/log_shipper.h"
#include "daemon/work_queue.h"
#include "image/puller.h"
#include "supervisor/supervisor.h"
#include "uri/uri.h"

namespace sp {

struct SlotDeps {
  const DaemonConfig& cfg;
  Bus& bus;
  Supervisor& supervisor;
  Host& host;
  ImageStore& images;
  ImagePuller& puller;
  LogShipper& shipper;
  Describer& describer;
};

class Slots {
 public:
  explicit Slots(SlotDeps deps);
  // Subscribes to every slot; requests are handed to `work`. PermissionDenied if the router refused
  // the subscriptions (the daemon's entity is not granted its base URI).
  Status Subscribe(WorkQueue& work, std::vector<std::unique_ptr<Subscription>>* subs);

  // One request: the reply payload for `msg` (on the slot `kind`, for `service` if a service slot).
  std::string Handle(const std::string& kind, const std::string& service, const BusMessage& msg);

 private:
  using Handler = std::string (Slots::*)(const std::string& service, const BusMessage& msg);
  struct Route {
    const char* kind;
    bool per_service;
    bool has_body;  // false: the request must be empty or {"v": N}, checked before the handler runs
    Handler handler;
  };
  static const Route kRoutes[];

  void Dispatch(const BusMessage& msg);  // a service slot: finds the service and the kind in the subject
  void Reply(const BusMessage& msg, const std::string& payload);

  std::string Deploy(const std::string& service, const BusMessage& msg);
  std::string Images(const std::string& service, const BusMessage& msg);
  std::string Pull(const std::string& service, const BusMessage& msg);
  std::string Prune(const std::string& service, const BusMessage& msg);
  std::string Restart(const std::string& service, const BusMessage& msg);
  std::string Stop(const std::string& service, const BusMessage& msg);
  std::string Inspect(const std::string& service, const BusMessage& msg);

  SlotDeps d_;
  const SpawnpointUris uris_;
  const std::string service_slot_prefix_;  // subject prefix of <base>/s.spawnpoint/
};

}  // namespace sp
