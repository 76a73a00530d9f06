//===- ConvShapeRules.cpp - Shape rules of convolution and pooling --------===//
//
// Keras's window arithmetic (windowOutputSize, samePaddingBefore,
// transposedOutputSize) and the shape rules of the channels-last window
// ops over 1 to 3 spatial axes: conv, conv_transpose, pool, global_pool,
// upsample, and their gradient ops, whose `grad` must have the shape the
// forward rule gives.
//
//===----------------------------------------------------------------------===//

#include "dialect/ShapeRules.h"

#include "mlir/IR/TypeUtilities.h"

#include <algorithm>
#include <type_traits>

using namespace mlir;
using namespace layerc::layer;
using namespace layerc::layer::rules;

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

int64_t layerc::layer::windowOutputSize(int64_t size, int64_t window,
                                        int64_t stride, bool same) {
  if (ShapedType::isDynamic(size))
    return ShapedType::kDynamic;
  if (same)
    return satAdd(size, stride - 1) / stride;
  return size < window ? 0 : (size - window) / stride + 1;
}

int64_t layerc::layer::samePaddingBefore(int64_t size, int64_t window,
                                         int64_t stride) {
  int64_t out = satAdd(size, stride - 1) / stride;
  int64_t total =
      std::max<int64_t>(satAdd(satMul(out - 1, stride), window) - size, 0);
  return total / 2;
}

int64_t layerc::layer::transposedOutputSize(int64_t size, int64_t window,
                                            int64_t stride, bool same,
                                            std::optional<int64_t> outPad) {
  if (ShapedType::isDynamic(size))
    return ShapedType::kDynamic;
  if (!outPad)
    return same ? satMul(size, stride)
                : satAdd(satMul(size, stride),
                         std::max<int64_t>(window - stride, 0));
  int64_t pad = same ? window / 2 : 0;
  return satAdd(satAdd(satMul(size - 1, stride), window) - 2 * pad, *outPad);
}

/// A channels-last input with 1 to 3 spatial axes.
static LogicalResult checkSpatialInput(Operation *op, RankedTensorType input) {
  if (input.getRank() < 3 || input.getRank() > 5)
    return op->emitOpError()
           << "expects a channels-last input (batch, spatial..., channels) "
              "with 1 to 3 spatial dimensions, got "
           << formatShape(input);
  return success();
}

/// The shared rule of conv and conv_transpose. `transposed` reads the
/// kernel as (k..., filters, in) instead of (k..., in / groups, filters).
template <typename OpTy>
static FailureOr<SmallVector<Type>> convResultTypes(OpTy op, int64_t groups,
                                                    bool transposed) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  if (kernel.getRank() != n + 2)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel) << " must have rank "
           << n + 2 << " for an input of shape " << formatShape(input);
  SmallVector<StringRef> names{"kernel", "bias"};
  if constexpr (std::is_same_v<OpTy, ConvOp>)
    if (op.getResidual())
      names = op.getBias()
                  ? SmallVector<StringRef>{"kernel", "bias", "residual"}
                  : SmallVector<StringRef>{"kernel", "residual"};
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(), names,
                               input.getElementType())))
    return failure();
  SmallVector<std::pair<StringRef, ArrayRef<int64_t>>> arrays{
      {"strides", op.getStrides()}, {"dilations", op.getDilations()}};
  FailureOr<bool> same = checkWindowAttrs(op, op.getPadding(), n, arrays);
  if (failed(same))
    return failure();
  if (groups <= 0)
    return op.emitOpError() << "groups must be positive, got " << groups;
  int64_t channels = input.getShape().back();
  int64_t kernelIn = kernel.getDimSize(transposed ? n + 1 : n);
  int64_t filters = kernel.getDimSize(transposed ? n : n + 1);
  if (channels % groups != 0 || filters % groups != 0)
    return op.emitOpError()
           << "groups (" << groups << ") must divide the input channels ("
           << channels << ") and the filters (" << filters << ")";
  if (kernelIn * groups != channels)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input)
           << ": expected " << channels / groups << " input channels per group";
  if (op.getBias()) {
    RankedTensorType bias = (*types)[2];
    if (bias.getRank() != 1 || bias.getDimSize(0) != filters)
      return op.emitOpError() << "bias of shape " << formatShape(bias)
                              << " does not match " << filters << " filters";
  }
  Shape shape{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t size = input.getDimSize(i + 1);
    int64_t d = op.getDilations()[i], s = op.getStrides()[i];
    int64_t window = satAdd(satMul(kernel.getDimSize(i) - 1, d), 1);
    int64_t out;
    if constexpr (std::is_same_v<OpTy, ConvTransposeOp>) {
      std::optional<int64_t> outPad;
      if (!op.getOutputPadding().empty())
        outPad = op.getOutputPadding()[i];
      out = transposedOutputSize(size, window, s, *same, outPad);
    } else {
      out = windowOutputSize(size, window, s, *same);
      if (!*same)
        requireDims(op->getOperand(0), {i + 1}, DimCheck::Relation::AtLeast,
                    window,
                    "the input must be at least as large as the "
                    "dilated kernel");
    }
    if (out <= 0 && !ShapedType::isDynamic(out))
      return op.emitOpError()
             << "kernel of shape " << formatShape(kernel) << " (dilated size "
             << window << " on spatial axis " << i
             << ") is larger than the unpadded input of shape "
             << formatShape(input);
    shape.push_back(out);
  }
  shape.push_back(filters);
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(ConvOp) {
  auto result =
      convResultTypes(op, static_cast<int64_t>(op.getGroups()), false);
  if (failed(result) || result->empty() || !op.getResidual())
    return result;
  // The residual is added element by element: the result's shape exactly.
  // Its batch is checked against the input's when it runs, as is any
  // other size it leaves unknown; the result's other sizes must be known.
  Value residualValue = op.getResidual();
  auto residual = cast<RankedTensorType>(residualValue.getType());
  auto expected = cast<RankedTensorType>(result->front());
  bool fits = residual.getRank() == expected.getRank() &&
              agree(residualValue, 0, op.getInput(), 0,
                    "the residual's batch must match the input's");
  for (int64_t i = 1; fits && i < residual.getRank(); ++i) {
    fits = !expected.isDynamicDim(i) &&
           dimsAgree(residual.getDimSize(i), expected.getDimSize(i));
    if (fits)
      requireDims(residualValue, {i}, DimCheck::Relation::Equal,
                  expected.getDimSize(i),
                  "the residual must have the result's shape");
  }
  if (!fits)
    return op.emitOpError()
           << "residual of shape " << formatShape(residual)
           << " does not match the result's shape " << formatShape(expected);
  return result;
}

