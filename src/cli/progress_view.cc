// Drawing deploy progress snapshots: formatting helpers, the rate meter, and the live and plain
// views (see progress_view.h).
#include "cli/progress_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sp::cli {
namespace {

constexpr int64_t kRedrawIntervalMs = 100;
constexpr int kMinWidth = 20;
constexpr size_t kMaxLayerLines = 15;  // more would not fit a small terminal, and cursor-up stops at the top
// Columns of a layer line: digest, bar (what is left), amount, rate, state; two spaces between.
constexpr size_t kDigestColumn = 12;
constexpr size_t kAmountColumn = 17;  // "999.9 MB/999.9 MB"
constexpr size_t kRateColumn = 10;    // "999.9 MB/s"
constexpr size_t kStateColumn = 15;   // "already present"
constexpr int kMinBar = 10;

// Length of the UTF-8 sequence starting with `lead`, 0 if it cannot start one.
int SequenceLength(unsigned char lead) {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Valid UTF-8 without control characters (C0, DEL, C1): text from the daemon must not be able to
// move the cursor or change colours. Anything else becomes '?'.
std::string Sanitize(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    int n = SequenceLength(c);
    bool valid = n > 0 && i + n <= text.size();
    for (int k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
    if (!valid || c1) {
      out += '?';
      i += valid ? n : 1;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string ShortDigest(std::string_view digest) {
  if (digest.rfind("sha256:", 0) == 0) digest.remove_prefix(7);
  return Sanitize(digest.substr(0, kDigestColumn));
}

std::string PadLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
std::string PadRight(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(std::max<int64_t>(ms, 0)) / 1000.0);
  return buf;
}

std::string Plural(int64_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

bool Finished(const LayerProgress& l) { return l.state == "done" || l.state == "cached"; }
bool Fetching(const std::string& state) {
  return state == "downloading" || state == "verifying" || state == "unpacking";
}
// Bytes a finished layer accounts for: its size, or what was fetched when the size is unknown.
int64_t FinishedBytes(const LayerProgress& l) { return l.size > 0 ? l.size : l.done; }

// Bytes of the layers that were fetched (not those already present).
int64_t FetchedBytes(const std::vector<LayerProgress>& layers) {
  int64_t bytes = 0;
  for (const LayerProgress& l : layers) {
    if (l.state == "done") bytes += FinishedBytes(l);
  }
  return bytes;
}

// "pulling 127.0.0.1:5000/web:1.0", "building: step 2/5", "failed: <why>".
std::string HeaderText(const DeployProgress& p) {
  std::string text = Sanitize(p.phase.empty() ? "working" : p.phase);
  if (!p.image.empty() && (p.phase == "resolving" || p.phase == "pulling")) text += " " + Sanitize(p.image);
  if (!p.message.empty()) text += ": " + Sanitize(p.message);
  return text;
}

// "1.2 MB/4.5 MB", with "?" for an unknown size.
std::string Amount(int64_t done, int64_t size) {
  return FormatBytes(done) + "/" + (size > 0 ? FormatBytes(size) : "?");
}

int BarWidth(int width) {
  int fixed = static_cast<int>(kDigestColumn + kAmountColumn + kRateColumn + kStateColumn) + 2 * 4;
  return width - fixed;
}

// One row of the live view: label, optional bar, amount, rate and a last free-form column.
std::string Row(const std::string& label, const std::string& bar, const std::string& amount,
                const std::string& rate, const std::string& last) {
  std::string row = PadRight(label, kDigestColumn) + "  ";
  if (!bar.empty()) row += bar + "  ";
  return row + PadLeft(amount, kAmountColumn) + "  " + PadLeft(rate, kRateColumn) + "  " + last;
}

}  // namespace

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1000) return std::to_string(std::max<int64_t>(bytes, 0)) + " B";
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double value = static_cast<double>(bytes);
  char buf[32];
  for (size_t i = 0; i < std::size(kUnits); ++i) {
    value /= 1000.0;
    if (value < 99.95) {
      std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[i]);
      return buf;
    }
    if (value < 999.5 || i + 1 == std::size(kUnits)) {
      std::snprintf(buf, sizeof buf, "%.0f %s", value, kUnits[i]);
      return buf;
    }
  }
  return "?";  // not reached: the last unit takes any value
}

std::string FormatRate(double bytes_per_second) {
  if (!std::isfinite(bytes_per_second) || bytes_per_second < 0) bytes_per_second = 0;
  bytes_per_second = std::min(bytes_per_second, 9.0e18);
  return FormatBytes(std::llround(bytes_per_second)) + "/s";
}

std::string RenderBar(int64_t done, int64_t size, int width) {
  int inner = std::max(width, 3) - 2;
  std::string cells(static_cast<size_t>(inner), ' ');
  if (size > 0 && done > 0) {
    int filled = done >= size
                     ? inner
                     : static_cast<int>(static_cast<double>(done) / static_cast<double>(size) * inner);
    filled = std::clamp(filled, 0, inner);
    std::fill(cells.begin(), cells.begin() + filled, '=');
    if (filled < inner) cells[static_cast<size_t>(filled)] = '>';
  }
  return "[" + cells + "]";
}

std::string FitWidth(std::string_view text, int width) {
  width = std::max(width, 0);
  auto code_points = [](std::string_view s) {
    return std::count_if(s.begin(), s.end(),
                         [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; });
  };
  if (code_points(text) <= width) return std::string(text);
  int keep = width >= 3 ? width - 3 : width;
  size_t end = 0;
  for (int seen = 0; end < text.size(); ++end) {
    bool starts = (static_cast<unsigned char>(text[end]) & 0xc0) != 0x80;
    if (starts && seen++ == keep) break;
  }
  return std::string(text.substr(0, end)) + (width >= 3 ? "..." : "");
}

void RateMeter::Add(int64_t now_ms, int64_t value) {
  if (!samples_.empty() && (value < samples_.back().second || now_ms < samples_.back().first))
    samples_.clear();
  if (!samples_.empty() && samples_.back().first == now_ms) {
    samples_.back().second = value;
  } else {
    samples_.emplace_back(now_ms, value);
  }
  // Keep one sample at or before the window's start, so the rate spans the whole window.
  while (samples_.size() >= 2 && samples_[1].first <= now_ms - window_ms_) samples_.pop_front();
}

double RateMeter::PerSecond() const {
  if (samples_.size() < 2) return 0;
  int64_t ms = samples_.back().first - samples_.front().first;
  if (ms <= 0) return 0;
  return static_cast<double>(samples_.back().second - samples_.front().second) * 1000.0 /
         static_cast<double>(ms);
}

ProgressView::ProgressView(std::FILE* out, bool terminal, int width)
    : out_(out), terminal_(terminal), width_(std::max(width, kMinWidth)) {}

void ProgressView::Update(const DeployProgress& p, int64_t now_ms) {
  if (finished_) return;
  Observed seen = Observe(p, now_ms);
  last_ = p;
  have_last_ = true;
  last_now_ms_ = now_ms;
  if (!terminal_) {
    for (const std::string& line : seen.lines) Write(line + "\n");
    return;
  }
  if (seen.state_changed || now_ms - last_draw_ms_ >= kRedrawIntervalMs) {
    Draw(now_ms);
  } else {
    pending_draw_ = true;
  }
}

void ProgressView::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!terminal_) {
    if (SummaryDue()) Write(SummaryLine(last_.layers, last_now_ms_) + "\n");
    return;
  }
  if (pending_draw_) Draw(last_now_ms_);
}

