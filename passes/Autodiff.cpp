//===- Autodiff.cpp - The layer-autodiff pass
//------------------------------===//
//
// Builds training functions from an inference function F(x..., params...):
//
//   1. Clone F's body into the new function, splitting fused Dense
//      activations (dense{relu} -> dense{linear} + activation{relu}) so that
//      every pre-activation is an SSA value the backward pass can use; in
//      train_step, dropout becomes x * dropout_mask(seed, step) and
//      batch_norm normalizes by layer.moments of its input, whose moving
//      averages become the new values of the moving-statistics buffers.
//   2. Apply each output's loss and sum them, weighted: that is the scalar
//      `loss` (with output-losses, each output's loss is returned too).
//   3. Reverse sweep: seed d loss = 1, walk the ops backwards and let each
//      op's GradientOpInterface build the gradients of its operands from
//      those of its results; gradients of a value used several times are
//      summed.
//   4. Either return the gradients (`grad`) or feed each (param, gradient)
//      pair into the optimizer's update op (`train_step`), whose slots are
//      extra arguments and results (runtime-owned buffers).
//   5. With split-step, also train_step cut in two at the gradients:
//      grad_step (steps 1-3 on one shard of a global batch, returning the
//      gradients) and apply_step (the updates of step 4), so that the
//      gradients of several processes can be summed in between.
//
// `evaluate` is steps 1 and 2 only. The pass never switches on op types:
// rules live with the ops (passes/autodiff/).
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"
#include "passes/autodiff/GradientReady.h"
#include "passes/autodiff/OptimizerSlots.h"
#include "passes/autodiff/Regularizers.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringSwitch.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERAUTODIFF
#include "passes/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;
using namespace layerc::layer;

namespace {

constexpr StringLiteral kParamAttr = "layer.param";
constexpr StringLiteral kBufferAttr = "layer.buffer";
constexpr StringLiteral kNameAttr = "layer.name";
constexpr StringLiteral kRoleAttr = "layer.role";

/// One argument or result of a function being built.
struct Slot {
  Type type;
  std::string role;
  std::string name;
};

struct LayerAutodiffPass : layerc::impl::LayerAutodiffBase<LayerAutodiffPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  func::FuncOp forward;
  /// Forward arguments: inputs, weights (params and buffers, in order), and
  /// the trainable ones among the weights.
  SmallVector<unsigned> inputArgs, weightArgs, paramArgs;
  /// What the training-mode clone carries from op to op: the step, the
  /// dropout count, and in the function being built the latest value of
  /// each buffer it updates (BatchNormalization's moving statistics).
  TrainingCloneState cloneState;
  SmallVector<Type> targetTypes;
  /// The target arguments, then with sample-weights one weight per output.
  size_t numTargetArgs() {
    return targetTypes.size() * (sampleWeights ? 2 : 1);
  }
  /// Per output: the loss, whether it takes logits, its weight.
  SmallVector<Loss> outputLoss;
  SmallVector<bool> outputFromLogits;
  SmallVector<double> outputWeight;
  Type elementType;

