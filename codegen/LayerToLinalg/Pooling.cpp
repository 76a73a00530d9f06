//===- Pooling.cpp - Lowering of pooling and upsampling -------------------===//
//
// Channels-last windows over 1 to 3 spatial axes, forward and gradient:
//
//   pool            pad (same; -inf for max) -> generic [n, o..., w..., c]
//                   with a window-shaped operand; averages divide by a
//                   constant table of the unpadded counts per position
//   global_pool     generic [n, l..., c] reducing l
//   upsample        nearest: vector copies of whole pixels (2-D, channels
//                   whole vectors: VectorCopies.cpp), else an input map
//                   with floordiv; bilinear: gathers
//                   with constant index/weight tables (half-pixel centres)
//
// The gradients scatter with generics whose output map is not injective;
// the loops that collide are reduction loops (see Conv.cpp).
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

using Iterator = utils::IteratorType;

/// For `same` average pooling: how many unpadded positions each output
/// position's window covers, as a constant of the spatial output shape.
DenseElementsAttr windowCounts(RankedTensorType type, ArrayRef<int64_t> inSizes,
                               ArrayRef<int64_t> pool,
                               ArrayRef<int64_t> strides) {
  int64_t n = inSizes.size();
  SmallVector<SmallVector<double>> perAxis(n);
  SmallVector<int64_t> outSizes;
  for (int64_t i = 0; i < n; ++i) {
    int64_t out = type.getDimSize(i);
    int64_t before = samePaddingBefore(inSizes[i], pool[i], strides[i]);
    for (int64_t o = 0; o < out; ++o) {
      int64_t lo = o * strides[i] - before;
      int64_t hi = std::min(lo + pool[i], inSizes[i]);
      perAxis[i].push_back(static_cast<double>(hi - std::max<int64_t>(lo, 0)));
    }
    outSizes.push_back(out);
  }
  int64_t total = type.getNumElements();
  SmallVector<double> values(total, 1.0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rest = flat;
    for (int64_t i = n - 1; i >= 0; --i) {
      values[flat] *= perAxis[i][rest % outSizes[i]];
      rest /= outSizes[i];
    }
  }
  if (type.getElementType().isF32()) {
    SmallVector<float> f(values.begin(), values.end());
    return DenseElementsAttr::get(type, ArrayRef(f));
  }
  return DenseElementsAttr::get(type, ArrayRef(values));
}

/// The window of a pool or pool_grad op: its spatial rank, pool size,
/// strides, padding mode and kind, and the padding of its input.
struct PoolWindow {
  int64_t n;
  ArrayRef<int64_t> pool, strides;
  bool same, isMax;
  codegen::Padding padding;
};

/// The PoolWindow of `op` from the types of the pool's input and output;
/// none while one of them is not inferred.
template <typename OpTy>
std::optional<PoolWindow> poolWindow(OpTy op, Type input, Type output) {
  auto in = dyn_cast<RankedTensorType>(input);
  auto out = dyn_cast<RankedTensorType>(output);
  if (!in || !out)
    return std::nullopt;
  bool same = op.getPadding() == layer::Padding::Same;
  return PoolWindow{
      in.getRank() - 2,
      op.getPoolSize(),
      op.getStrides(),
      same,
      op.getKind() == PoolKind::Max,
      windowPadding(in, out, op.getPoolSize(), op.getStrides(), same)};
}

/// What an average pool divides each output position by: the unpadded
/// positions its window covers (`same`) or the window's area, a constant of
/// the spatial output shape `outSizes`.
Value averageDivisors(OpBuilder &b, Location loc, ArrayRef<int64_t> outSizes,
                      Type et, ArrayRef<int64_t> inSizes,
                      ArrayRef<int64_t> pool, ArrayRef<int64_t> strides,
                      bool same) {
  auto type = RankedTensorType::get(outSizes, et);
  if (same)
    return arith::ConstantOp::create(
        b, loc, windowCounts(type, inSizes, pool, strides));
  double area = 1;
  for (int64_t w : pool)
    area *= static_cast<double>(w);
  return splatConstant(b, loc, type, area);
}

