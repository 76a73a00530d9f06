//===- ShapeRules.h - Shared pieces of the shape rules ----------*- C++ -*-===//
//
// Each op has one shape rule, `computeResultTypes`, used twice: by the
// verifier (a declared ranked result must agree with it) and by the
// ShapeInference interface (which writes it into the result types). A rule
// returns an empty list when some operand is still unranked, and emits a
// diagnostic naming the operand and both shapes when the operands disagree.
//
// The rules live in one file per op family (CoreShapeRules.cpp,
// ConvShapeRules.cpp, RecurrentShapeRules.cpp, TrainingShapeRules.cpp);
// this header declares what they share: the shape helpers, the checks of
// common attributes, and LAYER_SHAPE_RULE, which wraps a rule into its op's
// verify and inferShapes. Private to the dialect library.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_DIALECT_SHAPERULES_H
#define LAYERC_DIALECT_SHAPERULES_H

#include "dialect/LayerOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <string>
#include <utility>

namespace layerc::layer::rules {

using Shape = llvm::SmallVector<int64_t>;

/// The ranked types of `values`, or std::nullopt if any is unranked.
std::optional<llvm::SmallVector<mlir::RankedTensorType>>
rankedTypes(mlir::ValueRange values);

/// Two dimensions agree when equal or when either is dynamic.
bool dimsAgree(int64_t a, int64_t b);

/// dimsAgree on dimension `da` of `a` and `db` of `b` (negative: from the
/// back). When a size is dynamic they agree for now, and a DimCheckScope
/// records that they must be equal at run time.
bool agree(mlir::Value a, int64_t da, mlir::Value b, int64_t db,
           llvm::StringRef what);

/// Records that the product of dimensions `dims` of `v` must relate to
/// `bound` as `relation` says, when one of them is dynamic.
void requireDims(mlir::Value v, llvm::ArrayRef<int64_t> dims,
                 DimCheck::Relation relation, int64_t bound,
                 llvm::StringRef what);

/// The most static of two agreeing dimensions.
int64_t joinDim(int64_t a, int64_t b);

/// Joins two shapes of equal rank; std::nullopt if they disagree.
std::optional<Shape> joinShapes(llvm::ArrayRef<int64_t> a,
                                llvm::ArrayRef<int64_t> b);

/// Joins the shapes of every type in `types` (same element type assumed).
/// Emits "<what> must have the same shape, got A and B" on a mismatch.
/// With `values` (whose types are `types`), sizes left to the run time are
/// recorded as checks against the first value.
mlir::FailureOr<Shape> joinAll(mlir::Operation *op,
                               llvm::ArrayRef<mlir::RankedTensorType> types,
                               llvm::ArrayRef<llvm::StringRef> names,
                               mlir::ValueRange values = {});

/// A dimension as Keras prints it: "None" when dynamic.
std::string formatDim(int64_t d);

/// Every operand must have `element` as its element type.
mlir::LogicalResult
checkElementTypes(mlir::Operation *op,
                  llvm::ArrayRef<mlir::RankedTensorType> types,
                  llvm::ArrayRef<llvm::StringRef> names, mlir::Type element);

mlir::RankedTensorType tensorOf(llvm::ArrayRef<int64_t> shape,
                                mlir::Type element);

/// Shared verifier: when the shape rule produced types, every declared
/// ranked result must agree with them.
mlir::LogicalResult
verifyAgainstRule(mlir::Operation *op,
                  mlir::FailureOr<llvm::SmallVector<mlir::Type>> inferred);

/// Shared inferShapes: writes the rule's types into the results.
mlir::LogicalResult
applyRule(mlir::Operation *op,
          mlir::FailureOr<llvm::SmallVector<mlir::Type>> inferred);

/// Checks every array attribute has `n` positive entries. Returns true for
/// `same` padding. (Convolutions, poolings, conv_lstm.)
mlir::FailureOr<bool> checkWindowAttrs(
    mlir::Operation *op, Padding padding, int64_t n,
    llvm::ArrayRef<std::pair<llvm::StringRef, llvm::ArrayRef<int64_t>>> arrays);

/// Saturating size arithmetic. Sizes come from someone else's model file:
/// a product or sum that does not fit int64 saturates at INT64_MAX instead
/// of wrapping, and the element-count check of every result then refuses
/// the shape.
int64_t satMul(int64_t a, int64_t b);
int64_t satAdd(int64_t a, int64_t b);

} // namespace layerc::layer::rules

// Every op gets the same verify/inferShapes pair around its rule.
#define LAYER_SHAPE_RULE(OpClass)                                              \
  static FailureOr<SmallVector<Type>> computeResultTypes(OpClass op);          \
  LogicalResult OpClass::verify() {                                            \
    return verifyAgainstRule(getOperation(), computeResultTypes(*this));       \
  }                                                                            \
  LogicalResult OpClass::inferShapes() {                                       \
    return applyRule(getOperation(), computeResultTypes(*this));               \
  }                                                                            \
  static FailureOr<SmallVector<Type>> computeResultTypes(OpClass op)

#endif // LAYERC_DIALECT_SHAPERULES_H