  LogicalResult analyzeForward();
  std::string argName(unsigned i);
  std::string outputName(unsigned i);
  /// "param" or "buffer" for weight argument `i`.
  std::string weightRole(unsigned i);
  func::FuncOp createFunction(OpBuilder &b, StringRef name, ArrayRef<Slot> args,
                              ArrayRef<Slot> results);
  /// Clones the forward body. `step` (train_step) turns dropout on;
  /// `training` normalizes by batch statistics and records the moving
  /// statistics' new values in cloneState.updatedBuffers.
  FailureOr<SmallVector<Value>> cloneForward(OpBuilder &b, Block &entry,
                                             ValueRange inputs,
                                             ValueRange weights, Value step,
                                             bool training,
                                             Value offset = Value());
  LogicalResult parseLosses();
  /// The weighted total plus the weights' regularizer penalties, then
  /// (with output-losses) each output's loss.
  FailureOr<SmallVector<Value>> buildLoss(OpBuilder &b, Location loc,
                                          ArrayRef<Value> outputs,
                                          ValueRange targets,
                                          ValueRange weights);
  FailureOr<SmallVector<Value>> buildGradients(OpBuilder &b, Block &body,
                                               Value loss, ValueRange params);
  /// The gradients after Keras's clipping (clipnorm, clipvalue,
  /// global_clipnorm), or as they are when none is set.
  FailureOr<SmallVector<Value>> clipGradients(OpBuilder &b, Location loc,
                                              ValueRange grads);
  /// One parameter's update; `lr` is the learning-rate argument (null: the
  /// options' constant or schedule).
  FailureOr<SmallVector<Value>> buildUpdate(OpBuilder &b, Location loc,
                                            Value param, Value grad,
                                            ValueRange slots, Value step,
                                            Value lr);
  /// The trailing scalar arguments of train_step and apply_step: the step,
  /// then with learning-rate-input the learning rate.
  void appendStepSlots(SmallVectorImpl<Slot> &args);
  LogicalResult buildEvaluate(OpBuilder &b);
  LogicalResult buildTraining(OpBuilder &b);
  /// grad_step and apply_step (split-step).
  LogicalResult buildGradStep(OpBuilder &b);
  LogicalResult buildApplyStep(OpBuilder &b);
  /// The signature slots every training function starts with: inputs,
  /// targets, then the weights.
  void appendDataAndWeightSlots(SmallVectorImpl<Slot> &args);
  /// The body every training function starts with, in `fn` whose
  /// arguments begin with inputs, targets and weights: the forward pass,
  /// the loss (the total, then each output's) and the gradients of the
  /// trainable weights.
  struct Backward {
    SmallVector<Value> outputs, losses, grads;
  };
  FailureOr<Backward> buildBackward(OpBuilder &b, func::FuncOp fn, Value step,
                                    bool training, Value offset = Value());
};

