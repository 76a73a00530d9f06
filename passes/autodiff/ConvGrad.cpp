//===- ConvGrad.cpp - Gradient rules of convolution and pooling -----------===//
//
// Vector-Jacobian products of layer.conv (grouped ones per group),
// layer.conv_transpose,
// layer.pool, layer.global_pool and layer.upsample. A transposed
// convolution is the adjoint of a convolution, so its input gradient is a
// forward layer.conv of dy with the same kernel and its kernel gradient a
// conv_filter_grad with the roles of input and output swapped. Fused
// activations are split off by layer-autodiff before these rules run.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace layerc::layer;

namespace {

/// The bias gradient: dy summed over every axis but the last.
Value sumToChannels(OpBuilder &b, Location loc, Value dy) {
  Value sum = dy;
  while (cast<RankedTensorType>(sum.getType()).getRank() > 1) {
    auto r = createInferred<ReduceSumOp>(b, loc, elementTypeOf(dy), 1, sum,
                                         static_cast<uint64_t>(0));
    if (!r)
      return Value();
    sum = r.getResult();
  }
  return sum;
}

LogicalResult requireLinear(Operation *op, Activation activation) {
  if (activation != Activation::Linear)
    return op->emitOpError("has a fused activation; layer-autodiff splits it "
                           "off before differentiating");
  return success();
}

struct ConvGrad {
  static LogicalResult build(ConvOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    if (failed(requireLinear(op, op.getActivation())))
      return failure();
    if (op.getResidual())
      return op.emitOpError("has a fused residual add (layer-fuse), which has "
                            "no gradient rule: fuse after layer-autodiff");
    Location loc = op.getLoc();
    Type et = elementTypeOf(op.getInput());
    // A grouped convolution is `groups` independent ones on slices of the
    // channels: differentiate each, then join the slices' gradients.
    int64_t groups = static_cast<int64_t>(op.getGroups());
    auto channels = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getShape().back();
    };
    int64_t inPerGroup = channels(op.getInput()) / groups;
    int64_t outPerGroup = channels(op.getKernel()) / groups;
    auto part = [&](Value v, int64_t index, int64_t size) -> Value {
      if (groups == 1)
        return v;
      int64_t axis = cast<RankedTensorType>(v.getType()).getRank() - 1;
      auto s = createInferred<SliceOp>(
          b, loc, et, 1, v, static_cast<uint64_t>(axis),
          static_cast<uint64_t>(index * size), static_cast<uint64_t>(size));
      return s ? s.getResult() : Value();
    };
    SmallVector<Value> dxs, dks;
    for (int64_t g = 0; g < groups; ++g) {
      Value x = part(op.getInput(), g, inPerGroup);
      Value k = part(op.getKernel(), g, outPerGroup);
      Value dy = part(dys[0], g, outPerGroup);
      if (!x || !k || !dy)
        return failure();
      auto dx = createInferred<ConvInputGradOp>(
          b, loc, et, 1, dy, k, x, op.getStridesAttr(), op.getPaddingAttr(),
          op.getDilationsAttr());
      auto dk = createInferred<ConvFilterGradOp>(
          b, loc, et, 1, x, dy, k, op.getStridesAttr(), op.getPaddingAttr(),
          op.getDilationsAttr());
      if (!dx || !dk)
        return failure();
      dxs.push_back(dx.getResult());
      dks.push_back(dk.getResult());
    }
    auto join = [&](ArrayRef<Value> parts) -> Value {
      if (parts.size() == 1)
        return parts.front();
      int64_t axis = cast<RankedTensorType>(parts[0].getType()).getRank() - 1;
      auto c = createInferred<ConcatenateOp>(b, loc, et, 1, parts, axis);
      return c ? c.getResult() : Value();
    };
    grads[0] = join(dxs);
    grads[1] = join(dks);
    if (!grads[0] || !grads[1])
      return failure();
    if (op.getBias()) {
      grads[2] = sumToChannels(b, loc, dys[0]);
      if (!grads[2])
        return failure();
    }
    return success();
  }
};

struct ConvTransposeGrad {
  static LogicalResult build(ConvTransposeOp op, OpBuilder &b,
                             ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    if (failed(requireLinear(op, op.getActivation())))
      return failure();
    Location loc = op.getLoc();
    Type et = elementTypeOf(op.getInput());
    // y = conv^T(x; W) with W (k..., filters, in) read as a convolution
    // from `filters` to `in` channels: dx = conv(dy; W), and dW is that
    // convolution's kernel gradient with dy as its input and x as its
    // output gradient.
    auto dx = createInferred<ConvOp>(
        b, loc, et, 1, dys[0], op.getKernel(), Value(), Value(),
        op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr(),
        b.getI64IntegerAttr(1),
        ActivationAttr::get(b.getContext(), Activation::Linear));
    if (!dx)
      return failure();
    if (dx.getType() != op.getInput().getType())
      return op.emitOpError("internal error: the input gradient has shape ")
             << formatShape(dx.getType()) << ", not "
             << formatShape(op.getInput().getType());
    auto dk = createInferred<ConvFilterGradOp>(
        b, loc, et, 1, dys[0], op.getInput(), op.getKernel(),
        op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr());
    if (!dk)
      return failure();
    grads[0] = dx.getResult();
    grads[1] = dk.getResult();
    if (op.getBias()) {
      grads[2] = sumToChannels(b, loc, dys[0]);
      if (!grads[2])
        return failure();
    }
    return success();
  }
};

struct PoolGrad {
  static LogicalResult build(PoolOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto dx = createInferred<PoolGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, op.getInput(), dys[0],
        op.getKindAttr(), op.getPoolSizeAttr(), op.getStridesAttr(),
        op.getPaddingAttr());
    if (!dx)
      return failure();
    grads[0] = dx.getResult();
    return success();
  }
};

struct GlobalPoolGrad {
  static LogicalResult build(GlobalPoolOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto dx = createInferred<GlobalPoolGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, op.getInput(),
        op.getResult(), dys[0], op.getKindAttr());
    if (!dx)
      return failure();
    grads[0] = dx.getResult();
    return success();
  }
};

struct UpsampleGrad {
  static LogicalResult build(UpsampleOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto dx = createInferred<UpsampleGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, dys[0], op.getInput(),
        op.getSizeAttr(), op.getInterpolationAttr());
    if (!dx)
      return failure();
    grads[0] = dx.getResult();
    return success();
  }
};

} // namespace

void layerc::layer::registerConvGradients(MLIRContext *ctx) {
  ConvOp::attachInterface<GradientModel<ConvGrad, ConvOp>>(*ctx);
  ConvTransposeOp::attachInterface<
      GradientModel<ConvTransposeGrad, ConvTransposeOp>>(*ctx);
  PoolOp::attachInterface<GradientModel<PoolGrad, PoolOp>>(*ctx);
  GlobalPoolOp::attachInterface<GradientModel<GlobalPoolGrad, GlobalPoolOp>>(
      *ctx);
  UpsampleOp::attachInterface<GradientModel<UpsampleGrad, UpsampleOp>>(*ctx);
}
