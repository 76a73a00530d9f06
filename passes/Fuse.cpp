//===- Fuse.cpp - The layer-fuse pass -------------------------------------===//
//
// Folds what follows a dense or convolution into it, after layer-autodiff
// has built the training functions from the unfused predict:
//   - a layer.activation into the op's fused `activation` (one generic
//     fewer, and the pre-activation is never written to memory);
//   - an inference-mode layer.batch_norm into the op's kernel and bias
//     (one pass over the output fewer);
//   - a layer.add of a convolution's result and a tensor of the same type
//     computed before it (a ResNet's shortcut) into the convolution's
//     `residual`, added after its activation by the kernel's epilogue.
// One forward sweep suffices: a batch_norm comes before the activation
// that follows it, and the activation before the add, so when the sweep
// reaches an op its input is already the (folded) layer's result.
//
// Both rewrites need the layer's result to have no other use: the value it
// computes changes (it becomes the activated or the normalized one). In
// train_step and grad the pre-activation and the batch_norm's input also
// feed gradient ops, which is what keeps the rewrites out of them.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"

#include "mlir/IR/Dominance.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERFUSE
#include "passes/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;
using namespace layerc::layer;

namespace {

/// The activation of a dense, conv or conv_transpose; nullopt for any
/// other op.
std::optional<Activation> fusedActivationOf(Operation *op) {
  if (auto dense = dyn_cast_or_null<DenseOp>(op))
    return dense.getActivation();
  if (auto conv = dyn_cast_or_null<ConvOp>(op))
    return conv.getActivation();
  if (auto transpose = dyn_cast_or_null<ConvTransposeOp>(op))
    return transpose.getActivation();
  return std::nullopt;
}

/// Whether `op` is a convolution that already adds a residual after its
/// activation: nothing more may be folded into it, since what it computes
/// is no longer the layer's own output.
bool hasResidual(Operation *op) {
  auto conv = dyn_cast_or_null<ConvOp>(op);
  return conv && conv.getResidual();
}

/// Whether `value` is the sole result of a layer with a linear fused
/// activation that nothing else reads, so that the layer may be changed to
/// compute what its one user computes from it instead.
bool isPrivateLinearResult(Value value) {
  Operation *producer = value.getDefiningOp();
  std::optional<Activation> act = fusedActivationOf(producer);
  return act && *act == Activation::Linear && value.hasOneUse() &&
         !hasResidual(producer);
}

/// The location of a layer that absorbed `absorbed`: the layer's own
/// location first, so that the first name location, the one diagnostics
/// report (ShapeChecks.cpp's origin), is still the layer's.
Location fusedLocation(Operation *layer, Operation *absorbed) {
  return FusedLoc::get(layer->getContext(),
                       {layer->getLoc(), absorbed->getLoc()});
}

struct LayerFusePass : layerc::impl::LayerFuseBase<LayerFusePass> {
  using Base::Base;
  void runOnOperation() override;

private:
  bool fuseActivation(ActivationOp act);
  FailureOr<bool> foldBatchNorm(BatchNormOp bn, DominanceInfo &dominance);
  bool fuseResidual(AddOp add, DominanceInfo &dominance);
};

/// Rule 1: act(layer(x)) -> layer(x) with act fused. Softmax stays a
/// separate op: it is a reduction over the last axis, and only the
/// element-wise kinds are what every layer's fused activation accepts
/// (rnn and conv_lstm refuse softmax).
bool LayerFusePass::fuseActivation(ActivationOp act) {
  Activation kind = act.getActivation();
  if (kind == Activation::Softmax || !isPrivateLinearResult(act.getInput()))
    return false;
  Operation *layer = act.getInput().getDefiningOp();
  // The layer's result replaces the activation's everywhere: their types
  // must be the same, or the users (a return) would see a new type.
  if (layer->getResult(0).getType() != act.getResult().getType())
    return false;
  layer->setAttr("activation", act.getActivationAttr());
  layer->setLoc(fusedLocation(layer, act));
  act.getResult().replaceAllUsesWith(layer->getResult(0));
  act.erase();
  ++numActivationsFused;
  return true;
}

/// Whether `bn` normalizes by statistics that are given (moving ones), not
/// by statistics of the batch. layer-autodiff's training clone feeds it
/// layer.moments of its own input; those can never be folded into the
/// layer that produces that input.
bool isInferenceMode(BatchNormOp bn) {
  auto fromMoments = [](Value v) {
    return isa_and_nonnull<MomentsOp>(v.getDefiningOp());
  };
  return !fromMoments(bn.getMovingMean()) &&
         !fromMoments(bn.getMovingVariance());
}

/// Rule 2: batch_norm(layer(x, k, b)) -> layer(x, k * s, (b - m) * s + beta)
/// with s = gamma / sqrt(var + eps), per output channel (the last axis of
/// the kernel of dense and conv alike; conv_transpose's output channels
/// are not its kernel's last axis, so it is left alone). The arithmetic is
/// the batch_norm op itself, applied to the kernel (mean 0, no beta) and
/// to the bias as a 1 x C row (batch_norm wants rank >= 2), so the folded
/// weights are what the unfused batch_norm's lowering would compute.
/// Returns whether it folded `bn`; failure only for IR whose shapes the
/// verifier should have refused (a diagnostic has been emitted). A
/// batch_norm that does not fit is left as it is.
FailureOr<bool> LayerFusePass::foldBatchNorm(BatchNormOp bn,
                                             DominanceInfo &dominance) {
  if (!isInferenceMode(bn) || !isPrivateLinearResult(bn.getInput()))
    return false;
  Operation *layer = bn.getInput().getDefiningOp();
  if (!isa<DenseOp, ConvOp>(layer))
    return false;
  auto type = dyn_cast<RankedTensorType>(layer->getResult(0).getType());
  if (!type || type != bn.getResult().getType() || type.getRank() < 1 ||
      ShapedType::isDynamic(type.getShape().back()))
    return false;
  Value kernel = layer->getOperand(1);
  Value bias = layer->getNumOperands() > 2 ? layer->getOperand(2) : Value();
  if (!isa<RankedTensorType>(kernel.getType()) ||
      (bias && !isa<RankedTensorType>(bias.getType())))
    return false;
  // The folded weights are computed before the layer, so every statistic
  // must be available there (they are function arguments in a model).
  SmallVector<Value> stats{bn.getMovingMean(), bn.getMovingVariance()};
  for (Value v : {bn.getGamma(), bn.getBeta()})
    if (v)
      stats.push_back(v);
  if (!llvm::all_of(stats, [&](Value v) {
        return isa<RankedTensorType>(v.getType()) &&
               dominance.properlyDominates(v, layer);
      }))
    return false;

  Type et = type.getElementType();
  int64_t channels = type.getShape().back();
  OpBuilder b(layer);
  // The weight arithmetic belongs to the batch_norm layer: a run-time
  // check on it names that layer.
  Location loc = bn.getLoc();
  auto zeros = [&](ArrayRef<int64_t> shape) -> Value {
    auto zeroType = RankedTensorType::get(shape, et);
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(zeroType, b.getFloatAttr(et, 0.0)));
  };
  SmallVector<Operation *> created;
  auto fail = [&]() {
    for (Operation *op : llvm::reverse(created))
      op->erase();
    return FailureOr<bool>(failure());
  };
  Value zeroVector = zeros({channels});
  created.push_back(zeroVector.getDefiningOp());
  // kernel * s: normalizing by mean 0 without beta.
  auto newKernel = createInferred<BatchNormOp>(
      b, loc, et, 1, kernel, zeroVector, bn.getMovingVariance(), bn.getGamma(),
      Value(), bn.getEpsilonAttr(), bn.getMomentumAttr());
  if (!newKernel)
    return fail();
  created.push_back(newKernel);
  // (bias - mean) * s + beta, on the bias as a 1 x C row (broadcast onto
  // zeros by layer.add), summed back over the row of one to a C vector.
  Value row = zeros({1, channels});
  created.push_back(row.getDefiningOp());
  if (bias) {
    auto withBias = createInferred<AddOp>(b, loc, et, 1, row, bias);
    if (!withBias)
      return fail();
    created.push_back(withBias);
    row = withBias.getResult();
  }
  auto normalizedRow = createInferred<BatchNormOp>(
      b, loc, et, 1, row, bn.getMovingMean(), bn.getMovingVariance(),
      bn.getGamma(), bn.getBeta(), bn.getEpsilonAttr(), bn.getMomentumAttr());
  if (!normalizedRow)
    return fail();
  created.push_back(normalizedRow);
  auto newBias = createInferred<ReduceSumOp>(
      b, loc, et, 1, normalizedRow.getResult(), b.getI64IntegerAttr(0));
  if (!newBias)
    return fail();

