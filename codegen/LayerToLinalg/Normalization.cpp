//===- Normalization.cpp - Lowering of batch normalization ----------------===//
//
// batch_norm in inference (moving statistics) folds into one scale and
// shift per channel, then one element-wise generic. Training mode reaches
// here as moments (two passes: the mean, then the variance about it) and
// the element-wise ops around them; moments_grad and batch_norm_grad are
// per-channel sums (sumToChannels) and element-wise generics. normalize
// (LayerNormalization, GroupNormalization, UnitNormalization) splits the
// last axis into its groups, sums each group into kept-shaped statistics,
// and merges the groups back; normalize_grad recomputes the statistics.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

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

/// The layout of layer.normalize: the input with its last axis split into
/// (groups, size / groups), of rank `rank`; the normalized axes are
/// [axis, rank - 2) and rank - 1, the kept ones [0, axis) and rank - 2 (the
/// group). Statistics are kept-shaped tensors.
struct Groups {
  Value x;
  int64_t rank, axis;
  RankedTensorType keptType;
  Value keptLike;
  AffineMap kept;

  bool isKept(int64_t d) const { return d < axis || d == rank - 2; }
};

/// Splits the last axis of `v` into (groups, size / groups); a dynamic last
/// axis only with groups == 1 (one dynamic size per expanded group).
Value splitGroups(OpBuilder &b, Location loc, Value v, int64_t groups) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  int64_t last = type.getShape().back();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = groups;
  shape.push_back(ShapedType::isDynamic(last) ? last : last / groups);
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0; i < rank - 1; ++i)
    reassociation.push_back({i});
  reassociation.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < rank - 1; ++i)
    sizes.push_back(tensor::getMixedSize(b, loc, v, i));
  sizes.push_back(b.getIndexAttr(groups));
  sizes.push_back(ShapedType::isDynamic(last)
                      ? tensor::getMixedSize(b, loc, v, rank - 1)
                      : OpFoldResult(b.getIndexAttr(last / groups)));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v,
      reassociation, sizes);
}

/// The inverse of splitGroups.
Value mergeGroups(OpBuilder &b, Location loc, Value v) {
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0; i < rank - 2; ++i)
    reassociation.push_back({i});
  reassociation.push_back({rank - 2, rank - 1});
  return tensor::CollapseShapeOp::create(b, loc, v, reassociation);
}

Groups groupsOf(OpBuilder &b, Location loc, Value input, int64_t axis,
                int64_t groups) {
  Groups g;
  g.x = splitGroups(b, loc, input, groups);
  auto type = cast<RankedTensorType>(g.x.getType());
  g.rank = type.getRank();
  g.axis = axis;
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> exprs;
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < g.rank; ++d) {
    if (!g.isKept(d))
      continue;
    shape.push_back(type.getDimSize(d));
    exprs.push_back(b.getAffineDimExpr(d));
    if (type.isDynamicDim(d))
      dynamic.push_back(tensor::DimOp::create(b, loc, g.x, d));
  }
  g.keptType = RankedTensorType::get(shape, type.getElementType());
  g.keptLike = tensor::EmptyOp::create(b, loc, g.keptType, dynamic);
  g.kept = AffineMap::get(g.rank, 0, exprs, b.getContext());
  return g;
}

/// The number of elements in each normalized group, as a float.
Value groupCount(OpBuilder &b, Location loc, const Groups &g, Type et) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t d = 0; d < g.rank; ++d)
    if (!g.isKept(d))
      count = arith::MulIOp::create(b, loc, count,
                                    tensor::DimOp::create(b, loc, g.x, d));
  Value asInt =
      arith::IndexCastOp::create(b, loc, b.getI64Type(), count).getResult();
  return arith::SIToFPOp::create(b, loc, et, asInt);
}