LogicalResult LayerAutodiffPass::analyzeForward() {
  ModuleOp module = getOperation();
  forward = module.lookupSymbol<func::FuncOp>(function);
  if (!forward || forward.isExternal())
    return module.emitError() << "layer-autodiff: no function named '"
                              << function << "' with a body to differentiate";
  if (!forward.getBody().hasOneBlock())
    return forward.emitError() << "layer-autodiff: '" << function
                               << "' must be a function of one block";
  if (optimizer != "none" && optimizerSlots(optimizer, false, false).empty())
    return forward.emitError()
           << "layer-autodiff: unknown optimizer '" << optimizer
           << "'; expected sgd, rmsprop, adam, adamw, adagrad, adadelta, "
              "adamax, nadam, lion or none";
  if (centered && optimizer != "rmsprop")
    return forward.emitError()
           << "layer-autodiff: centered applies to rmsprop only";
  if (amsgrad && optimizer != "adam" && optimizer != "adamw")
    return forward.emitError()
           << "layer-autodiff: amsgrad applies to adam and adamw only";
  if ((clipnorm.value != 0) + (clipvalue.value != 0) +
          (globalClipnorm.value != 0) >
      1)
    return forward.emitError() << "layer-autodiff: only one of clipnorm, "
                                  "clipvalue and global-clipnorm can be set";
  if (learningRateInput && (optimizer == "none" || decaySteps.value > 0))
    return forward.emitError()
           << "layer-autodiff: learning-rate-input needs an optimizer and "
              "replaces the compiled schedule (decay-steps must be 0)";
  if (gradientReady && !splitStep)
    return forward.emitError()
           << "layer-autodiff: gradient-ready applies to split-step's "
              "grad_step";
  if (splitStep && optimizer == "none")
    return forward.emitError()
           << "layer-autodiff: split-step needs an optimizer for apply_step";
  for (StringRef name :
       {"evaluate", "train_step", "grad", "grad_step", "apply_step"})
    if (module.lookupSymbol(name))
      return module.emitError()
             << "layer-autodiff: the module already has a function '" << name
             << "'";

  for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i) {
    bool param = static_cast<bool>(forward.getArgAttr(i, kParamAttr));
    bool buffer = static_cast<bool>(forward.getArgAttr(i, kBufferAttr));
    if (param && buffer)
      return forward.emitError()
             << "layer-autodiff: argument " << i
             << " is marked both layer.param and layer.buffer";
    if (!param && !buffer) {
      inputArgs.push_back(i);
      continue;
    }
    weightArgs.push_back(i);
    if (param)
      paramArgs.push_back(i);
    if (failed(verifyWeightAttributes(forward, i)))
      return failure();
  }
  if (forward.getNumResults() == 0)
    return forward.emitError("layer-autodiff: the function has no outputs");

  if (failed(parseLosses()))
    return failure();
  for (auto [i, t] : llvm::enumerate(forward.getResultTypes())) {
    bool sparse = outputLoss[i] == Loss::SparseCategoricalCrossentropy;
    auto ranked = dyn_cast<RankedTensorType>(t);
    if (!ranked || ranked.getRank() < 1)
      return forward.emitError()
             << "layer-autodiff: outputs must be ranked, batched tensors (run "
                "layer-shape-inference first), got "
             << t;
    elementType = ranked.getElementType();
    targetTypes.push_back(
        sparse ? RankedTensorType::get(ranked.getShape().drop_back(),
                                       IntegerType::get(&getContext(), 32))
               : t);
  }
  // Gradient rules need every shape; say so before a rule fails on one.
  WalkResult unranked = forward.walk([](Operation *op) {
    for (Type t : op->getResultTypes())
      if (isa<UnrankedTensorType>(t)) {
        op->emitError() << "layer-autodiff: result of '" << op->getName()
                        << "' is unranked (run layer-shape-inference first)";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(unranked.wasInterrupted());
}

std::string LayerAutodiffPass::weightRole(unsigned i) {
  return forward.getArgAttr(i, kParamAttr) ? "param" : "buffer";
}

std::string LayerAutodiffPass::argName(unsigned i) {
  if (auto name = forward.getArgAttrOfType<StringAttr>(i, kNameAttr))
    return name.str();
  return "arg" + std::to_string(i);
}

/// Output i's name: the forward result's `layer.name` (a model's output is
/// named after the layer that makes it, as in Keras), else "output<i>".
/// Its target is "<name>_target" and its own loss "<name>_loss", the name
/// fit() reports.
std::string LayerAutodiffPass::outputName(unsigned i) {
  if (auto name = forward.getResultAttrOfType<StringAttr>(i, kNameAttr))
    return name.str();
  return "output" + std::to_string(i);
}

func::FuncOp LayerAutodiffPass::createFunction(OpBuilder &b, StringRef name,
                                               ArrayRef<Slot> args,
                                               ArrayRef<Slot> results) {
  auto types = [](ArrayRef<Slot> slots) {
    return llvm::map_to_vector(slots, [](const Slot &s) { return s.type; });
  };
  auto fn =
      func::FuncOp::create(b, forward.getLoc(), name,
                           b.getFunctionType(types(args), types(results)));
  for (auto [i, slot] : llvm::enumerate(args)) {
    fn.setArgAttr(i, kRoleAttr, b.getStringAttr(slot.role));
    fn.setArgAttr(i, kNameAttr, b.getStringAttr(slot.name));
  }
  for (auto [i, slot] : llvm::enumerate(results)) {
    fn.setResultAttr(i, kRoleAttr, b.getStringAttr(slot.role));
    fn.setResultAttr(i, kNameAttr, b.getStringAttr(slot.name));
  }
  fn.addEntryBlock();
  return fn;
}

FailureOr<SmallVector<Value>>
LayerAutodiffPass::cloneForward(OpBuilder &b, Block &entry, ValueRange inputs,
                                ValueRange weights, Value step, bool training,
                                Value offset) {
  IRMapping map;
  for (auto [arg, value] : llvm::zip(inputArgs, inputs))
    map.map(forward.getArgument(arg), value);
  for (auto [arg, value] : llvm::zip(weightArgs, weights))
    map.map(forward.getArgument(arg), value);
  cloneState.step = step;
  cloneState.offset = offset;
  // Every function draws the same masks (grad_step those of train_step).
  cloneState.dropoutCount = 0;
  cloneState.batchStatistics = training;
  cloneState.updatedBuffers.clear();
  cloneState.activityPenalties.clear();
  b.setInsertionPointToEnd(&entry);
  for (Operation &op : forward.getBody().front()) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      return llvm::map_to_vector(op.getOperands(),
                                 [&](Value v) { return map.lookup(v); });
    }
    // Training-mode behaviour lives with the ops (TrainingClone.cpp).
    if (auto clone = dyn_cast<TrainingCloneOpInterface>(op)) {
      if (failed(clone.cloneForTraining(b, map, cloneState)))
        return failure();
      continue;
    }
    b.clone(op, map);
  }
  return forward.emitError("layer-autodiff: the function has no terminator");
}