ProgressView::Observed ProgressView::Observe(const DeployProgress& p, int64_t now_ms) {
  Observed seen;
  if (pull_start_ms_ < 0 && (p.phase == "pulling" || !p.layers.empty())) pull_start_ms_ = now_ms;
  size_t known = tracks_.size();
  int64_t fetched = 0;
  std::vector<std::string> layer_lines;
  for (const LayerProgress& l : p.layers) {
    if (ObserveLayer(l, now_ms, layer_lines)) seen.state_changed = true;
    if (l.state != "cached") fetched += l.done;
  }
  if (!p.layers.empty()) total_rate_.Add(now_ms, fetched);
  if (tracks_.size() != known) seen.state_changed = true;
  bool all_finished = !p.layers.empty() && std::all_of(p.layers.begin(), p.layers.end(), Finished);
  if (all_finished && pull_end_ms_ < 0) pull_end_ms_ = now_ms;

  std::string previous = have_last_ ? last_.phase : std::string();
  bool new_phase = !have_last_ || p.phase != previous;
  if (!new_phase) {
    seen.lines = std::move(layer_lines);
    return seen;
  }
  seen.state_changed = true;
  if (previous == "pulling" && p.phase != "failed" && !summary_printed_ && !p.layers.empty()) {
    // Leaving the pull: what finished it, then its summary, then the next phase.
    summary_printed_ = true;
    seen.lines = std::move(layer_lines);
    seen.lines.push_back(SummaryLine(p.layers, now_ms));
    seen.lines.push_back(HeaderText(p));
    return seen;
  }
  seen.lines.push_back(HeaderText(p));
  seen.lines.insert(seen.lines.end(), layer_lines.begin(), layer_lines.end());
  return seen;
}

