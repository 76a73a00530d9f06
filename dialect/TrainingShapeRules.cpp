//===- TrainingShapeRules.cpp - Shape rules of losses and optimizers ------===//
//
// loss and loss_grad (targets against predictions, per loss kind) and the
// optimizer updates (sgd, rmsprop, adam): the parameter, its gradient and
// its slots share one shape, and the hyperparameters are range-checked.
//
//===----------------------------------------------------------------------===//

#include "dialect/ShapeRules.h"

#include <cmath>

using namespace mlir;
using namespace layerc::layer;
using namespace layerc::layer::rules;

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// The shape rule shared by layer.loss and layer.loss_grad: checks the
/// target against the predictions for the given loss kind.
static LogicalResult checkLossOperands(Operation *op, Loss loss,
                                       RankedTensorType pred,
                                       RankedTensorType target) {
  StringRef lossName = stringifyLoss(loss);
  if (pred.getRank() < 1)
    return op->emitOpError() << "expects batched predictions, got a scalar";
  if (loss == Loss::SparseCategoricalCrossentropy) {
    if (!target.getElementType().isSignlessInteger())
      return op->emitOpError() << lossName << " expects integer labels, got "
                               << target.getElementType();
    ArrayRef<int64_t> want = pred.getShape().drop_back();
    if (target.getRank() != pred.getRank() - 1 ||
        !joinShapes(want, target.getShape()))
      return op->emitOpError()
             << "labels of shape " << formatShape(target)
             << " do not match predictions of shape " << formatShape(pred)
             << ": expected one label per sample, "
             << formatShape(RankedTensorType::get(want, pred.getElementType()));
    return success();
  }
  if (target.getElementType() != pred.getElementType())
    return op->emitOpError()
           << lossName << " expects targets of type " << pred.getElementType()
           << ", got " << target.getElementType();
  if (!joinShapes(pred.getShape(), target.getShape()))
    return op->emitOpError()
           << "targets of shape " << formatShape(target)
           << " do not match predictions of shape " << formatShape(pred);
  return success();
}

/// Sample weights are one per sample: rank 1, of the batch's size
/// (checked at run time when unknown).
static LogicalResult checkSampleWeight(Operation *op, Value weights) {
  if (!weights)
    return success();
  auto type = dyn_cast<RankedTensorType>(weights.getType());
  if (type && type.getRank() != 1)
    return op->emitOpError() << "expects one sample weight per sample (rank "
                                "1), got "
                             << formatShape(type);
  if (type && type.getRank() == 1 &&
      !agree(weights, 0, op->getOperand(0), 0,
             "the sample weights must match the batch"))
    return op->emitOpError()
           << "expects one sample weight per sample, got " << formatShape(type)
           << " for predictions of shape "
           << formatShape(cast<RankedTensorType>(op->getOperand(0).getType()));
  return success();
}