/// The loops of a pooling window: d0 = batch, 1..n = output positions,
/// n+1..2n = window offsets, 2n+1 = channel; the maps that read the
/// (padded) input at o * stride + w, a window-shaped operand at w and the
/// output at o; and the iterators that reduce over the window.
struct WindowLoops {
  int64_t numLoops;
  AffineMap in, window, out;
  SmallVector<Iterator> reduceWindow;
};

WindowLoops windowLoops(MLIRContext *ctx, int64_t n,
                        ArrayRef<int64_t> strides) {
  int64_t numLoops = 2 * n + 2;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> inExprs{d(0)}, winExprs, outExprs{d(0)};
  for (int64_t i = 0; i < n; ++i) {
    inExprs.push_back(d(1 + i) * strides[i] + d(n + 1 + i));
    winExprs.push_back(d(n + 1 + i));
    outExprs.push_back(d(1 + i));
  }
  inExprs.push_back(d(2 * n + 1));
  outExprs.push_back(d(2 * n + 1));
  SmallVector<Iterator> iterators(numLoops, Iterator::parallel);
  for (int64_t i = 0; i < n; ++i)
    iterators[n + 1 + i] = Iterator::reduction;
  return {numLoops, AffineMap::get(numLoops, 0, inExprs, ctx),
          AffineMap::get(numLoops, 0, winExprs, ctx),
          AffineMap::get(numLoops, 0, outExprs, ctx), iterators};
}

/// The map of a tensor of the spatial output positions (d1..dn) in a loop
/// nest of `numDims`.
AffineMap positionsMap(MLIRContext *ctx, int64_t numDims, int64_t n) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < n; ++i)
    exprs.push_back(getAffineDimExpr(1 + i, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

/// The map of a global pool's result, (batch, channels), in the loops over
/// its input of `rank`.
AffineMap pooledMap(MLIRContext *ctx, int64_t rank) {
  return AffineMap::get(
      rank, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(rank - 1, ctx)},
      ctx);
}

/// One step of a max or sum pool.
Value poolStep(OpBuilder &b, Location l, bool isMax, Value acc, Value v) {
  return isMax ? Value(arith::MaximumFOp::create(b, l, acc, v))
               : Value(arith::AddFOp::create(b, l, acc, v));
}

/// The number of spatial positions of `x` of `rank` (axes 1..rank-2, which
/// may be dynamic: sequences) as a float of `et`.
Value spatialCount(OpBuilder &b, Location loc, Value x, int64_t rank, Type et) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t i = 1; i < rank - 1; ++i)
    count = arith::MulIOp::create(b, loc, count,
                                  tensor::DimOp::create(b, loc, x, i));
  return arith::SIToFPOp::create(
      b, loc, et, arith::IndexCastOp::create(b, loc, b.getI64Type(), count));
}

