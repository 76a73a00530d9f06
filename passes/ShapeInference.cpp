//===- ShapeInference.cpp - The layer-shape-inference pass
//-----------------===//
//
// Toy chapter 4's algorithm: keep a worklist of ops with unranked results;
// repeatedly pick one whose operands are all ranked and ask its
// ShapeInference interface for the result types. The pass knows no op. When
// the worklist stops shrinking with ops left, those ops depend on values
// whose shapes are unknown: each is reported. Finally the function type is
// made to agree with its return.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERSHAPEINFERENCE
#include "passes/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;
using namespace layerc::layer;

namespace {

bool hasUnrankedResult(Operation *op) {
  return llvm::any_of(op->getResultTypes(),
                      [](Type t) { return isa<UnrankedTensorType>(t); });
}

bool operandsRanked(Operation *op) {
  return llvm::all_of(op->getOperandTypes(),
                      [](Type t) { return !isa<UnrankedTensorType>(t); });
}

struct LayerShapeInferencePass
    : layerc::impl::LayerShapeInferenceBase<LayerShapeInferencePass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    // A declaration has no body to infer; a function of several blocks is
    // none that layerc builds, and its return type could not be read off
    // one terminator.
    if (fn.isExternal())
      return;
    if (!fn.getBody().hasOneBlock()) {
      fn.emitError("layer-shape-inference expects functions of one block, '")
          << fn.getName() << "' has " << fn.getBody().getBlocks().size();
      return signalPassFailure();
    }
    llvm::SetVector<Operation *> worklist;
    fn.walk([&](Operation *op) {
      if (hasUnrankedResult(op))
        worklist.insert(op);
    });

    while (!worklist.empty()) {
      auto ready = llvm::find_if(worklist, operandsRanked);
      if (ready == worklist.end())
        break;
      Operation *op = *ready;
      worklist.remove(op);
      auto shaped = dyn_cast<ShapeInference>(op);
      if (!shaped) {
        op->emitError("cannot infer the result shape of '")
            << op->getName() << "': it does not implement ShapeInference";
        return signalPassFailure();
      }
      if (failed(shaped.inferShapes()))
        return signalPassFailure();
    }

    if (!worklist.empty()) {
      for (Operation *op : worklist)
        op->emitError("cannot infer the result shape: an operand's shape is "
                      "unknown");
      return signalPassFailure();
    }

    // Make the signature agree with what the function now returns.
    Operation *terminator = fn.getBody().front().getTerminator();
    fn.setType(FunctionType::get(&getContext(), fn.getArgumentTypes(),
                                 terminator->getOperandTypes()));
  }
};

} // namespace
