//===- Conv.cpp - Lowering of convolution, pooling and upsampling ---------===//
//
// Channels-last windows over 1 to 3 spatial axes, each one linalg.generic
// whose loops are ordered for the loop vectorizer (the loop over the
// unit-stride channel axis innermost):
//
//   conv            pad (same) -> expand groups -> generic
//                   [n, o..., g, k..., c, f] -> collapse -> bias/activation;
//                   2-D ungrouped ones with whole vectors of filters are
//                   register-blocked instead (convolveVectorized)
//   conv_transpose  the input scattered with `stride` into a zero tensor
//                   (insert_slice with strides) -> a convolution by the
//                   kernel flipped and transposed (register-blocked, or a
//                   generic) -> bias/activation; a gather, so no atomics and
//                   one write per output element
//   pool            pad (same; -inf for max) -> generic [n, o..., w..., c]
//                   with a window-shaped operand; averages divide by a
//                   constant table of the unpadded counts per position
//   global_pool     generic [n, l..., c] reducing l
//   upsample        nearest: an input map with floordiv; bilinear: gathers
//                   with constant index/weight tables (half-pixel centres)
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

Value convolveVectorized(OpBuilder &b, Location loc, Value x, Value kernel,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                         RankedTensorType outType);

/// `kernel` (k..., a, b) flipped along every spatial axis, its last two axes
/// swapped: (k..., b, a), w[k..., j, i] = kernel[K - 1 - k..., i, j]. The
/// kernel of a convolution's adjoint (transposed convolutions, input
/// gradients).
Value flippedTransposedKernel(OpBuilder &b, Location loc, Value kernel) {
  auto kType = cast<RankedTensorType>(kernel.getType());
  MLIRContext *ctx = b.getContext();
  int64_t n = kType.getRank() - 2;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<int64_t> shape(kType.getShape().take_front(n));
  shape.append({kType.getDimSize(n + 1), kType.getDimSize(n)});
  SmallVector<AffineExpr> read;
  for (int64_t i = 0; i < n; ++i)
    read.push_back(kType.getDimSize(i) - 1 - d(i));
  read.append({d(n + 1), d(n)});
  return elementwise(b, loc,
                     {RankedTensorType::get(shape, kType.getElementType())},
                     ValueRange{kernel}, kernel,
                     [](OpBuilder &, Location,
                        ValueRange a) -> SmallVector<Value> { return {a[0]}; },
                     {AffineMap::get(n + 2, 0, read, ctx)})[0];
}

OpFoldResult dimOf(OpBuilder &b, Location loc, Value v, int64_t i) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.isDynamicDim(i))
    return tensor::DimOp::create(b, loc, v, i).getResult();
  return b.getIndexAttr(type.getDimSize(i));
}

/// Pads the spatial axes of a channels-last `x` with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> before,
                 ArrayRef<int64_t> after, double value) {
  if (llvm::all_of(before, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(after, [](int64_t v) { return v == 0; }))
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> low{b.getIndexAttr(0)}, high{b.getIndexAttr(0)};
  SmallVector<int64_t> shape{type.getDimSize(0)};
  for (size_t i = 0; i < before.size(); ++i) {
    low.push_back(b.getIndexAttr(before[i]));
    high.push_back(b.getIndexAttr(after[i]));
    shape.push_back(type.getDimSize(i + 1) + before[i] + after[i]);
  }
  low.push_back(b.getIndexAttr(0));
  high.push_back(b.getIndexAttr(0));
  shape.push_back(type.getShape().back());
  auto padded = RankedTensorType::get(shape, type.getElementType());
  Value pad = floatConst(b, loc, type.getElementType(), value);
  return tensor::PadOp::create(b, loc, padded, x, low, high, pad);
}

/// Splits the last axis of `v` into (groups, size / groups).
Value splitLast(OpBuilder &b, Location loc, Value v, int64_t groups) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  int64_t last = shape.back();
  shape.back() = groups;
  shape.push_back(last / groups);
  SmallVector<ReassociationIndices> groupsOfDims;
  for (int64_t i = 0; i < rank - 1; ++i)
    groupsOfDims.push_back({i});
  groupsOfDims.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < rank - 1; ++i)
    sizes.push_back(dimOf(b, loc, v, i));
  sizes.push_back(b.getIndexAttr(groups));
  sizes.push_back(b.getIndexAttr(last / groups));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v,
      groupsOfDims, sizes);
}

/// Merges the last two axes of `v`.
Value mergeLastTwo(OpBuilder &b, Location loc, Value v) {
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank - 2; ++i)
    groups.push_back({i});
  groups.push_back({rank - 2, rank - 1});
  return tensor::CollapseShapeOp::create(b, loc, v, groups);
}

/// The dilated extent of each spatial axis of a (k..., in, out) kernel.
SmallVector<int64_t> dilatedWindow(RankedTensorType kernel,
                                   ArrayRef<int64_t> dilations) {
  SmallVector<int64_t> window;
  for (size_t i = 0; i < dilations.size(); ++i)
    window.push_back((kernel.getDimSize(i) - 1) * dilations[i] + 1);
  return window;
}

/// A zero tensor of `shape` whose dynamic batch comes from `like`.
Value zerosLike(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type et,
                Value like) {
  return filledLike(b, loc, RankedTensorType::get(shape, et), like, 0.0);
}

struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto kType = dyn_cast<RankedTensorType>(adaptor.getKernel().getType());
    if (!outType || !inType || !kType || !kType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value y =
        convolve(rewriter, loc, adaptor.getInput(), adaptor.getKernel(),
                 op.getStrides(), op.getDilations(), op.getPadding() == "same",
                 static_cast<int64_t>(op.getGroups()), outType);
    rewriter.replaceOp(op,
                       biasAndActivation(rewriter, loc, y, adaptor.getBias(),
                                         *parseActivation(op.getActivation())));
    return success();
  }
};

struct ConvTransposeLowering : OpConversionPattern<ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto kType = dyn_cast<RankedTensorType>(adaptor.getKernel().getType());
    if (!outType || !inType || !kType || !kType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = inType.getRank() - 2;
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations();
    bool same = op.getPadding() == "same";
    Type et = outType.getElementType();
    int64_t channels = inType.getShape().back();

    // out[y] = sum_k in[x] w[k] over y = x * s + k * d - before. Written as
    // a gather over D, the input scattered to positions offset + x * s of a
    // zero tensor of length out + window - 1, read with the kernel flipped:
    // out[y] = sum_k D[y + k * d] w[K - 1 - k].
    SmallVector<int64_t> paddedShape{inType.getDimSize(0)};
    SmallVector<OpFoldResult> offsets{rewriter.getIndexAttr(0)},
        sizes{dimOf(rewriter, loc, adaptor.getInput(), 0)},
        steps{rewriter.getIndexAttr(1)}, sliceSizes = sizes;
    SmallVector<OpFoldResult> zeroOffsets(n + 2, rewriter.getIndexAttr(0)),
        unitSteps(n + 2, rewriter.getIndexAttr(1));
    for (int64_t i = 0; i < n; ++i) {
      int64_t size = inType.getDimSize(i + 1), out = outType.getDimSize(i + 1);
      int64_t window = (kType.getDimSize(i) - 1) * dil[i] + 1;
      int64_t before =
          same
              ? std::max<int64_t>((size - 1) * strides[i] + window - out, 0) / 2
              : 0;
      int64_t offset = window - 1 - before;
      int64_t padded = out + window - 1;
      // Input positions past the padded length feed no output.
      int64_t count = std::min(size, (padded - 1 - offset) / strides[i] + 1);
      paddedShape.push_back(padded);
      offsets.push_back(rewriter.getIndexAttr(offset));
      sizes.push_back(rewriter.getIndexAttr(count));
      steps.push_back(rewriter.getIndexAttr(strides[i]));
    }
    paddedShape.push_back(channels);
    offsets.push_back(rewriter.getIndexAttr(0));
    sizes.push_back(rewriter.getIndexAttr(channels));
    steps.push_back(rewriter.getIndexAttr(1));
    Value src = tensor::ExtractSliceOp::create(
        rewriter, loc, adaptor.getInput(), zeroOffsets, sizes, unitSteps);
    Value scattered =
        zerosLike(rewriter, loc, paddedShape, et, adaptor.getInput());
    scattered = tensor::InsertSliceOp::create(rewriter, loc, src, scattered,
                                              offsets, sizes, steps);

    // The kernel (k..., filters, in) flipped and transposed to
    // (k..., in, filters), so the filter loop is unit-stride.
    Value w = flippedTransposedKernel(rewriter, loc, adaptor.getKernel());
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };

    // That is a convolution of D by the flipped kernel, stride 1.
    SmallVector<int64_t> ones(n, 1);
    if (Value y = convolveVectorized(rewriter, loc, scattered, w, ones, dil,
                                     outType)) {
      rewriter.replaceOp(
          op, biasAndActivation(rewriter, loc, y, adaptor.getBias(),
                                *parseActivation(op.getActivation())));
      return success();
    }
    // Loops: d0 = batch, 1..n = output positions, n+1..2n = kernel
    // offsets, 2n+1 = input channel, 2n+2 = filter.
    int64_t numLoops = 2 * n + 3;
    SmallVector<AffineExpr> dExprs{d(0)}, wExprs, outExprs{d(0)};
    for (int64_t i = 0; i < n; ++i) {
      dExprs.push_back(d(1 + i) + d(n + 1 + i) * dil[i]);
      wExprs.push_back(d(n + 1 + i));
      outExprs.push_back(d(1 + i));
    }
    dExprs.push_back(d(2 * n + 1));
    wExprs.append({d(2 * n + 1), d(2 * n + 2)});
    outExprs.push_back(d(2 * n + 2));
    SmallVector<Iterator> iterators(numLoops, Iterator::parallel);
    for (int64_t i = 0; i <= n; ++i)
      iterators[n + 1 + i] = Iterator::reduction;
    Value acc =
        zerosLike(rewriter, loc, outType.getShape(), et, adaptor.getInput());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{acc.getType()}, ValueRange{scattered, w},
        ValueRange{acc},
        SmallVector<AffineMap>{AffineMap::get(numLoops, 0, dExprs, ctx),
                               AffineMap::get(numLoops, 0, wExprs, ctx),
                               AffineMap::get(numLoops, 0, outExprs, ctx)},
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          Value prod = arith::MulFOp::create(b, l, a[0], a[1]);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, a[2], prod)});
        });
    rewriter.replaceOp(op,
                       biasAndActivation(rewriter, loc, generic.getResult(0),
                                         adaptor.getBias(),
                                         *parseActivation(op.getActivation())));
    return success();
  }
};

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