/// A 2-D max or sum pool of the (already padded) NHWC `x` as loops over
/// vectors of channels: each (image, output row, column, vector of
/// channels) reduces its window, unrolled, in one register. LLVM's own
/// vectorizers miss the channel loop of the linalg form (it is fully
/// unrolled first, and the window's loads may alias the output). Null when
/// it does not apply: not 2-D, channels not whole vectors, a window of more
/// than 64 positions or unknown output sizes.
Value poolVectorized(OpBuilder &b, Location loc, Value x,
                     RankedTensorType outType, ArrayRef<int64_t> pool,
                     ArrayRef<int64_t> strides, bool isMax, double init) {
  Type et = outType.getElementType();
  if (outType.getRank() != 4 || !et.isIntOrFloat() || pool.size() != 2 ||
      pool[0] * pool[1] > 64 || ShapedType::isDynamic(outType.getDimSize(1)) ||
      ShapedType::isDynamic(outType.getDimSize(2)) ||
      ShapedType::isDynamic(outType.getDimSize(3)) ||
      !fillsVectors(b, et, outType.getDimSize(3)))
    return Value();
  int64_t oh = outType.getDimSize(1), ow = outType.getDimSize(2),
          channels = outType.getDimSize(3);
  int64_t lanes = vectorBlocking(et, channels, vectorBitsAt(b)).lanes;
  auto vecType = VectorType::get({lanes}, et);
  KernelBuilder kb{loc};
  Value zero = floatConst(b, loc, et, 0.0);
  Value start = arith::ConstantOp::create(
      b, loc, vecType,
      DenseElementsAttr::get(vecType, b.getFloatAttr(et, init)));
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  auto pixel = [&](OpBuilder &b1, Value n, Value row, Value col, Value c,
                   Value t) -> Value {
    Value acc = start;
    for (int64_t i = 0; i < pool[0]; ++i)
      for (int64_t j = 0; j < pool[1]; ++j) {
        Value ih = kb.add(b1, kb.mul(b1, row, strides[0]), kb.index(b1, i));
        Value iw = kb.add(b1, kb.mul(b1, col, strides[1]), kb.index(b1, j));
        Value v = vector::TransferReadOp::create(b1, loc, vecType, x,
                                                 ValueRange{n, ih, iw, c}, zero,
                                                 ArrayRef<bool>{true});
        acc = poolStep(b1, loc, isMax, acc, v);
      }
    return vector::TransferWriteOp::create(b1, loc, acc, t,
                                           ValueRange{n, row, col, c},
                                           ArrayRef<bool>{true})
        .getResult();
  };
  return kb.imagesAndRows(
      b, batch, oh, out, [&](OpBuilder &b1, Value n, Value row, Value t) {
        return kb.loop(
            b1, ow, 1, t, [&](OpBuilder &b2, Value col, ValueRange a2) {
              return kb.loop(b2, channels, lanes, a2,
                             [&](OpBuilder &b3, Value c, ValueRange a3) {
                               return SmallVector<Value>{
                                   pixel(b3, n, row, col, c, a3[0])};
                             });
            })[0];
      });
}

struct PoolLowering : RankedLowering<PoolOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(PoolOp op, OpAdaptor adaptor, RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    std::optional<PoolWindow> found =
        poolWindow(op, adaptor.getInput().getType(), outType);
    if (!found)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    auto [n, pool, strides, same, isMax, p] = *found;
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type et = outType.getElementType();
    double init = isMax ? -std::numeric_limits<double>::infinity() : 0.0;

    Value x = adaptor.getInput();
    if (same)
      x = padSpatial(rewriter, loc, x, p.before, p.after, init);

    Value y =
        poolVectorized(rewriter, loc, x, outType, pool, strides, isMax, init);
    if (!y) {
      WindowLoops loops = windowLoops(ctx, n, strides);
      Value window = tensor::EmptyOp::create(rewriter, loc, pool, et);
      Value acc = filledLike(rewriter, loc, outType, adaptor.getInput(), init);
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{outType}, ValueRange{x, window},
          ValueRange{acc},
          SmallVector<AffineMap>{loops.in, loops.window, loops.out},
          loops.reduceWindow, [isMax](OpBuilder &b, Location l, ValueRange a) {
            linalg::YieldOp::create(
                b, l, ValueRange{poolStep(b, l, isMax, a[2], a[0])});
          });
      y = generic.getResult(0);
    }
    if (!isMax) {
      Value counts =
          averageDivisors(rewriter, loc, outType.getShape().slice(1, n), et,
                          inType.getShape().slice(1, n), pool, strides, same);
      int64_t rank = n + 2;
      y = elementwise(
          rewriter, loc, {outType}, ValueRange{y, counts}, y,
          [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, a[0], a[1])};
          },
          {rewriter.getMultiDimIdentityMap(rank),
           positionsMap(ctx, rank, n)})[0];
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct GlobalPoolLowering : RankedLowering<GlobalPoolOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(GlobalPoolOp op, OpAdaptor adaptor,
                      RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = inType.getRank();
    bool isMax = op.getKind() == PoolKind::Max;
    Type et = outType.getElementType();
    Value x = adaptor.getInput();
    double init = isMax ? -std::numeric_limits<double>::infinity() : 0.0;

    // Loops: d0 = batch, 1..rank-2 = spatial, rank-1 = channel.
    SmallVector<Iterator> iterators(rank, Iterator::reduction);
    iterators.front() = iterators.back() = Iterator::parallel;
    Value acc = filledLike(rewriter, loc, outType, x, init);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{outType}, ValueRange{x}, ValueRange{acc},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank),
                               pooledMap(ctx, rank)},
        iterators, [isMax](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(
              b, l, ValueRange{poolStep(b, l, isMax, a[1], a[0])});
        });
    Value y = generic.getResult(0);
    if (!isMax) {
      Value countF = spatialCount(rewriter, loc, x, rank, et);
      y = elementwise(rewriter, loc, {outType}, ValueRange{y}, y,
                      [countF](OpBuilder &b, Location l,
                               ValueRange a) -> SmallVector<Value> {
                        return {arith::DivFOp::create(b, l, a[0], countF)};
                      })[0];
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// A rank-1 constant tensor of `values` with element type `et`.
Value constantVector(OpBuilder &b, Location loc, Type et,
                     ArrayRef<double> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())}, et);
  if (et.isF32()) {
    SmallVector<float> f(values.begin(), values.end());
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, ArrayRef(f)));
  }
  if (et.isInteger(64)) {
    SmallVector<int64_t> i(values.begin(), values.end());
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, ArrayRef(i)));
  }
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

