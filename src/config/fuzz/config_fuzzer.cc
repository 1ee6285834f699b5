// libFuzzer target for both configuration parsers: any input must give a value or a one-line
// InvalidArgument that starts with the file name, and never crash, hang or throw. It lives outside
// src/config/*.cc so the normal build does not pick it up; config_fuzz_test.cc is its seeded
// counterpart that runs with the unit tests.
// Build (from the repository root) and run:
// clang-format off
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Iinclude src/config/fuzz/config_fuzzer.cc $(ls src/config/*.cc | grep -v _test) src/uri/uri.cc src/util/status.cc src/util/duration.cc src/util/fs.cc -lyaml-cpp -lfmt -o config_fuzzer && ./config_fuzzer -max_len=4096
// clang-format on
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/daemon_config.h"
#include "config/service_config.h"

namespace {

template <typename T>
void CheckOutcome(const sp::Result<T>& result) {
  if (result) return;
  const std::string& message = result.error().message();
  bool clean = result.error().code() == sp::Code::kInvalidArgument && message.rfind("fuzz.yaml", 0) == 0 &&
               message.find('\n') == std::string::npos;
  if (!clean) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckOutcome(sp::ParseDaemonConfig(text, "fuzz.yaml"));
  CheckOutcome(sp::ParseServiceConfig(text, "fuzz.yaml", "svc"));
  CheckOutcome(sp::ParseServiceConfig(text, "fuzz.yaml"));
  return 0;
}
