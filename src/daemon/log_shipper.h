// LogShipper: publishes what spawn-monitor writes to a service's log
// segments on the service's log subject, and remembers how far it got.
//
// Segments are <logDir>/NNNNNNNN.log in CRI format (monitor/cri_log.h). The
// shipper reads only whole records, joins the P(artial) chunks of a long
// line, publishes batches and then saves (segment, offset). A publish that
// fails stops the round without advancing, so the lines are sent later.
// After a daemon crash it resumes from the saved position, so no line is
// lost; a batch published just before the crash may be published again
// (at-least-once). New data is noticed through inotify; PollAll is the
// safety net.
//
// Thread safety: all methods may be called from any thread; an internal
// mutex serialises them. The publish and save callbacks run with that
// mutex held and must not call back into the shipper.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp {

// One line as shipped: the protocol's LogLine (time, stream stdout|stderr|spawnd, text); batches go
// out as protocol log messages (protocol/published.h).
using LogRecord = LogLine;

class LogShipper {
 public:
  using Publish = std::function<Status(const std::string& service, const std::string& payload)>;
  using SavePosition = std::function<void(const std::string& service, int64_t segment, int64_t offset)>;

  LogShipper(Publish publish, SavePosition save);
  ~LogShipper();

  // The inotify descriptor to poll for readability; then call HandleEvents.
  int fd() const { return inotify_fd_; }
  void HandleEvents();

  // Starts (or continues) shipping `name`'s log from (segment, offset).
  void Track(const std::string& name, const std::string& log_dir, int64_t segment, int64_t offset);
  // Ships what is left, then forgets the service.
  void Untrack(const std::string& name);
  void Poll(const std::string& name);
  void PollAll();

 private:
  struct Tracked {
    std::string dir;
    int64_t segment = 0;
    int64_t offset = 0;
    int wd = -1;
    std::string partial[2];  // P chunks of a long line not yet ended, per stream
  };
  void PollLocked(const std::string& name, Tracked& t);
  // Publishes the whole records of one segment from t.offset on. False if a
  // publish failed (t.offset then stays at the first unpublished record).
  bool ShipSegment(const std::string& name, Tracked& t, const std::string& path);

  Publish publish_;
  SavePosition save_;
  int inotify_fd_ = -1;
  std::mutex mu_;
  std::map<std::string, Tracked> tracked_;  // GUARDED_BY(mu_)
  std::map<int, std::string> by_wd_;        // GUARDED_BY(mu_)
};

}  // namespace sp
