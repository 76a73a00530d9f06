//===- CoreGrad.cpp - Gradient rules of the core layers
//--------------------===//
//
// Vector-Jacobian products of Dense, Activation, Dropout, Matmul, Add,
// Reshape and the losses, attached to the ops as external models of
// GradientOpInterface. For y = act(x W + b): dz = act'(dy), dx = dz W^T,
// dW = x^T dz, db = sum over the batch of dz.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace layerc::layer;

namespace {

Value matmul(OpBuilder &b, Location loc, Value lhs, Value rhs, bool tLhs,
             bool tRhs) {
  auto op = createInferred<MatmulOp>(b, loc, elementTypeOf(lhs), 1, lhs, rhs,
                                     tLhs, tRhs);
  return op ? op.getResult() : Value();
}

/// The gradient of an rhs broadcast over the leading dimensions of the
/// result: `g` summed over them.
Value sumToShapeOf(OpBuilder &b, Location loc, Value g, Value like) {
  int64_t rank = cast<ShapedType>(like.getType()).getRank();
  while (g && cast<ShapedType>(g.getType()).getRank() > rank) {
    auto sum = createInferred<ReduceSumOp>(b, loc, elementTypeOf(g), 1, g,
                                           b.getI64IntegerAttr(0));
    g = sum ? sum.getResult() : Value();
  }
  return g;
}

struct DenseGrad {
  static LogicalResult build(DenseOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Location loc = op.getLoc();
    Value x = op.getInput(), w = op.getKernel(), bias = op.getBias();
    Value dz = dys[0];
    if (op.getActivation() != Activation::Linear) {
      // The pre-activation is not an SSA value of a fused dense: recompute
      // it. (layer-autodiff splits fused denses first, so this is rare.)
      auto z = createInferred<DenseOp>(
          b, loc, elementTypeOf(x), 1, x, w, bias,
          ActivationAttr::get(b.getContext(), Activation::Linear));
      if (!z)
        return failure();
      auto g = createInferred<ActivationGradOp>(b, loc, elementTypeOf(x), 1, dz,
                                                z.getResult(), op.getResult(),
                                                op.getActivationAttr());
      if (!g)
        return failure();
      dz = g.getResult();
    }
    // On inputs of rank > 2 the matmuls contract the last axis (dx) and
    // every leading axis (dW).
    grads[0] = matmul(b, loc, dz, w, false, true);
    grads[1] = matmul(b, loc, x, dz, true, false);
    if (!grads[0] || !grads[1])
      return failure();
    if (bias) {
      grads[2] = sumToShapeOf(b, loc, dz, bias);
      if (!grads[2])
        return failure();
    }
    return success();
  }
};

struct ActivationGrad {
  static LogicalResult build(ActivationOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<ActivationGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, dys[0], op.getInput(),
        op.getResult(), op.getActivationAttr());
    if (!g)
      return failure();
    grads[0] = g.getResult();
    return success();
  }
};

/// d(x * (x > t)) = dy * (x > t): the same op's mask; a mask passes no
/// gradient.
struct ThresholdGrad {
  static LogicalResult build(ThresholdOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    if (op.getMask())
      return success();
    Type et = elementTypeOf(op.getInput());
    auto mask =
        createInferred<ThresholdOp>(b, op.getLoc(), et, 1, op.getInput(),
                                    op.getThresholdAttr(), b.getUnitAttr());
    if (!mask)
      return failure();
    auto g = createInferred<MultiplyOp>(b, op.getLoc(), et, 1, dys[0],
                                        mask.getResult());
    if (!g)
      return failure();
    grads[0] = g.getResult();
    return success();
  }
};

/// Dropout outside a training step (evaluate, grad) is the identity; in
/// train_step layer-autodiff has already replaced it by multiply and a
/// mask.
/// An activity regularizer outside a loss-building clone is the identity
/// too.
struct DropoutGrad {
  template <typename OpT>
  static LogicalResult build(OpT, OpBuilder &, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    grads[0] = dys[0];
    return success();
  }
};

