// What `spawnctl deploy` and `spawnctl images pull` show while a daemon prepares a service: the
// DeployProgress snapshots it publishes (spawnpoint/progress.h), drawn for a person.
//
// On a terminal the view is a live block redrawn in place (ANSI cursor-up and clear-line): a header
// with the phase and image, one line per layer (short digest, bar, done/size, rate, state) and a
// total line (bytes, rate, layers finished). It is redrawn at most every 100 ms, at once when a
// phase or layer state changes. Anywhere else (a pipe, a log file, CI) the view prints one plain
// line per change of state and never per byte:
//   pulling 127.0.0.1:5000/web:1.0
//   4f4fb700ef54: downloading 1.2 MB
//   4f4fb700ef54: done (1.2 MB in 0.8 s, 1.5 MB/s)
//   a3ed95caeb02: already present
//   pulled 1 layer, 1.2 MB in 1.2 s (1.0 MB/s); 1 already present
//   starting: creating container
// A message that changes within a phase (git's progress while cloning) is redrawn on a terminal but
// not printed in plain mode, where only the message at the start of each phase appears.
// Sizes use SI units (1000-based: B, kB, MB, GB, TB), as docker does. Rates are measured on this
// side from successive snapshots over a window of about two seconds. Text from the daemon (image,
// message, digests) is shown with control characters replaced, so it cannot drive the terminal.
//
// Thread safety: a ProgressView is not thread-safe; call it from one thread at a time (or under the
// caller's lock). It writes to the FILE it is given, which it does not own or close. The free
// functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spawnpoint/progress.h"

namespace sp::cli {

// "0 B", "999 B", "1.0 kB", "12.3 MB", "123 MB", "1.5 GB". Negative counts show as "0 B".
std::string FormatBytes(int64_t bytes);
// FormatBytes of a rate, with "/s": "1.5 MB/s". A negative or non-finite rate shows as "0 B/s".
std::string FormatRate(double bytes_per_second);
// A bar exactly `width` characters wide (at least 3): "[=======>      ]". Full when done >= size;
// when size is unknown (<= 0) the bar is empty.
std::string RenderBar(int64_t done, int64_t size, int width);
// `text` cut to at most `width` characters (UTF-8 code points), ending in "..." when cut.
std::string FitWidth(std::string_view text, int width);

// The rate of a growing counter over a sliding window of time.
class RateMeter {
 public:
  explicit RateMeter(int64_t window_ms = 2000) : window_ms_(window_ms) {}
  // Records the counter's value at now_ms. A counter that goes down, or a clock that goes back,
  // starts the measurement afresh.
  void Add(int64_t now_ms, int64_t value);
  // Units per second between the oldest sample still in the window and the newest; 0 with fewer
  // than two samples or no time between them.
  double PerSecond() const;

 private:
  int64_t window_ms_;
  std::deque<std::pair<int64_t, int64_t>> samples_;  // (time, value), oldest first
};

class ProgressView {
 public:
  // `out` must outlive the view. `terminal` selects the live view; `width` is the terminal's
  // width in columns (lines are cut to it; at least 20 is used).
  ProgressView(std::FILE* out, bool terminal, int width = 80);

  // Shows a snapshot received at now_ms (a monotonic clock in milliseconds).
  void Update(const DeployProgress& p, int64_t now_ms);
  // Draws the last state if a redraw was held back, prints the pull summary if it is due and not
  // yet printed, and leaves the cursor at the start of a fresh line. Later calls do nothing.
  void Finish();

 private:
  struct LayerTrack {
    std::string state;        // as last seen ("" before the first snapshot with the layer)
    int64_t started_ms = -1;  // when it was first seen being fetched
    RateMeter rate;
  };
  struct Observed {
    std::vector<std::string> lines;  // plain-mode lines for what changed
    bool state_changed = false;      // phase, layer set or a layer's state changed
  };

  Observed Observe(const DeployProgress& p, int64_t now_ms);
  // Tracks one layer; true if its state changed (then a plain-mode line may be added to `lines`).
  bool ObserveLayer(const LayerProgress& l, int64_t now_ms, std::vector<std::string>& lines);
  std::string SummaryLine(const std::vector<LayerProgress>& layers, int64_t now_ms) const;
  bool SummaryDue() const;
  std::vector<std::string> Frame() const;
  std::string LayerLine(const LayerProgress& l) const;
  std::string TotalLine() const;
  void Draw(int64_t now_ms);
  void Write(const std::string& text);

  std::FILE* out_;
  bool terminal_;
  int width_;
  bool finished_ = false;

  bool have_last_ = false;
  DeployProgress last_;
  int64_t last_now_ms_ = 0;
  std::map<std::string, LayerTrack> tracks_;
  RateMeter total_rate_;
  int64_t pull_start_ms_ = -1;  // first snapshot of the pull (phase pulling, or layers shown)
  int64_t pull_end_ms_ = -1;    // first snapshot in which every layer was done or present
  bool summary_printed_ = false;

  int lines_drawn_ = 0;  // terminal: lines of the block on screen, the cursor just below them
  int64_t last_draw_ms_ = 0;
  bool pending_draw_ = false;  // terminal: an update was held back by the 100 ms limit
};

}  // namespace sp::cli
