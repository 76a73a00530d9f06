//===- Conv.cpp - Lowering of convolutions and their gradients ------------===//
//
// Channels-last windows over 1 to 3 spatial axes, each one linalg.generic
// whose loops are ordered for the loop vectorizer (the loop over the
// unit-stride channel axis innermost):
//
//   conv            pad (same) -> expand groups -> generic
//                   [n, o..., g, k..., c, f] -> collapse -> bias/activation;
//                   2-D ungrouped ones with whole vectors of filters are
//                   register-blocked instead (convolveVectorized), those
//                   with a few filters vectorized over the input channels
//                   (convolveFewFilters, SmallChannels.cpp)
//   conv_transpose  the input scattered with `stride` into a zero tensor
//                   (vector copies, or an insert_slice with strides) -> a
//                   convolution by the kernel flipped and transposed
//                   (register-blocked, or a generic) -> bias/activation;
//                   a gather, so no atomics and one write per output element
//
// Pooling and upsampling are in Pooling.cpp; the window helpers both use
// are defined here (windowPadding, cropPadding) and in Builders.cpp
// (padSpatial, zerosLike).
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

using Iterator = utils::IteratorType;

/// `kernel` (k..., a, b) flipped along every spatial axis, its last two axes
/// swapped: (k..., b, a), w[k..., j, i] = kernel[K - 1 - k..., i, j]. The
/// kernel of a convolution's adjoint (transposed convolutions, input
/// gradients).
/// A constant kernel (a library's embedded weights) is flipped here, so
/// that the kernel of a transposed convolution is a constant too (which
/// Winograd's filter transform folds).
Value flippedTransposedKernel(OpBuilder &b, Location loc, Value kernel) {
  auto kType = cast<RankedTensorType>(kernel.getType());
  MLIRContext *ctx = b.getContext();
  int64_t n = kType.getRank() - 2;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<int64_t> shape(kType.getShape().take_front(n));
  shape.append({kType.getDimSize(n + 1), kType.getDimSize(n)});
  DenseElementsAttr constant;
  if (kType.hasStaticShape() && matchPattern(kernel, m_Constant(&constant))) {
    SmallVector<Attribute> from(constant.getValues<Attribute>()), to;
    int64_t a = kType.getDimSize(n), c = kType.getDimSize(n + 1);
    int64_t taps = kType.getNumElements() / (a * c);
    to.reserve(from.size());
    // Tap t of the flipped kernel is tap taps - 1 - t of the kernel (every
    // spatial axis reversed is the flattened taps reversed).
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t j = 0; j < c; ++j)
        for (int64_t i = 0; i < a; ++i)
          to.push_back(from[((taps - 1 - t) * a + i) * c + j]);
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get(shape, kType.getElementType()), to));
  }
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

