//===- HalideLowering.h - The layer dialect as Halide pipelines -*- C++ -*-===//
//
// The second code generator (docs/Backends.md): a function of the layer
// dialect, after the layer stage (shapes inferred, activations fused, every
// size static but the batch) and with its weights as constants
// (--embed-weights), becomes one Halide pipeline. Each op is a Func over the
// same channels-last layout and Keras semantics as the LLVM path; the
// schedule is layerc's own (register blocks over output channels and
// columns, the reduction inside; with one image, its rows on Halide's
// threads; with more, every op of one image after the other while the image
// is in cache, the images on Halide's threads).
//
// This header includes no Halide header (Halide.h is large): the pipeline
// lives behind HalideFunction.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_HALIDE_HALIDELOWERING_H
#define LAYERC_CODEGEN_HALIDE_HALIDELOWERING_H

#include "runtime/Abi.h"
#include "runtime/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace layerc::halide {

/// A library holding both backends' predict (--backend=auto): which one a
/// call runs, by its batch and thread count.
struct GlueDispatch {
  /// [batch > batchCut][threads > 1]: whether the call runs through Halide.
  bool useHalide[2][2] = {{false, false}, {false, false}};
  int64_t batchCut = 1;
  /// The memref whose outermost size is the batch.
  int batchArg = 0;
};

/// A function of the layer dialect as a Halide pipeline, compiled for the
/// host by Halide's JIT on first use, or ahead of time.
class HalideFunction {
public:
  ~HalideFunction();
  /// Lowers `fn`; an op without a Halide lowering (or a weight that is not
  /// a constant) gets an MLIR diagnostic on it and a failure. `schedule`:
  /// "layerc" (layerc's own), or one of Halide 14's autoschedulers
  /// ("mullapudi2016", "adams2019", "li2018"), given the sizes with the
  /// batch as `batchEstimate`.
  /// `cudaCapability` (80 for sm_80; 0 for the CPU): the pipeline runs on
  /// an NVIDIA GPU through Halide's own CUDA runtime, one thread per
  /// output element of each stage (layerc's schedule only).
  static mlir::FailureOr<std::unique_ptr<HalideFunction>>
  lower(mlir::func::FuncOp fn, const std::string &schedule = "layerc",
        int64_t batchEstimate = 64, int cudaCapability = 0);

  /// Runs the pipeline on `inputs` (one float32 tensor per function
  /// argument, any batch); one tensor per result.
  std::vector<Tensor> run(const std::vector<Tensor> &inputs);
  /// Dense row-major float32 memory of `shape`.
  struct View {
    float *data;
    std::vector<int64_t> shape;
  };
  /// The same, into `outputs` of the results' shapes (the batch of the
  /// inputs). Calls may run at the same time.
  void run(const std::vector<View> &inputs, const std::vector<View> &outputs);

  /// Compiles the pipeline ahead of time for the host into object files
  /// `pathPrefix`.N.o (the first with Halide's runtime) and returns their
  /// paths: `name`, and `name`_images (the schedule per image, for batches
  /// of 2 and more) where there is one; each defines `name`_argv taking
  /// one halide_buffer_t per argument, then one per result.
  std::vector<std::string> compileToObjects(const std::string &pathPrefix,
                                            const std::string &name);

  /// C source that implements the entry points a layerc C header calls
  /// (`_mlir_ciface_layerc_<prefix>_predict` over memref descriptors of
  /// `ranks`, arguments then results, and `layerc_<prefix>_set_num_threads`
  /// / `_release_memory`) over the objects of compileToObjects(`name`).
  std::string cShim(const std::string &prefix, const std::string &name,
                    const GlueDispatch *dispatch = nullptr) const;

  /// The shape of each memref the C glue takes, the arguments then the
  /// results, with -1 for the batch.
  std::vector<std::vector<int64_t>> memrefShapes() const;

  struct Impl;

private:
  friend CompiledFunction asCompiledFunction(std::shared_ptr<HalideFunction>,
                                             CompiledFunction);
  explicit HalideFunction(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// `signature` (the LLVM backend's compiled form of the function `fn` was
/// lowered from: the same arguments and results) running `fn` instead, so
/// that the runtime's loops, checks and progress bar call it unchanged.
/// Throws layerc::Error when the two do not take the same arguments.
CompiledFunction asCompiledFunction(std::shared_ptr<HalideFunction> fn,
                                    CompiledFunction signature);

/// The median milliseconds of `calls` calls of `call`, after one more
/// (the JIT's compile): how --backend=auto and the benchmarks time a
/// backend.
double medianCallMs(const std::function<void()> &call, int calls);

/// The C glue of cShim for a pipeline `name` whose arguments, then
/// results, have `ranks`; `images`: it also has `name`_images, for batches
/// of 2 and more; `results`: how many of `ranks` are results, which `gpu`
/// copies back to the host (HalideGlue.cpp). With `dispatch`, the library
/// also holds the LLVM backend's predict (its entry points renamed
/// `..._predict_llvm`, `..._llvm_set_num_threads`, `..._llvm_release_memory`)
/// and `predict` runs the one `dispatch` says; `layerc_<prefix>_predict_backend
/// (int halide, void **memrefs)` runs either.
std::string glueSource(const std::string &prefix, const std::string &name,
                       const std::vector<int> &ranks, bool images,
                       size_t results = 0, bool gpu = false,
                       const GlueDispatch *dispatch = nullptr);

/// The glue of a library whose LLVM backend's entry points were renamed
/// as for GlueDispatch but that holds no Halide pipeline: it forwards the
/// header's names (predict over `memrefs` descriptors) to them.
std::string forwardingGlueSource(const std::string &prefix, size_t memrefs);

} // namespace layerc::halide

#endif // LAYERC_CODEGEN_HALIDE_HALIDELOWERING_H