LogicalResult LayerAutodiffPass::parseLosses() {
  size_t n = forward.getNumResults();
  SmallVector<std::string> names(loss.begin(), loss.end());
  if (names.empty())
    names.push_back("sparse_categorical_crossentropy");
  if (names.size() != 1 && names.size() != n)
    return forward.emitError()
           << "layer-autodiff: " << names.size() << " losses for " << n
           << " outputs; give one loss, or one per output";
  for (size_t i = 0; i < n; ++i) {
    auto [name, suffix] =
        StringRef(names[names.size() == 1 ? 0 : i]).trim().split(':');
    if (!parseLoss(name))
      return forward.emitError() << "layer-autodiff: unknown loss '" << name
                                 << "'; expected one of " << knownLosses();
    if (!suffix.empty() && suffix != "logits" && suffix != "probs")
      return forward.emitError()
             << "layer-autodiff: loss '" << name << ":" << suffix
             << "': the suffix must be :logits or :probs";
    outputLoss.push_back(*parseLoss(name));
    outputFromLogits.push_back(suffix.empty() ? fromLogits.getValue()
                                              : suffix == "logits");
  }
  if (!lossWeights.empty() && lossWeights.size() != n)
    return forward.emitError() << "layer-autodiff: " << lossWeights.size()
                               << " loss weights for " << n << " outputs";
  for (size_t i = 0; i < n; ++i)
    outputWeight.push_back(lossWeights.empty() ? 1.0 : lossWeights[i].value);
  return success();
}

FailureOr<SmallVector<Value>>
LayerAutodiffPass::buildLoss(OpBuilder &b, Location loc,
                             ArrayRef<Value> outputs, ValueRange targets,
                             ValueRange weights) {
  Value total;
  SmallVector<Value> perOutput;
  // `targets` ends with the sample weights when they are arguments.
  auto sampleWeight = [&](size_t i) {
    return sampleWeights ? targets[outputs.size() + i] : Value();
  };
  for (auto [i, out, target] :
       llvm::enumerate(outputs, targets.take_front(outputs.size()))) {
    auto l = createInferred<LossOp>(b, out.getLoc(), elementType, 1, out,
                                    target, outputLoss[i], outputFromLogits[i],
                                    sampleWeight(i));
    if (!l)
      return failure();
    perOutput.push_back(l.getResult());
    Value term = l.getResult();
    if (outputWeight[i] != 1.0) {
      auto scaled = createInferred<ScaleOp>(b, loc, elementType, 1, term,
                                            b.getF64FloatAttr(outputWeight[i]));
      if (!scaled)
        return failure();
      term = scaled.getResult();
    }
    if (!total) {
      total = term;
      continue;
    }
    auto sum = createInferred<AddOp>(b, loc, elementType, 1, total, term);
    if (!sum)
      return failure();
    total = sum.getResult();
  }
  // Keras adds the regularizers' penalties (model.losses) to the total:
  // the weights', then the activities' the clone recorded.
  SmallVector<Value> penalties;
  for (auto [i, w] : llvm::zip(weightArgs, weights)) {
    auto penalty = buildWeightPenalty(b, forward, i, w);
    if (failed(penalty))
      return failure();
    if (*penalty)
      penalties.push_back(*penalty);
  }
  llvm::append_range(penalties, cloneState.activityPenalties);
  for (Value penalty : penalties) {
    auto sum = createInferred<AddOp>(b, loc, elementType, 1, total, penalty);
    if (!sum)
      return failure();
    total = sum.getResult();
  }
  SmallVector<Value> result{total};
  if (outputLosses)
    llvm::append_range(result, perOutput);
  return result;
}

FailureOr<SmallVector<Value>>
LayerAutodiffPass::buildGradients(OpBuilder &b, Block &body, Value lossValue,
                                  ValueRange params) {
  SmallVector<Operation *> tape =
      llvm::map_to_vector(body, [](Operation &op) { return &op; });
  DenseMap<Value, Value> grads;
  auto scalarType = RankedTensorType::get({}, elementType);
  grads[lossValue] = arith::ConstantOp::create(
      b, lossValue.getLoc(),
      DenseElementsAttr::get(scalarType, b.getFloatAttr(elementType, 1.0)));

  FailureOr<unsigned> applied = propagateGradients(b, tape, grads);
  if (failed(applied))
    return failure();
  numGradientOps += *applied;

  SmallVector<Value> paramGrads;
  for (Value p : params) {
    Value g = grads.lookup(p);
    if (!g) {
      // A parameter the loss does not depend on gets a zero gradient.
      auto type = cast<RankedTensorType>(p.getType());
      g = arith::ConstantOp::create(
          b, p.getLoc(),
          DenseElementsAttr::get(type,
                                 b.getFloatAttr(type.getElementType(), 0.0)));
    }
    paramGrads.push_back(g);
  }
  return paramGrads;
}

