//===- HalideImpl.h - The Halide backend's pipeline under construction ----===//
//
// Internal to codegen/halide: the Funcs of a function's values and the
// schedule helpers that the op lowerings (HalideOps.cpp) and the pipeline
// builder (HalideLowering.cpp) share.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_HALIDE_HALIDEIMPL_H
#define LAYERC_CODEGEN_HALIDE_HALIDEIMPL_H

#include "codegen/halide/HalideLowering.h"
#include "dialect/LayerOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "llvm/ADT/DenseMap.h"

#include <Halide.h>

#include <mutex>
#include <optional>

namespace layerc::halide {
namespace H = Halide;

/// A tensor of the function: its Func and its shape (batch -1).
struct HTensor {
  H::Func f;
  std::vector<int64_t> shape;
  /// Whether it depends on the batch (else on weights and constants only).
  bool perBatch = true;
  int rank() const { return static_cast<int>(shape.size()); }
};

/// The Func's arguments for tensor axes `idx` (outermost first, as MLIR
/// writes them): reversed, innermost first.
inline std::vector<H::Expr> at(const std::vector<H::Expr> &idx) {
  return std::vector<H::Expr>(idx.rbegin(), idx.rend());
}

/// Vars for the axes of a rank-`rank` tensor, outermost first.
/// (The batch n, the spatial axes z, y, x, the channels c: Funcs that
/// share an axis share its Var, which schedules refer to by name.)
inline std::vector<H::Var> axes(int rank) {
  static const char *spatial[] = {"z", "y", "x"};
  std::vector<H::Var> v;
  for (int i = 0; i < rank; ++i) {
    int fromLast = rank - 1 - i; // 1 for x, 2 for y, 3 for z
    if (i == 0)
      v.emplace_back("n");
    else if (fromLast == 0)
      v.emplace_back("c");
    else if (rank - 2 <= 3)
      v.emplace_back(spatial[3 - fromLast]);
    else
      v.emplace_back("d" + std::to_string(i));
  }
  return v;
}

inline std::vector<H::Expr> exprs(const std::vector<H::Var> &v) {
  return std::vector<H::Expr>(v.begin(), v.end());
}

/// The pure arguments of a definition over `v` (outermost first).
inline std::vector<H::Var> lhs(const std::vector<H::Var> &v) {
  return std::vector<H::Var>(v.rbegin(), v.rend());
}

/// `v` with the activation `kind` applied (not softmax, which needs an
/// axis: Impl::activated).
H::Expr activate(H::Expr v, layer::Activation kind);

struct HalideFunction::Impl {
  std::vector<H::ImageParam> params;
  /// The shape of each argument (batch -1), as the function types it.
  std::vector<std::vector<int64_t>> argShapes;
  std::vector<HTensor> results;
  std::vector<H::Func> roots;
  std::optional<H::Pipeline> pipeline;
  /// Halide's JIT compiles `pipeline` once, on the first run().
  std::once_flag compiled;
  H::Target target = H::get_jit_target_from_environment();
  int vec = 8;
  /// Whether layerc schedules (else an autoscheduler does, at the end).
  bool ownSchedule = true;
  /// Whether every op's result is computed per image, inside the result's
  /// loop over images (in parallel), rather than for the whole batch.
  bool perImage = false;
  /// The Funcs computed as stages of their own, in order.
  std::vector<H::Func> stages;
  /// The same function scheduled per image (perImage), which run() and the
  /// C glue use for batches of 2 and more.
  std::unique_ptr<Impl> images;
  /// Computes `f` at the root; `perBatch`: a stage of the batch, which the
  /// per-image schedule computes per image (a value of the weights alone,
  /// such as a convolution kernel with batch norm folded in, stays once
  /// per call).
  void place(H::Func f, bool perBatch) {
    f.compute_root();
    if (gpu)
      gpuThreads(f);
    if (perBatch)
      stages.push_back(f);
  }
  /// A CUDA pipeline (cudaCapability): every stage on the GPU.
  bool gpu = false;
  /// Schedules `f` (a root) on the GPU: its axes fused into one, in blocks
  /// of 256 threads, an element a thread; returns the thread Var, which a
  /// reduction's accumulator is computed at.
  H::Var gpuThreads(H::Func f);
  /// place() for the op being lowered: per batch when an operand is.
  void place(H::Func f) { place(f, opPerBatch); }
  bool opPerBatch = true;

  llvm::DenseMap<mlir::Value, HTensor> values;

  mlir::LogicalResult lowerOp(mlir::Operation *op);
  /// The weight `v` of `op` (its `what`): a function argument, a float32
  /// constant (--embed-weights) or a value computed from them (layer-fuse
  /// folds batch norm into kernels); an MLIR diagnostic otherwise.
  mlir::FailureOr<HTensor> weight(mlir::Operation *op, mlir::Value v,
                                  const char *what);
  /// A value lowerOp() checked is lowered.
  HTensor &get(mlir::Value v) { return values.find(v)->second; }
  /// A float32 constant as a Func over a copy of its values.
  mlir::LogicalResult lowerConstant(mlir::arith::ConstantOp cst);
  void define(mlir::Value v, H::Func f) {
    auto type = mlir::cast<mlir::RankedTensorType>(v.getType());
    values[v] = HTensor{
        std::move(f),
        std::vector<int64_t>(type.getShape().begin(), type.getShape().end()),
        opPerBatch};
  }
  /// `f` with `act` applied (softmax over the last axis), scheduled as a
  /// root of its own when it is not cheap.
  H::Func activated(H::Func f, int rank, int64_t lastSize,
                    layer::Activation act);
  /// The register-blocked schedule of a Func `acc` accumulated over `r`
  /// into `out` (channels in axis 0 of `c` values, columns in axis 1 of
  /// `cols` values).
  void scheduleBlocked(H::Func out, H::Func acc, int64_t c, int64_t cols,
                       int rank);
  void scheduleRoot(H::Func f, const std::vector<int64_t> &shape);
  /// `result` = act(bias + sum of `product` over its RDom), over `vars`
  /// (innermost first: channels, then columns), register-blocked by
  /// `cols` columns.
  mlir::LogicalResult accumulate(mlir::Operation *op, mlir::Value bias,
                                 const std::vector<H::Var> &vars,
                                 H::Expr product, layer::Activation act,
                                 int64_t cols, mlir::Value result);
  /// An NHWC tensor with zeros around its spatial axes, copied once (a
  /// root), so that windows read it without a bounds test.
  H::Func zeroPadded(const HTensor &in);
};

} // namespace layerc::halide

#endif // LAYERC_CODEGEN_HALIDE_HALIDEIMPL_H
