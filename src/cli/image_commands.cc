// spawnctl images / images pull / images prune, and the progress printer (see image_commands.h).
#include "cli/image_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "util/clock.h"

namespace sp::cli {
namespace {

constexpr Millis kProgressIdleTimeout{120000};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string ShortDigest(const std::string& d) {
  return d.rfind("sha256:", 0) == 0 && d.size() >= 19 ? d.substr(7, 12) : d;
}

int64_t Int(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number_integer() ? j[k].get<int64_t>() : 0;
}
std::string Str(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
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
  if (f.json) {
    PrintLine(r->dump(2));
    return 0;
  }
  PrintLine(Pad("REFERENCE", 44) + Pad("DIGEST", 14) + Pad("SIZE", 10) + Pad("ON DISK", 10) + Pad("PULLED", 22) +
            "USED BY");
  if (r->contains("images") && (*r)["images"].is_array()) {
    for (const auto& img : (*r)["images"]) {
      std::string used;
      if (img.contains("usedBy") && img["usedBy"].is_array()) {
        for (const auto& u : img["usedBy"]) {
          if (u.is_string()) used += (used.empty() ? "" : ",") + u.get<std::string>();
        }
      }
      PrintLine(Pad(Str(img, "reference"), 43) + " " + Pad(ShortDigest(Str(img, "digest")), 14) +
                Pad(FormatBytes(Int(img, "size")), 10) + Pad(FormatBytes(Int(img, "diskSize")), 10) +
                Pad(Str(img, "pulledAt"), 22) + (used.empty() ? "-" : used));
    }
  }
  PrintLine("total on disk: " + FormatBytes(Int(*r, "diskSize")));
  return 0;
}

int PullImage(Context& ctx, const ImagesFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "images pull");
  ProgressPrinter printer;
  auto r = session->client->Pull(session->uri, f.reference, kProgressIdleTimeout, printer.Handler());
  printer.Release();
  if (!r) return Fail(r.error(), "pull " + f.reference);
  if (f.json) {
    PrintLine(r->dump(2));
  } else {
    PrintLine("pulled " + Str(*r, "reference") + " (" + Str(*r, "digest") + ")");
  }
  return 0;
}

int PruneImages(Context& ctx, const ImagesFlags& f) {
  auto session = ctx.Open(f.uri);
  if (!session) return Fail(session.error(), "images prune");
  auto r = session->client->PruneImages(session->uri, kRequestTimeout);
  if (!r) return Fail(r.error(), "images prune");
  if (f.json) {
    PrintLine(r->dump(2));
    return 0;
  }
  if (r->contains("images") && (*r)["images"].is_array()) {
    for (const auto& ref : (*r)["images"]) {
      if (ref.is_string()) PrintLine("removed " + ref.get<std::string>());
    }
  }
  PrintLine("removed " + std::to_string(Int(*r, "blobs")) + " blobs and " + std::to_string(Int(*r, "layers")) +
            " layers, freed " + FormatBytes(Int(*r, "bytes")));
  return 0;
}

}  // namespace sp::cli
