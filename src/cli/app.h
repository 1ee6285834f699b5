// spawnctl's command table and argument parsing.
#pragma once

namespace sp::cli {

// Runs spawnctl with the process arguments; returns the exit status.
int RunSpawnctl(int argc, char** argv);

}  // namespace sp::cli