struct PoolLowering : OpConversionPattern<PoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!outType || !inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = inType.getRank() - 2;
    ArrayRef<int64_t> pool = op.getPoolSize(), strides = op.getStrides();
    bool same = op.getPadding() == "same", isMax = op.getKind() == "max";
    Type et = outType.getElementType();
    double init = isMax ? -std::numeric_limits<double>::infinity() : 0.0;

    Value x = adaptor.getInput();
    SmallVector<int64_t> inSizes(inType.getShape().slice(1, n));
    if (same) {
      SmallVector<int64_t> before, after;
      for (int64_t i = 0; i < n; ++i) {
        int64_t total = std::max<int64_t>(
            (outType.getDimSize(i + 1) - 1) * strides[i] + pool[i] - inSizes[i],
            0);
        before.push_back(samePaddingBefore(inSizes[i], pool[i], strides[i]));
        after.push_back(total - before.back());
      }
      x = padSpatial(rewriter, loc, x, before, after, init);
    }

    // Loops: d0 = batch, 1..n = output positions, n+1..2n = window
    // offsets, 2n+1 = channel.
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
    Value window = tensor::EmptyOp::create(rewriter, loc, pool, et);
    Value acc = filledLike(rewriter, loc, outType, adaptor.getInput(), init);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{outType}, ValueRange{x, window},
        ValueRange{acc},
        SmallVector<AffineMap>{AffineMap::get(numLoops, 0, inExprs, ctx),
                               AffineMap::get(numLoops, 0, winExprs, ctx),
                               AffineMap::get(numLoops, 0, outExprs, ctx)},
        iterators, [isMax](OpBuilder &b, Location l, ValueRange a) {
          Value r = isMax ? Value(arith::MaximumFOp::create(b, l, a[2], a[0]))
                          : Value(arith::AddFOp::create(b, l, a[2], a[0]));
          linalg::YieldOp::create(b, l, ValueRange{r});
        });
    Value y = generic.getResult(0);
    if (!isMax) {
      auto countType =
          RankedTensorType::get(outType.getShape().slice(1, n), et);
      Value counts;
      if (same) {
        counts = arith::ConstantOp::create(
            rewriter, loc, windowCounts(countType, inSizes, pool, strides));
      } else {
        double area = 1;
        for (int64_t p : pool)
          area *= static_cast<double>(p);
        counts = splatConstant(rewriter, loc, countType, area);
      }
      SmallVector<AffineExpr> countExprs;
      for (int64_t i = 0; i < n; ++i)
        countExprs.push_back(d(1 + i));
      int64_t rank = n + 2;
      y = elementwise(
          rewriter, loc, {outType}, ValueRange{y, counts}, y,
          [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, a[0], a[1])};
          },
          {rewriter.getMultiDimIdentityMap(rank),
           AffineMap::get(rank, 0, countExprs, ctx)})[0];
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct GlobalPoolLowering : OpConversionPattern<GlobalPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!outType || !inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = inType.getRank();
    bool isMax = op.getKind() == "max";
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
                               AffineMap::get(rank, 0,
                                              {getAffineDimExpr(0, ctx),
                                               getAffineDimExpr(rank - 1, ctx)},
                                              ctx)},
        iterators, [isMax](OpBuilder &b, Location l, ValueRange a) {
          Value r = isMax ? Value(arith::MaximumFOp::create(b, l, a[1], a[0]))
                          : Value(arith::AddFOp::create(b, l, a[1], a[0]));
          linalg::YieldOp::create(b, l, ValueRange{r});
        });
    Value y = generic.getResult(0);
    if (!isMax) {
      // The spatial element count (dims may be dynamic: sequences).
      Value count = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (int64_t i = 1; i < rank - 1; ++i)
        count = arith::MulIOp::create(
            rewriter, loc, count, tensor::DimOp::create(rewriter, loc, x, i));
      Value countF = arith::SIToFPOp::create(
          rewriter, loc, et,
          arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                     count));
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

