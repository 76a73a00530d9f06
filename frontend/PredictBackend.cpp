//===- PredictBackend.cpp - CompileOptions::backend: predict() via Halide -===//
//
// compile({.backend = "halide"}) lowers the model's predict function, after
// the layer stage and with the weights as arguments, to one Halide pipeline
// (codegen/halide) and puts it behind the signature of the LLVM-compiled
// predict: the runtime's loop, argument checks and progress bar run it
// unchanged, and it reads the weights at every call, so fit(), setWeights()
// and loadWeights() need no recompile. "auto" times both (BackendChoice.h).
//
//===----------------------------------------------------------------------===//

#include "frontend/Compile.h"
#include "frontend/CompiledModel.h"
#include "frontend/MLIRGen.h"

#include "codegen/Pipeline.h"
#ifdef LAYERC_HAVE_HALIDE
#include "codegen/halide/BackendChoice.h"
#include "codegen/halide/HalideLowering.h"
#endif

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace layerc;

void layerc::selectPredictBackend(const Model &model, CompiledModel &compiled) {
  const CompileOptions &options = compiled.options;
  const std::string &backend = options.backend;
  if (backend == "llvm")
    return;
  std::string where = "Model " + model.name() + ": backend '" + backend + "'";
  if (backend != "halide" && backend != "auto")
    throw Error(where + " is not llvm, halide or auto");
  if (options.backend_batch < 1)
    throw Error(where + ": backend_batch must be at least 1, got " +
                std::to_string(options.backend_batch));
  // "halide" that cannot run the model is an error; "auto" keeps LLVM.
  auto refuse = [&](const std::string &why) {
    if (backend == "halide")
      throw Error(where + ": " + why);
    compiled.backendReason = "llvm: " + why;
  };
#ifndef LAYERC_HAVE_HALIDE
  refuse("this layerc was built without Halide 14 (libhalide14-0-dev)");
#else
  if (compiled.samples)
    return refuse("the Halide backend needs every input size but the batch "
                  "known");
  mlir::MLIRContext ctx(compilerRegistry());
  std::string why;
  mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
    if (why.empty()) {
      llvm::raw_string_ostream os(why);
      os << d.getLocation() << ": " << d.str();
    }
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = emitModel(model, &ctx);
  if (mlir::failed(
          runPipeline(*module, PipelineOptions{}, Stage::Layer, Stage::Layer)))
    return refuse("the layer stage failed: " + why);
  auto fn = module->lookupSymbol<mlir::func::FuncOp>("predict");
  mlir::FailureOr<std::unique_ptr<halide::HalideFunction>> lowered =
      mlir::failure();
  if (fn)
    lowered =
        halide::HalideFunction::lower(fn, "layerc", options.backend_batch);
  if (mlir::failed(lowered))
    return refuse("the Halide backend cannot lower the model: " + why);
  CompiledFunction viaHalide =
      halide::asCompiledFunction(std::move(*lowered), compiled.program.predict);
  if (backend == "auto") {
    // Both on the same inputs and the model's weights.
    std::vector<Tensor> xs;
    std::vector<const Tensor *> in;
    for (const SymbolicTensor &input : model.inputs()) {
      std::vector<int64_t> shape = input.shape();
      shape[0] = options.backend_batch;
      xs.push_back(halide::timingInput(shape));
    }
    for (const Tensor &x : xs)
      in.push_back(&x);
    for (const Tensor &w : compiled.state.params)
      in.push_back(&w);
    const CompiledFunction &viaLlvm = compiled.program.predict;
    halide::BackendChoice choice = halide::chooseBackend(
        halide::backendCacheKey(fn, options.backend_batch),
        options.backend_cache,
        [&] { return halide::medianCallMs([&] { viaHalide(in); }, 5); },
        [&] { return halide::medianCallMs([&] { viaLlvm(in); }, 5); });
    compiled.backendReason = choice.describe(options.backend_batch);
    if (choice.backend != "halide")
      return;
  }
  compiled.program.predict = std::move(viaHalide);
  compiled.backend = "halide";
#endif
}
