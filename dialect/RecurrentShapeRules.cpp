//===- RecurrentShapeRules.cpp - Shape rules of recurrent layers ----------===//
//
// rnn (simple_rnn, lstm and gru cells), conv_lstm and rnn_grad: the
// kernels' gate blocks against the units or filters, and the output and
// final states.
//
//===----------------------------------------------------------------------===//

#include "dialect/ShapeRules.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace layerc::layer;
using namespace layerc::layer::rules;

//===----------------------------------------------------------------------===//
// Recurrent
//===----------------------------------------------------------------------===//

int64_t layerc::layer::rnnGateCount(Cell cell) {
  switch (cell) {
  case Cell::SimpleRnn:
    return 1;
  case Cell::Lstm:
    return 4;
  case Cell::Gru:
    return 3;
  }
  return 1;
}

LAYER_SHAPE_RULE(RnnOp) {
  int64_t gates = rnnGateCount(op.getCell());
  for (Activation act : {op.getActivation(), op.getRecurrentActivation()}) {
    if (act == Activation::Softmax)
      return op.emitOpError("softmax is not an element-wise activation");
  }
  if (op.getResetAfter() && op.getCell() != Cell::Gru)
    return op.emitOpError("reset_after applies to a gru cell only");
  int64_t numStates = op.getCell() == Cell::Lstm ? 2 : 1;
  if (static_cast<int64_t>(op->getNumResults()) != 1 + numStates)
    return op.emitOpError() << "a " << stringifyCell(op.getCell())
                            << " cell has " << 1 + numStates
                            << " results (the output and the final states), "
                               "got "
                            << op->getNumResults();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1],
                   recurrent = (*types)[2];
  if (input.getRank() != 3)
    return op.emitOpError() << "expects an input of shape (batch, timesteps, "
                               "features), got "
                            << formatShape(input);
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "recurrent_kernel", "bias"},
                               input.getElementType())))
    return failure();
  if (recurrent.getRank() != 2 ||
      recurrent.getDimSize(1) != gates * recurrent.getDimSize(0))
    return op.emitOpError()
           << "recurrent_kernel of shape " << formatShape(recurrent)
           << " must be (units, " << gates << " * units)";
  int64_t units = recurrent.getDimSize(0);
  if (kernel.getRank() != 2 ||
      !agree(op->getOperand(1), 0, op->getOperand(0), 2,
             "the kernel's input size must match the input's features") ||
      kernel.getDimSize(1) != gates * units)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input)
           << " and " << units << " units: expected ("
           << formatDim(input.getDimSize(2)) << ", " << gates * units << ")";
  if (op.getBias()) {
    RankedTensorType bias = (*types)[3];
    Shape want{gates * units};
    if (op.getResetAfter())
      want.insert(want.begin(), 2);
    if (bias.getShape() != ArrayRef<int64_t>(want))
      return op.emitOpError()
             << "bias of shape " << formatShape(bias) << " must be "
             << formatShape(RankedTensorType::get(want, bias.getElementType()));
  }
  Type et = input.getElementType();
  int64_t batch = input.getDimSize(0);
  SmallVector<Type> results;
  results.push_back(op.getReturnSequences()
                        ? tensorOf({batch, input.getDimSize(1), units}, et)
                        : tensorOf({batch, units}, et));
  for (int64_t i = 0; i < numStates; ++i)
    results.push_back(tensorOf({batch, units}, et));
  return results;
}

LAYER_SHAPE_RULE(ConvLstmOp) {
  for (Activation act : {op.getActivation(), op.getRecurrentActivation()}) {
    if (act == Activation::Softmax)
      return op.emitOpError("softmax is not an element-wise activation");
  }
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1],
                   recurrent = (*types)[2];
  if (input.getRank() < 4 || input.getRank() > 6)
    return op.emitOpError() << "expects an input of shape (batch, timesteps, "
                               "spatial..., channels) with 1 to 3 spatial "
                               "dimensions, got "
                            << formatShape(input);
  int64_t n = input.getRank() - 3;
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "recurrent_kernel", "bias"},
                               input.getElementType())))
    return failure();
  SmallVector<std::pair<StringRef, ArrayRef<int64_t>>> arrays{
      {"strides", op.getStrides()}, {"dilations", op.getDilations()}};
  FailureOr<bool> same = checkWindowAttrs(op, op.getPadding(), n, arrays);
  if (failed(same))
    return failure();
  if (recurrent.getRank() != n + 2 ||
      recurrent.getDimSize(n + 1) != 4 * recurrent.getDimSize(n))
    return op.emitOpError()
           << "recurrent_kernel of shape " << formatShape(recurrent)
           << " must be (k..., filters, 4 * filters) with " << n
           << " kernel axes";
  int64_t filters = recurrent.getDimSize(n);
  if (kernel.getRank() != n + 2 ||
      !agree(op->getOperand(1), n, op->getOperand(0), -1,
             "the kernel's input channels must match the input's") ||
      kernel.getDimSize(n + 1) != 4 * filters)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input)
           << " and " << filters << " filters";
  if (op.getBias()) {
    RankedTensorType bias = (*types)[3];
    if (bias.getRank() != 1 || bias.getDimSize(0) != 4 * filters)
      return op.emitOpError() << "bias of shape " << formatShape(bias)
                              << " must be (" << 4 * filters << ",)";
  }
  Shape state{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t window =
        satAdd(satMul(kernel.getDimSize(i) - 1, op.getDilations()[i]), 1);
    int64_t out = windowOutputSize(input.getDimSize(i + 2), window,
                                   op.getStrides()[i], *same);
    if (out <= 0 && !ShapedType::isDynamic(out))
      return op.emitOpError() << "kernel of shape " << formatShape(kernel)
                              << " is larger than the unpadded input of shape "
                              << formatShape(input);
    state.push_back(out);
  }
  state.push_back(filters);
  Type et = input.getElementType();
  Shape output = state;
  if (op.getReturnSequences())
    output.insert(output.begin() + 1, input.getDimSize(1));
  return SmallVector<Type>{tensorOf(output, et), tensorOf(state, et),
                           tensorOf(state, et)};
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

LAYER_SHAPE_RULE(RnnGradOp) {
  for (Activation act : {op.getActivation(), op.getRecurrentActivation()})
    if (act == Activation::Softmax)
      return op.emitOpError("softmax is not an element-wise activation");
  int64_t numStates = op.getCell() == Cell::Lstm ? 2 : 1;
  if (static_cast<int64_t>(op.getResultGrads().size()) != 1 + numStates)
    return op.emitOpError()
           << "expects " << 1 + numStates << " result gradients, got "
           << op.getResultGrads().size();
  size_t numGrads = op.getBias() ? 4 : 3;
  if (op->getNumResults() != numGrads)
    return op.emitOpError()
           << "has " << numGrads << " results, got " << op->getNumResults();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  SmallVector<Type> results;
  for (size_t i = 0; i < numGrads; ++i)
    results.push_back((*types)[i]);
  return results;
}