struct UpsampleLowering : OpConversionPattern<UpsampleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UpsampleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!outType || !inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = inType.getRank(), n = rank - 2;
    ArrayRef<int64_t> size = op.getSize();
    Value x = adaptor.getInput();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };

    if (op.getInterpolation() == "nearest") {
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

//===----------------------------------------------------------------------===//
// Gradients. Scatters are generics whose output map is not injective
// (y = o * stride + k): the loops that collide are reduction loops, which
// the sequential lowering (convert-linalg-to-loops) accumulates correctly.
//===----------------------------------------------------------------------===//

/// The same-padding split for an input of `size` and an output of `out`.
std::pair<int64_t, int64_t> padSplit(int64_t size, int64_t out, int64_t window,
                                     int64_t stride) {
  int64_t total = std::max<int64_t>((out - 1) * stride + window - size, 0);
  int64_t before = samePaddingBefore(size, window, stride);
  return {before, total - before};
}

/// The padded shape and per-axis (before, after) padding of a window op.
struct Padding {
  SmallVector<int64_t> before, after, paddedShape;
};
Padding windowPadding(RankedTensorType input, RankedTensorType output,
                      ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                      bool same) {
  Padding p;
  int64_t n = input.getRank() - 2;
  p.paddedShape.push_back(input.getDimSize(0));
  for (int64_t i = 0; i < n; ++i) {
    int64_t size = input.getDimSize(i + 1);
    auto [before, after] =
        same ? padSplit(size, output.getDimSize(i + 1), window[i], strides[i])
             : std::pair<int64_t, int64_t>{0, 0};
    // A valid window may leave the last positions unread: keep them.
    p.before.push_back(before);
    p.after.push_back(after);
    p.paddedShape.push_back(size + before + after);
  }
  p.paddedShape.push_back(input.getShape().back());
  return p;
}

/// The unpadded region [before, before + size) of a padded gradient.
Value cropPadding(OpBuilder &b, Location loc, Value padded,
                  RankedTensorType type, const Padding &p, Value like) {
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets{b.getIndexAttr(0)}, sizes;
  for (int64_t i = 0; i + 2 < rank; ++i)
    offsets.push_back(b.getIndexAttr(p.before[i]));
  offsets.push_back(b.getIndexAttr(0));
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(dimOf(b, loc, like, i));
  return tensor::ExtractSliceOp::create(
      b, loc, type, padded, offsets, sizes,
      SmallVector<OpFoldResult>(rank, b.getIndexAttr(1)));
}

/// The block size, at most `most`, that covers `size` in the fewest
/// blocks with the least overshoot: 9 columns take two blocks of 5 rather
/// than 6 + 6, whose clamped lanes would recompute a third of the work.
int64_t evenBlock(int64_t size, int64_t most) {
  int64_t blocks = (size + most - 1) / most;
  return (size + blocks - 1) / blocks;
}

/// A 2-D ungrouped convolution of the (already padded) `x` written as
/// loops over vectors, register-blocked the way oneDNN's direct kernels
/// are: each (batch, output row, block of `wt` output columns, block of
/// `fv` vectors of filters) keeps its wt x fv accumulators in registers
/// through the whole reduction over (kh, kw, input channel), each step one
/// load per filter vector, one broadcast per column and wt x fv FMAs. The
/// last column block is clamped (its extra columns recompute and rewrite
/// the last column), so no masks are needed. Returns null when the filters
/// are not whole vectors (256 bits) or the shape is not static.
Value convolveVectorized(OpBuilder &b, Location loc, Value x, Value kernel,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                         RankedTensorType outType) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto kType = cast<RankedTensorType>(kernel.getType());
  Type et = outType.getElementType();
  if (xType.getRank() != 4 || !kType.hasStaticShape() || !et.isIntOrFloat())
    return Value();
  int64_t kh = kType.getDimSize(0), kw = kType.getDimSize(1),
          channels = kType.getDimSize(2), filters = kType.getDimSize(3);
  int64_t oh = outType.getDimSize(1), ow = outType.getDimSize(2);
  auto [vl, fv] = vectorBlocking(et, filters);
  if (filters % vl != 0 || ShapedType::isDynamic(oh) ||
      ShapedType::isDynamic(ow) || oh == 0 || ow == 0)
    return Value();
  int64_t wt = evenBlock(ow, 12 / fv);
  auto vecType = VectorType::get({vl}, et);
  KernelBuilder kb{loc};
  auto loop = [&](OpBuilder &nb, int64_t ub, int64_t step, ValueRange inits,
                  KernelBuilder::Body body) {
    return kb.loop(nb, kb.index(nb, ub), step, inits, body);
  };
  Value zeroScalar = floatConst(b, loc, et, 0.0);
  Value zeroVector = kb.zeros(b, vecType);

  // One step of the reduction: input channel c at kernel offset (i, j),
  // for the block's input row `ih`, input columns `iws` and filters `fs`.
  auto fmaStep = [&](OpBuilder &nb, Value n, Value ih, ArrayRef<Value> iws,
                     Value i, Value j, Value c, ArrayRef<Value> fs,
                     ValueRange acc) {
    SmallVector<Value> ks, next;
    for (Value f : fs)
      ks.push_back(vector::TransferReadOp::create(
          nb, loc, vecType, kernel, ValueRange{i, j, c, f}, zeroScalar,
          ArrayRef<bool>{true}));
    for (auto [w, iw] : llvm::enumerate(iws)) {
      Value xs =
          tensor::ExtractOp::create(nb, loc, x, ValueRange{n, ih, iw, c});
      Value bx = vector::BroadcastOp::create(nb, loc, vecType, xs);
      for (int64_t v = 0; v < fv; ++v)
        next.push_back(
            vector::FMAOp::create(nb, loc, bx, ks[v], acc[w * fv + v]));
    }
    return next;
  };
  // The wt x fv accumulators of output row `row`, columns `cols`, filters
  // `fs`: the whole reduction over (kh, kw, input channel).
  auto block = [&](OpBuilder &nb, Value n, Value row, ArrayRef<Value> cols,
                   ArrayRef<Value> fs) {
    SmallVector<Value> zeros(wt * fv, zeroVector);
    return loop(nb, kh, 1, zeros, [&](OpBuilder &b1, Value i, ValueRange a1) {
      Value ih = kb.add(b1, kb.mul(b1, row, strides[0]), kb.mul(b1, i, dil[0]));
      return loop(b1, kw, 1, a1, [&](OpBuilder &b2, Value j, ValueRange a2) {
        SmallVector<Value> iws;
        for (Value col : cols)
          iws.push_back(
              kb.add(b2, kb.mul(b2, col, strides[1]), kb.mul(b2, j, dil[1])));
        return loop(b2, channels, 1, a2,
                    [&](OpBuilder &b3, Value c, ValueRange acc) {
                      return fmaStep(b3, n, ih, iws, i, j, c, fs, acc);
                    });
      });
    });
  };
  // The output loops: batch, row, column blocks, filter blocks.
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  auto columns = [&](OpBuilder &nb, Value n, Value row, Value t) {
    return loop(nb, ow, wt, t, [&](OpBuilder &b1, Value col0, ValueRange a1) {
      SmallVector<Value> cols;
      for (int64_t w = 0; w < wt; ++w)
        cols.push_back(kb.clamped(b1, col0, w, kb.index(b1, ow - 1)));
      return loop(b1, filters, vl * fv, a1,
                  [&](OpBuilder &b2, Value f0, ValueRange a2) {
                    SmallVector<Value> fs;
                    for (int64_t v = 0; v < fv; ++v)
                      fs.push_back(kb.add(b2, f0, kb.index(b2, v * vl)));
                    SmallVector<Value> acc = block(b2, n, row, cols, fs);
                    Value written = a2[0];
                    for (auto [w, col] : llvm::enumerate(cols))
                      for (auto [v, f] : llvm::enumerate(fs))
                        written = vector::TransferWriteOp::create(
                                      b2, loc, acc[w * fv + v], written,
                                      ValueRange{n, row, col, f},
                                      ArrayRef<bool>{true})
                                      .getResult();
                    return SmallVector<Value>{written};
                  });
    })[0];
  };
  return kb.loop(b, batch, 1, out, [&](OpBuilder &b1, Value n, ValueRange a1) {
    return loop(b1, oh, 1, a1, [&](OpBuilder &b2, Value row, ValueRange a2) {
      return SmallVector<Value>{columns(b2, n, row, a2[0])};
    });
  })[0];
}

