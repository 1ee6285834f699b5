// spawnctl's image commands: `images` (list a host's local images), `images pull REF` (pull into
// the host's store, with progress) and `images prune` (remove what no service uses). Also the
// progress display shared with `deploy`.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/progress_view.h"
#include "spawnpoint/client.h"

namespace sp::cli {

struct ImagesFlags {
  std::string uri;
  std::string reference;  // for pull
  bool json = false;
};

int Images(Context& ctx, const ImagesFlags& f);
int PullImage(Context& ctx, const ImagesFlags& f);
int PruneImages(Context& ctx, const ImagesFlags& f);

// Shows a daemon's progress snapshots on stdout (a live view on a terminal, plain lines
// otherwise) until Release: then it stops drawing, so other output (the service's log) can follow.
// Thread-safe: snapshots arrive on a library thread.
class ProgressPrinter {
 public:
  ProgressPrinter();
  Client::ProgressHandler Handler();
  // Stops the live view, leaving its last state on screen, then prints what Defer held. Idempotent.
  void Release();
  // Prints `line` now if the view is released, else once it is (so it does not tear the view).
  void Defer(const std::string& line);

 private:
  void OnProgress(const DeployProgress& p);
  std::mutex mu_;
  std::unique_ptr<ProgressView> view_;  // GUARDED_BY(mu_)
  bool shown_ = false;                  // GUARDED_BY(mu_): something was drawn
  bool released_ = false;               // GUARDED_BY(mu_)
  std::vector<std::string> deferred_;   // GUARDED_BY(mu_)
};

}  // namespace sp::cli
