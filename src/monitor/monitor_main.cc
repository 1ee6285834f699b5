// spawn-monitor: runs and watches one container. Started by spawnd (see monitor/launcher.h) as
// `spawn-monitor /path/monitor.json`; everything else is in monitor/monitor.h.
#include <cstdio>
#include <string>

#include "monitor/monitor.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: spawn-monitor /path/to/monitor.json\n");
    return 2;
  }
  return sp::RunMonitor(argv[1]);
}
