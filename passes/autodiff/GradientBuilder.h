//===- GradientBuilder.h - Helpers for gradient rules -----------*- C++ -*-===//
//
// Gradient rules build layer ops whose result types they would otherwise
// have to recompute. `createInferred` creates an op with unranked results
// and lets the op's own shape rule (ShapeInference) fill them in, so the
// shape logic of every op lives in exactly one place.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_PASSES_AUTODIFF_GRADIENTBUILDER_H
#define LAYERC_PASSES_AUTODIFF_GRADIENTBUILDER_H

#include "dialect/LayerOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace layerc::layer {

/// Creates `OpTy` with `numResults` unranked results of `elementType` and
/// runs its shape rule. Returns null (after a diagnostic) if the rule fails.
template <typename OpTy, typename... Args>
OpTy createInferred(mlir::OpBuilder &b, mlir::Location loc,
                    mlir::Type elementType, unsigned numResults,
                    Args &&...args) {
  llvm::SmallVector<mlir::Type> types(
      numResults, mlir::UnrankedTensorType::get(elementType));
  auto op =
      OpTy::create(b, loc, mlir::TypeRange(types), std::forward<Args>(args)...);
  if (mlir::failed(
          llvm::cast<ShapeInference>(op.getOperation()).inferShapes())) {
    op->erase();
    return nullptr;
  }
  return op;
}

/// An external model of GradientOpInterface that forwards to the static
/// `Rule::build(op, builder, resultGrads, operandGrads)` of a rule struct
/// (operandGrads starts as one null Value per operand: no gradient).
template <typename Rule, typename OpTy>
struct GradientModel
    : GradientOpInterface::ExternalModel<GradientModel<Rule, OpTy>, OpTy> {
  mlir::LogicalResult
  buildGradient(mlir::Operation *op, mlir::OpBuilder &b,
                llvm::ArrayRef<mlir::Value> resultGrads,
                llvm::SmallVectorImpl<mlir::Value> &operandGrads) const {
    operandGrads.assign(op->getNumOperands(), mlir::Value());
    return Rule::build(llvm::cast<OpTy>(op), b, resultGrads, operandGrads);
  }
};

/// The reverse sweep: walks `tape` (ops in forward order) backwards and
/// lets each op whose results have gradients in `grads` build those of its
/// operands through its GradientOpInterface; gradients of a value used
/// several times are summed into `grads`. A result without a gradient gets
/// 0 when another result of its op has one. Returns the number of rules
/// applied, or failure (after a diagnostic) if an op has no rule or one
/// fails.
mlir::FailureOr<unsigned>
propagateGradients(mlir::OpBuilder &b, llvm::ArrayRef<mlir::Operation *> tape,
                   llvm::DenseMap<mlir::Value, mlir::Value> &grads);

/// The gradient rules of each family (passes/autodiff/<Family>Grad.cpp);
/// registerGradientInterfaces registers them all.
void registerCoreGradients(mlir::MLIRContext *ctx);
void registerConvGradients(mlir::MLIRContext *ctx);
void registerRecurrentGradients(mlir::MLIRContext *ctx);
void registerRegularizerGradients(mlir::MLIRContext *ctx);
/// The training-mode clones of dropout, batch normalization and fused
/// activations (passes/autodiff/TrainingClone.cpp).
void registerTrainingClones(mlir::MLIRContext *ctx);

/// The element type of a tensor value.
inline mlir::Type elementTypeOf(mlir::Value v) {
  return llvm::cast<mlir::TensorType>(v.getType()).getElementType();
}

} // namespace layerc::layer

#endif // LAYERC_PASSES_AUTODIFF_GRADIENTBUILDER_H