/// Where each output of a bilinear upsampling along one axis reads:
/// source = (o + 0.5) / scale - 0.5 (half-pixel centres), between the
/// inputs lo and hi (clamped to the edges) at fraction frac.
struct BilinearTaps {
  SmallVector<double> lo, hi, frac;
  BilinearTaps(int64_t in, int64_t out, int64_t scale) {
    for (int64_t o = 0; o < out; ++o) {
      double src = (o + 0.5) / static_cast<double>(scale) - 0.5;
      double fl = std::floor(src);
      lo.push_back(std::clamp<double>(fl, 0, in - 1));
      hi.push_back(std::clamp<double>(fl + 1, 0, in - 1));
      frac.push_back(src - fl);
    }
  }
  /// The (out, in) matrix of the interpolation: y = A x along the axis.
  SmallVector<double> matrix(int64_t in) const {
    SmallVector<double> a(lo.size() * in, 0.0);
    for (size_t o = 0; o < lo.size(); ++o) {
      a[o * in + static_cast<int64_t>(lo[o])] += 1.0 - frac[o];
      a[o * in + static_cast<int64_t>(hi[o])] += frac[o];
    }
    return a;
  }
};

struct UpsampleLowering : RankedLowering<UpsampleOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(UpsampleOp op, OpAdaptor adaptor,
                      RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = inType.getRank(), n = rank - 2;
    ArrayRef<int64_t> size = op.getSize();
    Value x = adaptor.getInput();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };

    if (op.getInterpolation() == Interpolation::Nearest) {
      if (Value y =
              upsampleNearestVectorized(rewriter, loc, x, outType, size)) {
        rewriter.replaceOp(op, y);
        return success();
      }
      SmallVector<AffineExpr> exprs{d(0)};
      for (int64_t i = 0; i < n; ++i)
        exprs.push_back(d(1 + i).floorDiv(size[i]));
      exprs.push_back(d(rank - 1));
      rewriter.replaceOp(
          op,
          elementwise(rewriter, loc, {outType}, ValueRange{x}, x,
                      [](OpBuilder &, Location,
                         ValueRange a) -> SmallVector<Value> { return {a[0]}; },
                      {AffineMap::get(rank, 0, exprs, ctx)}));
      return success();
    }

    // Bilinear with half-pixel centres: tables hold (low, high, fraction)
    // per axis.
    Type et = outType.getElementType(), i64 = rewriter.getI64Type();
    SmallVector<Value> tables;
    SmallVector<AffineMap> maps{};
    for (int64_t i = 0; i < n; ++i) {
      BilinearTaps taps(inType.getDimSize(i + 1), outType.getDimSize(i + 1),
                        size[i]);
      tables.push_back(constantVector(rewriter, loc, i64, taps.lo));
      tables.push_back(constantVector(rewriter, loc, i64, taps.hi));
      tables.push_back(constantVector(rewriter, loc, et, taps.frac));
      for (int k = 0; k < 3; ++k)
        maps.push_back(AffineMap::get(rank, 0, {d(1 + i)}, ctx));
    }
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {outType}, tables, x,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              auto idx = [&](Value v) -> Value {
                return arith::IndexCastOp::create(b, l, b.getIndexType(), v);
              };
              Value nIdx = linalg::IndexOp::create(b, l, 0);
              Value cIdx = linalg::IndexOp::create(b, l, rank - 1);
              auto at = [&](Value h, Value w) -> Value {
                return tensor::ExtractOp::create(
                    b, l, x, ValueRange{nIdx, idx(h), idx(w), cIdx});
              };
              auto lerp = [&](Value p, Value q, Value t) -> Value {
                // p + (q - p) t, as tf.image.resize computes it.
                return arith::AddFOp::create(
                    b, l, p,
                    arith::MulFOp::create(
                        b, l, arith::SubFOp::create(b, l, q, p), t));
              };
              Value top = lerp(at(a[0], a[3]), at(a[0], a[4]), a[5]);
              Value bottom = lerp(at(a[1], a[3]), at(a[1], a[4]), a[5]);
              return {lerp(top, bottom, a[2])};
            },
            maps));
    return success();
  }
};

