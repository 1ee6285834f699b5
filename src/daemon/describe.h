// What the daemon says about a service or an image when asked (deploy,
// restart, inspect, images, pull): protocol messages assembled from the
// supervisor's view, the host's details, the store's events and the usage
// meter.
//
// Thread-safe (each piece it reads is).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "daemon/heartbeats.h"
#include "image/image_store.h"
#include "spawnpoint/messages.h"
#include "store/store.h"
#include "supervisor/supervisor.h"

namespace sp {

class Describer {
 public:
  Describer(std::string host_uri, Host& host, Store& store, UsageMeter& usage, ImageStore& images)
      : host_uri_(std::move(host_uri)), host_(host), store_(store), usage_(usage), images_(images) {}

  // `with_events`: the 20 most recent events too (inspect).
  ServiceDescription Describe(const ServiceView& v, bool with_events);
  // `users`: Host::ImageUsers().
  ImageDescription DescribeImage(const ImageRecord& rec, const std::map<std::string, std::vector<std::string>>& users);
  ImageList ListImages();

 private:
  const std::string host_uri_;
  Host& host_;
  Store& store_;
  UsageMeter& usage_;
  ImageStore& images_;
};

}  // namespace sp
