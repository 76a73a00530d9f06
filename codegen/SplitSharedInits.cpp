//===- SplitSharedInits.cpp - The layer-split-shared-inits pass -----------===//
//
// Fresh tensors are the destinations of most lowerings: a `tensor.empty`
// that a loop nest writes, or a constant fill of one (a matmul's zeros, a
// max pool's -inf). CSE merges identical ones, so many ops of one result
// shape can start from one shared tensor. Two problems follow.
//   - A shared fill: eliminate-empty-tensors lets the first result's output
//     buffer stand for the fill's tensor.empty, and the second op
//     accumulated into the first one's output: the second output came back
//     equal to the first (two Dense layers without bias, two max pools).
//   - A shared tensor.empty: One-Shot Bufferize puts every op writing into
//     it in one alias set, compares each of their writes with each of their
//     reads, and copies all but one: quadratic in the number of writers
//     (1,000 Dense layers of one input took minutes to bufferize).
// Each later use of a shared fill gets a fill of its own tensor.empty, and
// each later use of a shared tensor.empty its own tensor.empty, right
// before eliminate-empty-tensors. A fill holds only its constant and an
// empty tensor nothing, so no value changes.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERSPLITSHAREDINITS
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;

namespace {

struct LayerSplitSharedInitsPass
    : layerc::impl::LayerSplitSharedInitsBase<LayerSplitSharedInitsPass> {
  void runOnOperation() override {
    // The uses of each shared fill and of each shared tensor.empty, in the
    // order of their ops: the first use keeps the original.
    llvm::MapVector<Operation *, SmallVector<OpOperand *>> fillUses;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      for (OpOperand &operand : op->getOpOperands()) {
        auto fill = operand.get().getDefiningOp<linalg::FillOp>();
        if (fill && fill.hasPureTensorSemantics() &&
            fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() &&
            !fill->getResult(0).hasOneUse())
          fillUses[fill].push_back(&operand);
      }
    });
    for (auto &[op, operands] : fillUses) {
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

    llvm::MapVector<Operation *, SmallVector<OpOperand *>> emptyUses;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      for (OpOperand &operand : op->getOpOperands())
        if (auto empty = operand.get().getDefiningOp<tensor::EmptyOp>();
            empty && !empty->getResult(0).hasOneUse())
          emptyUses[empty].push_back(&operand);
    });
    for (auto &[empty, operands] : emptyUses) {
      // Right after the original, where its sizes are defined.
      OpBuilder b(empty);
      b.setInsertionPointAfter(empty);
      for (OpOperand *use : llvm::drop_begin(operands))
        use->set(b.clone(*empty)->getResult(0));
    }
  }
};

} // namespace
