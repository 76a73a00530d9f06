//===- SpecializeBatch.cpp - The layer-specialize-batch pass
//---------------===//
//
// For each public function: make dimension 0 of dynamic tensor arguments
// static, reset the results of ops with a shape rule to unranked, and run
// the shape rules again in program order (operands are always defined
// before use in the single block of a layer function). The function type
// follows its return.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERSPECIALIZEBATCH
#include "passes/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;
using namespace layerc::layer;

namespace {

Type withBatch(Type type, int64_t batch) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked || ranked.getRank() == 0 || !ranked.isDynamicDim(0))
    return type;
  SmallVector<int64_t> shape(ranked.getShape());
  shape[0] = batch;
  return RankedTensorType::get(shape, ranked.getElementType());
}

LogicalResult specialize(func::FuncOp fn, int64_t batch) {
  if (!fn.getBody().hasOneBlock())
    return fn.emitError() << "layer-specialize-batch expects functions of "
                             "one block, '"
                          << fn.getName() << "' has "
                          << fn.getBody().getBlocks().size();
  Block &entry = fn.getBody().front();
  for (BlockArgument arg : entry.getArguments())
    arg.setType(withBatch(arg.getType(), batch));
  WalkResult result = fn.walk([&](ShapeInference op) {
    for (OpResult r : op->getResults())
      r.setType(UnrankedTensorType::get(
          cast<TensorType>(r.getType()).getElementType()));
    if (failed(op.inferShapes()))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  fn.setType(FunctionType::get(fn.getContext(), entry.getArgumentTypes(),
                               entry.getTerminator()->getOperandTypes()));
  return success();
}

struct LayerSpecializeBatchPass
    : layerc::impl::LayerSpecializeBatchBase<LayerSpecializeBatchPass> {
  using Base::Base;
  void runOnOperation() override {
    if (batch < 1) {
      getOperation().emitError()
          << "layer-specialize-batch: batch must be at least 1, got "
          << batch.getValue();
      return signalPassFailure();
    }
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal() && failed(specialize(fn, batch)))
        return signalPassFailure();
  }
};

} // namespace
