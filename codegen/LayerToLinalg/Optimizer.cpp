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
#include "mlir/Dialect/SCF/IR/SCF.h"
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

/// The 1-based step as a scalar of the element type.
Value stepScalar(Scalar &o, Value step) {
  return tensor::ExtractOp::create(o.b, o.l, step, ValueRange{});
}

/// The learning rate of this step, once per update: constant, or Keras's
/// ExponentialDecay of the 0-based iteration (`step` is 1-based).
Value learningRate(Scalar &o, double lr, Value step, double decaySteps,
                   double decayRate, bool staircase) {
  if (decaySteps <= 0.0)
    return o.c(lr);
  Value e = o.div(o.sub(stepScalar(o, step), o.c(1.0)), o.c(decaySteps));
  if (staircase)
    e = math::FloorOp::create(o.b, o.l, e);
  return o.mul(o.c(lr), o.pow(o.c(decayRate), e));
}

/// The learning rate of `op` (any update op) at this step: its `lr`
/// operand, or its attributes' constant or ExponentialDecay.
template <typename OpT>
Value scheduledRate(Scalar &o, OpT op, typename OpT::Adaptor adaptor) {
  if (Value lr = adaptor.getLr())
    return tensor::ExtractOp::create(o.b, o.l, lr, ValueRange{});
  return learningRate(o, op.getLearningRate().convertToDouble(),
                      adaptor.getStep(), op.getDecaySteps().convertToDouble(),
                      op.getDecayRate().convertToDouble(), op.getStaircase());
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
    Value lr = scheduledRate(o, op, adaptor);
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
    Value lr = scheduledRate(o, op, adaptor);
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
    Value lr = scheduledRate(o, op, adaptor);
    Value t = stepScalar(o, adaptor.getStep());
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

struct AdagradLowering : RankedLowering<AdagradUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(AdagradUpdateOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double eps = op.getEpsilon().convertToDouble();
    double initial = op.getInitialAccumulatorValue().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    Scalar o{rewriter, op.getLoc(), type.getElementType()};
    Value lr = scheduledRate(o, op, adaptor);
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), {type, type},
                        ValueRange{adaptor.getParam(), adaptor.getGrad(),
                                   adaptor.getAccumulator()},
                        adaptor.getParam(),
                        [&](OpBuilder &b, Location l,
                            ValueRange a) -> SmallVector<Value> {
                          Scalar s{b, l, type.getElementType()};
                          Value g = a[1];
                          Value w = decayed(s, a[0], wd, lr);
                          // The slot is the accumulator less its initial value.
                          Value slot = s.add(a[2], s.mul(g, g));
                          Value acc = s.add(slot, s.c(initial));
                          Value step =
                              s.div(s.mul(lr, g), s.sqrt(s.add(acc, s.c(eps))));
                          return {s.sub(w, step), slot};
                        }));
    return success();
  }
};

struct AdadeltaLowering : RankedLowering<AdadeltaUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(AdadeltaUpdateOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double rho = op.getRho().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    Scalar o{rewriter, op.getLoc(), type.getElementType()};
    Value lr = scheduledRate(o, op, adaptor);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type, type, type},
            ValueRange{adaptor.getParam(), adaptor.getGrad(),
                       adaptor.getAccumulatedGrad(),
                       adaptor.getAccumulatedDelta()},
            adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value g = a[1];
              Value w = decayed(s, a[0], wd, lr);
              auto rms = [&](Value x) { return s.sqrt(s.add(x, s.c(eps))); };
              auto average = [&](Value old, Value x) {
                return s.add(s.mul(s.c(rho), old),
                             s.mul(s.c(1.0 - rho), s.mul(x, x)));
              };
              Value ag = average(a[2], g);
              // d = -rms(ad) g / rms(ag), with the old ad.
              Value d = s.sub(s.c(0.0), s.div(s.mul(rms(a[3]), g), rms(ag)));
              Value ad = average(a[3], d);
              return {s.add(w, s.mul(lr, d)), ag, ad};
            }));
    return success();
  }
};

struct AdamaxLowering : RankedLowering<AdamaxUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(AdamaxUpdateOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double b1 = op.getBeta_1().convertToDouble();
    double b2 = op.getBeta_2().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    Scalar o{rewriter, op.getLoc(), type.getElementType()};
    Value lr = scheduledRate(o, op, adaptor);
    // lr / (1 - b1^t), once per step.
    Value alpha = o.div(
        lr, o.sub(o.c(1.0), o.pow(o.c(b1), stepScalar(o, adaptor.getStep()))));
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type, type, type},
            ValueRange{adaptor.getParam(), adaptor.getGrad(), adaptor.getM(),
                       adaptor.getU()},
            adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value g = a[1];
              Value w = decayed(s, a[0], wd, lr);
              Value m = s.add(a[2], s.mul(s.sub(g, a[2]), s.c(1.0 - b1)));
              Value u = arith::MaximumFOp::create(
                  b, l, s.mul(s.c(b2), a[3]), math::AbsFOp::create(b, l, g));
              w = s.sub(w, s.div(s.mul(alpha, m), s.add(u, s.c(eps))));
              return {w, m, u};
            }));
    return success();
  }
};

