//===- MlirFuzzer.cpp - libFuzzer target for the .mlir path ---------------===//
//
// Feeds arbitrary text to what `layerc-run` and `layerc` do with a .mlir
// file: parse, verify, then layer-shape-inference, layer-autodiff (on
// `predict`, when the module has one) and the whole layer-to-llvm
// pipeline, each on a fresh copy. Any diagnostic is a clean refusal; a
// crash, a sanitizer report or a hang is a bug. Built and run for a
// bounded time by test/fuzz/mlir.test, seeded with the lit inputs.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include "FuzzReport.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mlir;

namespace {

/// One context for the whole run (creating one per input would dominate).
MLIRContext &context() {
  static MLIRContext *ctx = [] {
    layerc::registerLayercPasses();
    DialectRegistry registry;
    layerc::registerCompilerDialects(registry);
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    c->disableMultithreading();
    c->printOpOnDiagnostic(false);
    // Diagnostics are expected; keep them off stderr.
    c->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return c;
  }();
  return *ctx;
}

/// Runs stages `first` to `last` of the pipeline on a copy; true when it
/// failed with a diagnostic.
bool runOnCopy(ModuleOp module, const layerc::PipelineOptions &options,
               layerc::Stage first, layerc::Stage last) {
  OwningOpRef<ModuleOp> copy = module.clone();
  return failed(layerc::runPipeline(*copy, options, first, last));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Bounded work per input: large inputs add nothing but time.
  if (size > 4096)
    return 0;
  // MLIR's lexer reads up to a terminating NUL, as files loaded through
  // MemoryBuffer have: give the text one.
  std::string text(reinterpret_cast<const char *>(data), size);
  ParserConfig config(&context());
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, config);
  ++layerc::fuzz::report().inputs;
  if (!module || failed(verify(*module))) {
    ++layerc::fuzz::report().refused;
    return 0;
  }
  using layerc::Stage;
  layerc::PipelineOptions inference, training;
  training.training.emplace();
  training.training->optimizer = "adam";
  bool failed = runOnCopy(*module, inference, Stage::Layer, Stage::Layer);
  if (module->lookupSymbol("predict"))
    failed |= runOnCopy(*module, training, Stage::Layer, Stage::Layer);
  failed |= runOnCopy(*module, inference, Stage::Layer, Stage::LLVM);
  layerc::fuzz::report().refused += failed;
  return 0;
}
