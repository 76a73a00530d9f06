//===- ContractionLoopOrder.cpp - The layer-contraction-loop-order pass
//----===//
//
// Finds linalg ops with exactly three loops iterated (parallel, parallel,
// reduction) -- matmuls, with or without transposed operands --,
// generalizes named ones and interchanges the loops to (parallel,
// reduction, parallel). Everything else is left alone.
//
// With `parallel-outer` (the GPU targets) it does the opposite, for every
// linalg op: the parallel loops move outside the reductions (a
// convolution's filter loop, innermost after its window and channel
// loops), so that convert-linalg-to-parallel-loops makes one scf.parallel
// of all of them and layer-gpu-map gives each output element a thread.
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

/// `op` as a linalg.generic (named ops generalized at `rewriter`'s point).
FailureOr<linalg::GenericOp> asGeneric(IRRewriter &rewriter,
                                       linalg::LinalgOp op) {
  if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
    return generic;
  return linalg::generalizeNamedOp(rewriter, op);
}

struct LayerContractionLoopOrderPass
    : layerc::impl::LayerContractionLoopOrderBase<
          LayerContractionLoopOrderPass> {
  using Base::Base;
  void runOnOperation() override {
    if (parallelOuter)
      return moveParallelLoopsOut();
    SmallVector<linalg::LinalgOp> contractions;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isMatmulLike(op))
        contractions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::GenericOp> generic = asGeneric(rewriter, op);
      if (succeeded(generic))
        (void)linalg::interchangeGenericOp(rewriter, *generic, {0, 2, 1});
    }
  }

  void moveParallelLoopsOut() {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
      auto firstReduction =
          llvm::find(iterators, utils::IteratorType::reduction);
      if (std::find(firstReduction, iterators.end(),
                    utils::IteratorType::parallel) != iterators.end())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::GenericOp> generic = asGeneric(rewriter, op);
      if (failed(generic))
        continue;
      SmallVector<unsigned> order;
      SmallVector<utils::IteratorType> iterators =
          generic->getIteratorTypesArray();
      for (auto kind :
           {utils::IteratorType::parallel, utils::IteratorType::reduction})
        for (unsigned i = 0; i < iterators.size(); ++i)
          if (iterators[i] == kind)
            order.push_back(i);
      (void)linalg::interchangeGenericOp(rewriter, *generic, order);
    }
  }
};

} // namespace