FailureOr<SmallVector<Value>>
LayerAutodiffPass::buildUpdate(OpBuilder &b, Location loc, Value param,
                               Value grad, ValueRange slots, Value step,
                               Value lrArg) {
  double lr = learningRate.value >= 0 ? learningRate.value
                                      : (optimizer == "sgd" ? 0.01 : 0.001);
  // The extras every update shares: decoupled weight decay and an
  // exponentially decaying learning rate (which needs the step).
  auto f64 = [&](Real v) { return b.getF64FloatAttr(v.value); };
  FloatAttr wd = f64(weightDecay), steps = f64(decaySteps),
            rate = f64(decayRate);
  UnitAttr stair = staircase.getValue() ? b.getUnitAttr() : UnitAttr();
  Value scheduleStep = decaySteps.value > 0 ? step : Value();
  Operation *update = nullptr;
  if (optimizer == "sgd") {
    update = createInferred<SGDUpdateOp>(
        b, loc, elementType, 2, param, grad, slots[0], scheduleStep, lrArg,
        f64(lr), f64(momentum),
        nesterov.getValue() ? b.getUnitAttr() : UnitAttr(), wd, steps, rate,
        stair);
  } else if (optimizer == "rmsprop") {
    update = createInferred<RMSpropUpdateOp>(
        b, loc, elementType, 1 + slots.size(), param, grad, slots[0],
        centered ? slots[1] : Value(), scheduleStep, lrArg, f64(lr), f64(rho),
        f64(epsilon), wd, steps, rate, stair);
  } else if (optimizer == "adam" || optimizer == "adamw") {
    update = createInferred<AdamUpdateOp>(
        b, loc, elementType, 1 + slots.size(), param, grad, slots[0], slots[1],
        amsgrad ? slots[2] : Value(), step, lrArg, f64(lr), f64(beta1),
        f64(beta2), f64(epsilon), wd, steps, rate, stair);
  } else if (optimizer == "adagrad") {
    update = createInferred<AdagradUpdateOp>(
        b, loc, elementType, 2, param, grad, slots[0], scheduleStep, lrArg,
        f64(lr), f64(epsilon), f64(initialAccumulatorValue), wd, steps, rate,
        stair);
  } else if (optimizer == "adadelta") {
    update = createInferred<AdadeltaUpdateOp>(
        b, loc, elementType, 3, param, grad, slots[0], slots[1], scheduleStep,
        lrArg, f64(lr), f64(rho), f64(epsilon), wd, steps, rate, stair);
  } else if (optimizer == "adamax") {
    update = createInferred<AdamaxUpdateOp>(
        b, loc, elementType, 3, param, grad, slots[0], slots[1], step, lrArg,
        f64(lr), f64(beta1), f64(beta2), f64(epsilon), wd, steps, rate, stair);
  } else if (optimizer == "nadam") {
    update = createInferred<NadamUpdateOp>(
        b, loc, elementType, 3, param, grad, slots[0], slots[1], step, lrArg,
        f64(lr), f64(beta1), f64(beta2), f64(epsilon), wd, steps, rate, stair);
  } else {
    update = createInferred<LionUpdateOp>(
        b, loc, elementType, 2, param, grad, slots[0], scheduleStep, lrArg,
        f64(lr), f64(beta1), f64(beta2), wd, steps, rate, stair);
  }
  if (!update)
    return failure();
  return SmallVector<Value>(update->getResults());
}

FailureOr<SmallVector<Value>>
LayerAutodiffPass::clipGradients(OpBuilder &b, Location loc, ValueRange grads) {
  if (clipnorm.value == 0 && clipvalue.value == 0 && globalClipnorm.value == 0)
    return SmallVector<Value>(grads);
  auto clip = createInferred<ClipGradientsOp>(
      b, loc, elementType, grads.size(), grads,
      b.getF64FloatAttr(clipnorm.value), b.getF64FloatAttr(clipvalue.value),
      b.getF64FloatAttr(globalClipnorm.value));
  if (!clip)
    return failure();
  return SmallVector<Value>(clip->getResults());
}