bool ProgressView::ObserveLayer(const LayerProgress& l, int64_t now_ms, std::vector<std::string>& lines) {
  LayerTrack& track = tracks_[l.digest];
  track.rate.Add(now_ms, l.done);
  if (l.state == track.state) return false;
  track.state = l.state;
  if (Fetching(l.state) && track.started_ms < 0) track.started_ms = now_ms;
  std::string digest = ShortDigest(l.digest);
  if (l.state == "downloading") {
    lines.push_back(digest + ": downloading " + (l.size > 0 ? FormatBytes(l.size) : "(size unknown)"));
  } else if (l.state == "done") {
    // A layer never seen being fetched (snapshots missed) is timed from the start of the pull.
    if (track.started_ms < 0) track.started_ms = pull_start_ms_ >= 0 ? pull_start_ms_ : now_ms;
    int64_t bytes = FinishedBytes(l);
    int64_t ms = now_ms - track.started_ms;
    std::string line = digest + ": done (" + FormatBytes(bytes) + " in " + Seconds(ms);
    if (ms > 0) line += ", " + FormatRate(static_cast<double>(bytes) * 1000.0 / static_cast<double>(ms));
    lines.push_back(line + ")");
  } else if (l.state == "cached") {
    lines.push_back(digest + ": already present");
  } else if (l.state == "failed") {
    lines.push_back(digest + ": failed");
  }
  return true;
}

bool ProgressView::SummaryDue() const {
  if (summary_printed_ || !have_last_ || last_.phase != "pulling" || last_.layers.empty()) return false;
  return std::all_of(last_.layers.begin(), last_.layers.end(), Finished);
}

// "pulled 3 layers, 4.1 MB in 1.2 s (3.4 MB/s)", "; 2 already present" when some were cached.
std::string ProgressView::SummaryLine(const std::vector<LayerProgress>& layers, int64_t now_ms) const {
  int64_t pulled =
      std::count_if(layers.begin(), layers.end(), [](const auto& l) { return l.state == "done"; });
  int64_t cached =
      std::count_if(layers.begin(), layers.end(), [](const auto& l) { return l.state == "cached"; });
  int64_t bytes = FetchedBytes(layers);
  if (pulled == 0) return "nothing to pull: " + Plural(cached, "layer") + " already present";
  int64_t ms = (pull_end_ms_ >= 0 ? pull_end_ms_ : now_ms) - std::max<int64_t>(pull_start_ms_, 0);
  std::string line = "pulled " + Plural(pulled, "layer") + ", " + FormatBytes(bytes) + " in " + Seconds(ms);
  if (ms > 0) line += " (" + FormatRate(static_cast<double>(bytes) * 1000.0 / static_cast<double>(ms)) + ")";
  if (cached > 0) line += "; " + std::to_string(cached) + " already present";
  return line;
}

