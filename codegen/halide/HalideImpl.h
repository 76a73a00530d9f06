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

#include "llvm/ADT/DenseMap.h"

#include <Halide.h>

#include <optional>

namespace layerc::halide {
namespace H = Halide;


/// A tensor of the function: its Func and its shape (batch -1).
struct HTensor {
  H::Func f;
  std::vector<int64_t> shape;
  int rank() const { return static_cast<int>(shape.size()); }
};

/// The Func's arguments for tensor axes `idx` (outermost first, as MLIR
/// writes them): reversed, innermost first.
inline std::vector<H::Expr> at(const std::vector<H::Expr> &idx) {
  return std::vector<H::Expr>(idx.rbegin(), idx.rend());
}

/// Vars for the axes of a rank-`rank` tensor, outermost first.
inline std::vector<H::Var> axes(int rank) {
  static const char *names[] = {"n", "y", "x", "c", "d5", "d6"};
  std::vector<H::Var> v;
  for (int i = 0; i < rank; ++i)
    v.emplace_back(rank == 2 && i == 1 ? "c" : names[i]);
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
  std::vector<HTensor> results;
  std::vector<H::Func> roots;
  std::optional<H::Pipeline> pipeline;
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
  void place(H::Func f) {
    f.compute_root();
    stages.push_back(f);
  }

  llvm::DenseMap<mlir::Value, HTensor> values;

  mlir::LogicalResult lowerOp(mlir::Operation *op);
  /// The weight `v` of `op` (its `what`): a function argument, or a
  /// float32 constant (--embed-weights); an MLIR diagnostic otherwise.
  mlir::FailureOr<HTensor> weight(mlir::Operation *op, mlir::Value v,
                                  const char *what);
  HTensor &get(mlir::Value v) { return values.find(v)->second; }
  void define(mlir::Value v, H::Func f) {
    auto type = mlir::cast<mlir::RankedTensorType>(v.getType());
    values[v] =
        HTensor{std::move(f), std::vector<int64_t>(type.getShape().begin(),
                                                   type.getShape().end())};
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
