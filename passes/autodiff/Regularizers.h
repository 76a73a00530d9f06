//===- Regularizers.h - Keras's regularizers and constraints ----*- C++ -*-===//
//
// What layer-autodiff builds for the weight arguments of `predict` that
// carry Keras's regularizers and constraints:
//
//   layer.regularizer = {l1 = 0.0 : f64, l2 = 0.01 : f64}
//       a layer.weight_penalty added to the loss (so to the reported loss
//       and, through its gradient rule, to the gradients);
//   layer.constraint = {kind = "max_norm", axes = array<i64: 0>,
//                       max_value = 2.0 : f64, min_value = 0.0 : f64,
//                       rate = 1.0 : f64}
//       a layer.constrain of the parameter's updated value (kinds:
//       max_norm, min_max_norm, unit_norm, non_neg).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_PASSES_AUTODIFF_REGULARIZERS_H
#define LAYERC_PASSES_AUTODIFF_REGULARIZERS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace layerc::layer {

/// Checks argument `i`'s layer.regularizer and layer.constraint attributes
/// (well formed, on a layer.param argument); a diagnostic on failure.
mlir::LogicalResult verifyWeightAttributes(mlir::func::FuncOp forward,
                                           unsigned i);
/// The penalty of `w` (argument `i` of `forward` in the function being
/// built), or a null Value when the argument has no regularizer.
mlir::FailureOr<mlir::Value> buildWeightPenalty(mlir::OpBuilder &b,
                                                mlir::func::FuncOp forward,
                                                unsigned i, mlir::Value w);
/// `w` (the updated value of argument `i`) under its constraint, or `w`
/// when it has none.
mlir::FailureOr<mlir::Value> buildConstraint(mlir::OpBuilder &b,
                                             mlir::func::FuncOp forward,
                                             unsigned i, mlir::Value w);

} // namespace layerc::layer

#endif // LAYERC_PASSES_AUTODIFF_REGULARIZERS_H
