//===- SplitSharedFills.cpp - The layer-split-shared-fills pass -----------===//
//
// A constant-filled fresh tensor (linalg.fill of a tensor.empty) is the
// initial value of many lowerings: a matmul's zeros, a max pool's -inf.
// CSE merges identical ones, so two ops of one result shape may accumulate
// into one shared fill. eliminate-empty-tensors then lets the first result's
// output buffer stand for the tensor.empty of that fill, and the second op
// accumulated into the first one's output: the second output came back
// equal to the first (two Dense layers without bias, two max pools). Each
// later use of such a fill gets a fill of its own tensor.empty here, right
// before eliminate-empty-tensors. A fill has no other contents than its
// constant, so no value changes.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERSPLITSHAREDFILLS
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;

namespace {

struct LayerSplitSharedFillsPass
    : layerc::impl::LayerSplitSharedFillsBase<LayerSplitSharedFillsPass> {
  void runOnOperation() override {
    // The uses of each shared fill, in the order of their ops: the first
    // keeps the fill.
    llvm::MapVector<Operation *, SmallVector<OpOperand *>> uses;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      for (OpOperand &operand : op->getOpOperands()) {
        auto fill = operand.get().getDefiningOp<linalg::FillOp>();
        if (fill && fill.hasPureTensorSemantics() &&
            fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() &&
            !fill->getResult(0).hasOneUse())
          uses[fill].push_back(&operand);
      }
    });
    for (auto &[op, operands] : uses) {
      auto fill = cast<linalg::FillOp>(op);
      OpBuilder b(fill);
      b.setInsertionPointAfter(fill);
      for (OpOperand *use : llvm::drop_begin(operands)) {
        Operation *empty = b.clone(*fill.getOutputs()[0].getDefiningOp());
        IRMapping map;
        map.map(fill.getOutputs()[0], empty->getResult(0));
        Operation *copy = b.clone(*fill, map);
        use->set(copy->getResult(0));
        b.setInsertionPointAfter(copy);
      }
    }
  }
};

} // namespace