/// C = op(A) op(B): d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, with the
/// transposes folded into the matmul flags.
struct MatmulGrad {
  static LogicalResult build(MatmulOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Location loc = op.getLoc();
    Value a = op.getLhs(), bb = op.getRhs(), dc = dys[0];
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    grads[0] = ta ? matmul(b, loc, bb, dc, tb, true)
                  : matmul(b, loc, dc, bb, false, !tb);
    grads[1] = tb ? matmul(b, loc, dc, a, true, ta)
                  : matmul(b, loc, a, dc, !ta, false);
    return success(grads[0] && grads[1]);
  }
};

/// The batched form of MatmulGrad: the same products per batch.
struct BatchMatmulGrad {
  static Value bmm(OpBuilder &b, Location loc, Value lhs, Value rhs, bool tLhs,
                   bool tRhs) {
    auto op = createInferred<BatchMatmulOp>(b, loc, elementTypeOf(lhs), 1, lhs,
                                            rhs, tLhs, tRhs);
    return op ? op.getResult() : Value();
  }
  static LogicalResult build(BatchMatmulOp op, OpBuilder &b,
                             ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Location loc = op.getLoc();
    Value a = op.getLhs(), bb = op.getRhs(), dc = dys[0];
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    grads[0] =
        ta ? bmm(b, loc, bb, dc, tb, true) : bmm(b, loc, dc, bb, false, !tb);
    grads[1] =
        tb ? bmm(b, loc, dc, a, true, ta) : bmm(b, loc, a, dc, !ta, false);
    return success(grads[0] && grads[1]);
  }
};

struct AddGrad {
  static LogicalResult build(AddOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    grads[0] = dys[0];
    grads[1] = sumToShapeOf(b, op.getLoc(), dys[0], op.getRhs());
    return success(grads[1] != nullptr);
  }
};

/// d(a * b) = (dy * b, dy * a), the rhs's summed where it was broadcast.
struct MultiplyGrad {
  static LogicalResult build(MultiplyOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Value others[] = {op.getRhs(), op.getLhs()};
    for (auto [i, other] : llvm::enumerate(others)) {
      Value lhs = dys[0], rhs = other;
      auto g = createInferred<MultiplyOp>(b, op.getLoc(), elementTypeOf(other),
                                          1, lhs, rhs);
      if (!g)
        return failure();
      grads[i] = g.getResult();
    }
    grads[1] = sumToShapeOf(b, op.getLoc(), grads[1], op.getRhs());
    return success(grads[1] != nullptr);
  }
};

/// A mask is a constant of the step: no gradient flows through it.
struct DropoutMaskGrad {
  static LogicalResult build(DropoutMaskOp, OpBuilder &, ArrayRef<Value>,
                             SmallVectorImpl<Value> &) {
    return success();
  }
};

Value scaled(OpBuilder &b, Location loc, Value v, double factor) {
  auto op = createInferred<ScaleOp>(b, loc, elementTypeOf(v), 1, v,
                                    b.getF64FloatAttr(factor));
  return op ? op.getResult() : Value();
}

/// d(x * c) = dy * c.
struct ScaleGrad {
  static LogicalResult build(ScaleOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    grads[0] = scaled(b, op.getLoc(), dys[0], op.getFactor().convertToDouble());
    return success(grads[0] != nullptr);
  }
};

struct SubtractGrad {
  static LogicalResult build(SubtractOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    grads[0] = dys[0];
    grads[1] = sumToShapeOf(b, op.getLoc(),
                            scaled(b, op.getLoc(), dys[0], -1.0), op.getRhs());
    return success(grads[1] != nullptr);
  }
};

struct AverageGrad {
  static LogicalResult build(AverageOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Value share = scaled(b, op.getLoc(), dys[0], 1.0 / op->getNumOperands());
    if (!share)
      return failure();
    for (Value &g : grads)
      g = share;
    return success();
  }
};

struct MaximumGrad {
  static LogicalResult build(MaximumOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<MaximumGradOp>(b, op.getLoc(),
                                           elementTypeOf(op.getLhs()), 2,
                                           op.getLhs(), op.getRhs(), dys[0]);
    if (!g)
      return failure();
    grads[0] = g.getLhsGrad();
    grads[1] = g.getRhsGrad();
    return success();
  }
};

