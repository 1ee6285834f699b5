// spawnctl: the Spawnpoint command line. See docs/guide.md.
#include <cstdio>
#include <cstdlib>

#include "cli/app.h"
#include "protocol/envelope.h"

int main(int argc, char** argv) {
  sp::protocol::SetReaderName("this spawnctl");  // for "... uses protocol version N" errors
  int code = sp::cli::RunSpawnctl(argc, argv);
  // Every connection, file and subscription is closed by now (RunSpawnctl's objects are gone).
  // What remains at exit is the libraries' own teardown (OpenSSL's tables, cnats' threads), about
  // a millisecond of a short command's time: skip it, once our output is out.
  std::fflush(nullptr);
  std::_Exit(code);
}
