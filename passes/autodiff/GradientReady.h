//===- GradientReady.h - grad_step announces its gradients --*- C++ -*-===//
//
// layer-autodiff's gradient-ready option: calls of an external C function
// in grad_step, one per gradient, right where that gradient becomes final,
// so that data-parallel training can start summing it over the ranks while
// the backward pass computes the others (docs/Distributed.md).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_PASSES_AUTODIFF_GRADIENTREADY_H
#define LAYERC_PASSES_AUTODIFF_GRADIENTREADY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace layerc::layer {

/// The C function grad_step calls:
///   void layerc_gradient_ready(int64_t index, const float *data,
///                              int64_t count);
inline constexpr llvm::StringLiteral kGradientReadyFunction =
    "layerc_gradient_ready";

/// In `fn`, whose return operands [first, first + count) are its gradients,
/// inserts after the op that defines gradient i a call
/// layerc_gradient_ready(i, data, count) that reads its elements through an
/// identity-layout bufferization.to_buffer, and declares the function in
/// the module. Gradients must be static float32 tensors.
mlir::LogicalResult insertGradientReadyCalls(mlir::func::FuncOp fn,
                                             unsigned first, unsigned count);

} // namespace layerc::layer

#endif // LAYERC_PASSES_AUTODIFF_GRADIENTREADY_H
