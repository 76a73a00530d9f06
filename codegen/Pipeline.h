//===- Pipeline.h - The one layerc compilation pipeline ---------*- C++ -*-===//
//
// Every driver -- Model::compile and fit, JitModule, layerc, layerc-run,
// and layerc-opt's `layer-to-llvm` -- builds its pass manager here, from
// typed options, so they all run the same passes with the same options.
// The pipeline has three stages:
//
//   Layer   the layer dialect with every shape inferred: optional input
//           shapes and batch (layer-specialize-shapes), shape inference,
//           optional training functions (layer-autodiff)
//   Linalg  public functions renamed for export, run-time shape checks,
//           lowering to linalg on tensors, element-wise fusion, matmul
//           loop order
//   LLVM    destination-passing entry points, bufferization, loops, the
//           LLVM dialect (then LLVM's own optimizer, codegen/Target.h)
//
// A driver that needs the tensor-level signatures (the JIT, the C header)
// runs Layer, reads them, then runs Linalg and LLVM: the passes are the
// same as in one run, so the printed pipeline (printPipeline) replays the
// whole compilation in layerc-opt.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_PIPELINE_H
#define LAYERC_CODEGEN_PIPELINE_H

#include "codegen/Target.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace layerc {

/// The stages of the pipeline, in order (see the file comment).
enum class Stage { Layer, Linalg, LLVM };

/// What the pipeline builds; every field has the meaning of the pass option
/// it becomes.
struct PipelineOptions {
  /// Shapes of the leading arguments of the public functions (sequences of
  /// a known length), ? for a dynamic size: "?x28x28". Empty: keep them.
  std::vector<std::string> inputShapes;
  /// Fix the batch dimension to this size (0: any batch, given at run
  /// time).
  int64_t batch = 0;
  /// Build evaluate and train_step (or grad) from `predict`.
  std::optional<LayerAutodiffOptions> training;
  /// Export public functions as layerc_<prefix>_<name> (empty: keep the
  /// names; the JIT looks them up by their own names).
  std::string exportPrefix;
  /// The machine the code is for (the JIT always compiles for the host).
  TargetDescription target;
};

/// Adds the passes of stages `first` to `last` to `pm`, a module pass
/// manager.
void buildPipeline(mlir::OpPassManager &pm, const PipelineOptions &options,
                   Stage first = Stage::Layer, Stage last = Stage::LLVM);

/// Prints stages `first` to `last` as a textual pipeline that
/// `layerc-opt --pass-pipeline='...'` runs to the same result.
void printPipeline(llvm::raw_ostream &os, const PipelineOptions &options,
                   Stage first = Stage::Layer, Stage last = Stage::LLVM);

/// `text` as one word of a POSIX shell command ('...', quotes escaped).
std::string shellQuote(llvm::StringRef text);

/// The command that replays stages Layer to `last` on the module in
/// `input` ("-": the module comes on stdin):
/// `layerc-opt 'input' --pass-pipeline='builtin.module(...)'`.
std::string replayCommand(llvm::StringRef input, const PipelineOptions &options,
                          Stage last);

/// How a driver's pass manager runs, besides its passes.
struct PassManagerSettings {
  /// Print the IR after every pass to stderr.
  bool printIRAfterAll = false;
  /// Apply the pass manager's command-line options (--mlir-timing,
  /// --mlir-print-ir-*, --mlir-pass-pipeline-crash-reproducer); for tools
  /// that registered them.
  bool fromCommandLine = false;
};

/// Runs stages `first` to `last` on `module`. Diagnostics go to the
/// context's handlers.
mlir::LogicalResult runPipeline(mlir::ModuleOp module,
                                const PipelineOptions &options, Stage first,
                                Stage last,
                                const PassManagerSettings &settings = {});

} // namespace layerc

#endif // LAYERC_CODEGEN_PIPELINE_H
