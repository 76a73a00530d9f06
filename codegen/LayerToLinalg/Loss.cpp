//===- Loss.cpp - Lowering of losses and their gradients
//-------------------===//
//
// Keras's losses, averaged over the samples (every dim but the classes for
// cross-entropies, every element for mean_squared_error). From logits the
// cross-entropies use a stable log-sum-exp; from probabilities they follow
// Keras: p is normalised by its row sum and clipped to [1e-7, 1 - 1e-7], and
// the clip passes no gradient where it is active (as TensorFlow's
// clip_by_value). The integer label's column is selected with linalg.index,
// so nothing gathers. With sample weights, each sample's terms (and their
// gradients) are multiplied by its weight and divided by the same count,
// as Keras's sum_over_batch_size reduction.
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

constexpr double kEpsilon = 1e-7; // Keras's backend epsilon

using ScalarFn = std::function<Value(OpBuilder &, Location, ValueRange)>;

Value add(OpBuilder &b, Location l, Value x, Value y) {
  return arith::AddFOp::create(b, l, x, y);
}
Value sub(OpBuilder &b, Location l, Value x, Value y) {
  return arith::SubFOp::create(b, l, x, y);
}
Value mul(OpBuilder &b, Location l, Value x, Value y) {
  return arith::MulFOp::create(b, l, x, y);
}
Value div(OpBuilder &b, Location l, Value x, Value y) {
  return arith::DivFOp::create(b, l, x, y);
}

auto sumCombine = [](OpBuilder &b, Location l, Value acc, Value v) {
  return add(b, l, acc, v);
};

/// True (i1) where the class index along the last axis equals the label.
Value isLabel(OpBuilder &b, Location l, int64_t classAxis, Value label) {
  Value c = linalg::IndexOp::create(b, l, classAxis);
  Value ci = arith::IndexCastOp::create(b, l, label.getType(), c);
  return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, ci, label);
}

/// 1.0 where eps <= q <= 1 - eps (the clip is inactive), else 0.0.
Value unclipped(OpBuilder &b, Location l, Value q) {
  Type t = q.getType();
  Value lo = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, q,
                                   floatConst(b, l, t, kEpsilon));
  Value hi = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, q,
                                   floatConst(b, l, t, 1.0 - kEpsilon));
  Value both = arith::AndIOp::create(b, l, lo, hi);
  return arith::SelectOp::create(b, l, both, floatConst(b, l, t, 1.0),
                                 floatConst(b, l, t, 0.0));
}

Value clip(OpBuilder &b, Location l, Value q) {
  Type t = q.getType();
  Value lo = arith::MaximumFOp::create(b, l, q, floatConst(b, l, t, kEpsilon));
  return arith::MinimumFOp::create(b, l, lo,
                                   floatConst(b, l, t, 1.0 - kEpsilon));
}

/// A rank-0 tensor holding `scale * total[]`.
Value scaleScalar(OpBuilder &b, Location loc, Value total, Value scale) {
  auto type = cast<RankedTensorType>(total.getType());
  return elementwise(
      b, loc, {type}, ValueRange{total}, total,
      [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {mul(nb, l, a[0], scale)};
      })[0];
}

/// `x` with each sample's elements (index n on axis 0) multiplied by
/// weights[n]: Keras's per-sample weighting of a loss or of its gradient.
Value weighBySample(OpBuilder &b, Location loc, Value x, Value weights) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap batch = AffineMap::get(rank, 0, getAffineDimExpr(0, ctx));
  return elementwise(
      b, loc, {type}, ValueRange{x, weights}, x,
      [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        Value w = a[1];
        Type et = a[0].getType();
        if (w.getType() != et)
          w = w.getType().getIntOrFloatBitWidth() < et.getIntOrFloatBitWidth()
                  ? Value(arith::ExtFOp::create(nb, l, et, w))
                  : Value(arith::TruncFOp::create(nb, l, et, w));
        return {mul(nb, l, a[0], w)};
      },
      {id, batch})[0];
}

