//===- RecurrentGrad.cpp - Gradient rules of the recurrent layers ---------===//
//
// layer.rnn's gradient is one layer.rnn_grad, which recomputes the forward
// pass and runs backpropagation through time in its lowering
// (codegen/LayerToLinalg/Recurrent.cpp): SimpleRNN, LSTM and GRU (with
// and without reset_after).
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"

using namespace mlir;
using namespace layerc::layer;

namespace {

struct RnnGrad {
  static LogicalResult build(RnnOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    auto g = createInferred<RnnGradOp>(
        b, op.getLoc(), elementTypeOf(op.getInput()), op.getBias() ? 4 : 3,
        op.getInput(), op.getKernel(), op.getRecurrentKernel(), op.getBias(),
        ValueRange(dys), op.getCellAttr(), op.getActivationAttr(),
        op.getRecurrentActivationAttr(), op.getReturnSequences(),
        op.getGoBackwards(), op.getResetAfter());
    if (!g)
      return failure();
    for (auto [i, result] : llvm::enumerate(g.getGrads()))
      grads[i] = result;
    return success();
  }
};

} // namespace

void layerc::layer::registerRecurrentGradients(MLIRContext *ctx) {
  RnnOp::attachInterface<GradientModel<RnnGrad, RnnOp>>(*ctx);
}
