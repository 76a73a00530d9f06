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

/// The learning rate of this step, once per update: constant, or Keras's
/// ExponentialDecay of the 0-based iteration (`step` is 1-based).
Value learningRate(Scalar &o, double lr, Value step, double decaySteps,
                   double decayRate, bool staircase) {
  if (decaySteps <= 0.0)
    return o.c(lr);
  Value t = tensor::ExtractOp::create(o.b, o.l, step, ValueRange{});
  Value e = o.div(o.sub(t, o.c(1.0)), o.c(decaySteps));
  if (staircase)
    e = math::FloorOp::create(o.b, o.l, e);
  return o.mul(o.c(lr), o.pow(o.c(decayRate), e));
}

/// Keras's decoupled weight decay, applied before the update:
/// w - w * weight_decay * lr.
Value decayed(Scalar &s, Value w, double weightDecay, Value lr) {
  if (weightDecay == 0.0)
    return w;
  return s.sub(w, s.mul(w, s.mul(s.c(weightDecay), lr)));
}

struct SGDLowering : RankedLowering<SGDUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(SGDUpdateOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double momentum = op.getMomentum().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    bool nesterov = op.getNesterov();
    Scalar o{rewriter, op.getLoc(), type.getElementType()};
    Value lr =
        learningRate(o, op.getLearningRate().convertToDouble(),
                     adaptor.getStep(), op.getDecaySteps().convertToDouble(),
                     op.getDecayRate().convertToDouble(), op.getStaircase());
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type, type},
            ValueRange{adaptor.getParam(), adaptor.getGrad(),
                       adaptor.getVelocity()},
            adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value w = decayed(s, a[0], wd, lr);
              // v = momentum * v - lr * g; w = w + v, or with Nesterov
              // w = w + momentum * v - lr * g.
              Value v = s.sub(s.mul(s.c(momentum), a[2]), s.mul(lr, a[1]));
              Value step = nesterov
                               ? s.sub(s.mul(s.c(momentum), v), s.mul(lr, a[1]))
                               : v;
              return {s.add(w, step), v};
            }));
    return success();
  }
};

struct RMSpropLowering : RankedLowering<RMSpropUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(RMSpropUpdateOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double rho = op.getRho().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    bool centered = adaptor.getAverageGrad() != nullptr;
    Scalar o{rewriter, op.getLoc(), type.getElementType()};
    Value lr =
        learningRate(o, op.getLearningRate().convertToDouble(),
                     adaptor.getStep(), op.getDecaySteps().convertToDouble(),
                     op.getDecayRate().convertToDouble(), op.getStaircase());
    SmallVector<Value> inputs{adaptor.getParam(), adaptor.getGrad(),
                              adaptor.getAverage()};
    SmallVector<RankedTensorType> types{type, type};
    if (centered) {
      inputs.push_back(adaptor.getAverageGrad());
      types.push_back(type);
    }
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), types, inputs, adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value g = a[1];
              Value w = decayed(s, a[0], wd, lr);
              // a = rho a + (1 - rho) g^2; centered: mg = rho mg +
              // (1 - rho) g and the denominator loses mg^2;
              // w -= lr g / sqrt(denominator + eps).
              Value avg = s.add(s.mul(s.c(rho), a[2]),
                                s.mul(s.c(1.0 - rho), s.mul(g, g)));
              Value denominator = avg;
              Value mg;
              if (centered) {
                mg = s.add(s.mul(s.c(rho), a[3]), s.mul(s.c(1.0 - rho), g));
                denominator = s.sub(avg, s.mul(mg, mg));
              }
              Value step =
                  s.div(s.mul(lr, g), s.sqrt(s.add(denominator, s.c(eps))));
              SmallVector<Value> out{s.sub(w, step), avg};
              if (centered)
                out.push_back(mg);
              return out;
            }));
    return success();
  }
};

struct AdamLowering : RankedLowering<AdamUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(AdamUpdateOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double b1 = op.getBeta_1().convertToDouble();
    double b2 = op.getBeta_2().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    bool amsgrad = adaptor.getVHat() != nullptr;
    // alpha = lr sqrt(1 - b2^t) / (1 - b1^t), once per step.
    Scalar o{rewriter, loc, type.getElementType()};
    Value lr =
        learningRate(o, op.getLearningRate().convertToDouble(),
                     adaptor.getStep(), op.getDecaySteps().convertToDouble(),
                     op.getDecayRate().convertToDouble(), op.getStaircase());
    Value t = tensor::ExtractOp::create(rewriter, loc, adaptor.getStep(),
                                        ValueRange{});
    Value alpha = o.div(o.mul(lr, o.sqrt(o.sub(o.c(1.0), o.pow(o.c(b2), t)))),
                        o.sub(o.c(1.0), o.pow(o.c(b1), t)));
    SmallVector<Value> inputs{adaptor.getParam(), adaptor.getGrad(),
                              adaptor.getM(), adaptor.getV()};
    SmallVector<RankedTensorType> types{type, type, type};
    if (amsgrad) {
      inputs.push_back(adaptor.getVHat());
      types.push_back(type);
    }
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, types, inputs, adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value g = a[1];
              Value w = decayed(s, a[0], wd, lr);
              Value m = s.add(a[2], s.mul(s.sub(g, a[2]), s.c(1.0 - b1)));
              Value v =
                  s.add(a[3], s.mul(s.sub(s.mul(g, g), a[3]), s.c(1.0 - b2)));
              Value used = v;
              if (amsgrad)
                used = arith::MaximumFOp::create(b, l, a[4], v);
              w = s.sub(w,
                        s.div(s.mul(m, alpha), s.add(s.sqrt(used), s.c(eps))));
              SmallVector<Value> out{w, m, v};
              if (amsgrad)
                out.push_back(used);
              return out;
            }));
    return success();
  }
};

} // namespace

void codegen::populateOptimizerLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SGDLowering, RMSpropLowering, AdamLowering>(
      patterns.getContext());
}