struct PoolGradLowering : RankedLowering<PoolGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(PoolGradOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    std::optional<PoolWindow> found =
        poolWindow(op, type, adaptor.getGrad().getType());
    if (!found)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    auto [n, pool, strides, same, isMax, p] = *found;
    auto dyType = cast<RankedTensorType>(adaptor.getGrad().getType());
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type et = type.getElementType();
    Value window = tensor::EmptyOp::create(rewriter, loc, pool, et);
    WindowLoops loops = windowLoops(ctx, n, strides);
    // The window position as one number, row-major.
    auto flatWindow = [&](OpBuilder &b, Location l) {
      Value flat = arith::ConstantIndexOp::create(b, l, 0);
      for (int64_t i = 0; i < n; ++i)
        flat = arith::AddIOp::create(
            b, l,
            arith::MulIOp::create(
                b, l, flat, arith::ConstantIndexOp::create(b, l, pool[i])),
            linalg::IndexOp::create(b, l, n + 1 + i));
      return flat;
    };

    Value scale, argmax;
    if (isMax) {
      // The first maximum of each window (a strict > keeps the first).
      Value xp = padSpatial(rewriter, loc, adaptor.getInput(), p.before,
                            p.after, -std::numeric_limits<double>::infinity());
      Value best = filledLike(rewriter, loc, dyType, adaptor.getGrad(),
                              -std::numeric_limits<double>::infinity());
      auto idxType =
          RankedTensorType::get(dyType.getShape(), rewriter.getIndexType());
      Value idx0 = emptyLike(rewriter, loc, idxType, adaptor.getGrad());
      idx0 = linalg::FillOp::create(
                 rewriter, loc,
                 ValueRange{arith::ConstantIndexOp::create(rewriter, loc, -1)},
                 ValueRange{idx0})
                 .getResult(0);
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{dyType, idxType}, ValueRange{xp, window},
          ValueRange{best, idx0},
          SmallVector<AffineMap>{loops.in, loops.window, loops.out, loops.out},
          loops.reduceWindow, [&](OpBuilder &b, Location l, ValueRange a) {
            Value better = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OGT, a[0], a[2]);
            linalg::YieldOp::create(
                b, l,
                ValueRange{arith::SelectOp::create(b, l, better, a[0], a[2]),
                           arith::SelectOp::create(b, l, better,
                                                   flatWindow(b, l), a[3])});
          });
      argmax = generic.getResult(1);
    } else {
      scale = averageDivisors(rewriter, loc, dyType.getShape().slice(1, n), et,
                              type.getShape().slice(1, n), pool, strides, same);
    }

    // Scatter: dxp[n, o * s + w, c] += the window's share of dy[n, o, c].
    Value dxp = zerosLike(rewriter, loc, p.paddedShape, et, adaptor.getGrad());
    SmallVector<Value> inputs{adaptor.getGrad(), window};
    SmallVector<AffineMap> maps{loops.out, loops.window};
    if (isMax) {
      inputs.push_back(argmax);
      maps.push_back(loops.out);
    } else {
      inputs.push_back(scale);
      maps.push_back(positionsMap(ctx, loops.numLoops, n));
    }
    maps.push_back(loops.in);
    SmallVector<Iterator> iterators(loops.numLoops, Iterator::reduction);
    iterators[0] = iterators[2 * n + 1] = Iterator::parallel;
    auto scatter = linalg::GenericOp::create(
        rewriter, loc, TypeRange{dxp.getType()}, inputs, ValueRange{dxp}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange a) {
          Value share;
          if (isMax) {
            Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              flatWindow(b, l), a[2]);
            share = arith::SelectOp::create(b, l, hit, a[0],
                                            floatConst(b, l, et, 0.0));
          } else {
            share = arith::DivFOp::create(b, l, a[0], a[2]);
          }
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, a[3], share)});
        });
    rewriter.replaceOp(op, cropPadding(rewriter, loc, scatter.getResult(0),
                                       type, p, adaptor.getInput()));
    return success();
  }
};