/// The per-element losses averaged over every element, as Keras:
/// binary cross-entropy from logits z, TensorFlow's stable
/// max(z, 0) - z t + log(1 + exp(-|z|)); from probabilities,
/// -(t log(q + eps) + (1 - t) log(1 - q + eps)) with q = clip(p); and the
/// absolute error |p - t|.
Value elementLoss(OpBuilder &b, Location l, Loss loss, bool fromLogits, Value p,
                  Value t) {
  Type et = p.getType();
  Value one = floatConst(b, l, et, 1.0);
  if (loss == Loss::MeanAbsoluteError)
    return math::AbsFOp::create(b, l, sub(b, l, p, t));
  if (fromLogits) {
    Value relu = arith::MaximumFOp::create(b, l, p, floatConst(b, l, et, 0.0));
    Value soft = math::Log1pOp::create(
        b, l,
        math::ExpOp::create(
            b, l, arith::NegFOp::create(b, l, math::AbsFOp::create(b, l, p))));
    return add(b, l, sub(b, l, relu, mul(b, l, p, t)), soft);
  }
  Value eps = floatConst(b, l, et, kEpsilon);
  Value q = clip(b, l, p);
  Value pos = mul(b, l, t, math::LogOp::create(b, l, add(b, l, q, eps)));
  Value neg = mul(b, l, sub(b, l, one, t),
                  math::LogOp::create(b, l, add(b, l, sub(b, l, one, q), eps)));
  return arith::NegFOp::create(b, l, add(b, l, pos, neg));
}

/// d elementLoss / d p.
Value elementLossGrad(OpBuilder &b, Location l, Loss loss, bool fromLogits,
                      Value p, Value t) {
  Type et = p.getType();
  Value zero = floatConst(b, l, et, 0.0), one = floatConst(b, l, et, 1.0);
  if (loss == Loss::MeanAbsoluteError) {
    // sign(p - t), 0 where they are equal (TensorFlow's abs gradient).
    Value d = sub(b, l, p, t);
    Value pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, d, zero);
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, d, zero);
    return arith::SelectOp::create(
        b, l, pos, one,
        arith::SelectOp::create(b, l, neg, floatConst(b, l, et, -1.0), zero));
  }
  if (fromLogits)
    return sub(b, l, activationScalar(b, l, Activation::Sigmoid, p), t);
  // -(t / (q + eps) - (1 - t) / (1 - q + eps)) where the clip is inactive.
  Value eps = floatConst(b, l, et, kEpsilon);
  Value q = clip(b, l, p);
  Value d =
      sub(b, l, div(b, l, sub(b, l, one, t), add(b, l, sub(b, l, one, q), eps)),
          div(b, l, t, add(b, l, q, eps)));
  return mul(b, l, d, unclipped(b, l, p));
}

/// The per-sample cross-entropy (rank of pred minus one).
Value crossEntropyPerSample(OpBuilder &b, Location loc, Loss loss,
                            bool fromLogits, Value pred, Value target) {
  int64_t axis = cast<RankedTensorType>(pred.getType()).getRank() - 1;
  bool sparse = loss == Loss::SparseCategoricalCrossentropy;
  // Logits: sum_c t_c (lse - z_c); sparse t is the label's indicator.
  // Probabilities: -sum_c t_c log(clip(p_c / S)).
  Value norm = fromLogits ? logSumExp(b, loc, pred)
                          : reduceAxis(b, loc, pred, axis, 0.0, sumCombine);
  ScalarFn term = [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
    Value p = a[0], t = a[1], n = a[2];
    if (sparse)
      t = arith::SelectOp::create(nb, l, isLabel(nb, l, axis, t),
                                  floatConst(nb, l, p.getType(), 1.0),
                                  floatConst(nb, l, p.getType(), 0.0));
    if (fromLogits)
      return mul(nb, l, t, sub(nb, l, n, p));
    Value logq = math::LogOp::create(nb, l, clip(nb, l, div(nb, l, p, n)));
    return arith::NegFOp::create(nb, l, mul(nb, l, t, logq));
  };
  return reduceAxis(b, loc, pred, axis, 0.0, sumCombine,
                    ValueRange{target, norm}, term);
}

