//===- Regularizers.cpp - Keras's regularizers and constraints ------------===//
//
// The attributes of Regularizers.h turned into layer ops, and the gradient
// of layer.weight_penalty (layer.weight_penalty_grad).
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/Regularizers.h"
#include "passes/autodiff/GradientBuilder.h"

using namespace mlir;
using namespace layerc::layer;

namespace {

/// d(l1 sum|w| + l2 sum w^2) = dp * (l1 sign(w) + 2 l2 w).
struct WeightPenaltyGrad {
  static LogicalResult build(WeightPenaltyOp op, OpBuilder &b,
                             ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto grad = createInferred<WeightPenaltyGradOp>(
        b, op.getLoc(), elementTypeOf(op.getWeight()), 1, op.getWeight(),
        dys[0], op.getL1Attr(), op.getL2Attr(), op.getPerSampleAttr());
    if (!grad)
      return failure();
    grads[0] = grad.getResult();
    return success();
  }
};

constexpr llvm::StringLiteral kRegularizerAttr = "layer.regularizer";
constexpr llvm::StringLiteral kConstraintAttr = "layer.constraint";

/// A float field of `dict`, `fallback` when absent.
FailureOr<double> floatField(func::FuncOp fn, unsigned i, DictionaryAttr dict,
                             StringRef key, double fallback) {
  Attribute a = dict.get(key);
  if (!a)
    return fallback;
  auto f = dyn_cast<FloatAttr>(a);
  if (!f)
    return fn.emitError() << "layer-autodiff: argument " << i << ": '" << key
                          << "' of " << dict << " must be a float";
  return f.getValueAsDouble();
}

} // namespace

LogicalResult layerc::layer::verifyWeightAttributes(func::FuncOp fn,
                                                    unsigned i) {
  for (StringRef name : {kRegularizerAttr, kConstraintAttr}) {
    Attribute a = fn.getArgAttr(i, name);
    if (!a)
      continue;
    auto dict = dyn_cast<DictionaryAttr>(a);
    if (!dict)
      return fn.emitError() << "layer-autodiff: argument " << i << ": " << name
                            << " must be a dictionary, got " << a;
    if (!fn.getArgAttr(i, "layer.param"))
      return fn.emitError() << "layer-autodiff: argument " << i << " has "
                            << name << " but is not a layer.param";
  }
  if (auto c = fn.getArgAttrOfType<DictionaryAttr>(i, kConstraintAttr)) {
    auto kind = c.getAs<StringAttr>("kind");
    if (!kind || !symbolizeConstraint(kind.getValue()))
      return fn.emitError()
             << "layer-autodiff: argument " << i
             << ": layer.constraint needs a 'kind' among max_norm, "
                "min_max_norm, unit_norm and non_neg, got "
             << c;
    if (c.get("axes") && !isa<DenseI64ArrayAttr>(c.get("axes")))
      return fn.emitError() << "layer-autodiff: argument " << i
                            << ": the constraint's 'axes' must be an "
                               "array<i64>, got "
                            << c.get("axes");
  }
  return success();
}

FailureOr<Value> layerc::layer::buildWeightPenalty(OpBuilder &b,
                                                   func::FuncOp forward,
                                                   unsigned i, Value w) {
  auto reg = forward.getArgAttrOfType<DictionaryAttr>(i, kRegularizerAttr);
  if (!reg)
    return Value();
  auto l1 = floatField(forward, i, reg, "l1", 0.0);
  auto l2 = floatField(forward, i, reg, "l2", 0.0);
  if (failed(l1) || failed(l2))
    return failure();
  auto op = createInferred<WeightPenaltyOp>(b, w.getLoc(), elementTypeOf(w), 1,
                                            w, b.getF64FloatAttr(*l1),
                                            b.getF64FloatAttr(*l2));
  if (!op)
    return failure();
  return op.getResult();
}

FailureOr<Value> layerc::layer::buildConstraint(OpBuilder &b,
                                                func::FuncOp forward,
                                                unsigned i, Value w) {
  auto c = forward.getArgAttrOfType<DictionaryAttr>(i, kConstraintAttr);
  if (!c)
    return w;
  auto lo = floatField(forward, i, c, "min_value", 0.0);
  auto hi = floatField(forward, i, c, "max_value", 1.0);
  auto rate = floatField(forward, i, c, "rate", 1.0);
  if (failed(lo) || failed(hi) || failed(rate))
    return failure();
  auto axes = c.getAs<DenseI64ArrayAttr>("axes");
  auto op = createInferred<ConstrainOp>(
      b, w.getLoc(), elementTypeOf(w), 1, w,
      ConstraintAttr::get(
          b.getContext(),
          *symbolizeConstraint(c.getAs<StringAttr>("kind").getValue())),
      axes ? axes : b.getDenseI64ArrayAttr({}), b.getF64FloatAttr(*lo),
      b.getF64FloatAttr(*hi), b.getF64FloatAttr(*rate));
  if (!op)
    return failure();
  return op.getResult();
}

void layerc::layer::registerRegularizerGradients(MLIRContext *ctx) {
  WeightPenaltyOp::attachInterface<
      GradientModel<WeightPenaltyGrad, WeightPenaltyOp>>(*ctx);
}