struct NadamLowering : RankedLowering<NadamUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(NadamUpdateOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double b1 = op.getBeta_1().convertToDouble();
    double b2 = op.getBeta_2().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    Scalar o{rewriter, loc, type.getElementType()};
    Value lr = scheduledRate(o, op, adaptor);
    Value t = stepScalar(o, adaptor.getStep());
    // mu(i) = b1 (1 - 0.5 * 0.96^i); the product mu(1) ... mu(t) is a loop
    // over the steps so far, once per update (t scalar multiplications).
    auto mu = [&](Scalar &s, Value i) {
      return s.mul(s.c(b1),
                   s.sub(s.c(1.0), s.mul(s.c(0.5), s.pow(s.c(0.96), i))));
    };
    Type index = rewriter.getIndexType();
    Value count = arith::IndexCastOp::create(
        rewriter, loc, index,
        arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(), t));
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, count, one, ValueRange{o.c(1.0)},
        [&](OpBuilder &b, Location l, Value iv, ValueRange acc) {
          Scalar s{b, l, type.getElementType()};
          Value i = arith::UIToFPOp::create(
              b, l, type.getElementType(),
              arith::IndexCastUIOp::create(b, l, b.getI64Type(), iv));
          scf::YieldOp::create(
              b, l, ValueRange{s.mul(acc[0], mu(s, s.add(i, s.c(1.0))))});
        });
    Value product = loop.getResult(0);
    Value muT = mu(o, t), muNext = mu(o, o.add(t, o.c(1.0)));
    // m_hat = cm m + cg g; v_hat = v / (1 - b2^t).
    Value cm = o.div(muNext, o.sub(o.c(1.0), o.mul(product, muNext)));
    Value cg = o.div(o.sub(o.c(1.0), muT), o.sub(o.c(1.0), product));
    Value vScale = o.div(o.c(1.0), o.sub(o.c(1.0), o.pow(o.c(b2), t)));
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
              Value w = decayed(s, a[0], wd, lr);
              Value m = s.add(a[2], s.mul(s.sub(g, a[2]), s.c(1.0 - b1)));
              Value v =
                  s.add(a[3], s.mul(s.sub(s.mul(g, g), a[3]), s.c(1.0 - b2)));
              Value mHat = s.add(s.mul(cm, m), s.mul(cg, g));
              Value vHat = s.mul(v, vScale);
              w = s.sub(w,
                        s.div(s.mul(mHat, lr), s.add(s.sqrt(vHat), s.c(eps))));
              return {w, m, v};
            }));
    return success();
  }
};

struct LionLowering : RankedLowering<LionUpdateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(LionUpdateOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double b1 = op.getBeta_1().convertToDouble();
    double b2 = op.getBeta_2().convertToDouble();
    double wd = op.getWeightDecay().convertToDouble();
    Scalar o{rewriter, op.getLoc(), type.getElementType()};
    Value lr = scheduledRate(o, op, adaptor);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type, type},
            ValueRange{adaptor.getParam(), adaptor.getGrad(), adaptor.getM()},
            adaptor.getParam(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, type.getElementType()};
              Value g = a[1];
              Value w = decayed(s, a[0], wd, lr);
              Value c = s.add(s.mul(a[2], s.c(b1)), s.mul(g, s.c(1.0 - b1)));
              // sign(c), 0 at 0 (math.copysign would give +-1).
              Value pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                                c, s.c(0.0));
              Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT,
                                                c, s.c(0.0));
              Value sign = arith::SelectOp::create(
                  b, l, pos, s.c(1.0),
                  arith::SelectOp::create(b, l, neg, s.c(-1.0), s.c(0.0)));
              Value m = s.add(s.mul(a[2], s.c(b2)), s.mul(g, s.c(1.0 - b2)));
              return {s.sub(w, s.mul(lr, sign)), m};
            }));
    return success();
  }
};