std::string ProgressView::LayerLine(const LayerProgress& l) const {
  auto it = tracks_.find(l.digest);
  int bar_width = BarWidth(width_);
  bool finished = Finished(l);
  int64_t done = finished ? FinishedBytes(l) : l.done;
  std::string bar;
  if (bar_width >= kMinBar)
    bar = finished ? RenderBar(1, 1, bar_width) : RenderBar(l.done, l.size, bar_width);
  std::string amount;
  if (l.state == "cached") {
    amount = l.size > 0 ? FormatBytes(l.size) : "";
  } else {
    amount = Amount(done, finished && l.size <= 0 ? done : l.size);
  }
  std::string rate = l.state == "downloading" && it != tracks_.end() ? FormatRate(it->second.rate.PerSecond())
                                                                     : std::string();
  std::string state = l.state == "cached" ? "already present" : Sanitize(l.state);
  return Row(ShortDigest(l.digest), bar, amount, rate, state);
}

std::string ProgressView::TotalLine() const {
  int64_t done = 0, size = 0, finished = 0;
  bool size_known = true;
  for (const LayerProgress& l : last_.layers) {
    bool fin = Finished(l);
    finished += fin ? 1 : 0;
    done += fin ? FinishedBytes(l) : l.done;
    size += l.size;
    size_known = size_known && l.size > 0;
  }
  int bar_width = BarWidth(width_);
  std::string bar;
  if (bar_width >= kMinBar) bar = size_known ? RenderBar(done, size, bar_width) : RenderBar(0, 0, bar_width);
  std::string layers =
      std::to_string(finished) + "/" + Plural(static_cast<int64_t>(last_.layers.size()), "layer");
  // Once every layer is in, the rate shown is the average over the whole pull.
  double rate = total_rate_.PerSecond();
  if (pull_end_ms_ >= 0 && finished == static_cast<int64_t>(last_.layers.size())) {
    int64_t ms = pull_end_ms_ - std::max<int64_t>(pull_start_ms_, 0);
    rate = ms > 0 ? static_cast<double>(FetchedBytes(last_.layers)) * 1000.0 / static_cast<double>(ms) : 0;
  }
  return Row("total", bar, Amount(done, size_known ? size : 0), FormatRate(rate), layers);
}

// The live block: header, layer lines (unfinished ones first when there are too many), total.
std::vector<std::string> ProgressView::Frame() const {
  std::vector<std::string> lines = {HeaderText(last_)};
  const std::vector<LayerProgress>& layers = last_.layers;
  std::vector<const LayerProgress*> shown;
  for (const LayerProgress& l : layers) {
    if (shown.size() < kMaxLayerLines && (layers.size() <= kMaxLayerLines || !Finished(l)))
      shown.push_back(&l);
  }
  if (layers.size() > kMaxLayerLines) {
    for (const LayerProgress& l : layers) {
      if (shown.size() < kMaxLayerLines && Finished(l)) shown.push_back(&l);
    }
  }
  for (const LayerProgress* l : shown) lines.push_back(LayerLine(*l));
  if (layers.size() > shown.size())
    lines.push_back("... " + Plural(layers.size() - shown.size(), "more layer"));
  if (!layers.empty()) lines.push_back(TotalLine());
  for (std::string& line : lines) line = FitWidth(line, width_);
  return lines;
}

void ProgressView::Draw(int64_t now_ms) {
  std::vector<std::string> lines = Frame();
  std::string text;
  if (lines_drawn_ > 0) text += "\x1b[" + std::to_string(lines_drawn_) + "A";
  for (const std::string& line : lines) text += "\x1b[2K" + line + "\n";
  // A shorter frame clears what is left of the longer one, and keeps its height.
  for (int i = static_cast<int>(lines.size()); i < lines_drawn_; ++i) text += "\x1b[2K\n";
  lines_drawn_ = std::max(lines_drawn_, static_cast<int>(lines.size()));
  Write(text);
  last_draw_ms_ = now_ms;
  pending_draw_ = false;
}

void ProgressView::Write(const std::string& text) {
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace sp::cli
