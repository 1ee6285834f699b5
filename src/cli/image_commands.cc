// spawnctl images / images pull / images prune, and the progress printer (see image_commands.h).
#include "cli/image_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/format.h"
#include "protocol/image_messages.h"
#include "util/clock.h"

namespace sp::cli {
namespace {

constexpr Millis kProgressIdleTimeout{120000};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ProgressPrinter::ProgressPrinter() {
  bool terminal = ::isatty(STDOUT_FILENO) == 1;
  view_ = std::make_unique<ProgressView>(stdout, terminal);
}

Client::ProgressHandler ProgressPrinter::Handler() {
  return [this](const DeployProgress& p) { OnProgress(p); };
}

void ProgressPrinter::OnProgress(const DeployProgress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (released_) return;
  view_->Update(p, SteadyMs());
  shown_ = true;
}

void ProgressPrinter::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (released_) return;
  released_ = true;
  if (shown_) view_->Finish();
  std::fflush(stdout);
  for (const std::string& line : deferred_) PrintLine(line);
  deferred_.clear();
}

void ProgressPrinter::Defer(const std::string& line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!released_) {
      deferred_.push_back(line);
      return;
    }
  }
  PrintLine(line);
}

int Images(Context& ctx, const ImagesFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "images");
  auto r = session->client->Images(session->uri, kRequestTimeout);
  if (!r) return Fail(r.error(), "images");
  PrintLine(f.json ? protocol::ToJson(*r).dump(2) : ImagesText(*r));
  return 0;
}

int PullImage(Context& ctx, const ImagesFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "images pull");
  ProgressPrinter printer;
  auto r = session->client->Pull(session->uri, f.reference, kProgressIdleTimeout, printer.Handler());
  printer.Release();
  if (!r) return Fail(r.error(), "pull " + f.reference);
  PrintLine(f.json ? protocol::ToJson(*r).dump(2) : "pulled " + r->reference + " (" + r->digest + ")");
  return 0;
}

int PruneImages(Context& ctx, const ImagesFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "images prune");
  auto r = session->client->PruneImages(session->uri, kRequestTimeout);
  if (!r) return Fail(r.error(), "images prune");
  PrintLine(f.json ? protocol::ToJson(*r).dump(2) : PruneText(*r));
  return 0;
}

}  // namespace sp::cli