struct ClipGradientsLowering : OpConversionPattern<ClipGradientsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ClipGradientsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    for (Type t : op->getResultTypes())
      if (!isa<RankedTensorType>(t))
        return rewriter.notifyMatchFailure(op, "shapes not inferred");
    double norm = op.getClipnorm().convertToDouble();
    double value = op.getClipvalue().convertToDouble();
    double global = op.getGlobalClipnorm().convertToDouble();
    ValueRange grads = adaptor.getGrads();
    if (grads.empty()) {
      rewriter.replaceOp(op, ValueRange{});
      return success();
    }
    Type et = cast<RankedTensorType>(grads[0].getType()).getElementType();
    Scalar o{rewriter, loc, et};
    auto squared = [](OpBuilder &b, Location l, Value x) {
      return arith::MulFOp::create(b, l, x, x).getResult();
    };
    auto sumOfSquares = [&](Value g) {
      return tensor::ExtractOp::create(
          rewriter, loc, sumAll(rewriter, loc, g, squared), ValueRange{});
    };
    // Every gradient times one scalar (clipnorm: its own).
    auto scaled = [&](Value g, Value scale) {
      auto type = cast<RankedTensorType>(g.getType());
      return elementwise(
          rewriter, loc, {type}, ValueRange{g}, g,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::MulFOp::create(b, l, a[0], scale)};
          })[0];
    };
    SmallVector<Value> clipped;
    if (global > 0) {
      Value total = o.c(0.0);
      for (Value g : grads)
        total = o.add(total, sumOfSquares(g));
      // c * min(1 / N, 1 / c), plus N - N to turn an infinite or NaN norm
      // into NaN.
      Value n = o.sqrt(total);
      Value scale = o.add(
          o.mul(o.c(global),
                arith::MinimumFOp::create(rewriter, loc, o.div(o.c(1.0), n),
                                          o.c(1.0 / global))),
          o.sub(n, n));
      for (Value g : grads)
        clipped.push_back(scaled(g, scale));
    } else if (norm > 0) {
      for (Value g : grads) {
        // g c / max(|g|, c); a zero gradient stays zero.
        Value n = o.sqrt(sumOfSquares(g));
        clipped.push_back(scaled(
            g, o.div(o.c(norm),
                     arith::MaximumFOp::create(rewriter, loc, n, o.c(norm)))));
      }
    } else {
      for (Value g : grads) {
        auto type = cast<RankedTensorType>(g.getType());
        clipped.push_back(elementwise(
            rewriter, loc, {type}, ValueRange{g}, g,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar s{b, l, et};
              Value lo = arith::MaximumFOp::create(b, l, a[0], s.c(-value));
              return {arith::MinimumFOp::create(b, l, lo, s.c(value))};
            })[0]);
      }
    }
    rewriter.replaceOp(op, clipped);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Regularizers and constraints
//===----------------------------------------------------------------------===//

/// sign(w) as a float: 1, -1, or 0 at 0.
Value sign(Scalar &o, Value w) {
  Value pos =
      arith::CmpFOp::create(o.b, o.l, arith::CmpFPredicate::OGT, w, o.c(0.0));
  Value neg =
      arith::CmpFOp::create(o.b, o.l, arith::CmpFPredicate::OLT, w, o.c(0.0));
  return arith::SelectOp::create(
      o.b, o.l, pos, o.c(1.0),
      arith::SelectOp::create(o.b, o.l, neg, o.c(-1.0), o.c(0.0)));
}

/// The size of axis 0 of `v` as a float of type `et`.
Value batchSizeAsFloat(OpBuilder &b, Location loc, Value v, Type et) {
  Value n = tensor::DimOp::create(b, loc, v, 0);
  n = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), n);
  return arith::UIToFPOp::create(b, loc, et, n);
}

/// l1 * sum |w| + l2 * sum w^2, one pass; divided by the batch with
/// per_sample.
struct WeightPenaltyLowering : RankedLowering<WeightPenaltyOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(WeightPenaltyOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double l1 = op.getL1().convertToDouble(), l2 = op.getL2().convertToDouble();
    Location loc = op.getLoc();
    Type et = type.getElementType();
    Value w = adaptor.getWeight();
    Value sum = sumAll(
        rewriter, loc, w, [&](OpBuilder &b, Location l, Value x) -> Value {
          Scalar o{b, l, et};
          return o.add(o.mul(o.c(l1), math::AbsFOp::create(b, l, x)),
                       o.mul(o.c(l2), o.mul(x, x)));
        });
    if (op.getPerSample()) {
      Value total = tensor::ExtractOp::create(rewriter, loc, sum, ValueRange{});
      total = arith::DivFOp::create(rewriter, loc, total,
                                    batchSizeAsFloat(rewriter, loc, w, et));
      sum = tensor::FromElementsOp::create(
          rewriter, loc, RankedTensorType::get({}, et), ValueRange{total});
    }
    rewriter.replaceOp(op, sum);
    return success();
  }
};