/// The gradient of a slice is dy in its place and zeros around it: the
/// zeros are the input's other parts scaled by 0 (so they keep an unknown
/// batch size), joined with dy by a concatenation.
struct SliceGrad {
  static LogicalResult build(SliceOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    int64_t offset = static_cast<int64_t>(op.getOffset());
    int64_t size = static_cast<int64_t>(op.getSize());
    int64_t dim = type.getDimSize(axis);
    if (ShapedType::isDynamic(dim))
      return op.emitOpError("cannot differentiate a slice along an axis of "
                            "unknown size");
    auto zerosOf = [&](int64_t from, int64_t count) -> Value {
      auto part = createInferred<SliceOp>(
          b, loc, elementTypeOf(x), 1, x, static_cast<uint64_t>(axis),
          static_cast<uint64_t>(from), static_cast<uint64_t>(count));
      return part ? scaled(b, loc, part.getResult(), 0.0) : Value();
    };
    SmallVector<Value> parts;
    if (offset > 0)
      parts.push_back(zerosOf(0, offset));
    parts.push_back(dys[0]);
    if (offset + size < dim)
      parts.push_back(zerosOf(offset + size, dim - offset - size));
    for (Value p : parts)
      if (!p)
        return failure();
    if (parts.size() == 1) {
      grads[0] = dys[0];
      return success();
    }
    auto joined =
        createInferred<ConcatenateOp>(b, loc, elementTypeOf(x), 1, parts, axis);
    if (!joined)
      return failure();
    grads[0] = joined.getResult();
    return success();
  }
};

struct ConcatenateGrad {
  static LogicalResult build(ConcatenateOp op, OpBuilder &b,
                             ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    int64_t rank = cast<RankedTensorType>(op.getType()).getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    int64_t offset = 0;
    for (auto [i, input] : llvm::enumerate(op.getInputs())) {
      int64_t size = cast<RankedTensorType>(input.getType()).getDimSize(axis);
      if (ShapedType::isDynamic(size))
        return op.emitOpError("cannot differentiate a concatenation along an "
                              "axis of unknown size");
      auto slice = createInferred<SliceOp>(
          b, op.getLoc(), elementTypeOf(input), 1, dys[0],
          static_cast<uint64_t>(axis), static_cast<uint64_t>(offset),
          static_cast<uint64_t>(size));
      if (!slice)
        return failure();
      grads[i] = slice.getResult();
      offset += size;
    }
    return success();
  }
};

/// The indices get no gradient; the table gets dy's rows, by index.
struct EmbeddingGrad {
  static LogicalResult build(EmbeddingOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<EmbeddingGradOp>(
        b, op.getLoc(), elementTypeOf(op.getTable()), 1, op.getIndices(),
        dys[0], op.getTable());
    if (!g)
      return failure();
    grads[1] = g.getResult();
    return success();
  }
};

struct ReshapeGrad {
  static LogicalResult build(ReshapeOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    ArrayRef<int64_t> sample = inputType.getShape().drop_front();
    if (llvm::any_of(sample, ShapedType::isDynamic))
      return op.emitOpError("cannot differentiate a reshape whose input has "
                            "dynamic non-batch dimensions");
    auto back = createInferred<ReshapeOp>(
        b, op.getLoc(), inputType.getElementType(), 1, dys[0], sample);
    if (!back)
      return failure();
    grads[0] = back.getResult();
    return success();
  }
};

struct LossGrad {
  static LogicalResult build(LossOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<LossGradOp>(
        b, op.getLoc(), elementTypeOf(op.getPrediction()), 1,
        op.getPrediction(), op.getTarget(), dys[0], op.getLoss(),
        op.getFromLogits(), op.getSampleWeight());
    if (!g)
      return failure();
    grads[0] = g.getResult();
    return success();
  }
};

/// y = (x - mean) r gamma + beta: every operand has a gradient; in
/// train_step mean and variance come from layer.moments, whose rule passes
/// theirs on to x.
struct BatchNormGrad {
  static LogicalResult build(BatchNormOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<BatchNormGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 5, dys[0], op.getInput(),
        op.getMovingMean(), op.getMovingVariance(), op.getGamma(),
        op.getEpsilonAttr());
    if (!g)
      return failure();
    grads[0] = g.getInputGrad();
    grads[1] = g.getMeanGrad();
    grads[2] = g.getVarianceGrad();
    unsigned next = 3;
    if (op.getGamma())
      grads[next++] = g.getGammaGrad();
    if (op.getBeta())
      grads[next] = g.getBetaGrad();
    return success();
  }
};