struct GlobalPoolGradLowering : RankedLowering<GlobalPoolGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(GlobalPoolGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    Type et = type.getElementType();
    Value x = adaptor.getInput();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap pooled = pooledMap(ctx, rank);
    if (op.getKind() == PoolKind::Max) {
      // Ties share the gradient equally, as the derivative of TensorFlow's
      // and JAX's reduce_max does: count the maxima of each (sample,
      // channel), then route g / count to each.
      Value y = adaptor.getOutput();
      auto pooledType = cast<RankedTensorType>(y.getType());
      Value zeros = filledLike(rewriter, loc, pooledType, y, 0.0);
      SmallVector<utils::IteratorType> iterators(
          rank, utils::IteratorType::reduction);
      iterators.front() = iterators.back() = utils::IteratorType::parallel;
      Value counts =
          linalg::GenericOp::create(
              rewriter, loc, pooledType, ValueRange{x, y}, ValueRange{zeros},
              ArrayRef<AffineMap>{id, pooled, pooled}, iterators,
              [&](OpBuilder &b, Location l, ValueRange a) {
                Value hit = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OEQ, a[0], a[1]);
                Value one = arith::SelectOp::create(b, l, hit,
                                                    floatConst(b, l, et, 1.0),
                                                    floatConst(b, l, et, 0.0));
                linalg::YieldOp::create(
                    b, l, arith::AddFOp::create(b, l, a[2], one).getResult());
              })
              .getResult(0);
      rewriter.replaceOp(
          op, elementwise(rewriter, loc, {type},
                          ValueRange{x, y, adaptor.getGrad(), counts}, x,
                          [&](OpBuilder &b, Location l,
                              ValueRange a) -> SmallVector<Value> {
                            Value hit = arith::CmpFOp::create(
                                b, l, arith::CmpFPredicate::OEQ, a[0], a[1]);
                            Value share =
                                arith::DivFOp::create(b, l, a[2], a[3]);
                            return {arith::SelectOp::create(
                                b, l, hit, share, floatConst(b, l, et, 0.0))};
                          },
                          {id, pooled, pooled, pooled}));
      return success();
    }
    Value countF = spatialCount(rewriter, loc, x, rank, et);
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, {type}, ValueRange{adaptor.getGrad()}, x,
                        [&](OpBuilder &b, Location l,
                            ValueRange a) -> SmallVector<Value> {
                          return {arith::DivFOp::create(b, l, a[0], countF)};
                        },
                        {pooled}));
    return success();
  }
};

struct UpsampleGradLowering : RankedLowering<UpsampleGradOp> {
  using RankedLowering::RankedLowering;

