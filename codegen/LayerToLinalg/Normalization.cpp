//===- Normalization.cpp - Lowering of batch normalization ----------------===//
//
// batch_norm in inference (moving statistics) folds into one scale and
// shift per channel, then one element-wise generic. Training mode reaches
// here as moments (two passes: the mean, then the variance about it) and
// the element-wise ops around them; moments_grad and batch_norm_grad are
// per-channel sums (sumToChannels) and element-wise generics.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

/// batch_norm: x * inv + (beta - mean * inv), inv = gamma / sqrt(var + eps),
/// as tf.nn.batch_normalization computes it.
struct BatchNormLowering : RankedLowering<BatchNormOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(BatchNormOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type et = type.getElementType();
    double eps = op.getEpsilon().convertToDouble();
    SmallVector<Value> params{adaptor.getMovingMean(),
                              adaptor.getMovingVariance()};
    bool hasGamma = static_cast<bool>(adaptor.getGamma());
    bool hasBeta = static_cast<bool>(adaptor.getBeta());
    if (hasGamma)
      params.push_back(adaptor.getGamma());
    if (hasBeta)
      params.push_back(adaptor.getBeta());
    auto vecType = cast<RankedTensorType>(params[0].getType());
    SmallVector<Value> scaleShift = elementwise(
        rewriter, loc, {vecType, vecType}, params, params[0],
        [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value inv = math::RsqrtOp::create(
              b, l, addF(b, l, a[1], floatConst(b, l, et, eps)));
          if (hasGamma)
            inv = arith::MulFOp::create(b, l, inv, a[2]);
          Value shift = arith::NegFOp::create(
              b, l, arith::MulFOp::create(b, l, a[0], inv));
          if (hasBeta)
            shift = addF(b, l, shift, a[hasGamma ? 3 : 2]);
          return {inv, shift};
        });
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(
        rank, 0, {rewriter.getAffineDimExpr(rank - 1)}, rewriter.getContext());
    Value x = adaptor.getInput();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type}, ValueRange{x, scaleShift[0], scaleShift[1]},
            x,
            [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              return {
                  addF(b, l, arith::MulFOp::create(b, l, a[0], a[1]), a[2])};
            },
            {rewriter.getMultiDimIdentityMap(rank), channel, channel}));
    return success();
  }
};

/// moments: the mean, then the mean of squared deviations from it (two
/// passes over the input, as a numerically safe variance needs).
struct MomentsLowering : RankedLowering<MomentsOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(MomentsOp op, OpAdaptor adaptor, RankedTensorType vecType,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Type et = vecType.getElementType();
    Value count = countAsFloat(rewriter, loc, x, et, /*allDims=*/false);
    auto divideByCount = [&](Value sum) {
      return elementwise(
          rewriter, loc, {vecType}, ValueRange{sum}, sum,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, a[0], count)};
          })[0];
    };
    Value mean = divideByCount(sumToChannels(
        rewriter, loc, x, ValueRange{x}, 1,
        [](OpBuilder &, Location, ValueRange a) -> SmallVector<Value> {
          return {a[0]};
        })[0]);
    Value variance = divideByCount(sumToChannels(
        rewriter, loc, x, ValueRange{x, mean}, 1,
        [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value d = arith::SubFOp::create(b, l, a[0], a[1]);
          return {arith::MulFOp::create(b, l, d, d)};
        })[0]);
    rewriter.replaceOp(op, {mean, variance});
    return success();
  }
};

/// moments_grad: (dmean + 2 dvariance (x - mean)) / count.
struct MomentsGradLowering : RankedLowering<MomentsGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(MomentsGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Type et = type.getElementType();
    Value count = countAsFloat(rewriter, loc, x, et, /*allDims=*/false);
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(
        rank, 0, {rewriter.getAffineDimExpr(rank - 1)}, rewriter.getContext());
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type},
            ValueRange{x, adaptor.getMean(), adaptor.getMeanGrad(),
                       adaptor.getVarianceGrad()},
            x,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Value d = arith::SubFOp::create(b, l, a[0], a[1]);
              Value twoDv =
                  arith::MulFOp::create(b, l, a[3], floatConst(b, l, et, 2.0));
              Value sum =
                  addF(b, l, a[2], arith::MulFOp::create(b, l, twoDv, d));
              return {arith::DivFOp::create(b, l, sum, count)};
            },
            {id, channel, channel, channel}));
    return success();
  }
};

/// batch_norm_grad: two per-channel sums, S1 = sum(dy) and
/// S2 = sum(dy (x - mean)), give every channel gradient; dx is dy scaled by
/// gamma / sqrt(variance + epsilon).
struct BatchNormGradLowering : RankedLowering<BatchNormGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(BatchNormGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    auto vecType = dyn_cast<RankedTensorType>(op.getMeanGrad().getType());
    if (!vecType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Type et = type.getElementType();
    double eps = op.getEpsilon().convertToDouble();
    Value dy = adaptor.getOutputGrad(), x = adaptor.getInput();
    SmallVector<Value> sums = sumToChannels(
        rewriter, loc, x, ValueRange{dy, x, adaptor.getMean()}, 2,
        [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value d = arith::SubFOp::create(b, l, a[1], a[2]);
          return {a[0], arith::MulFOp::create(b, l, a[0], d)};
        });
    SmallVector<Value> vecInputs{adaptor.getVariance(), sums[0], sums[1]};
    bool hasGamma = static_cast<bool>(adaptor.getGamma());
    if (hasGamma)
      vecInputs.push_back(adaptor.getGamma());
    // rg = r gamma, dmean, dvariance, dgamma, dbeta.
    SmallVector<Value> vecs = elementwise(
        rewriter, loc, {vecType, vecType, vecType, vecType, vecType}, vecInputs,
        vecInputs[0],
        [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          auto mul = [&](Value p, Value q) {
            return arith::MulFOp::create(b, l, p, q).getResult();
          };
          Value r = math::RsqrtOp::create(
              b, l, addF(b, l, a[0], floatConst(b, l, et, eps)));
          Value rg = hasGamma ? mul(r, a[3]) : r;
          Value dmean = arith::NegFOp::create(b, l, mul(a[1], rg));
          Value dvar =
              mul(mul(mul(a[2], rg), mul(r, r)), floatConst(b, l, et, -0.5));
          return {rg, dmean, dvar, mul(a[2], r), a[1]};
        });
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(
        rank, 0, {rewriter.getAffineDimExpr(rank - 1)}, rewriter.getContext());
    Value dx = elementwise(
        rewriter, loc, {type}, ValueRange{dy, vecs[0]}, x,
        [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          return {arith::MulFOp::create(b, l, a[0], a[1])};
        },
        {rewriter.getMultiDimIdentityMap(rank), channel})[0];
    rewriter.replaceOp(op, {dx, vecs[1], vecs[2], vecs[3], vecs[4]});
    return success();
  }
};

} // namespace

void codegen::populateNormalizationLoweringPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, MomentsLowering, MomentsGradLowering,
               BatchNormGradLowering>(patterns.getContext());
}