LAYER_SHAPE_RULE(LossOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if (failed(checkLossOperands(op, op.getLoss(), (*types)[0], (*types)[1])))
    return failure();
  if (failed(checkSampleWeight(op, op.getSampleWeight())))
    return failure();
  // The targets' sizes are the predictions' (without the class axis for
  // sparse labels): what checkLossOperands could not decide is checked at
  // run time.
  for (int64_t d = 0; d < (*types)[1].getRank(); ++d)
    (void)agree(op->getOperand(1), d, op->getOperand(0), d,
                "the targets must match the predictions");
  return SmallVector<Type>{tensorOf({}, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(LossGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if (failed(checkLossOperands(op, op.getLoss(), (*types)[0], (*types)[1])))
    return failure();
  if (failed(checkSampleWeight(op, op.getSampleWeight())))
    return failure();
  if ((*types)[2].getRank() != 0)
    return op.emitOpError()
           << "dloss must be a scalar, got " << formatShape((*types)[2]);
  return SmallVector<Type>{(*types)[0]};
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

/// Optimizer updates: the parameter, its gradient and its slots share one
/// shape (checked by name); the operands after them are scalars (the
/// step). The results are the new parameter and slots.
static FailureOr<SmallVector<Type>>
optimizerResultTypes(Operation *op, ArrayRef<StringRef> slotNames,
                     ArrayRef<double> unitRangeValues,
                     ArrayRef<StringRef> unitRangeNames, bool hasStep,
                     double weightDecay, double decaySteps, double decayRate) {
  for (auto [value, name] : llvm::zip(unitRangeValues, unitRangeNames))
    if (!(value >= 0.0 && value < 1.0))
      return op->emitOpError() << name << " must be in [0, 1), got " << value;
  if (!(weightDecay >= 0.0 && std::isfinite(weightDecay)))
    return op->emitOpError()
           << "weight_decay must be finite and >= 0, got " << weightDecay;
  if (!(decaySteps >= 0.0 && std::isfinite(decaySteps)) ||
      !(decayRate > 0.0 && std::isfinite(decayRate)))
    return op->emitOpError() << "needs decay_steps >= 0 and decay_rate > 0, "
                                "got "
                             << decaySteps << " and " << decayRate;
  if (decaySteps > 0.0 && !hasStep)
    return op->emitOpError()
           << "a decaying learning rate (decay_steps > 0) needs the step "
              "operand";
  size_t expected = slotNames.size() - 1; // the parameter and its slots
  if (op->getNumResults() != expected)
    return op->emitOpError() << "expects " << expected
                             << " results (the parameter and its slots), got "
                             << op->getNumResults();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  ArrayRef<RankedTensorType> slots =
      ArrayRef<RankedTensorType>(*types).take_front(slotNames.size());
  FailureOr<Shape> shape = joinAll(op, slots, slotNames);
  if (failed(shape))
    return failure();
  for (RankedTensorType scalar : ArrayRef(*types).drop_front(slots.size()))
    if (scalar.getRank() != 0)
      return op->emitOpError()
             << "expects a scalar step and lr, got " << formatShape(scalar);
  Type type = tensorOf(*shape, slots.front().getElementType());
  return SmallVector<Type>(op->getNumResults(), type);
}

/// The shared extras of an update op: weight decay and ExponentialDecay.
template <typename OpT>
static FailureOr<SmallVector<Type>>
updateResultTypes(OpT op, ArrayRef<StringRef> slots, ArrayRef<double> unitRange,
                  ArrayRef<StringRef> unitRangeNames) {
  if (op.getLr() && op.getDecaySteps().convertToDouble() > 0.0)
    return op.emitOpError() << "takes its learning rate from the lr operand "
                               "or from a decaying schedule, not both";
  return optimizerResultTypes(op, slots, unitRange, unitRangeNames,
                              op.getStep() != nullptr,
                              op.getWeightDecay().convertToDouble(),
                              op.getDecaySteps().convertToDouble(),
                              op.getDecayRate().convertToDouble());
}

LAYER_SHAPE_RULE(SGDUpdateOp) {
  return updateResultTypes(op, {"param", "grad", "velocity"},
                           {op.getMomentum().convertToDouble()}, {"momentum"});
}

LAYER_SHAPE_RULE(RMSpropUpdateOp) {
  SmallVector<StringRef> slots{"param", "grad", "average"};
  if (op.getAverageGrad())
    slots.push_back("average_grad");
  return updateResultTypes(op, slots, {op.getRho().convertToDouble()}, {"rho"});
}

LAYER_SHAPE_RULE(AdamUpdateOp) {
  SmallVector<StringRef> slots{"param", "grad", "m", "v"};
  if (op.getVHat())
    slots.push_back("v_hat");
  return updateResultTypes(
      op, slots,
      {op.getBeta_1().convertToDouble(), op.getBeta_2().convertToDouble()},
      {"beta_1", "beta_2"});
}

LAYER_SHAPE_RULE(AdagradUpdateOp) {
  double initial = op.getInitialAccumulatorValue().convertToDouble();
  if (!(initial >= 0.0 && std::isfinite(initial)))
    return op.emitOpError()
           << "initial_accumulator_value must be finite and >= 0, got "
           << initial;
  return updateResultTypes(op, {"param", "grad", "accumulator"}, {}, {});
}

LAYER_SHAPE_RULE(AdadeltaUpdateOp) {
  return updateResultTypes(
      op, {"param", "grad", "accumulated_grad", "accumulated_delta"},
      {op.getRho().convertToDouble()}, {"rho"});
}

LAYER_SHAPE_RULE(AdamaxUpdateOp) {
  return updateResultTypes(
      op, {"param", "grad", "m", "u"},
      {op.getBeta_1().convertToDouble(), op.getBeta_2().convertToDouble()},
      {"beta_1", "beta_2"});
}

LAYER_SHAPE_RULE(NadamUpdateOp) {
  return updateResultTypes(
      op, {"param", "grad", "m", "v"},
      {op.getBeta_1().convertToDouble(), op.getBeta_2().convertToDouble()},
      {"beta_1", "beta_2"});
}

LAYER_SHAPE_RULE(LionUpdateOp) {
  // Keras allows beta_1 = 1 (the step is then the momentum's sign) but not
  // 0 (SignSGD).
  double b1 = op.getBeta_1().convertToDouble();
  if (!(b1 > 0.0 && b1 <= 1.0))
    return op.emitOpError() << "beta_1 must be in (0, 1], got " << b1;
  return updateResultTypes(op, {"param", "grad", "m"},
                           {op.getBeta_2().convertToDouble()}, {"beta_2"});
}

LAYER_SHAPE_RULE(ClipGradientsOp) {
  double norm = op.getClipnorm().convertToDouble(),
         value = op.getClipvalue().convertToDouble(),
         global = op.getGlobalClipnorm().convertToDouble();
  for (double c : {norm, value, global})
    if (!(c >= 0.0 && std::isfinite(c)))
      return op.emitOpError()
             << "clipnorm, clipvalue and global_clipnorm must be finite and "
                ">= 0, got "
             << norm << ", " << value << " and " << global;
  if ((norm > 0) + (value > 0) + (global > 0) != 1)
    return op.emitOpError() << "expects exactly one of clipnorm, clipvalue "
                               "and global_clipnorm to be set (> 0)";
  if (op->getNumResults() != op->getNumOperands())
    return op.emitOpError()
           << "expects one result per gradient, got " << op->getNumResults()
           << " for " << op->getNumOperands();
  if (!rankedTypes(op->getOperands()))
    return SmallVector<Type>{};
  return SmallVector<Type>(op->getOperandTypes());
}

/// The checks every penalty op shares: l1 and l2 finite and >= 0, and a
/// batch axis to divide by with `perSample`. Returns the operands' ranked
/// types, std::nullopt while one is unranked.
template <typename OpT>
static FailureOr<std::optional<SmallVector<RankedTensorType>>>
checkPenalty(OpT op, bool perSample) {
  double l1 = op.getL1().convertToDouble(), l2 = op.getL2().convertToDouble();
  if (!(l1 >= 0.0 && std::isfinite(l1) && l2 >= 0.0 && std::isfinite(l2)))
    return op.emitOpError()
           << "l1 and l2 must be finite and >= 0, got " << l1 << " and " << l2;
  auto types = rankedTypes(op->getOperands());
  if (types && perSample && (*types)[0].getRank() < 1)
    return op.emitOpError() << "per_sample needs a batch axis, got a scalar";
  return types;
}

LAYER_SHAPE_RULE(WeightPenaltyOp) {
  auto types = checkPenalty(op, op.getPerSample());
  if (failed(types))
    return failure();
  if (!*types)
    return SmallVector<Type>{};
  return SmallVector<Type>{tensorOf({}, (**types)[0].getElementType())};
}

LAYER_SHAPE_RULE(ActivityRegularizationOp) {
  auto types = checkPenalty(op, /*perSample=*/true);
  if (failed(types))
    return failure();
  if (!*types)
    return SmallVector<Type>{};
  return SmallVector<Type>{(**types)[0]};
}

LAYER_SHAPE_RULE(WeightPenaltyGradOp) {
  auto types = checkPenalty(op, op.getPerSample());
  if (failed(types))
    return failure();
  if (!*types)
    return SmallVector<Type>{};
  if ((**types)[1].getRank() != 0)
    return op.emitOpError()
           << "expects a rank-0 grad, got " << formatShape((**types)[1]);
  return SmallVector<Type>{(**types)[0]};
}

LAYER_SHAPE_RULE(ConstrainOp) {
  double lo = op.getMinValue().convertToDouble(),
         hi = op.getMaxValue().convertToDouble(),
         rate = op.getRate().convertToDouble();
  if (!(lo >= 0.0 && hi >= lo && std::isfinite(hi) && rate >= 0.0 &&
        rate <= 1.0))
    return op.emitOpError()
           << "expects 0 <= min_value <= max_value (finite) and rate in "
              "[0, 1], got "
           << lo << ", " << hi << " and " << rate;
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType w = (*types)[0];
  ArrayRef<int64_t> axes = op.getAxes();
  bool nonNeg = op.getKind() == Constraint::NonNeg;
  if (nonNeg != axes.empty())
    return op.emitOpError() << (nonNeg ? "non_neg takes no axes"
                                       : "a norm constraint needs axes");
  llvm::SmallDenseSet<int64_t> seen;
  for (int64_t a : axes)
    if (a < 0 || a >= w.getRank() || !seen.insert(a).second)
      return op.emitOpError()
             << "axes must be distinct and in [0, " << w.getRank()
             << ") for a weight of shape " << formatShape(w) << ", got " << a;
  return SmallVector<Type>{w};
}
