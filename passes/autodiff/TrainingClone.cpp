//===- TrainingClone.cpp - Ops in training mode (layer-autodiff) ----------===//
//
// TrainingCloneOpInterface models: how layer-autodiff clones an op of the
// inference function into train_step, evaluate or grad.
//   - dropout and the noise layers: x * dropout_mask(seed, step) (plus a
//     shift for AlphaDropout; x + mask for GaussianNoise) when there is a
//     step, a different stream per layer (the seed advanced by a
//     golden-ratio step);
//   - activity_regularization: the identity, its input's penalty recorded
//     for the loss;
//   - batch_norm: normalized by layer.moments of its input, its moving
//     statistics updated as Keras does (moving * momentum + batch *
//     (1 - momentum)) when they are buffers of the function;
//   - dense, conv, conv_transpose with a fused activation: cloned linear,
//     then a layer.activation, so the pre-activation is an SSA value.
// Every other op is cloned as it is by the pass.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/autodiff/GradientBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace layerc::layer;

namespace {

/// Dropout and the noise layers act in train_step; elsewhere they are
/// cloned as they are (the identity): x * mask for the multiplicative
/// noises, x + mask for gaussian_noise, x * mask + shift for AlphaDropout
/// (two masks of one draw).
struct DropoutClone
    : TrainingCloneOpInterface::ExternalModel<DropoutClone, DropoutOp> {
  LogicalResult cloneForTraining(Operation *op, OpBuilder &b, IRMapping &map,
                                 TrainingCloneState &state) const {
    auto dropout = cast<DropoutOp>(op);
    if (!state.step) {
      b.clone(*op, map);
      return success();
    }
    Location loc = dropout.getLoc();
    Value x = map.lookup(dropout.getInput());
    Type et = elementTypeOf(x);
    int64_t seed = static_cast<int64_t>(dropout.getSeed()) +
                   static_cast<int64_t>(state.dropoutCount++) * 0x9E3779B1LL;
    auto drawMask = [&](bool shift) {
      return createInferred<DropoutMaskOp>(
          b, loc, et, 1, x, state.step, state.offset, dropout.getRateAttr(),
          b.getI64IntegerAttr(seed), dropout.getNoiseAttr(),
          dropout.getStddevAttr(), dropout.getSharedAxesAttr(),
          shift ? b.getUnitAttr() : UnitAttr());
    };
    auto mask = drawMask(false);
    if (!mask)
      return failure();
    Value y;
    if (dropout.getNoise() == Noise::GaussianNoise) {
      auto sum = createInferred<AddOp>(b, loc, et, 1, x, mask.getResult());
      if (!sum)
        return failure();
      y = sum.getResult();
    } else {
      auto kept =
          createInferred<MultiplyOp>(b, loc, et, 1, x, mask.getResult());
      if (!kept)
        return failure();
      y = kept.getResult();
    }
    if (dropout.getNoise() == Noise::AlphaDropout) {
      auto shift = drawMask(true);
      if (!shift)
        return failure();
      auto sum = createInferred<AddOp>(b, loc, et, 1, y, shift.getResult());
      if (!sum)
        return failure();
      y = sum.getResult();
    }
    map.map(dropout.getResult(), y);
    return success();
  }
};

/// An activity regularizer is the identity whose penalty of its input
/// (divided by the batch) joins the loss, in every function that builds
/// one: layer-autodiff sums state.activityPenalties into the loss.
struct ActivityRegularizationClone
    : TrainingCloneOpInterface::ExternalModel<ActivityRegularizationClone,
                                              ActivityRegularizationOp> {
  LogicalResult cloneForTraining(Operation *op, OpBuilder &b, IRMapping &map,
                                 TrainingCloneState &state) const {
    auto reg = cast<ActivityRegularizationOp>(op);
    Value x = map.lookup(reg.getInput());
    auto penalty = createInferred<WeightPenaltyOp>(
        b, reg.getLoc(), elementTypeOf(x), 1, x, reg.getL1Attr(),
        reg.getL2Attr(), /*per_sample=*/b.getUnitAttr());
    if (!penalty)
      return failure();
    state.activityPenalties.push_back(penalty.getResult());
    map.map(reg.getResult(), x);
    return success();
  }
};

/// Whether `v` is an argument of the function holding `op` marked
/// layer.buffer (a non-trainable weight the function may update).
bool isBufferArgument(Operation *op, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto fn = op->getParentOfType<func::FuncOp>();
  return arg && fn && arg.getOwner() == &fn.getBody().front() &&
         fn.getArgAttr(arg.getArgNumber(), "layer.buffer");
}

/// Batch normalization by the batch's statistics, with updated moving
/// statistics, when the state asks for batch statistics.
struct BatchNormClone
    : TrainingCloneOpInterface::ExternalModel<BatchNormClone, BatchNormOp> {
  LogicalResult cloneForTraining(Operation *operation, OpBuilder &b,
                                 IRMapping &map,
                                 TrainingCloneState &state) const {
    auto op = cast<BatchNormOp>(operation);
    if (!state.batchStatistics) {
      b.clone(*operation, map);
      return success();
    }
    Location loc = op.getLoc();
    Value x = map.lookup(op.getInput());
    Type et = elementTypeOf(x);
    auto moments = createInferred<MomentsOp>(b, loc, et, 2, x);
    if (!moments)
      return failure();
    Value gamma = op.getGamma() ? map.lookup(op.getGamma()) : Value();
    Value beta = op.getBeta() ? map.lookup(op.getBeta()) : Value();
    auto normalized = createInferred<BatchNormOp>(
        b, loc, et, 1, x, moments.getMean(), moments.getVariance(), gamma, beta,
        op.getEpsilonAttr(), op.getMomentumAttr());
    if (!normalized)
      return failure();
    map.map(op.getResult(), normalized.getResult());
    // Keras's update: moving * momentum + batch * (1 - momentum), for
    // moving statistics that are buffers of the function (a layer called
    // twice updates them twice, in call order).
    double momentum = op.getMomentum().convertToDouble();
    for (auto [moving, batch] :
         {std::pair{op.getMovingMean(), moments.getMean()},
          std::pair{op.getMovingVariance(), moments.getVariance()}}) {
      if (!isBufferArgument(op, moving))
        continue;
      Value current = map.lookup(moving);
      if (Value latest = state.updatedBuffers.lookup(current))
        current = latest;
      auto kept = createInferred<ScaleOp>(b, loc, et, 1, current,
                                          b.getF64FloatAttr(momentum));
      auto added = createInferred<ScaleOp>(b, loc, et, 1, batch,
                                           b.getF64FloatAttr(1.0 - momentum));
      if (!kept || !added)
        return failure();
      auto sum = createInferred<AddOp>(b, loc, et, 1, kept.getResult(),
                                       added.getResult());
      if (!sum)
        return failure();
      state.updatedBuffers[map.lookup(moving)] = sum.getResult();
    }
    return success();
  }
};

/// A layer with a fused `activation`: cloned with a linear one, then the
/// activation applied as a layer.activation whose input is an SSA value.
template <typename OpTy>
struct FusedActivationClone
    : TrainingCloneOpInterface::ExternalModel<FusedActivationClone<OpTy>,
                                              OpTy> {
  LogicalResult cloneForTraining(Operation *op, OpBuilder &b, IRMapping &map,
                                 TrainingCloneState &) const {
    ActivationAttr act = cast<OpTy>(op).getActivationAttr();
    // The residual is added after the activation, which the clone splits
    // off: it would be added before. layer-fuse makes it after autodiff.
    if constexpr (std::is_same_v<OpTy, ConvOp>)
      if (cast<ConvOp>(op).getResidual())
        return op->emitOpError("has a fused residual add (layer-fuse): build "
                               "the training functions before fusing");
    if (act.getValue() == Activation::Linear) {
      b.clone(*op, map);
      return success();
    }
    Operation *linear = b.clone(*op, map);
    linear->setAttr("activation",
                    ActivationAttr::get(b.getContext(), Activation::Linear));
    auto applied = ActivationOp::create(
        b, op->getLoc(), op->getResult(0).getType(), linear->getResult(0), act);
    map.map(op->getResult(0), applied.getResult());
    return success();
  }
};

} // namespace

void layerc::layer::registerTrainingClones(MLIRContext *ctx) {
  DropoutOp::attachInterface<DropoutClone>(*ctx);
  ActivityRegularizationOp::attachInterface<ActivityRegularizationClone>(*ctx);
  BatchNormOp::attachInterface<BatchNormClone>(*ctx);
  DenseOp::attachInterface<FusedActivationClone<DenseOp>>(*ctx);
  ConvOp::attachInterface<FusedActivationClone<ConvOp>>(*ctx);
  ConvTransposeOp::attachInterface<FusedActivationClone<ConvTransposeOp>>(*ctx);
}
