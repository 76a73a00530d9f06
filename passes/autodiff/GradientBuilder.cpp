//===- GradientBuilder.cpp - The reverse sweep ----------------------------===//
//
// Shared by layer-autodiff (over a whole function) and by gradient rules
// that differentiate an op through its decomposition into simpler layer
// ops (ConvLSTM).
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/GradientBuilder.h"

using namespace mlir;
using namespace layerc::layer;

FailureOr<unsigned>
layerc::layer::propagateGradients(OpBuilder &b, ArrayRef<Operation *> tape,
                                  DenseMap<Value, Value> &grads) {
  unsigned applied = 0;
  for (Operation *op : llvm::reverse(tape)) {
    SmallVector<Value> resultGrads = llvm::map_to_vector(
        op->getResults(), [&](Value r) { return grads.lookup(r); });
    if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
      continue;
    // A constant (ops::zeros) has nothing to pass its gradient to.
    if (op->getNumOperands() == 0)
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule)
      return op->emitOpError("has no gradient rule (GradientOpInterface)"),
             failure();
    // A rule may assume a gradient for every result: fill the gaps with 0.
    for (auto [result, g] : llvm::zip(op->getResults(), resultGrads)) {
      if (g)
        continue;
      // 0 * result: shape-agnostic (a constant cannot have a dynamic
      // batch), and folded away by the lowering's fusion.
      auto zero =
          createInferred<ScaleOp>(b, op->getLoc(), elementTypeOf(result), 1,
                                  result, b.getF64FloatAttr(0.0));
      if (!zero)
        return failure();
      g = zero.getResult();
    }
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradient(b, resultGrads, operandGrads)))
      return failure();
    ++applied;
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!g)
        continue;
      Value &slot = grads[operand];
      if (!slot) {
        slot = g;
        continue;
      }
      auto sum =
          createInferred<AddOp>(b, op->getLoc(), elementTypeOf(g), 1, slot, g);
      if (!sum)
        return failure();
      slot = sum.getResult();
    }
  }
  return applied;
}