struct WeightPenaltyGradLowering : RankedLowering<WeightPenaltyGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(WeightPenaltyGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double l1 = op.getL1().convertToDouble(), l2 = op.getL2().convertToDouble();
    Location loc = op.getLoc();
    Value g = tensor::ExtractOp::create(rewriter, loc, adaptor.getGrad(),
                                        ValueRange{});
    if (op.getPerSample())
      g = arith::DivFOp::create(rewriter, loc, g,
                                batchSizeAsFloat(rewriter, loc,
                                                 adaptor.getWeight(),
                                                 type.getElementType()));
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, {type}, ValueRange{adaptor.getWeight()},
                        adaptor.getWeight(),
                        [&](OpBuilder &b, Location l,
                            ValueRange a) -> SmallVector<Value> {
                          Scalar o{b, l, type.getElementType()};
                          return {o.mul(g, o.add(o.mul(o.c(l1), sign(o, a[0])),
                                                 o.mul(o.c(2.0 * l2), a[0])))};
                        }));
    return success();
  }
};

/// The constraint's factor from the norm n: max_norm min(n, hi) / (eps +
/// n), min_max_norm (rate clip(n, lo, hi) + (1 - rate) n) / (eps + n),
/// unit_norm 1 / (eps + n). Keras's epsilon is 1e-7.
struct ConstrainLowering : RankedLowering<ConstrainOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ConstrainOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value w = adaptor.getWeight();
    Type et = type.getElementType();
    Constraint kind = op.getKind();
    if (kind == Constraint::NonNeg) {
      rewriter.replaceOp(op,
                         elementwise(rewriter, loc, {type}, ValueRange{w}, w,
                                     [&](OpBuilder &b, Location l,
                                         ValueRange a) -> SmallVector<Value> {
                                       Scalar o{b, l, et};
                                       Value keep = arith::CmpFOp::create(
                                           b, l, arith::CmpFPredicate::OGE,
                                           a[0], o.c(0.0));
                                       return {arith::SelectOp::create(
                                           b, l, keep, a[0], o.c(0.0))};
                                     }));
      return success();
    }
    // Sums of squares over the axes, kept as size-1 axes, then w times the
    // factor of its norm.
    int64_t rank = type.getRank();
    SmallVector<int64_t> reducedShape(type.getShape());
    SmallVector<AffineExpr> reducedExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      bool axis = llvm::is_contained(op.getAxes(), d);
      if (axis)
        reducedShape[d] = 1;
      reducedExprs.push_back(axis ? rewriter.getAffineConstantExpr(0)
                                  : rewriter.getAffineDimExpr(d));
      iterators.push_back(axis ? utils::IteratorType::reduction
                               : utils::IteratorType::parallel);
    }
    auto reducedType = RankedTensorType::get(reducedShape, et);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reducedMap =
        AffineMap::get(rank, 0, reducedExprs, rewriter.getContext());
    Value zeros = filledLike(rewriter, loc, reducedType, w, 0.0);
    Value squares =
        linalg::GenericOp::create(
            rewriter, loc, reducedType, ValueRange{w}, ValueRange{zeros},
            ArrayRef<AffineMap>{id, reducedMap}, iterators,
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value sq = arith::MulFOp::create(b, l, a[0], a[0]);
              linalg::YieldOp::create(b, l, addF(b, l, a[1], sq));
            })
            .getResult(0);
    double lo = op.getMinValue().convertToDouble(),
           hi = op.getMaxValue().convertToDouble(),
           rate = op.getRate().convertToDouble();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type}, ValueRange{w, squares}, w,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Scalar o{b, l, et};
              Value n = o.sqrt(a[1]);
              Value desired = o.c(1.0);
              if (kind == Constraint::MaxNorm)
                desired = arith::MinimumFOp::create(b, l, n, o.c(hi));
              if (kind == Constraint::MinMaxNorm) {
                Value clipped = arith::MinimumFOp::create(
                    b, l, arith::MaximumFOp::create(b, l, n, o.c(lo)), o.c(hi));
                desired =
                    o.add(o.mul(o.c(rate), clipped), o.mul(o.c(1.0 - rate), n));
              }
              return {o.mul(a[0], o.div(desired, o.add(o.c(1e-7), n)))};
            },
            {id, reducedMap}));
    return success();
  }
};

} // namespace

void codegen::populateOptimizerLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SGDLowering, RMSpropLowering, AdamLowering, AdagradLowering,
               AdadeltaLowering, AdamaxLowering, NadamLowering, LionLowering,
               ClipGradientsLowering, WeightPenaltyLowering,
               WeightPenaltyGradLowering, ConstrainLowering>(
      patterns.getContext());
}