struct LossLowering : RankedLowering<LossOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(LossOp op, OpAdaptor adaptor, RankedTensorType,
                      ConversionPatternRewriter &rewriter) const override {
    auto predType =
        dyn_cast<RankedTensorType>(adaptor.getPrediction().getType());
    if (!predType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value pred = adaptor.getPrediction(), target = adaptor.getTarget();
    Value weights = adaptor.getSampleWeight();
    Type et = predType.getElementType();
    Loss loss = op.getLoss();
    // Keras's sum_over_batch_size: each sample's terms times its weight,
    // divided by the same count as without weights (not by their sum).
    auto weigh = [&](Value terms) {
      return weights ? weighBySample(rewriter, loc, terms, weights) : terms;
    };
    Value total, count;
    if (loss == Loss::BinaryCrossentropy || loss == Loss::MeanAbsoluteError) {
      bool logits = op.getFromLogits();
      Value terms = elementwise(
          rewriter, loc, {predType}, ValueRange{pred, target}, pred,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {elementLoss(b, l, loss, logits, a[0], a[1])};
          })[0];
      total = sumAll(rewriter, loc, weigh(terms));
      count = countAsFloat(rewriter, loc, pred, et, /*allDims=*/true);
    } else if (loss == Loss::MeanSquaredError) {
      Value sq = elementwise(
          rewriter, loc, {predType}, ValueRange{pred, target}, pred,
          [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value d = sub(b, l, a[0], a[1]);
            return {mul(b, l, d, d)};
          })[0];
      total = sumAll(rewriter, loc, weigh(sq));
      count = countAsFloat(rewriter, loc, pred, et, /*allDims=*/true);
    } else {
      if (loss == Loss::SparseCategoricalCrossentropy) {
        // A label outside the classes would select no column and add 0 to
        // the loss: refuse it, as fit() does.
        int64_t classAxis = predType.getRank() - 1;
        Value classes = tensor::DimOp::create(rewriter, loc, pred, classAxis);
        assertAllInRange(rewriter, loc, target, classes,
                         "sparse_categorical_crossentropy: a label is not in "
                         "[0, classes) for predictions of shape " +
                             formatShape(predType));
      }
      if (weights && predType.getRank() < 2)
        return op.emitOpError("sample weights need a batch axis besides the "
                              "classes, got predictions of shape ")
               << formatShape(predType);
      total =
          sumAll(rewriter, loc,
                 weigh(crossEntropyPerSample(
                     rewriter, loc, loss, op.getFromLogits(), pred, target)));
      count = countAsFloat(rewriter, loc, pred, et, /*allDims=*/false);
    }
    Value inv = div(rewriter, loc, floatConst(rewriter, loc, et, 1.0), count);
    rewriter.replaceOp(op, scaleScalar(rewriter, loc, total, inv));
    return success();
  }
};

