//===- SafeTensorsFuzzer.cpp - libFuzzer target for the file loaders ------===//
//
// Feeds arbitrary bytes to the safetensors loader (the reader behind
// checkpoints and saved models) and to the JSON parser behind their
// headers. Any crash, sanitizer report or exception other than layerc::Error
// is a bug. Built and run for a bounded time by test/fuzz/loaders.test.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/SafeTensors.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

/// Inputs tried and refused with a layerc::Error, printed at exit for the
/// fuzzing report.
static size_t inputs = 0, refused = 0;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool once = (std::atexit([] {
                        std::fprintf(stderr,
                                     "layerc-fuzz: %zu inputs, %zu clean "
                                     "errors\n",
                                     inputs, refused);
                      }),
                      true);
  (void)once;
  ++inputs;
  static const std::string path =
      "/dev/shm/layerc-fuzz-" + std::to_string(::getpid()) + ".safetensors";
  if (FILE *f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
      layerc::loadSafeTensors(path);
    } catch (const layerc::Error &) {
      ++refused;
    }
  }
  try {
    layerc::Json::parse(std::string(reinterpret_cast<const char *>(data), size),
                        "fuzz");
  } catch (const layerc::Error &) {
  }
  return 0;
}
