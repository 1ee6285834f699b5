// Deploy history for `spawnctl deploy-last`: one JSON line per deploy
// ({"dir": working directory, "argv": [...]}) in SPAWNCTL_HISTORY_FILE or
// ~/.spawnpoint_history. Each deploy appends a line; once the file passes 256 KiB it is cut back to
// its most recent 500 entries.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace sp::cli {

std::string HistoryPath();
// The working directory, the key of a deploy in the history ("." if it cannot be read).
std::string CurrentDir();
Status AppendHistory(const std::string& path, const std::string& dir, const std::vector<std::string>& argv);
// The most recent deploy command run in `dir`, if any.
Result<std::optional<std::vector<std::string>>> LastDeployIn(const std::string& path, const std::string& dir);
// Shell-like rendering of an argv for showing to the user.
std::string ShellJoin(const std::vector<std::string>& argv);

}  // namespace sp::cli
