//===- ContractionLoopOrder.cpp - The layer-contraction-loop-order pass
//----===//
//
// Finds linalg ops with exactly three loops iterated (parallel, parallel,
// reduction) -- matmuls, with or without transposed operands --,
// generalizes named ones and interchanges the loops to (parallel,
// reduction, parallel). Everything else is left alone.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERCONTRACTIONLOOPORDER
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;

namespace {

bool isMatmulLike(linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  return iterators.size() == 3 &&
         iterators[0] == utils::IteratorType::parallel &&
         iterators[1] == utils::IteratorType::parallel &&
         iterators[2] == utils::IteratorType::reduction;
}

struct LayerContractionLoopOrderPass
    : layerc::impl::LayerContractionLoopOrderBase<
          LayerContractionLoopOrderPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> contractions;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isMatmulLike(op))
        contractions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions) {
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> g =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(g))
          continue;
        generic = *g;
      }
      (void)linalg::interchangeGenericOp(rewriter, generic, {0, 2, 1});
    }
  }
};

} // namespace