void LayerAutodiffPass::appendStepSlots(SmallVectorImpl<Slot> &args) {
  auto scalar = RankedTensorType::get({}, elementType);
  args.push_back({scalar, "step", "step"});
  if (learningRateInput)
    args.push_back({scalar, "learning_rate", "learning_rate"});
}

void LayerAutodiffPass::appendDataAndWeightSlots(SmallVectorImpl<Slot> &args) {
  for (unsigned i : inputArgs)
    args.push_back({forward.getArgument(i).getType(), "input", argName(i)});
  for (auto [i, t] : llvm::enumerate(targetTypes))
    args.push_back({t, "target", outputName(i) + "_target"});
  for (size_t i = 0; sampleWeights && i < targetTypes.size(); ++i)
    args.push_back(
        {RankedTensorType::get(
             cast<RankedTensorType>(forward.getResultTypes()[i]).getDimSize(0),
             elementType),
         "sample_weight", outputName(i) + "_sample_weight"});
  for (unsigned i : weightArgs)
    args.push_back(
        {forward.getArgument(i).getType(), weightRole(i), argName(i)});
}

LogicalResult LayerAutodiffPass::buildEvaluate(OpBuilder &b) {
  SmallVector<Slot> args, results;
  appendDataAndWeightSlots(args);
  results.push_back({RankedTensorType::get({}, elementType), "loss", "loss"});
  for (auto [i, t] : llvm::enumerate(forward.getResultTypes()))
    results.push_back({t, "output", outputName(i)});
  if (outputLosses)
    for (size_t i = 0; i < targetTypes.size(); ++i)
      results.push_back({RankedTensorType::get({}, elementType), "loss",
                         outputName(i) + "_loss"});

  func::FuncOp fn = createFunction(b, "evaluate", args, results);
  Block &entry = fn.getBody().front();
  ValueRange argValues = entry.getArguments();
  size_t nIn = inputArgs.size(), nOut = numTargetArgs();
  auto outputs =
      cloneForward(b, entry, argValues.take_front(nIn),
                   argValues.drop_front(nIn + nOut), Value(), batchStats);
  if (failed(outputs))
    return failure();
  auto lossValue =
      buildLoss(b, fn.getLoc(), *outputs, argValues.slice(nIn, nOut),
                argValues.drop_front(nIn + nOut));
  if (failed(lossValue))
    return failure();
  SmallVector<Value> returned;
  returned.push_back(lossValue->front());
  llvm::append_range(returned, *outputs);
  llvm::append_range(returned, ArrayRef(*lossValue).drop_front());
  func::ReturnOp::create(b, fn.getLoc(), returned);
  b.setInsertionPointAfter(fn);
  return success();
}

FailureOr<LayerAutodiffPass::Backward>
LayerAutodiffPass::buildBackward(OpBuilder &b, func::FuncOp fn, Value step,
                                 bool training, Value offset) {
  Block &entry = fn.getBody().front();
  ValueRange argValues = entry.getArguments();
  size_t nIn = inputArgs.size(), nTgt = numTargetArgs();
  auto weights = argValues.slice(nIn + nTgt, weightArgs.size());
  SmallVector<Value> params;
  for (auto [i, w] : llvm::zip(weightArgs, weights))
    if (forward.getArgAttr(i, kParamAttr))
      params.push_back(w);
  Backward result;
  auto outputs = cloneForward(b, entry, argValues.take_front(nIn), weights,
                              step, training, offset);
  if (failed(outputs))
    return failure();
  result.outputs = std::move(*outputs);
  auto losses = buildLoss(b, fn.getLoc(), result.outputs,
                          argValues.slice(nIn, nTgt), weights);
  if (failed(losses))
    return failure();
  result.losses = std::move(*losses);
  auto grads = buildGradients(b, entry, result.losses.front(), params);
  if (failed(grads))
    return failure();
  result.grads = std::move(*grads);
  return result;
}