LAYER_SHAPE_RULE(ConvTransposeOp) {
  ArrayRef<int64_t> outPad = op.getOutputPadding();
  auto types = rankedTypes(op->getOperands());
  if (types && !outPad.empty()) {
    int64_t n = (*types)[0].getRank() - 2;
    if (static_cast<int64_t>(outPad.size()) != n)
      return op.emitOpError()
             << "output_padding has " << outPad.size()
             << " entries but the input has " << n << " spatial dimensions";
    for (int64_t i = 0; i < n; ++i) {
      int64_t s = op.getStrides().size() > static_cast<size_t>(i)
                      ? op.getStrides()[i]
                      : 1;
      if (outPad[i] < 0 || outPad[i] >= s)
        return op.emitOpError() << "output_padding " << outPad[i]
                                << " must be in [0, stride " << s << ")";
    }
  }
  return convResultTypes(op, 1, true);
}

LAYER_SHAPE_RULE(PoolOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  SmallVector<std::pair<StringRef, ArrayRef<int64_t>>> arrays{
      {"pool_size", op.getPoolSize()}, {"strides", op.getStrides()}};
  FailureOr<bool> same = checkWindowAttrs(op, op.getPadding(), n, arrays);
  if (failed(same))
    return failure();
  Shape shape{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t out = windowOutputSize(input.getDimSize(i + 1), op.getPoolSize()[i],
                                   op.getStrides()[i], *same);
    if (!*same)
      requireDims(op->getOperand(0), {i + 1}, DimCheck::Relation::AtLeast,
                  op.getPoolSize()[i],
                  "the input must be at least as large as the pool");
    if (out <= 0 && !ShapedType::isDynamic(out))
      return op.emitOpError()
             << "pool_size " << op.getPoolSize()[i] << " on spatial axis " << i
             << " is larger than the unpadded input of shape "
             << formatShape(input);
    shape.push_back(out);
  }
  shape.push_back(input.getShape().back());
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(GlobalPoolOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  return SmallVector<Type>{tensorOf(
      {input.getDimSize(0), input.getShape().back()}, input.getElementType())};
}

LAYER_SHAPE_RULE(UpsampleOp) {
  Interpolation interp = op.getInterpolation();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  if (failed(checkWindowAttrs(op, Padding::Valid, n, {{"size", op.getSize()}})))
    return failure();
  if (interp == Interpolation::Bilinear && n != 2)
    return op.emitOpError()
           << "bilinear interpolation needs 2 spatial dimensions, got "
           << formatShape(input);
  Shape shape(input.getShape());
  for (int64_t i = 0; i < n; ++i)
    if (!ShapedType::isDynamic(shape[i + 1]))
      shape[i + 1] = satMul(shape[i + 1], op.getSize()[i]);
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

/// The gradient ops of windows: `grad` must have the shape the forward op
/// gives for `like` (recomputed with its rule), and the result is `like`.
static FailureOr<SmallVector<Type>>
windowGradTypes(Operation *op, Value like, Value grad,
                RankedTensorType forwardOut) {
  auto likeType = cast<RankedTensorType>(like.getType());
  auto gradType = cast<RankedTensorType>(grad.getType());
  if (failed(verifyCompatibleShape(gradType.getShape(), forwardOut.getShape())))
    return op->emitOpError() << "grad of shape " << formatShape(gradType)
                             << " does not match the forward output shape "
                             << formatShape(forwardOut);
  return SmallVector<Type>{likeType};
}

/// The output shape of a channels-last window op over `input` (spatial
/// axes 1..n) with `window[i]` elements per axis and `channels` out.
static FailureOr<RankedTensorType>
windowOutputType(Operation *op, RankedTensorType input,
                 ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                 Padding padding, int64_t channels) {
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  FailureOr<bool> same = checkWindowAttrs(
      op, padding, n, {{"window", window}, {"strides", strides}});
  if (failed(same))
    return failure();
  Shape shape{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i)
    shape.push_back(windowOutputSize(input.getDimSize(i + 1), window[i],
                                     strides[i], *same));
  shape.push_back(channels);
  return tensorOf(shape, input.getElementType());
}

template <typename OpTy>
static FailureOr<SmallVector<Type>>
convGradTypes(OpTy op, RankedTensorType input, RankedTensorType kernel,
              Value like, Value grad) {
  int64_t n = input.getRank() - 2;
  if (kernel.getRank() != n + 2 || !kernel.hasStaticShape())
    return op.emitOpError() << "kernel of shape " << formatShape(kernel)
                            << " must be static of rank " << n + 2;
  if (op.getDilations().size() != static_cast<size_t>(n))
    return op.emitOpError()
           << "dilations has " << op.getDilations().size()
           << " entries but the input has " << n << " spatial dimensions";
  if (kernel.getDimSize(n) != input.getShape().back())
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input);
  SmallVector<int64_t> window;
  for (int64_t i = 0; i < n; ++i)
    window.push_back(
        satAdd(satMul(kernel.getDimSize(i) - 1, op.getDilations()[i]), 1));
  FailureOr<RankedTensorType> out =
      windowOutputType(op, input, window, op.getStrides(), op.getPadding(),
                       kernel.getDimSize(n + 1));
  if (failed(out))
    return failure();
  return windowGradTypes(op, like, grad, *out);
}

LAYER_SHAPE_RULE(ConvInputGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  return convGradTypes(op, (*types)[2], (*types)[1], op.getLike(),
                       op.getGrad());
}

LAYER_SHAPE_RULE(ConvFilterGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  return convGradTypes(op, (*types)[0], (*types)[2], op.getLike(),
                       op.getGrad());
}

LAYER_SHAPE_RULE(PoolGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  FailureOr<RankedTensorType> out =
      windowOutputType(op, input, op.getPoolSize(), op.getStrides(),
                       op.getPadding(), input.getShape().back());
  if (failed(out))
    return failure();
  return windowGradTypes(op, op.getInput(), op.getGrad(), *out);
}

LAYER_SHAPE_RULE(GlobalPoolGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  RankedTensorType pooled = tensorOf(
      {input.getDimSize(0), input.getShape().back()}, input.getElementType());
  for (auto [t, name] : llvm::zip(ArrayRef(*types).drop_front(),
                                  ArrayRef<StringRef>{"output", "grad"}))
    if (failed(verifyCompatibleShape(t.getShape(), pooled.getShape())))
      return op.emitOpError() << name << " of shape " << formatShape(t)
                              << " must be " << formatShape(pooled);
  return SmallVector<Type>{input};
}

LAYER_SHAPE_RULE(UpsampleGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType like = (*types)[1];
  if (failed(checkSpatialInput(op, like)))
    return failure();
  int64_t n = like.getRank() - 2;
  if (failed(checkWindowAttrs(op, Padding::Valid, n, {{"size", op.getSize()}})))
    return failure();
  if (op.getInterpolation() == Interpolation::Bilinear && n != 2)
    return op.emitOpError() << "bilinear interpolation needs 2 spatial "
                               "dimensions, got "
                            << n;
  Shape up(like.getShape());
  for (int64_t i = 0; i < n; ++i)
    if (!ShapedType::isDynamic(up[i + 1]))
      up[i + 1] = satMul(up[i + 1], op.getSize()[i]);
  return windowGradTypes(op, op.getLike(), op.getGrad(),
                         tensorOf(up, like.getElementType()));
}