/// The kernel gradient of a 2-D convolution, dk[i, j, c, f] = sum over
/// (n, oh, ow) of x[n, oh s + i d, ow s + j d, c] dy[n, oh, ow, f], with
/// `x` already padded, register-blocked like convolveVectorized: a block
/// of `ct` channels by `fv` vectors of filters accumulates in registers
/// over one output row (ow), and is added to dk after each row, so the rows
/// of x and dy it reads stay in cache. The last channel block is clamped.
/// Null when it does not apply.
Value filterGradVectorized(OpBuilder &b, Location loc, Value x, Value dy,
                           ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                           RankedTensorType type) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto dyType = cast<RankedTensorType>(dy.getType());
  Type et = type.getElementType();
  if (xType.getRank() != 4 || !type.hasStaticShape() || !et.isIntOrFloat())
    return Value();
  int64_t kh = type.getDimSize(0), kw = type.getDimSize(1),
          channels = type.getDimSize(2), filters = type.getDimSize(3);
  int64_t oh = dyType.getDimSize(1), ow = dyType.getDimSize(2);
  auto [vl, fv] = vectorBlocking(et, filters);
  if (filters % vl != 0 || ShapedType::isDynamic(oh) ||
      ShapedType::isDynamic(ow) || oh == 0 || ow == 0)
    return Value();
  int64_t ct = evenBlock(channels, 12 / fv);
  auto vecType = VectorType::get({vl}, et);
  KernelBuilder kb{loc};
  auto index = [&](OpBuilder &nb, int64_t v) { return kb.index(nb, v); };
  auto loop = [&](OpBuilder &nb, int64_t ub, int64_t step, ValueRange inits,
                  KernelBuilder::Body body) {
    return kb.loop(nb, index(nb, ub), step, inits, body);
  };
  Value zeroScalar = floatConst(b, loc, et, 0.0);
  Value dk = splatConstant(b, loc, type, 0.0);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  auto rowBody = [&](OpBuilder &b1, Value n, Value row, Value dkIn) -> Value {
    return loop(b1, kh, 1, dkIn, [&](OpBuilder &b2, Value i, ValueRange a2) {
      Value ih = kb.add(b2, kb.mul(b2, row, strides[0]), kb.mul(b2, i, dil[0]));
      return loop(b2, kw, 1, a2, [&](OpBuilder &b3, Value j, ValueRange a3) {
        Value jw = kb.mul(b3, j, dil[1]);
        return loop(
            b3, channels, ct, a3, [&](OpBuilder &b4, Value c0, ValueRange a4) {
              SmallVector<Value> cs;
              for (int64_t c = 0; c < ct; ++c)
                cs.push_back(kb.clamped(b4, c0, c, kb.index(b4, channels - 1)));
              return loop(
                  b4, filters, vl * fv, a4,
                  [&](OpBuilder &b5, Value f0, ValueRange a5) {
                    SmallVector<Value> fs, acc;
                    for (int64_t v = 0; v < fv; ++v)
                      fs.push_back(kb.add(b5, f0, index(b5, v * vl)));
                    for (Value c : cs)
                      for (Value f : fs)
                        acc.push_back(vector::TransferReadOp::create(
                            b5, loc, vecType, a5[0], ValueRange{i, j, c, f},
                            zeroScalar, ArrayRef<bool>{true}));
                    SmallVector<Value> sums =
                        loop(b5, ow, 1, acc,
                             [&](OpBuilder &b6, Value col, ValueRange a6) {
                               Value iw =
                                   kb.add(b6, kb.mul(b6, col, strides[1]), jw);
                               SmallVector<Value> gs, next;
                               for (Value f : fs)
                                 gs.push_back(vector::TransferReadOp::create(
                                     b6, loc, vecType, dy,
                                     ValueRange{n, row, col, f}, zeroScalar,
                                     ArrayRef<bool>{true}));
                               for (auto [ci, c] : llvm::enumerate(cs)) {
                                 Value xs = tensor::ExtractOp::create(
                                     b6, loc, x, ValueRange{n, ih, iw, c});
                                 Value bx = vector::BroadcastOp::create(
                                     b6, loc, vecType, xs);
                                 for (int64_t v = 0; v < fv; ++v)
                                   next.push_back(vector::FMAOp::create(
                                       b6, loc, bx, gs[v], a6[ci * fv + v]));
                               }
                               return next;
                             });
                    Value t = a5[0];
                    for (auto [ci, c] : llvm::enumerate(cs))
                      for (int64_t v = 0; v < fv; ++v)
                        t = vector::TransferWriteOp::create(
                                b5, loc, sums[ci * fv + v], t,
                                ValueRange{i, j, c, fs[v]},
                                ArrayRef<bool>{true})
                                .getResult();
                    return SmallVector<Value>{t};
                  });
            });
      });
    })[0];
  };
  return kb.loop(b, batch, 1, dk, [&](OpBuilder &b1, Value n, ValueRange a1) {
    return loop(b1, oh, 1, a1, [&](OpBuilder &b2, Value row, ValueRange a2) {
      return SmallVector<Value>{rowBody(b2, n, row, a2[0])};
    });
  })[0];
}

