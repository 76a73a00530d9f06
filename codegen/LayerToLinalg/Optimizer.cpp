//===- Optimizer.cpp - Lowering of the optimizer updates
//-------------------===//
//
// Each update is one element-wise linalg.generic with one output per
// updated buffer (the parameter and its slots), so a parameter is read and
// written once per step. Scalars that depend only on the step (Adam's bias
// correction) are computed once, outside the loop.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

/// Scalar arithmetic on one element type, to keep update rules readable.
struct Scalar {
  OpBuilder &b;
  Location l;
  Type t;
  Value c(double v) { return floatConst(b, l, t, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, l, x, y); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, l, x); }
  Value pow(Value x, Value y) { return math::PowFOp::create(b, l, x, y); }
};

RankedTensorType rankedOrNull(Type t) { return dyn_cast<RankedTensorType>(t); }

struct SGDLowering : OpConversionPattern<SGDUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SGDUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedOrNull(op.getNewParam().getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    double lr = op.getLearningRate().convertToDouble();
    double momentum = op.getMomentum().convertToDouble();
    bool nesterov = op.getNesterov();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type, type},
            ValueRange{adaptor.getParam(), adaptor.getGrad(),
                       adaptor.getVelocity()},
            adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              // v = momentum * v - lr * g; w = w + v, or with Nesterov
              // w = w + momentum * v - lr * g.
              Value v = s.sub(s.mul(s.c(momentum), a[2]), s.mul(s.c(lr), a[1]));
              Value step = nesterov ? s.sub(s.mul(s.c(momentum), v),
                                            s.mul(s.c(lr), a[1]))
                                    : v;
              return {s.add(a[0], step), v};
            }));
    return success();
  }
};

struct RMSpropLowering : OpConversionPattern<RMSpropUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RMSpropUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedOrNull(op.getNewParam().getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    double lr = op.getLearningRate().convertToDouble();
    double rho = op.getRho().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), {type, type},
                        ValueRange{adaptor.getParam(), adaptor.getGrad(),
                                   adaptor.getAverage()},
                        adaptor.getParam(),
                        [&](OpBuilder &b, Location l,
                            ValueRange a) -> SmallVector<Value> {
                          Scalar s{b, l, type.getElementType()};
                          Value g = a[1];
                          // a = rho a + (1 - rho) g^2; w -= lr g / sqrt(a +
                          // eps).
                          Value avg = s.add(s.mul(s.c(rho), a[2]),
                                            s.mul(s.c(1.0 - rho), s.mul(g, g)));
                          Value step = s.div(s.mul(s.c(lr), g),
                                             s.sqrt(s.add(avg, s.c(eps))));
                          return {s.sub(a[0], step), avg};
                        }));
    return success();
  }
};

struct AdamLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedOrNull(op.getNewParam().getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    double lr = op.getLearningRate().convertToDouble();
    double b1 = op.getBeta_1().convertToDouble();
    double b2 = op.getBeta_2().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    // alpha = lr sqrt(1 - b2^t) / (1 - b1^t), once per step.
    Scalar o{rewriter, loc, type.getElementType()};
    Value t = tensor::ExtractOp::create(rewriter, loc, adaptor.getStep(),
                                        ValueRange{});
    Value alpha =
        o.div(o.mul(o.c(lr), o.sqrt(o.sub(o.c(1.0), o.pow(o.c(b2), t)))),
              o.sub(o.c(1.0), o.pow(o.c(b1), t)));
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type, type, type},
            ValueRange{adaptor.getParam(), adaptor.getGrad(), adaptor.getM(),
                       adaptor.getV()},
            adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value g = a[1];
              Value m = s.add(a[2], s.mul(s.sub(g, a[2]), s.c(1.0 - b1)));
              Value v =
                  s.add(a[3], s.mul(s.sub(s.mul(g, g), a[3]), s.c(1.0 - b2)));
              Value w = s.sub(
                  a[0], s.div(s.mul(m, alpha), s.add(s.sqrt(v), s.c(eps))));
              return {w, m, v};
            }));
    return success();
  }
};

} // namespace

void codegen::populateOptimizerLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SGDLowering, RMSpropLowering, AdamLowering>(
      patterns.getContext());
}
