//===- OnnxFuzzer.cpp - libFuzzer target for the ONNX importer ------------===//
//
// Feeds arbitrary bytes to Model::fromOnnx (protobuf parsing, the checks of
// sizes, shapes and names, and every operator mapper building its layers)
// and to readOnnxTensor. Any crash, sanitizer report, or exception other
// than layerc::Error is a bug. Built by build_onnx_fuzzer.sh and run for a
// bounded time by onnx.test.
//
//===----------------------------------------------------------------------===//

#include "frontend/Model.h"
#include "frontend/import/Onnx.h"
#include "runtime/Error.h"

#include "FuzzReport.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ++layerc::fuzz::report().inputs;
  static const std::string path =
      "/dev/shm/layerc-fuzz-" + std::to_string(::getpid()) + ".onnx";
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    layerc::Model model = layerc::Model::fromOnnx(path);
    (void)model.countParams();
  } catch (const layerc::Error &) {
    ++layerc::fuzz::report().refused;
  }
  try {
    layerc::readOnnxTensor(path);
  } catch (const layerc::Error &) {
  }
  return 0;
}