/// With stride 1, the input gradient is itself a convolution: of dy,
/// padded so that every window that read an input position is complete,
/// by the kernel flipped in space with its channel axes swapped. That
/// convolution is register-blocked (convolveVectorized); null when it does
/// not apply.
Value inputGradAsConvolution(OpBuilder &b, Location loc, Value dy, Value kernel,
                             ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                             const Padding &p, RankedTensorType type) {
  auto dyType = cast<RankedTensorType>(dy.getType());
  auto kType = cast<RankedTensorType>(kernel.getType());
  if (type.getRank() != 4 ||
      llvm::any_of(strides, [](int64_t s) { return s != 1; }) ||
      !kType.hasStaticShape() ||
      !fillsVectors(type.getElementType(), type.getShape().back()))
    return Value();
  SmallVector<int64_t> before, after;
  for (int64_t i = 0; i < 2; ++i) {
    int64_t reach = (kType.getDimSize(i) - 1) * dil[i];
    before.push_back(reach - p.before[i]);
    after.push_back(type.getDimSize(i + 1) + reach - dyType.getDimSize(i + 1) -
                    before.back());
    if (before.back() < 0 || after.back() < 0 ||
        ShapedType::isDynamic(type.getDimSize(i + 1)))
      return Value();
  }
  Value flipped = flippedTransposedKernel(b, loc, kernel);
  Value padded = padSpatial(b, loc, dy, before, after, 0.0);
  return convolveVectorized(b, loc, padded, flipped, {1, 1}, dil, type);
}

struct ConvInputGradLowering : OpConversionPattern<ConvInputGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvInputGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto dyType = dyn_cast<RankedTensorType>(adaptor.getGrad().getType());
    auto kType = dyn_cast<RankedTensorType>(adaptor.getKernel().getType());
    if (!type || !dyType || !kType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = type.getRank() - 2;
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations();
    SmallVector<int64_t> window = dilatedWindow(kType, dil);
    Padding p =
        windowPadding(type, dyType, window, strides, op.getPadding() == "same");
    Type et = type.getElementType();
    if (Value dx = inputGradAsConvolution(rewriter, loc, adaptor.getGrad(),
                                          adaptor.getKernel(), strides, dil, p,
                                          type)) {
      rewriter.replaceOp(op, dx);
      return success();
    }
    Value dxp = zerosLike(rewriter, loc, p.paddedShape, et, adaptor.getGrad());
    // The kernel with its last two axes swapped, (k..., filters, in), so
    // that the innermost loop (the input channel) reads it, dy's element
    // aside, contiguously: an axpy LLVM vectorizes, where a dot product
    // over the filters would stay a serial float reduction.
    int64_t kRank = kType.getRank();
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < kRank; ++i)
      perm.push_back(i);
    std::swap(perm[kRank - 1], perm[kRank - 2]);
    SmallVector<int64_t> ktShape(kType.getShape());
    std::swap(ktShape[kRank - 1], ktShape[kRank - 2]);
    Value kt =
        linalg::TransposeOp::create(
            rewriter, loc, adaptor.getKernel(),
            tensor::EmptyOp::create(rewriter, loc, ktShape, et).getResult(),
            perm)
            .getResult()[0];
    // Loops: d0 = batch, 1..n = output positions, n+1..2n = kernel
    // offsets, 2n+1 = filter, 2n+2 = input channel.
    int64_t numLoops = 2 * n + 3;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> dyExprs{d(0)}, kExprs, outExprs{d(0)};
    for (int64_t i = 0; i < n; ++i) {
      dyExprs.push_back(d(1 + i));
      kExprs.push_back(d(n + 1 + i));
      outExprs.push_back(d(1 + i) * strides[i] + d(n + 1 + i) * dil[i]);
    }
    dyExprs.push_back(d(2 * n + 1));
    kExprs.append({d(2 * n + 1), d(2 * n + 2)});
    outExprs.push_back(d(2 * n + 2));
    SmallVector<Iterator> iterators(numLoops, Iterator::reduction);
    iterators[0] = iterators[2 * n + 2] = Iterator::parallel;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{dxp.getType()},
        ValueRange{adaptor.getGrad(), kt}, ValueRange{dxp},
        SmallVector<AffineMap>{AffineMap::get(numLoops, 0, dyExprs, ctx),
                               AffineMap::get(numLoops, 0, kExprs, ctx),
                               AffineMap::get(numLoops, 0, outExprs, ctx)},
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          Value prod = arith::MulFOp::create(b, l, a[0], a[1]);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, a[2], prod)});
        });
    rewriter.replaceOp(op, cropPadding(rewriter, loc, generic.getResult(0),
                                       type, p, adaptor.getLike()));
    return success();
  }
};

