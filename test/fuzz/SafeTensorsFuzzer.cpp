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

#include "FuzzReport.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ++layerc::fuzz::report().inputs;
  static const std::string path =
      "/dev/shm/layerc-fuzz-" + std::to_string(::getpid()) + ".safetensors";
  if (FILE *f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
      layerc::loadSafeTensors(path);
    } catch (const layerc::Error &) {
      ++layerc::fuzz::report().refused;
    }
  }
  try {
    layerc::Json::parse(std::string(reinterpret_cast<const char *>(data), size),
                        "fuzz");
  } catch (const layerc::Error &) {
  }
  return 0;
}