  /// y = Ah x Aw^T per sample and channel, so dx = Ah^T dy Aw: first over
  /// the rows, t[n, i, q, c] = sum_o Ah[o, i] dy[n, o, q, c], then the
  /// columns, dx[n, i, j, c] = sum_q Aw[q, j] t[n, i, q, c].
  static LogicalResult lowerBilinear(UpsampleGradOp op, RankedTensorType type,
                                     RankedTensorType dyType, OpAdaptor adaptor,
                                     ConversionPatternRewriter &rewriter) {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type et = type.getElementType();
    int64_t inH = type.getDimSize(1), inW = type.getDimSize(2);
    int64_t outH = dyType.getDimSize(1), outW = dyType.getDimSize(2);
    if (ShapedType::isDynamic(inH) || ShapedType::isDynamic(inW) ||
        ShapedType::isDynamic(outH) || ShapedType::isDynamic(outW))
      return rewriter.notifyMatchFailure(op, "spatial sizes must be static");
    auto matrixConst = [&](int64_t out, int64_t in, int64_t scale) {
      SmallVector<double> a = BilinearTaps(in, out, scale).matrix(in);
      auto t = RankedTensorType::get({out, in}, et);
      SmallVector<Attribute> values;
      for (double v : a)
        values.push_back(rewriter.getFloatAttr(et, v));
      return arith::ConstantOp::create(rewriter, loc,
                                       DenseElementsAttr::get(t, values))
          .getResult();
    };
    Value ah = matrixConst(outH, inH, op.getSize()[0]);
    Value aw = matrixConst(outW, inW, op.getSize()[1]);
    Value dy = adaptor.getGrad();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    using It = utils::IteratorType;
    // t: loops (n, i, q, c, o).
    auto tType = RankedTensorType::get(
        {type.getDimSize(0), inH, outW, type.getDimSize(3)}, et);
    SmallVector<Value> dynamic;
    if (type.isDynamicDim(0))
      dynamic.push_back(tensor::DimOp::create(rewriter, loc, dy, 0));
    Value tInit =
        tensor::EmptyOp::create(rewriter, loc, tType.getShape(), et, dynamic);
    tInit = linalg::FillOp::create(rewriter, loc,
                                   floatConst(rewriter, loc, et, 0.0), tInit)
                .getResult(0);
    SmallVector<It> iterators{It::parallel, It::parallel, It::parallel,
                              It::parallel, It::reduction};
    Value t = multiplyAccumulate(
        rewriter, loc, ah, dy, tInit,
        {AffineMap::get(5, 0, {d(4), d(1)}, ctx),
         AffineMap::get(5, 0, {d(0), d(4), d(2), d(3)}, ctx),
         AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
        iterators);
    // dx: loops (n, i, j, c, q).
    Value dx = filledLike(rewriter, loc, type, adaptor.getLike(), 0.0);
    dx = multiplyAccumulate(
        rewriter, loc, aw, t, dx,
        {AffineMap::get(5, 0, {d(4), d(2)}, ctx),
         AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
         AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
        iterators);
    rewriter.replaceOp(op, dx);
    return success();
  }
  LogicalResult lower(UpsampleGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    auto dyType = dyn_cast<RankedTensorType>(adaptor.getGrad().getType());
    if (!dyType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    if (op.getInterpolation() == Interpolation::Bilinear)
      return lowerBilinear(op, type, dyType, adaptor, rewriter);
    Value dx = filledLike(rewriter, loc, type, adaptor.getLike(), 0.0);
    SmallVector<AffineExpr> outExprs{getAffineDimExpr(0, ctx)};
    for (int64_t i = 0; i + 2 < rank; ++i)
      outExprs.push_back(
          getAffineDimExpr(1 + i, ctx).floorDiv(op.getSize()[i]));
    outExprs.push_back(getAffineDimExpr(rank - 1, ctx));
    SmallVector<Iterator> iterators(rank, Iterator::reduction);
    iterators[0] = iterators[rank - 1] = Iterator::parallel;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{adaptor.getGrad()},
        ValueRange{dx},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank),
                               AffineMap::get(rank, 0, outExprs, ctx)},
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, a[1], a[0])});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void codegen::populatePoolingLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<PoolLowering, GlobalPoolLowering, UpsampleLowering,
               PoolGradLowering, GlobalPoolGradLowering, UpsampleGradLowering>(
      patterns.getContext());
}