struct ConvFilterGradLowering : OpConversionPattern<ConvFilterGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvFilterGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto xType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto dyType = dyn_cast<RankedTensorType>(adaptor.getGrad().getType());
    if (!type || !xType || !dyType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = xType.getRank() - 2;
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations();
    SmallVector<int64_t> window = dilatedWindow(type, dil);
    Padding p = windowPadding(xType, dyType, window, strides,
                              op.getPadding() == "same");
    Value xp =
        padSpatial(rewriter, loc, adaptor.getInput(), p.before, p.after, 0.0);
    if (Value dk = filterGradVectorized(rewriter, loc, xp, adaptor.getGrad(),
                                        strides, dil, type)) {
      rewriter.replaceOp(op, dk);
      return success();
    }
    // Loops: 0..n-1 = kernel offsets, n = input channel, n+1 = batch,
    // n+2..2n+1 = output positions, 2n+2 = filter.
    int64_t numLoops = 2 * n + 3;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xExprs{d(n + 1)}, dyExprs{d(n + 1)}, outExprs;
    for (int64_t i = 0; i < n; ++i) {
      xExprs.push_back(d(n + 2 + i) * strides[i] + d(i) * dil[i]);
      dyExprs.push_back(d(n + 2 + i));
      outExprs.push_back(d(i));
    }
    xExprs.push_back(d(n));
    dyExprs.push_back(d(2 * n + 2));
    outExprs.append({d(n), d(2 * n + 2)});
    SmallVector<Iterator> iterators(numLoops, Iterator::parallel);
    for (int64_t i = n + 1; i <= 2 * n + 1; ++i)
      iterators[i] = Iterator::reduction;
    Value init = splatConstant(rewriter, loc, type, 0.0);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{xp, adaptor.getGrad()},
        ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                               AffineMap::get(numLoops, 0, dyExprs, ctx),
                               AffineMap::get(numLoops, 0, outExprs, ctx)},
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          Value prod = arith::MulFOp::create(b, l, a[0], a[1]);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, a[2], prod)});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct PoolGradLowering : OpConversionPattern<PoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto dyType = dyn_cast<RankedTensorType>(adaptor.getGrad().getType());
    if (!type || !dyType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = type.getRank() - 2;
    ArrayRef<int64_t> pool = op.getPoolSize(), strides = op.getStrides();
    bool same = op.getPadding() == "same", isMax = op.getKind() == "max";
    Type et = type.getElementType();
    Padding p = windowPadding(type, dyType, pool, strides, same);
    Value window = tensor::EmptyOp::create(rewriter, loc, pool, et);
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    // Loops: d0 = batch, 1..n = output positions, n+1..2n = window
    // offsets, 2n+1 = channel.
    int64_t numLoops = 2 * n + 2;
    SmallVector<AffineExpr> inExprs{d(0)}, winExprs, outExprs{d(0)};
    for (int64_t i = 0; i < n; ++i) {
      inExprs.push_back(d(1 + i) * strides[i] + d(n + 1 + i));
      winExprs.push_back(d(n + 1 + i));
      outExprs.push_back(d(1 + i));
    }
    inExprs.push_back(d(2 * n + 1));
    outExprs.push_back(d(2 * n + 1));
    AffineMap inMap = AffineMap::get(numLoops, 0, inExprs, ctx),
              winMap = AffineMap::get(numLoops, 0, winExprs, ctx),
              outMap = AffineMap::get(numLoops, 0, outExprs, ctx);
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
      SmallVector<Iterator> iterators(numLoops, Iterator::parallel);
      for (int64_t i = 0; i < n; ++i)
        iterators[n + 1 + i] = Iterator::reduction;
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{dyType, idxType}, ValueRange{xp, window},
          ValueRange{best, idx0},
          SmallVector<AffineMap>{inMap, winMap, outMap, outMap}, iterators,
          [&](OpBuilder &b, Location l, ValueRange a) {
            Value better = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OGT, a[0], a[2]);
            linalg::YieldOp::create(
                b, l,
                ValueRange{arith::SelectOp::create(b, l, better, a[0], a[2]),
                           arith::SelectOp::create(b, l, better,
                                                   flatWindow(b, l), a[3])});
          });
      argmax = generic.getResult(1);
    } else if (same) {
      scale = arith::ConstantOp::create(
          rewriter, loc,
          windowCounts(RankedTensorType::get(dyType.getShape().slice(1, n), et),
                       type.getShape().slice(1, n), pool, strides));
    } else {
      double area = 1;
      for (int64_t w : pool)
        area *= static_cast<double>(w);
      scale = splatConstant(
          rewriter, loc,
          RankedTensorType::get(dyType.getShape().slice(1, n), et), area);
    }

    // Scatter: dxp[n, o * s + w, c] += the window's share of dy[n, o, c].
    Value dxp = zerosLike(rewriter, loc, p.paddedShape, et, adaptor.getGrad());
    SmallVector<Value> inputs{adaptor.getGrad(), window};
    SmallVector<AffineMap> maps{outMap, winMap};
    if (isMax) {
      inputs.push_back(argmax);
      maps.push_back(outMap);
    } else {
      SmallVector<AffineExpr> countExprs;
      for (int64_t i = 0; i < n; ++i)
        countExprs.push_back(d(1 + i));
      inputs.push_back(scale);
      maps.push_back(AffineMap::get(numLoops, 0, countExprs, ctx));
    }
    maps.push_back(inMap);
    SmallVector<Iterator> iterators(numLoops, Iterator::reduction);
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

struct GlobalPoolGradLowering : OpConversionPattern<GlobalPoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    Type et = type.getElementType();
    Value x = adaptor.getInput();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap pooled = AffineMap::get(
        rank, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(rank - 1, ctx)},
        ctx);
    if (op.getKind() == "max") {
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
    Value count = arith::ConstantIndexOp::create(rewriter, loc, 1);
    for (int64_t i = 1; i < rank - 1; ++i)
      count = arith::MulIOp::create(rewriter, loc, count,
                                    tensor::DimOp::create(rewriter, loc, x, i));
    Value countF = arith::SIToFPOp::create(
        rewriter, loc, et,
        arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                   count));
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