struct LossGradLowering : RankedLowering<LossGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(LossGradOp op, OpAdaptor adaptor, RankedTensorType,
                      ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(adaptor.getPrediction().getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value pred = adaptor.getPrediction(), target = adaptor.getTarget();
    Type et = type.getElementType();
    int64_t rank = type.getRank(), axis = rank - 1;
    Loss loss = op.getLoss();
    bool sparse = loss == Loss::SparseCategoricalCrossentropy;
    bool mse = loss == Loss::MeanSquaredError;
    bool elementwiseLoss =
        loss == Loss::BinaryCrossentropy || loss == Loss::MeanAbsoluteError;

    // g = dloss / count, one scalar.
    Value dloss = tensor::ExtractOp::create(rewriter, loc, adaptor.getDloss(),
                                            ValueRange{});
    Value count = countAsFloat(rewriter, loc, pred, et,
                               /*allDims=*/mse || elementwiseLoss);
    Value g = div(rewriter, loc, dloss, count);

    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap bcast = dropAxisMap(rewriter.getContext(), rank, axis);
    AffineMap targetMap = sparse ? bcast : id;
    auto one = [&](OpBuilder &b, Location l) {
      return floatConst(b, l, et, 1.0);
    };
    auto indicator = [&](OpBuilder &b, Location l, Value t) -> Value {
      if (!sparse)
        return t;
      return arith::SelectOp::create(b, l, isLabel(b, l, axis, t), one(b, l),
                                     floatConst(b, l, et, 0.0));
    };

    Value result;
    if (elementwiseLoss) {
      bool logits = op.getFromLogits();
      result = elementwise(
          rewriter, loc, {type}, ValueRange{pred, target}, pred,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {
                mul(b, l, elementLossGrad(b, l, loss, logits, a[0], a[1]), g)};
          })[0];
    } else if (mse) {
      result = elementwise(
          rewriter, loc, {type}, ValueRange{pred, target}, pred,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value d = sub(b, l, a[0], a[1]);
            return {mul(b, l, mul(b, l, d, floatConst(b, l, et, 2.0)), g)};
          })[0];
    } else if (op.getFromLogits()) {
      // d/dz sum_c t_c (lse - z_c) = T softmax - t, with T = sum_c t_c.
      Value sm = softmax(rewriter, loc, pred);
      Value tsum =
          sparse ? Value()
                 : reduceAxis(rewriter, loc, target, axis, 0.0, sumCombine);
      SmallVector<Value> ins{sm, target};
      SmallVector<AffineMap> maps{id, targetMap};
      if (tsum) {
        ins.push_back(tsum);
        maps.push_back(bcast);
      }
      result = elementwise(
          rewriter, loc, {type}, ins, pred,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value weighted = tsum ? mul(b, l, a[2], a[0]) : a[0];
            return {mul(b, l, sub(b, l, weighted, indicator(b, l, a[1])), g)};
          },
          maps)[0];
    } else {
      // L = -sum_c t_c log(clip(p_c / S)): dL/dp_j = -t_j u_j / p_j +
      // (sum_c t_c u_c) / S, u = 1 where the clip is inactive.
      Value s = reduceAxis(rewriter, loc, pred, axis, 0.0, sumCombine);
      Value tu = reduceAxis(
          rewriter, loc, pred, axis, 0.0, sumCombine, ValueRange{target, s},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            return mul(b, l, indicator(b, l, a[1]),
                       unclipped(b, l, div(b, l, a[0], a[2])));
          });
      result = elementwise(
          rewriter, loc, {type}, ValueRange{pred, target, s, tu}, pred,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value p = a[0], t = indicator(b, l, a[1]), sv = a[2], tuv = a[3];
            Value u = unclipped(b, l, div(b, l, p, sv));
            // Where the clip is active (u = 0, p may be exactly 0) the term
            // is 0: divide by 1 there instead of by p.
            Value active = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ, u, floatConst(b, l, et, 0.0));
            Value safeP = arith::SelectOp::create(b, l, active, one(b, l), p);
            Value own = div(b, l, mul(b, l, t, u), safeP);
            return {mul(b, l, sub(b, l, div(b, l, tuv, sv), own), g)};
          },
          {id, targetMap, bcast, bcast})[0];
    }
    // Sample n's loss is weighted by w[n]: so is its gradient.
    if (Value weights = adaptor.getSampleWeight()) {
      if (!mse && !elementwiseLoss && rank < 2)
        return op.emitOpError("sample weights need a batch axis besides the "
                              "classes, got predictions of shape ")
               << formatShape(type);
      result = weighBySample(rewriter, loc, result, weights);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void codegen::populateLossLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LossLowering, LossGradLowering>(patterns.getContext());
}