/// Sums over each group: one kept-shaped tensor per value `body` returns.
/// `inputs` have the split input's shape or are kept-shaped (broadcast).
SmallVector<Value> sumGroups(OpBuilder &b, Location loc, const Groups &g,
                             ValueRange inputs, unsigned numResults,
                             const BodyFn &body) {
  Type et = g.keptType.getElementType();
  Value zero = floatConst(b, loc, et, 0.0);
  SmallVector<Value> inits;
  for (unsigned i = 0; i < numResults; ++i)
    inits.push_back(
        linalg::FillOp::create(b, loc, zero, g.keptLike).getResult(0));
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(cast<RankedTensorType>(v.getType()).getRank() == g.rank
                       ? b.getMultiDimIdentityMap(g.rank)
                       : g.kept);
  maps.append(numResults, g.kept);
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < g.rank; ++d)
    iterators.push_back(g.isKept(d) ? utils::IteratorType::parallel
                                    : utils::IteratorType::reduction);
  SmallVector<Type> types(numResults, g.keptType);
  auto generic = linalg::GenericOp::create(
      b, loc, types, inputs, inits, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        size_t n = inputs.size();
        SmallVector<Value> terms = body(nb, l, args.take_front(n));
        SmallVector<Value> sums;
        for (auto [acc, term] : llvm::zip(args.drop_front(n), terms))
          sums.push_back(arith::AddFOp::create(nb, l, acc, term));
        linalg::YieldOp::create(nb, l, sums);
      });
  return SmallVector<Value>(generic.getResults());
}

/// An element-wise generic over kept-shaped tensors.
Value keptElementwise(OpBuilder &b, Location loc, const Groups &g,
                      ValueRange inputs, const BodyFn &body) {
  return elementwise(b, loc, {g.keptType}, inputs, g.keptLike, body)[0];
}

/// The statistics of a normalization: the mean (standardize, variance),
/// the reciprocal scale r, and for l2 the factor c of dx's second term
/// (r^3 where 1 / sqrt(sum(x^2)) is below 1 / epsilon, else 0).
struct NormStats {
  Value mean, r, c, count;
};

NormStats normStats(OpBuilder &b, Location loc, const Groups &g, NormKind kind,
                    double eps) {
  Type et = g.keptType.getElementType();
  NormStats st;
  st.count = groupCount(b, loc, g, et);
  auto identity = [](OpBuilder &, Location,
                     ValueRange a) -> SmallVector<Value> { return {a[0]}; };
  if (kind == NormKind::L2) {
    Value squares = sumGroups(
        b, loc, g, ValueRange{g.x}, 1,
        [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
          return {arith::MulFOp::create(nb, l, a[0], a[0])};
        })[0];
    double cap =
        eps > 0.0 ? 1.0 / eps : std::numeric_limits<double>::infinity();
    SmallVector<Value> rc = elementwise(
        b, loc, {g.keptType, g.keptType}, ValueRange{squares}, g.keptLike,
        [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
          Value inv = math::RsqrtOp::create(nb, l, a[0]);
          Value limit = floatConst(nb, l, et, cap);
          Value below = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLT,
                                              inv, limit);
          Value r = arith::SelectOp::create(nb, l, below, inv, limit);
          Value r3 = arith::MulFOp::create(nb, l, r,
                                           arith::MulFOp::create(nb, l, r, r));
          Value c = arith::SelectOp::create(nb, l, below, r3,
                                            floatConst(nb, l, et, 0.0));
          return {r, c};
        });
    st.r = rc[0];
    st.c = rc[1];
    return st;
  }
  Value count = st.count;
  Value sum = sumGroups(b, loc, g, ValueRange{g.x}, 1, identity)[0];
  st.mean = keptElementwise(
      b, loc, g, ValueRange{sum},
      [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {arith::DivFOp::create(nb, l, a[0], count)};
      });
  Value squares = sumGroups(
      b, loc, g, ValueRange{g.x, st.mean}, 1,
      [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        Value d = arith::SubFOp::create(nb, l, a[0], a[1]);
        return {arith::MulFOp::create(nb, l, d, d)};
      })[0];
  st.r = keptElementwise(
      b, loc, g, ValueRange{squares},
      [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        Value var = arith::DivFOp::create(nb, l, a[0], count);
        return {math::RsqrtOp::create(
            nb, l, addF(nb, l, var, floatConst(nb, l, et, eps)))};
      });
  return st;
}

