// spawnctl: the Spawnpoint command line. See docs/guide.md.
#include "cli/app.h"

int main(int argc, char** argv) { return sp::cli::RunSpawnctl(argc, argv); }