LogicalResult LayerAutodiffPass::buildTraining(OpBuilder &b) {
  bool gradOnly = optimizer == "none";
  SmallVector<StringRef> slotNames =
      optimizerSlots(optimizer, centered, amsgrad);
  SmallVector<Slot> args, results;
  appendDataAndWeightSlots(args);
  for (unsigned i : paramArgs)
    for (StringRef slot : slotNames)
      args.push_back({forward.getArgument(i).getType(), "state",
                      argName(i) + "/" + slot.str()});
  auto scalar = RankedTensorType::get({}, elementType);
  if (!gradOnly)
    appendStepSlots(args);

  results.push_back({scalar, "loss", "loss"});
  for (auto [i, t] : llvm::enumerate(forward.getResultTypes()))
    results.push_back({t, "output", outputName(i)});
  if (gradOnly)
    for (unsigned i : paramArgs)
      results.push_back({forward.getArgument(i).getType(), "grad", argName(i)});
  else
    for (unsigned i : weightArgs)
      results.push_back(
          {forward.getArgument(i).getType(), weightRole(i), argName(i)});
  for (unsigned i : paramArgs)
    for (StringRef slot : slotNames)
      results.push_back({forward.getArgument(i).getType(), "state",
                         argName(i) + "/" + slot.str()});
  if (outputLosses)
    for (size_t i = 0; i < targetTypes.size(); ++i)
      results.push_back({scalar, "loss", outputName(i) + "_loss"});

  func::FuncOp fn =
      createFunction(b, gradOnly ? "grad" : "train_step", args, results);
  Block &entry = fn.getBody().front();
  ValueRange argValues = entry.getArguments();
  size_t nIn = inputArgs.size(), nTgt = numTargetArgs(),
         nWeight = weightArgs.size(), nParam = paramArgs.size();
  auto weights = argValues.slice(nIn + nTgt, nWeight);
  SmallVector<Value> params;
  for (auto [i, w] : llvm::zip(weightArgs, weights))
    if (forward.getArgAttr(i, kParamAttr))
      params.push_back(w);
  Value lr = learningRateInput && !gradOnly ? argValues.back() : Value();
  Value step = gradOnly ? Value() : argValues[argValues.size() - (lr ? 2 : 1)];
  auto backward = buildBackward(b, fn, step, !gradOnly || batchStats);
  if (failed(backward))
    return failure();

  SmallVector<Value> returned;
  returned.push_back(backward->losses.front());
  llvm::append_range(returned, backward->outputs);
  if (gradOnly) {
    llvm::append_range(returned, backward->grads);
  } else {
    auto states =
        argValues.slice(nIn + nTgt + nWeight, nParam * slotNames.size());
    // Parameters take the optimizer's step; buffers their training-mode
    // value (updated moving statistics), or stay as they are (frozen).
    DenseMap<Value, Value> newWeight = cloneState.updatedBuffers;
    SmallVector<Value> newStates;
    auto grads = clipGradients(b, fn.getLoc(), backward->grads);
    if (failed(grads))
      return failure();
    for (auto [i, p] : llvm::enumerate(params)) {
      auto slots = states.slice(i * slotNames.size(), slotNames.size());
      auto updated =
          buildUpdate(b, p.getLoc(), p, (*grads)[i], slots, step, lr);
      if (failed(updated))
        return failure();
      auto kept = buildConstraint(b, forward, paramArgs[i], updated->front());
      if (failed(kept))
        return failure();
      newWeight[p] = *kept;
      llvm::append_range(newStates, ArrayRef(*updated).drop_front());
    }
    for (Value w : weights)
      returned.push_back(newWeight.count(w) ? newWeight.lookup(w) : w);
    llvm::append_range(returned, newStates);
  }
  llvm::append_range(returned, ArrayRef(backward->losses).drop_front());
  func::ReturnOp::create(b, fn.getLoc(), returned);
  b.setInsertionPointAfter(fn);
  return success();
}