/// normalize: the statistics of each group (two passes for the variance),
/// then one element-wise generic.
struct NormalizeLowering : RankedLowering<NormalizeOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(NormalizeOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    NormKind kind = op.getKind();
    Groups g = groupsOf(rewriter, loc, adaptor.getInput(),
                        static_cast<int64_t>(op.getAxis()),
                        static_cast<int64_t>(op.getGroups()));
    NormStats st =
        normStats(rewriter, loc, g, kind, op.getEpsilon().convertToDouble());
    auto xType = cast<RankedTensorType>(g.x.getType());
    AffineMap id = rewriter.getMultiDimIdentityMap(g.rank);
    Value y;
    if (kind == NormKind::Standardize)
      y = elementwise(
          rewriter, loc, {xType}, ValueRange{g.x, st.mean, st.r}, g.x,
          [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value d = arith::SubFOp::create(b, l, a[0], a[1]);
            return {arith::MulFOp::create(b, l, d, a[2])};
          },
          {id, g.kept, g.kept})[0];
    else
      y = elementwise(
          rewriter, loc, {xType}, ValueRange{g.x, st.r}, g.x,
          [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::MulFOp::create(b, l, a[0], a[1])};
          },
          {id, g.kept})[0];
    Value out = mergeGroups(rewriter, loc, y);
    if (out.getType() != type)
      out = tensor::CastOp::create(rewriter, loc, type, out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// normalize_grad: the forward statistics, one or two sums per group, then
/// one element-wise generic (the formulas in the op's description).
struct NormalizeGradLowering : RankedLowering<NormalizeGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(NormalizeGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    NormKind kind = op.getKind();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    int64_t groups = static_cast<int64_t>(op.getGroups());
    Groups g = groupsOf(rewriter, loc, adaptor.getInput(), axis, groups);
    Value dy = splitGroups(rewriter, loc, adaptor.getOutputGrad(), groups);
    NormStats st =
        normStats(rewriter, loc, g, kind, op.getEpsilon().convertToDouble());
    auto xType = cast<RankedTensorType>(g.x.getType());
    AffineMap id = rewriter.getMultiDimIdentityMap(g.rank);
    Value count = st.count;
    auto mul = [](OpBuilder &b, Location l, Value p, Value q) {
      return arith::MulFOp::create(b, l, p, q).getResult();
    };
    Value dx;
    if (kind == NormKind::Standardize) {
      SmallVector<Value> sums = sumGroups(
          rewriter, loc, g, ValueRange{dy, g.x, st.mean}, 2,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value d = arith::SubFOp::create(b, l, a[1], a[2]);
            return {a[0], mul(b, l, a[0], d)};
          });
      dx = elementwise(
          rewriter, loc, {xType},
          ValueRange{dy, g.x, st.mean, st.r, sums[0], sums[1]}, g.x,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value d = arith::SubFOp::create(b, l, a[1], a[2]);
            Value meanDy = arith::DivFOp::create(b, l, a[4], count);
            Value proj = arith::DivFOp::create(
                b, l, mul(b, l, mul(b, l, d, mul(b, l, a[3], a[3])), a[5]),
                count);
            Value inner = arith::SubFOp::create(
                b, l, arith::SubFOp::create(b, l, a[0], meanDy), proj);
            return {mul(b, l, a[3], inner)};
          },
          {id, id, g.kept, g.kept, g.kept, g.kept})[0];
    } else {
      Value s = sumGroups(
          rewriter, loc, g, ValueRange{dy, g.x}, 1,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {mul(b, l, a[0], a[1])};
          })[0];
      bool l2 = kind == NormKind::L2;
      // variance: dx = r dy - r^3 (x - mean) s / n; l2: r dy - c x s.
      dx = elementwise(
          rewriter, loc, {xType},
          ValueRange{dy, g.x, l2 ? st.c : st.mean, st.r, s}, g.x,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value second;
            if (l2) {
              second = mul(b, l, mul(b, l, a[2], a[1]), a[4]);
            } else {
              Value d = arith::SubFOp::create(b, l, a[1], a[2]);
              Value r3 = mul(b, l, a[3], mul(b, l, a[3], a[3]));
              second = arith::DivFOp::create(
                  b, l, mul(b, l, mul(b, l, r3, d), a[4]), count);
            }
            return {arith::SubFOp::create(b, l, mul(b, l, a[3], a[0]), second)};
          },
          {id, id, g.kept, g.kept, g.kept})[0];
    }
    Value out = mergeGroups(rewriter, loc, dx);
    if (out.getType() != type)
      out = tensor::CastOp::create(rewriter, loc, type, out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void codegen::populateNormalizationLoweringPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, MomentsLowering, MomentsGradLowering,
               BatchNormGradLowering, NormalizeLowering, NormalizeGradLowering>(
      patterns.getContext());
}