  // Dense has one optional operand (the bias), so three operands are a
  // layer with a bias; conv's operands have segment sizes (bias, residual).
  if (auto conv = dyn_cast<ConvOp>(layer)) {
    conv.getKernelMutable().assign(newKernel.getResult());
    conv.getBiasMutable().assign(newBias.getResult());
  } else {
    layer->setOperands(
        {layer->getOperand(0), newKernel.getResult(), newBias.getResult()});
  }
  layer->setLoc(fusedLocation(layer, bn));
  bn.getResult().replaceAllUsesWith(layer->getResult(0));
  bn.erase();
  ++numBatchNormsFolded;
  return true;
}

/// Rule 3: add(conv(x), r) -> conv(x) with residual r, where the
/// convolution's result (any activation) has no other use, both operands
/// and the result have one type (no broadcast), and r is computed before
/// the convolution (so the convolution may read it where it stands).
/// Either operand may be the convolution's.
bool LayerFusePass::fuseResidual(AddOp add, DominanceInfo &dominance) {
  // A conv's result (rank 3 to 5), of which only the batch may be unknown
  // (the conv's rule needs the other sizes).
  auto type = dyn_cast<RankedTensorType>(add.getResult().getType());
  if (!type || type.getRank() < 3 || add.getLhs().getType() != type ||
      add.getRhs().getType() != type ||
      llvm::any_of(type.getShape().drop_front(), ShapedType::isDynamic))
    return false;
  for (auto [mine, other] : {std::pair(add.getLhs(), add.getRhs()),
                             std::pair(add.getRhs(), add.getLhs())}) {
    auto conv = mine.getDefiningOp<ConvOp>();
    if (!conv || conv.getResidual() || !mine.hasOneUse() || mine == other ||
        !dominance.properlyDominates(other, conv))
      continue;
    conv.getResidualMutable().assign(other);
    conv->setLoc(fusedLocation(conv, add));
    add.getResult().replaceAllUsesWith(conv.getResult());
    add.erase();
    ++numResidualsFused;
    return true;
  }
  return false;
}

void LayerFusePass::runOnOperation() {
  func::FuncOp fn = getOperation();
  DominanceInfo &dominance = getAnalysis<DominanceInfo>();
  // Collected first: each rewrite erases the op it visits and inserts ops
  // before the layer, which an ongoing walk must not see.
  SmallVector<Operation *> candidates;
  fn.walk([&](Operation *op) {
    if (isa<ActivationOp, BatchNormOp, AddOp>(op))
      candidates.push_back(op);
  });
  bool changed = false;
  for (Operation *op : candidates) {
    if (auto act = dyn_cast<ActivationOp>(op)) {
      changed |= fuseActivation(act);
      continue;
    }
    if (auto add = dyn_cast<AddOp>(op)) {
      changed |= fuseResidual(add, dominance);
      continue;
    }
    FailureOr<bool> folded = foldBatchNorm(cast<BatchNormOp>(op), dominance);
    if (failed(folded))
      return signalPassFailure();
    changed |= *folded;
  }
  if (!changed)
    markAllAnalysesPreserved();
}

} // namespace