LogicalResult LayerAutodiffPass::buildGradStep(OpBuilder &b) {
  auto scalar = RankedTensorType::get({}, elementType);
  SmallVector<Slot> args, results;
  appendDataAndWeightSlots(args);
  args.push_back({scalar, "step", "step"});
  args.push_back({scalar, "offset", "sample_offset"});
  results.push_back({scalar, "loss", "loss"});
  for (auto [i, t] : llvm::enumerate(forward.getResultTypes()))
    results.push_back({t, "output", outputName(i)});
  // "<weight>/grad": a header names each gradient apart from its weight.
  for (unsigned i : paramArgs)
    results.push_back(
        {forward.getArgument(i).getType(), "grad", argName(i) + "/grad"});
  SmallVector<unsigned> bufferArgs;
  for (unsigned i : weightArgs)
    if (!forward.getArgAttr(i, kParamAttr))
      bufferArgs.push_back(i);
  for (unsigned i : bufferArgs)
    results.push_back({forward.getArgument(i).getType(), "buffer", argName(i)});
  if (outputLosses)
    for (size_t i = 0; i < targetTypes.size(); ++i)
      results.push_back({scalar, "loss", outputName(i) + "_loss"});

  func::FuncOp fn = createFunction(b, "grad_step", args, results);
  Block &entry = fn.getBody().front();
  ValueRange argValues = entry.getArguments();
  size_t nIn = inputArgs.size(), nTgt = numTargetArgs(),
         nWeight = weightArgs.size();
  auto weights = argValues.slice(nIn + nTgt, nWeight);
  SmallVector<Value> buffers;
  for (auto [i, w] : llvm::zip(weightArgs, weights))
    if (!forward.getArgAttr(i, kParamAttr))
      buffers.push_back(w);
  Value step = argValues[nIn + nTgt + nWeight];
  Value offset = argValues[nIn + nTgt + nWeight + 1];
  auto backward = buildBackward(b, fn, step, /*training=*/true, offset);
  if (failed(backward))
    return failure();

  SmallVector<Value> returned;
  returned.push_back(backward->losses.front());
  llvm::append_range(returned, backward->outputs);
  llvm::append_range(returned, backward->grads);
  for (Value buffer : buffers)
    returned.push_back(cloneState.updatedBuffers.lookup(buffer)
                           ? cloneState.updatedBuffers.lookup(buffer)
                           : buffer);
  llvm::append_range(returned, ArrayRef(backward->losses).drop_front());
  func::ReturnOp::create(b, fn.getLoc(), returned);
  b.setInsertionPointAfter(fn);
  if (gradientReady &&
      failed(insertGradientReadyCalls(fn, 1 + backward->outputs.size(),
                                      backward->grads.size())))
    return failure();
  return success();
}

LogicalResult LayerAutodiffPass::buildApplyStep(OpBuilder &b) {
  SmallVector<StringRef> slotNames =
      optimizerSlots(optimizer, centered, amsgrad);
  SmallVector<Slot> args, results;
  for (unsigned i : paramArgs)
    args.push_back({forward.getArgument(i).getType(), "param", argName(i)});
  for (unsigned i : paramArgs)
    args.push_back(
        {forward.getArgument(i).getType(), "grad", argName(i) + "/grad"});
  SmallVector<Slot> stateSlots;
  for (unsigned i : paramArgs)
    for (StringRef slot : slotNames)
      stateSlots.push_back({forward.getArgument(i).getType(), "state",
                            argName(i) + "/" + slot.str()});
  llvm::append_range(args, stateSlots);
  appendStepSlots(args);
  for (unsigned i : paramArgs)
    results.push_back({forward.getArgument(i).getType(), "param", argName(i)});
  llvm::append_range(results, stateSlots);

  func::FuncOp fn = createFunction(b, "apply_step", args, results);
  Block &entry = fn.getBody().front();
  b.setInsertionPointToEnd(&entry);
  ValueRange argValues = entry.getArguments();
  size_t nParam = paramArgs.size(), nSlot = slotNames.size();
  Value lr = learningRateInput ? argValues.back() : Value();
  Value step = argValues[argValues.size() - (lr ? 2 : 1)];
  SmallVector<Value> newParams, newStates;
  auto grads = clipGradients(b, fn.getLoc(), argValues.slice(nParam, nParam));
  if (failed(grads))
    return failure();
  for (size_t i = 0; i < nParam; ++i) {
    auto slots = argValues.slice(2 * nParam + i * nSlot, nSlot);
    auto updated =
        buildUpdate(b, fn.getLoc(), argValues[i], (*grads)[i], slots, step, lr);
    if (failed(updated))
      return failure();
    auto kept = buildConstraint(b, forward, paramArgs[i], updated->front());
    if (failed(kept))
      return failure();
    newParams.push_back(*kept);
    llvm::append_range(newStates, ArrayRef(*updated).drop_front());
  }
  llvm::append_range(newParams, newStates);
  func::ReturnOp::create(b, fn.getLoc(), newParams);
  b.setInsertionPointAfter(fn);
  return success();
}

void LayerAutodiffPass::runOnOperation() {
  if (failed(analyzeForward()))
    return signalPassFailure();
  OpBuilder b(&getContext());
  b.setInsertionPointAfter(forward);
  if (failed(buildEvaluate(b)) || failed(buildTraining(b)))
    return signalPassFailure();
  if (splitStep && (failed(buildGradStep(b)) || failed(buildApplyStep(b))))
    return signalPassFailure();
}

} // namespace
