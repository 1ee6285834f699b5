// Line splitting with a maximum line length.
#include "monitor/line_splitter.h"

#include <algorithm>

namespace sp {

void LineSplitter::Feed(std::string_view data, const Emit& emit) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    size_t room = max_line_ - pending_.size();
    if (nl != std::string_view::npos && nl <= room) {
      if (pending_.empty()) {
        emit(data.substr(0, nl), false);
      } else {
        pending_.append(data.substr(0, nl));
        emit(pending_, false);
        pending_.clear();
      }
      data.remove_prefix(nl + 1);
      continue;
    }
    size_t take = std::min(room, data.size());
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (pending_.size() == max_line_) {
      emit(pending_, true);
      pending_.clear();
    }
  }
}

void LineSplitter::Finish(const Emit& emit) {
  if (!pending_.empty()) emit(pending_, true);
  pending_.clear();
}

}  // namespace sp