struct ConvLowering : RankedLowering<ConvOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ConvOp op, OpAdaptor adaptor, RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto kType = dyn_cast<RankedTensorType>(adaptor.getKernel().getType());
    if (!inType || !kType || !kType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Epilogue epilogue{adaptor.getBias(), op.getActivation()};
    epilogue.residual = adaptor.getResidual();
    Value y = convolve(rewriter, loc, adaptor.getInput(), adaptor.getKernel(),
                       op.getStrides(), op.getDilations(),
                       op.getPadding() == layer::Padding::Same,
                       static_cast<int64_t>(op.getGroups()), outType, &epilogue,
                       tilingOf(op, rewriter, outType));
    if (!epilogue.applied) {
      y = biasAndActivation(rewriter, loc, y, adaptor.getBias(),
                            op.getActivation());
      if (Value residual = adaptor.getResidual())
        y = elementwise(
            rewriter, loc, {outType}, ValueRange{y, residual}, y,
            [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              return {arith::AddFOp::create(b, l, a[0], a[1])};
            })[0];
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct ConvTransposeLowering : RankedLowering<ConvTransposeOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ConvTransposeOp op, OpAdaptor adaptor,
                      RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto kType = dyn_cast<RankedTensorType>(adaptor.getKernel().getType());
    if (!inType || !kType || !kType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = inType.getRank() - 2;
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations();
    bool same = op.getPadding() == layer::Padding::Same;
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
    SmallVector<int64_t> at, counts;
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
      at.push_back(offset);
      counts.push_back(count);
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
    if (Value v = scatterVectorized(rewriter, loc, adaptor.getInput(),
                                    scattered, at, counts, strides))
      scattered = v;
    else
      scattered = tensor::InsertSliceOp::create(rewriter, loc, src, scattered,
                                                offsets, sizes, steps);

    // The kernel (k..., filters, in) flipped and transposed to
    // (k..., in, filters), so the filter loop is unit-stride.
    Value w = flippedTransposedKernel(rewriter, loc, adaptor.getKernel());
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };

    // That is a convolution of D by the flipped kernel, stride 1.
    SmallVector<int64_t> ones(n, 1);
    Epilogue epilogue{adaptor.getBias(), op.getActivation()};
    layer::TileAttr tile = tilingOf(op, rewriter, outType);
    Value y;
    if (llvm::all_of(strides, [](int64_t s) { return s == 1; }) &&
        llvm::all_of(dil, [](int64_t d) { return d == 1; }))
      y = convolveWinograd(rewriter, loc, scattered, w, outType, tile,
                           &epilogue);
    if (!y)
      y = convolveVectorized(rewriter, loc, scattered, w, ones, dil, outType,
                             tile, &epilogue);
    if (!y)
      y = convolveFewFilters(rewriter, loc, scattered, w, ones, dil, outType,
                             &epilogue);
    if (y) {
      if (!epilogue.applied)
        y = biasAndActivation(rewriter, loc, y, adaptor.getBias(),
                              op.getActivation());
      rewriter.replaceOp(op, y);
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
    rewriter.replaceOp(
        op, biasAndActivation(rewriter, loc, generic.getResult(0),
                              adaptor.getBias(), op.getActivation()));
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

/// With stride 1, the input gradient is itself a convolution: of dy,
/// padded so that every window that read an input position is complete,
/// by the kernel flipped in space with its channel axes swapped. On a CPU
/// that convolution is register-blocked (convolveVectorized, 2-D); on a GPU
/// (no vector kernels) it is the generic gather of any rank, one thread per
/// input element, where the scatter form below leaves only the batch and
/// channel loops parallel. Null when it does not apply.
Value inputGradAsConvolution(OpBuilder &b, Location loc, Value dy, Value kernel,
                             ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                             const codegen::Padding &p, RankedTensorType type,
                             layer::TileAttr tile) {
  auto dyType = cast<RankedTensorType>(dy.getType());
  auto kType = cast<RankedTensorType>(kernel.getType());
  bool gpu = vectorBitsAt(b) == 0;
  int64_t n = type.getRank() - 2;
  if ((!gpu && type.getRank() != 4) ||
      llvm::any_of(strides, [](int64_t s) { return s != 1; }) ||
      !kType.hasStaticShape() ||
      kType.getDimSize(n) != type.getDimSize(n + 1) || // grouped
      (!gpu && !tile))
    return Value();
  SmallVector<int64_t> before, after;
  for (int64_t i = 0; i < n; ++i) {
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
  if (gpu)
    return convolve(b, loc, padded, flipped, SmallVector<int64_t>(n, 1), dil,
                    /*same=*/false, /*groups=*/1, type);
  if (llvm::all_of(dil, [](int64_t d) { return d == 1; }))
    if (Value dx = convolveWinograd(b, loc, padded, flipped, type, tile))
      return dx;
  return convolveVectorized(b, loc, padded, flipped, {1, 1}, dil, type, tile);
}

/// The forward convolution of a gradient op: its spatial rank, strides,
/// dilations and padding.
struct ForwardConv {
  int64_t n;
  ArrayRef<int64_t> strides, dil;
  codegen::Padding p;
};

/// The ForwardConv of a gradient `op` from the types of the forward op's
/// input, output and kernel; none while one of them is not inferred.
template <typename GradOp>
std::optional<ForwardConv> forwardConv(GradOp op, Type input, Type output,
                                       Type kernel) {
  auto in = dyn_cast<RankedTensorType>(input);
  auto out = dyn_cast<RankedTensorType>(output);
  auto k = dyn_cast<RankedTensorType>(kernel);
  if (!in || !out || !k)
    return std::nullopt;
  return ForwardConv{in.getRank() - 2, op.getStrides(), op.getDilations(),
                     windowPadding(in, out, dilatedWindow(k, op.getDilations()),
                                   op.getStrides(),
                                   op.getPadding() == layer::Padding::Same)};
}

struct ConvInputGradLowering : RankedLowering<ConvInputGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ConvInputGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    std::optional<ForwardConv> forward = forwardConv(
        op, type, adaptor.getGrad().getType(), adaptor.getKernel().getType());
    if (!forward)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    auto [n, strides, dil, p] = *forward;
    auto kType = cast<RankedTensorType>(adaptor.getKernel().getType());
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type et = type.getElementType();
    if (Value dx = inputGradAsConvolution(rewriter, loc, adaptor.getGrad(),
                                          adaptor.getKernel(), strides, dil, p,
                                          type, tilingOf(op, rewriter, type))) {
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
    Value sum = multiplyAccumulate(rewriter, loc, adaptor.getGrad(), kt, dxp,
                                   {AffineMap::get(numLoops, 0, dyExprs, ctx),
                                    AffineMap::get(numLoops, 0, kExprs, ctx),
                                    AffineMap::get(numLoops, 0, outExprs, ctx)},
                                   iterators);
    rewriter.replaceOp(
        op, cropPadding(rewriter, loc, sum, type, p, adaptor.getLike()));
    return success();
  }
};

struct ConvFilterGradLowering : RankedLowering<ConvFilterGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ConvFilterGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    std::optional<ForwardConv> forward = forwardConv(
        op, adaptor.getInput().getType(), adaptor.getGrad().getType(), type);
    if (!forward)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    auto [n, strides, dil, p] = *forward;
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value xp =
        padSpatial(rewriter, loc, adaptor.getInput(), p.before, p.after, 0.0);
    if (Value dk =
            filterGradVectorized(rewriter, loc, xp, adaptor.getGrad(), strides,
                                 dil, type, tilingOf(op, rewriter, type))) {
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
    rewriter.replaceOp(
        op, multiplyAccumulate(rewriter, loc, xp, adaptor.getGrad(), init,
                               {AffineMap::get(numLoops, 0, xExprs, ctx),
                                AffineMap::get(numLoops, 0, dyExprs, ctx),
                                AffineMap::get(numLoops, 0, outExprs, ctx)},
                               iterators));
    return success();
  }
};

} // namespace

codegen::Padding codegen::windowPadding(RankedTensorType input,
                                        RankedTensorType output,
                                        ArrayRef<int64_t> window,
                                        ArrayRef<int64_t> strides, bool same) {
  codegen::Padding p;
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

/// 9 columns in blocks of at most 6 take two blocks of 5 rather than
/// 6 + 6, whose clamped lanes would recompute a third of the work.
int64_t codegen::evenBlock(int64_t size, int64_t most) {
  int64_t blocks = (size + most - 1) / most;
  return (size + blocks - 1) / blocks;
}

/// The unpadded region [before, before + size) of a padded gradient.
Value codegen::cropPadding(OpBuilder &b, Location loc, Value padded,
                           RankedTensorType type, const codegen::Padding &p,
                           Value like) {
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

Value codegen::convolve(OpBuilder &b, Location loc, Value input, Value kernel,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                        bool same, int64_t groups, RankedTensorType outType,
                        Epilogue *epilogue, layer::TileAttr tile) {
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
  if (groups == 1) {
    bool unit = llvm::all_of(strides, [](int64_t s) { return s == 1; }) &&
                llvm::all_of(dil, [](int64_t d) { return d == 1; });
    if (unit)
      if (Value y =
              convolveWinograd(b, loc, x, kernel, outType, tile, epilogue))
        return y;
    if (Value y = convolveVectorized(
            b, loc, x, kernel, strides, dil, outType,
            tile ? tile : tilingOf(nullptr, b, outType), epilogue))
      return y;
    if (Value y = convolveFewFilters(b, loc, x, kernel, strides, dil, outType,
                                     epilogue))
      return y;
  }
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
  patterns.add<ConvLowering, ConvTransposeLowering, ConvInputGradLowering,
               ConvFilterGradLowering>(patterns.getContext());
}
