// Tests for the deploy progress display: the formatting helpers, the rate meter, and ProgressView
// fed with sequences of snapshots at synthetic times, writing into a memory FILE.
#include "cli/progress_view.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace sp::cli {
namespace {

constexpr const char* kImage = "127.0.0.1:5000/web:1.0";

// A memory FILE the view writes into.
class MemoryFile {
 public:
  MemoryFile() : file_(open_memstream(&buf_, &len_)) {}
  ~MemoryFile() {
    std::fclose(file_);
    std::free(buf_);
  }
  std::FILE* get() { return file_; }
  std::string Text() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* file_;
};

// "sha256:" + 64 copies of `c`.
std::string Digest(char c) { return "sha256:" + std::string(64, c); }

LayerProgress Layer(char c, int64_t size, int64_t done, const std::string& state) {
  return LayerProgress{Digest(c), "layer", size, done, state};
}

DeployProgress Snap(const std::string& phase, std::vector<LayerProgress> layers = {},
                    const std::string& message = "") {
  DeployProgress p;
  p.service = "web";
  p.phase = phase;
  p.image = kImage;
  p.message = message;
  p.layers = std::move(layers);
  return p;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Splits terminal output into frames: each starts with the cursor-up of a redraw (or at the start).
struct Frame {
  int cursor_up = 0;               // the n of "\x1b[<n>A" that opened it, 0 for the first
  std::vector<std::string> lines;  // each line's text, without "\x1b[2K" and '\n'
};

std::vector<Frame> Frames(const std::string& text) {
  std::vector<Frame> frames;
  size_t i = 0;
  while (i < text.size()) {
    Frame f;
    if (text.compare(i, 2, "\x1b[") == 0 && text.find('A', i) < text.find("\x1b[2K", i)) {
      size_t a = text.find('A', i);
      f.cursor_up = std::stoi(text.substr(i + 2, a - i - 2));
      i = a + 1;
    }
    while (i < text.size() && text.compare(i, 4, "\x1b[2K") == 0) {
      size_t end = text.find('\n', i);
      EXPECT_NE(end, std::string::npos) << "a drawn line does not end in a newline";
      if (end == std::string::npos) end = text.size();
      f.lines.push_back(text.substr(i + 4, end - i - 4));
      i = end + 1;
    }
    EXPECT_FALSE(f.lines.empty()) << "unexpected output at " << i << ": " << text.substr(i, 40);
    if (f.lines.empty()) break;
    frames.push_back(std::move(f));
  }
  return frames;
}

// ---- helpers --------------------------------------------------------------------------------

TEST(FormatBytes, UsesSiUnitsWithOneDecimalBelowHundred) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(-5), "0 B");
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1000), "1.0 kB");
  EXPECT_EQ(FormatBytes(1234), "1.2 kB");
  EXPECT_EQ(FormatBytes(12'345), "12.3 kB");
  EXPECT_EQ(FormatBytes(123'456), "123 kB");
  EXPECT_EQ(FormatBytes(999'400), "999 kB");
  EXPECT_EQ(FormatBytes(999'600), "1.0 MB");  // rounds up into the next unit, never "1000 kB"
  EXPECT_EQ(FormatBytes(1'200'000), "1.2 MB");
  EXPECT_EQ(FormatBytes(4'100'000'000), "4.1 GB");
  EXPECT_EQ(FormatBytes(2'500'000'000'000), "2.5 TB");
  EXPECT_EQ(FormatBytes(INT64_MAX), "9.2 EB");
}

TEST(FormatRate, FormatsBytesPerSecondAndSurvivesNonsense) {
  EXPECT_EQ(FormatRate(1.5e6), "1.5 MB/s");
  EXPECT_EQ(FormatRate(0), "0 B/s");
  EXPECT_EQ(FormatRate(-3), "0 B/s");
  EXPECT_EQ(FormatRate(1.0 / 0.0), "0 B/s");
  EXPECT_EQ(FormatRate(0.0 / 0.0), "0 B/s");
  EXPECT_EQ(FormatRate(1e30), "9.0 EB/s");
}

TEST(RenderBar, FillsInProportionAndHandlesUnknownSizes) {
  EXPECT_EQ(RenderBar(0, 100, 12), "[          ]");
  EXPECT_EQ(RenderBar(1, 100, 12), "[>         ]");
  EXPECT_EQ(RenderBar(50, 100, 12), "[=====>    ]");
  EXPECT_EQ(RenderBar(99, 100, 12), "[=========>]");
  EXPECT_EQ(RenderBar(100, 100, 12), "[==========]");
  EXPECT_EQ(RenderBar(500, 100, 12), "[==========]");  // more than announced: full, not past the end
  EXPECT_EQ(RenderBar(50, 0, 12), "[          ]");     // unknown size: no division, empty bar
  EXPECT_EQ(RenderBar(-1, -1, 12), "[          ]");
  EXPECT_EQ(RenderBar(1, 2, 1), "[>]");  // at least 3 wide
}

TEST(FitWidth, CutsByCharactersAndMarksTheCut) {
  EXPECT_EQ(FitWidth("short", 10), "short");
  EXPECT_EQ(FitWidth("exactly10!", 10), "exactly10!");
  EXPECT_EQ(FitWidth("this is too long", 10), "this is...");
  EXPECT_EQ(FitWidth("h\xc3\xa9llo w\xc3\xb6rld", 8), "h\xc3\xa9llo...");  // UTF-8 not split
  EXPECT_EQ(FitWidth("abcdef", 2), "ab");
  EXPECT_EQ(FitWidth("abcdef", -1), "");
}

TEST(RateMeter, MeasuresOverTheWindow) {
  RateMeter m(2000);
  EXPECT_EQ(m.PerSecond(), 0);
  m.Add(0, 0);
  EXPECT_EQ(m.PerSecond(), 0);  // one sample: no rate
  m.Add(1000, 1'000'000);
  EXPECT_DOUBLE_EQ(m.PerSecond(), 1e6);
  m.Add(2000, 2'000'000);
  EXPECT_DOUBLE_EQ(m.PerSecond(), 1e6);
  m.Add(3000, 5'000'000);
  // The window keeps the sample at its start (t=1000): (5 MB - 1 MB) / 2 s.
  EXPECT_DOUBLE_EQ(m.PerSecond(), 2e6);
  m.Add(3000, 6'000'000);  // same instant: the newer value replaces it, no division by zero
  EXPECT_DOUBLE_EQ(m.PerSecond(), 2.5e6);
  m.Add(4000, 6'000'000);  // stalled: the rate falls
  EXPECT_DOUBLE_EQ(m.PerSecond(), 2e6);
  m.Add(5000, 100);  // the counter restarted
  EXPECT_EQ(m.PerSecond(), 0);
  m.Add(5500, 600);
  EXPECT_DOUBLE_EQ(m.PerSecond(), 1000);
  m.Add(5400, 700);  // clock went back
  EXPECT_EQ(m.PerSecond(), 0);
}

TEST(RateMeter, SnapshotsAtTheSameTimeGiveZeroNotInfinity) {
  RateMeter m;
  m.Add(10, 0);
  m.Add(10, 500);
  EXPECT_EQ(m.PerSecond(), 0);
}

// ---- plain mode -------------------------------------------------------------------------------

TEST(ProgressViewPlain, PrintsOneLinePerChangeOfState) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/false);
  view.Update(Snap("resolving"), 0);
  view.Update(Snap("pulling", {Layer('a', 1'200'000, 0, "waiting"), Layer('b', 2'900'000, 0, "waiting"),
                               Layer('c', 500'000, 0, "cached")}),
              100);
  view.Update(Snap("pulling", {Layer('a', 1'200'000, 0, "downloading"), Layer('b', 2'900'000, 0, "waiting"),
                               Layer('c', 500'000, 0, "cached")}),
              200);
  for (int t = 250; t < 1000; t += 50) {
    view.Update(Snap("pulling", {Layer('a', 1'200'000, t * 1000, "downloading"),
                                 Layer('b', 2'900'000, 0, "waiting"), Layer('c', 500'000, 0, "cached")}),
                t);
  }
  view.Update(Snap("pulling", {Layer('a', 1'200'000, 1'200'000, "done"),
                               Layer('b', 2'900'000, 0, "downloading"), Layer('c', 500'000, 0, "cached")}),
              1000);
  view.Update(
      Snap("pulling", {Layer('a', 1'200'000, 1'200'000, "done"),
                       Layer('b', 2'900'000, 2'900'000, "unpacking"), Layer('c', 500'000, 0, "cached")}),
      2200);
  view.Update(Snap("pulling", {Layer('a', 1'200'000, 1'200'000, "done"),
                               Layer('b', 2'900'000, 2'900'000, "done"), Layer('c', 500'000, 0, "cached")}),
              2300);
  auto all_done = {Layer('a', 1'200'000, 1'200'000, "done"), Layer('b', 2'900'000, 2'900'000, "done"),
                   Layer('c', 500'000, 0, "cached")};
  view.Update(Snap("starting", all_done, "creating container"), 2400);
  view.Update(Snap("starting", all_done, "starting process"), 2500);
  view.Update(Snap("done", all_done, "running"), 3000);
  view.Finish();
  view.Finish();
  EXPECT_EQ(out.Text(),
            "resolving 127.0.0.1:5000/web:1.0\n"
            "pulling 127.0.0.1:5000/web:1.0\n"
            "cccccccccccc: already present\n"
            "aaaaaaaaaaaa: downloading 1.2 MB\n"
            "aaaaaaaaaaaa: done (1.2 MB in 0.8 s, 1.5 MB/s)\n"
            "bbbbbbbbbbbb: downloading 2.9 MB\n"
            "bbbbbbbbbbbb: done (2.9 MB in 1.3 s, 2.2 MB/s)\n"
            "pulled 2 layers, 4.1 MB in 2.2 s (1.9 MB/s); 1 already present\n"
            "starting: creating container\n"
            "done: running\n");
}

TEST(ProgressViewPlain, NeverWritesEscapesEvenWhenTheDaemonSendsThem) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/false);
  view.Update(Snap("cloning", {},
                   "git+https://example.com/x \x1b[2J\x1b]0;title\x07 \xc2\x9b"
                   "31m"),
              0);
  view.Update(Snap("building\x1b[1A", {LayerProgress{"sha256:\x1b[2Kxyz", "layer", 10, 0, "downloading"}}),
              10);
  std::string text = out.Text();
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << text;  // C1 CSI
  EXPECT_EQ(Lines(text).size(), 3u) << text;
}

TEST(ProgressViewPlain, FinishPrintsTheSummaryOfAPullThatEndedWithoutAPhaseChange) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/false);
  view.Update(Snap("pulling", {Layer('a', 2000, 0, "downloading")}), 1000);
  view.Update(Snap("pulling", {Layer('a', 2000, 2000, "done")}), 3000);
  view.Finish();
  EXPECT_EQ(out.Text(),
            "pulling 127.0.0.1:5000/web:1.0\n"
            "aaaaaaaaaaaa: downloading 2.0 kB\n"
            "aaaaaaaaaaaa: done (2.0 kB in 2.0 s, 1.0 kB/s)\n"
            "pulled 1 layer, 2.0 kB in 2.0 s (1.0 kB/s)\n");
}

TEST(ProgressViewPlain, EverythingCachedAndFailures) {
  MemoryFile cached_out;
  ProgressView cached(cached_out.get(), /*terminal=*/false);
  cached.Update(Snap("pulling", {Layer('a', 10, 0, "cached"), Layer('b', 10, 0, "cached")}), 0);
  cached.Update(Snap("starting", {Layer('a', 10, 0, "cached"), Layer('b', 10, 0, "cached")}), 5);
  cached.Finish();
  EXPECT_EQ(cached_out.Text(),
            "pulling 127.0.0.1:5000/web:1.0\n"
            "aaaaaaaaaaaa: already present\n"
            "bbbbbbbbbbbb: already present\n"
            "nothing to pull: 2 layers already present\n"
            "starting\n");

  MemoryFile failed_out;
  ProgressView failed(failed_out.get(), /*terminal=*/false);
  failed.Update(Snap("pulling", {Layer('a', 10, 3, "downloading")}), 0);
  failed.Update(Snap("pulling", {Layer('a', 10, 3, "failed")}), 5);
  failed.Update(Snap("failed", {Layer('a', 10, 3, "failed")}, "blob sha256:aaa: connection reset"), 6);
  failed.Finish();
  EXPECT_EQ(failed_out.Text(),
            "pulling 127.0.0.1:5000/web:1.0\n"
            "aaaaaaaaaaaa: downloading 10 B\n"
            "aaaaaaaaaaaa: failed\n"
            "failed: blob sha256:aaa: connection reset\n");
}

TEST(ProgressViewPlain, UnknownSizesDoNotDivideByZero) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/false);
  view.Update(Snap("pulling", {Layer('a', 0, 0, "downloading")}), 100);
  view.Update(Snap("pulling", {Layer('a', 0, 300, "downloading")}), 100);
  view.Update(Snap("pulling", {Layer('a', 0, 300, "done")}), 100);  // no time passed at all
  view.Finish();
  EXPECT_EQ(out.Text(),
            "pulling 127.0.0.1:5000/web:1.0\n"
            "aaaaaaaaaaaa: downloading (size unknown)\n"
            "aaaaaaaaaaaa: done (300 B in 0.0 s)\n"
            "pulled 1 layer, 300 B in 0.0 s\n");
}

// ---- terminal mode ----------------------------------------------------------------------------

TEST(ProgressViewTerminal, RedrawsInPlaceMovingUpByTheLinesDrawn) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  view.Update(Snap("resolving"), 0);
  view.Update(Snap("pulling", {Layer('a', 1'000'000, 0, "downloading"), Layer('b', 2'000'000, 0, "waiting")}),
              200);
  view.Update(
      Snap("pulling", {Layer('a', 1'000'000, 500'000, "downloading"), Layer('b', 2'000'000, 0, "waiting")}),
      700);
  view.Update(
      Snap("starting", {Layer('a', 1'000'000, 1'000'000, "done"), Layer('b', 2'000'000, 0, "cached")}), 900);
  view.Finish();
  std::string text = out.Text();
  std::vector<Frame> frames = Frames(text);
  ASSERT_EQ(frames.size(), 4u) << text;
  EXPECT_EQ(frames[0].cursor_up, 0);
  ASSERT_EQ(frames[0].lines.size(), 1u);
  EXPECT_EQ(frames[0].lines[0], "resolving 127.0.0.1:5000/web:1.0");
  EXPECT_EQ(frames[1].cursor_up, 1);
  ASSERT_EQ(frames[1].lines.size(), 4u);  // header, two layers, total
  EXPECT_EQ(frames[2].cursor_up, 4);
  EXPECT_EQ(frames[3].cursor_up, 4);
  EXPECT_EQ(frames[1].lines[0], "pulling 127.0.0.1:5000/web:1.0");
  EXPECT_EQ(frames[2].lines[1],
            "aaaaaaaaaaaa  [========>       ]      500 kB/1.0 MB    1.0 MB/s  downloading");
  EXPECT_EQ(frames[2].lines[2], "bbbbbbbbbbbb  [                ]         0 B/2.0 MB              waiting");
  EXPECT_EQ(frames[2].lines[3],
            "total         [==>             ]      500 kB/3.0 MB    1.0 MB/s  0/2 layers");
  EXPECT_EQ(frames[3].lines[0], "starting");
  EXPECT_EQ(frames[3].lines[1], "aaaaaaaaaaaa  [================]      1.0 MB/1.0 MB              done");
  EXPECT_EQ(frames[3].lines[2],
            "bbbbbbbbbbbb  [================]             2.0 MB              already present");
  // Once every layer is in, the total shows the pull's average: 1 MB fetched from 200 ms to 900 ms.
  EXPECT_EQ(frames[3].lines[3],
            "total         [================]      3.0 MB/3.0 MB    1.4 MB/s  2/2 layers");
  EXPECT_EQ(text.back(), '\n');  // Finish leaves the cursor on a fresh line
}

TEST(ProgressViewTerminal, RedrawsAtMostEveryHundredMillisecondsExceptOnStateChanges) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  view.Update(Snap("pulling", {Layer('a', 1000, 0, "downloading")}), 0);
  view.Update(Snap("pulling", {Layer('a', 1000, 100, "downloading")}), 30);  // held back
  view.Update(Snap("pulling", {Layer('a', 1000, 200, "downloading")}), 60);  // held back
  EXPECT_EQ(Frames(out.Text()).size(), 1u);
  view.Update(Snap("pulling", {Layer('a', 1000, 300, "downloading")}), 100);  // 100 ms since the last draw
  EXPECT_EQ(Frames(out.Text()).size(), 2u);
  view.Update(Snap("pulling", {Layer('a', 1000, 1000, "verifying")}), 110);  // state change: at once
  EXPECT_EQ(Frames(out.Text()).size(), 3u);
  view.Update(Snap("pulling", {Layer('a', 1000, 1000, "verifying")}, "checking"), 150);  // held back
  EXPECT_EQ(Frames(out.Text()).size(), 3u);
  view.Finish();  // draws what was held back
  std::vector<Frame> frames = Frames(out.Text());
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[3].lines[0], "pulling 127.0.0.1:5000/web:1.0: checking");
  view.Update(Snap("done"), 1000);  // after Finish: ignored
  view.Finish();
  EXPECT_EQ(Frames(out.Text()).size(), 4u);
}

TEST(ProgressViewTerminal, FinishWithNothingHeldBackAddsNothing) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  view.Update(Snap("pulling", {Layer('a', 1000, 1000, "done")}), 0);
  std::string before = out.Text();
  view.Finish();
  EXPECT_EQ(out.Text(), before);
  EXPECT_EQ(before.back(), '\n');
}

TEST(ProgressViewTerminal, LayerRateComesFromSuccessiveSnapshots) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  for (int i = 0; i <= 6; ++i) {  // 2.5 MB/s, one snapshot every 500 ms
    view.Update(Snap("pulling", {Layer('a', 100'000'000, i * 1'250'000, "downloading")}), i * 500);
  }
  std::vector<Frame> frames = Frames(out.Text());
  ASSERT_EQ(frames.size(), 7u);
  EXPECT_NE(frames.back().lines[1].find("  2.5 MB/s  downloading"), std::string::npos)
      << frames.back().lines[1];
  EXPECT_NE(frames.front().lines[1].find("  0 B/s  downloading"), std::string::npos)
      << frames.front().lines[1];
}

TEST(ProgressViewTerminal, UnknownSizesShowAQuestionMarkAndNoNonsense) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  view.Update(Snap("pulling", {Layer('a', 0, 0, "downloading")}), 5);
  view.Update(Snap("pulling", {Layer('a', 0, 0, "downloading")}), 5);  // same instant: held back
  view.Update(Snap("pulling", {Layer('a', 0, 4000, "downloading")}), 200);
  view.Update(Snap("pulling", {Layer('a', 0, 4000, "done")}), 200);
  view.Finish();
  std::string text = out.Text();
  for (const char* bad : {"inf", "nan", "-"})
    EXPECT_EQ(text.find(bad), std::string::npos) << bad << " in " << text;
  std::vector<Frame> frames = Frames(text);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_NE(frames[0].lines[1].find("0 B/?"), std::string::npos) << frames[0].lines[1];
  EXPECT_NE(frames[2].lines[1].find("4.0 kB/4.0 kB"), std::string::npos) << frames[2].lines[1];
  EXPECT_NE(frames[2].lines[2].find("4.0 kB/?"), std::string::npos) << frames[2].lines[2];
}

TEST(ProgressViewTerminal, LongTextIsCutToTheWidth) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 60);
  DeployProgress p = Snap("pulling", {Layer('a', 1000, 10, "downloading")});
  p.image = "registry.example.com:5000/" + std::string(300, 'x') + ":1.0";
  view.Update(p, 0);
  std::vector<Frame> frames = Frames(out.Text());
  ASSERT_EQ(frames.size(), 1u);
  for (const std::string& line : frames[0].lines) EXPECT_LE(line.size(), 60u) << line;
  EXPECT_EQ(frames[0].lines[0], FitWidth("pulling " + p.image, 60));
  EXPECT_EQ(frames[0].lines[0].substr(57), "...");

  MemoryFile narrow_out;
  ProgressView narrow(narrow_out.get(), /*terminal=*/true, 5);  // below the minimum of 20
  narrow.Update(p, 0);
  std::vector<Frame> narrow_frames = Frames(narrow_out.Text());
  ASSERT_EQ(narrow_frames.size(), 1u);
  for (const std::string& line : narrow_frames[0].lines) EXPECT_EQ(line.size(), 20u) << line;
}

TEST(ProgressViewTerminal, ManyLayersShowUnfinishedOnesAndACount) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  std::vector<LayerProgress> layers;
  for (int i = 0; i < 20; ++i)
    layers.push_back(Layer('a' + i, 100, i < 10 ? 100 : 0, i < 10 ? "done" : "waiting"));
  view.Update(Snap("pulling", layers), 0);
  std::vector<Frame> frames = Frames(out.Text());
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].lines.size(), 18u);  // header, 15 layers, "... 5 more layers", total
  EXPECT_EQ(frames[0].lines[1].substr(0, 12), std::string(12, 'k'));  // the first unfinished layer leads
  EXPECT_EQ(frames[0].lines[16], "... 5 more layers");
  EXPECT_NE(frames[0].lines[17].find("10/20 layers"), std::string::npos) << frames[0].lines[17];
}

TEST(ProgressViewTerminal, ControlCharactersFromTheDaemonAreNeutralised) {
  MemoryFile out;
  ProgressView view(out.get(), /*terminal=*/true, 80);
  view.Update(Snap("cloning", {}, "evil \x1b[2J\x1b[1A\r"), 0);
  std::vector<Frame> frames = Frames(out.Text());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].lines[0], "cloning: evil ?[2J?[1A?");
}

}  // namespace
}  // namespace sp::cli