struct UpsampleGradLowering : OpConversionPattern<UpsampleGradOp> {
  using OpConversionPattern::OpConversionPattern;

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
    auto accumulate = [](OpBuilder &b, Location l, ValueRange v) {
      Value prod = arith::MulFOp::create(b, l, v[0], v[1]);
      linalg::YieldOp::create(
          b, l, ValueRange{arith::AddFOp::create(b, l, v[2], prod)});
    };
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
    Value t = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{tType}, ValueRange{ah, dy},
                  ValueRange{tInit},
                  SmallVector<AffineMap>{
                      AffineMap::get(5, 0, {d(4), d(1)}, ctx),
                      AffineMap::get(5, 0, {d(0), d(4), d(2), d(3)}, ctx),
                      AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
                  SmallVector<It>{It::parallel, It::parallel, It::parallel,
                                  It::parallel, It::reduction},
                  accumulate)
                  .getResult(0);
    // dx: loops (n, i, j, c, q).
    Value dx = filledLike(rewriter, loc, type, adaptor.getLike(), 0.0);
    dx = linalg::GenericOp::create(
             rewriter, loc, TypeRange{type}, ValueRange{aw, t}, ValueRange{dx},
             SmallVector<AffineMap>{
                 AffineMap::get(5, 0, {d(4), d(2)}, ctx),
                 AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
                 AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
             SmallVector<It>{It::parallel, It::parallel, It::parallel,
                             It::parallel, It::reduction},
             accumulate)
             .getResult(0);
    rewriter.replaceOp(op, dx);
    return success();
  }
  LogicalResult
  matchAndRewrite(UpsampleGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto dyType = dyn_cast<RankedTensorType>(adaptor.getGrad().getType());
    if (!type || !dyType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    if (op.getInterpolation() == "bilinear")
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

Value codegen::convolve(OpBuilder &b, Location loc, Value input, Value kernel,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                        bool same, int64_t groups, RankedTensorType outType) {
  MLIRContext *ctx = b.getContext();
  auto inType = cast<RankedTensorType>(input.getType());
  auto kType = cast<RankedTensorType>(kernel.getType());
  int64_t n = inType.getRank() - 2;
  Value x = input;
  if (same) {
    SmallVector<int64_t> before, after;
    for (int64_t i = 0; i < n; ++i) {
      int64_t size = inType.getDimSize(i + 1);
      int64_t window = (kType.getDimSize(i) - 1) * dil[i] + 1;
      int64_t total = std::max<int64_t>(
          (outType.getDimSize(i + 1) - 1) * strides[i] + window - size, 0);
      before.push_back(samePaddingBefore(size, window, strides[i]));
      after.push_back(total - before.back());
    }
    x = padSpatial(b, loc, x, before, after, 0.0);
  }
  if (groups == 1)
    if (Value y = convolveVectorized(b, loc, x, kernel, strides, dil, outType))
      return y;
  Value xg = splitLast(b, loc, x, groups);
  Value kg = splitLast(b, loc, kernel, groups);

  // Loops: d0 = batch, 1..n = output positions, n+1 = group, n+2..2n+1 =
  // kernel offsets, 2n+2 = input channel, 2n+3 = filter within the group.
  int64_t numLoops = 2 * n + 4;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  AffineExpr g = d(n + 1), c = d(2 * n + 2), f = d(2 * n + 3);
  SmallVector<AffineExpr> inExprs{d(0)}, kExprs, outExprs{d(0)};
  for (int64_t i = 0; i < n; ++i) {
    inExprs.push_back(d(1 + i) * strides[i] + d(n + 2 + i) * dil[i]);
    kExprs.push_back(d(n + 2 + i));
    outExprs.push_back(d(1 + i));
  }
  inExprs.append({g, c});
  kExprs.append({c, g, f});
  outExprs.append({g, f});
  SmallVector<Iterator> iterators(numLoops, Iterator::parallel);
  for (int64_t i = 0; i < n; ++i)
    iterators[n + 2 + i] = Iterator::reduction;
  iterators[2 * n + 2] = Iterator::reduction;

  SmallVector<int64_t> accShape(outType.getShape().drop_back());
  accShape.append({groups, outType.getShape().back() / groups});
  Type et = outType.getElementType();
  Value acc = zerosLike(b, loc, accShape, et, input);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{xg, kg}, ValueRange{acc},
      SmallVector<AffineMap>{AffineMap::get(numLoops, 0, inExprs, ctx),
                             AffineMap::get(numLoops, 0, kExprs, ctx),
                             AffineMap::get(numLoops, 0, outExprs, ctx)},
      iterators, [](OpBuilder &nb, Location l, ValueRange a) {
        Value prod = arith::MulFOp::create(nb, l, a[0], a[1]);
        linalg::YieldOp::create(
            nb, l, ValueRange{arith::AddFOp::create(nb, l, a[2], prod)});
      });
  return mergeLastTwo(b, loc, generic.getResult(0));
}

void codegen::populateConvLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvTransposeLowering, PoolLowering,
               GlobalPoolLowering, UpsampleLowering, ConvInputGradLowering,
               ConvFilterGradLowering, PoolGradLowering, GlobalPoolGradLowering,
               UpsampleGradLowering>(patterns.getContext());
}