struct MomentsGrad {
  static LogicalResult build(MomentsOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<MomentsGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, op.getInput(),
        op.getMean(), dys[0], dys[1]);
    if (!g)
      return failure();
    grads[0] = g.getResult();
    return success();
  }
};

/// normalize: a normalize_grad with the forward op's attributes.
struct NormalizeGrad {
  static LogicalResult build(NormalizeOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<NormalizeGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, dys[0], op.getInput(),
        op.getAxisAttr(), op.getGroupsAttr(), op.getEpsilonAttr(),
        op.getKindAttr());
    if (!g)
      return failure();
    grads[0] = g.getResult();
    return success();
  }
};

/// transpose: the inverse permutation.
struct TransposeGrad {
  static LogicalResult build(TransposeOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    ArrayRef<int64_t> perm = op.getPermutation();
    SmallVector<int64_t> inverse(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      inverse[p] = static_cast<int64_t>(i);
    auto g = createInferred<TransposeOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), 1, dys[0], inverse);
    if (!g)
      return failure();
    grads[0] = g.getResult();
    return success();
  }
};

} // namespace

void layerc::layer::registerCoreGradients(MLIRContext *ctx) {
  DenseOp::attachInterface<GradientModel<DenseGrad, DenseOp>>(*ctx);
  ActivationOp::attachInterface<GradientModel<ActivationGrad, ActivationOp>>(
      *ctx);
  DropoutOp::attachInterface<GradientModel<DropoutGrad, DropoutOp>>(*ctx);
  ThresholdOp::attachInterface<GradientModel<ThresholdGrad, ThresholdOp>>(*ctx);
  ActivityRegularizationOp::attachInterface<
      GradientModel<DropoutGrad, ActivityRegularizationOp>>(*ctx);
  MatmulOp::attachInterface<GradientModel<MatmulGrad, MatmulOp>>(*ctx);
  BatchMatmulOp::attachInterface<GradientModel<BatchMatmulGrad, BatchMatmulOp>>(
      *ctx);
  AddOp::attachInterface<GradientModel<AddGrad, AddOp>>(*ctx);
  MultiplyOp::attachInterface<GradientModel<MultiplyGrad, MultiplyOp>>(*ctx);
  DropoutMaskOp::attachInterface<GradientModel<DropoutMaskGrad, DropoutMaskOp>>(
      *ctx);
  ReshapeOp::attachInterface<GradientModel<ReshapeGrad, ReshapeOp>>(*ctx);
  SubtractOp::attachInterface<GradientModel<SubtractGrad, SubtractOp>>(*ctx);
  ScaleOp::attachInterface<GradientModel<ScaleGrad, ScaleOp>>(*ctx);
  SliceOp::attachInterface<GradientModel<SliceGrad, SliceOp>>(*ctx);
  AverageOp::attachInterface<GradientModel<AverageGrad, AverageOp>>(*ctx);
  MaximumOp::attachInterface<GradientModel<MaximumGrad, MaximumOp>>(*ctx);
  ConcatenateOp::attachInterface<GradientModel<ConcatenateGrad, ConcatenateOp>>(
      *ctx);
  EmbeddingOp::attachInterface<GradientModel<EmbeddingGrad, EmbeddingOp>>(*ctx);
  LossOp::attachInterface<GradientModel<LossGrad, LossOp>>(*ctx);
  BatchNormOp::attachInterface<GradientModel<BatchNormGrad, BatchNormOp>>(*ctx);
  MomentsOp::attachInterface<GradientModel<MomentsGrad, MomentsOp>>(*ctx);
  NormalizeOp::attachInterface<GradientModel<NormalizeGrad, NormalizeOp>>(*ctx);
  TransposeOp::attachInterface<GradientModel<TransposeGrad, TransposeOp>>(*ctx);
}

void layerc::registerGradientInterfaces(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LayerDialect *) {
    registerCoreGradients(ctx);
    registerConvGradients(ctx);
    registerRecurrentGradients(ctx);
    registerRegularizerGradients(ctx);
    registerTrainingClones(ctx);
  });
}
