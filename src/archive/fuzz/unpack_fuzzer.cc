// libFuzzer harness for UnpackIncludes: every input is unpacked into a private sandbox, which is
// then checked (nothing but the destination may exist in it) and emptied. Kept out of the normal
// build (the module's glob only takes src/archive/*.cc); src/archive/unpack_fuzz_test.cc is the
// deterministic version that runs with the unit tests.
// clang-format off
// Build and run (repo root, bash): clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address -Isrc -Iinclude src/archive/fuzz/unpack_fuzzer.cc src/archive/{archive_rules,pack,unpack}.cc src/util/{status,fs}.cc -larchive -lfmt -o unpack_fuzzer && ./unpack_fuzzer -max_len=65536
// clang-format on
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "archive/include_archive.h"
#include "util/fs.h"

namespace {

struct Sandbox {
  Sandbox() {
    std::string tmpl =
        sp::PathExists("/dev/shm") ? "/dev/shm/sp-unpack-fuzzer-XXXXXX" : "/tmp/sp-unpack-fuzzer-XXXXXX";
    if (!::mkdtemp(tmpl.data())) ::abort();
    root = tmpl;
    parent = root + "/parent";
    dest = parent + "/dest";
    if (!sp::MakeDirs(dest).ok()) ::abort();
  }
  ~Sandbox() { (void)sp::RemoveAll(root); }
  std::string root, parent, dest;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Sandbox sandbox;
  sp::ArchiveLimits limits;
  limits.max_unpacked_bytes = 4u << 20;
  (void)sp::UnpackIncludes(std::string_view(reinterpret_cast<const char*>(data), size), sandbox.dest, limits);
  auto top = sp::ListDir(sandbox.root);
  auto beside = sp::ListDir(sandbox.parent);
  if (!top || top->size() != 1 || !beside || beside->size() != 1) {
    std::fprintf(stderr, "unpack left something outside the destination\n");
    ::abort();
  }
  auto names = sp::ListDir(sandbox.dest);
  if (!names) ::abort();
  for (const auto& name : *names) {
    if (!sp::RemoveAll(sp::JoinPath(sandbox.dest, name)).ok()) ::abort();
  }
  return 0;
}
