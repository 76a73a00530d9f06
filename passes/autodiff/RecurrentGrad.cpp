//===- RecurrentGrad.cpp - Gradient rules of the recurrent layers ---------===//
//
// layer.rnn's gradient is one layer.rnn_grad, which recomputes the forward
// pass and runs backpropagation through time in its lowering
// (codegen/LayerToLinalg/Recurrent.cpp): SimpleRNN, LSTM and GRU (with
// and without reset_after).
//
// layer.conv_lstm is differentiated through its decomposition: the rule
// rebuilds the forward pass unrolled over the (static) time steps from
// layer ops whose rules exist (slice, reshape, conv, add, activation,
// multiply, concatenate) and runs the reverse sweep over them, seeded with
// the gradients of the op's results. Backpropagation through time is then
// the composition of those rules, each of them FD-checked on its own.
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
        ValueRange(dys), op.getCell(), op.getActivation(),
        op.getRecurrentActivation(), op.getReturnSequences(),
        op.getGoBackwards(), op.getResetAfter());
    if (!g)
      return failure();
    for (auto [i, result] : llvm::enumerate(g.getGrads()))
      grads[i] = result;
    return success();
  }
};

/// Records the ops a builder creates.
struct Recorder : OpBuilder::Listener {
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    ops.push_back(op);
  }
  SmallVector<Operation *> ops;
};

/// A ConvLSTM unrolled into layer ops: the value of each result (output,
/// h, c) as the ops build them.
struct UnrolledConvLstm {
  Value output, h, c;
};

FailureOr<UnrolledConvLstm> unrollConvLstm(ConvLstmOp op, OpBuilder &b) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  auto inType = cast<RankedTensorType>(x.getType());
  Type et = inType.getElementType();
  int64_t steps = inType.getDimSize(1);
  if (ShapedType::isDynamic(steps))
    return op.emitOpError("the gradient needs a known number of time steps, "
                          "got ")
           << formatShape(inType);
  int64_t filters =
      cast<RankedTensorType>(op.getH().getType()).getShape().back();
  int64_t rank = inType.getRank() - 1; // of one step: (batch, spatial..., ch)
  SmallVector<int64_t> sample(inType.getShape().drop_front(2));
  SmallVector<int64_t> ones(rank - 2, 1);
  auto i64 = [](int64_t v) { return static_cast<uint64_t>(v); };
  auto activation = [&](Value v, Activation kind) -> Value {
    if (!v)
      return Value();
    auto a = createInferred<ActivationOp>(
        b, loc, et, 1, v, ActivationAttr::get(b.getContext(), kind));
    return a ? a.getResult() : Value();
  };
  auto binary = [&](auto tag, Value l, Value r) -> Value {
    using OpTy = decltype(tag);
    if (!l || !r)
      return Value();
    auto o = createInferred<OpTy>(b, loc, et, 1, l, r);
    return o ? o.getResult() : Value();
  };
  Value h, c;
  SmallVector<Value> sequence;
  for (int64_t s = 0; s < steps; ++s) {
    // With go_backwards the steps read the input from its end, and the
    // sequence output keeps the order of the steps (as Keras).
    int64_t t = op.getGoBackwards() ? steps - 1 - s : s;
    auto slice =
        createInferred<SliceOp>(b, loc, et, 1, x, i64(1), i64(t), i64(1));
    if (!slice)
      return failure();
    auto xt = createInferred<ReshapeOp>(b, loc, et, 1, slice.getResult(),
                                        ArrayRef<int64_t>(sample));
    if (!xt)
      return failure();
    auto zx = createInferred<ConvOp>(
        b, loc, et, 1, xt.getResult(), op.getKernel(), op.getBias(), Value(),
        op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr(),
        b.getI64IntegerAttr(1),
        ActivationAttr::get(b.getContext(), Activation::Linear));
    if (!zx)
      return failure();
    Value z = zx.getResult();
    if (h) { // from zero states the recurrent term is 0
      auto zh = createInferred<ConvOp>(
          b, loc, et, 1, h, op.getRecurrentKernel(), Value(), Value(),
          b.getDenseI64ArrayAttr(ones),
          PaddingAttr::get(b.getContext(), Padding::Same),
          b.getDenseI64ArrayAttr(ones), b.getI64IntegerAttr(1),
          ActivationAttr::get(b.getContext(), Activation::Linear));
      if (!zh)
        return failure();
      z = binary(AddOp(), z, zh.getResult());
      if (!z)
        return failure();
    }
    SmallVector<Value> gates;
    for (int64_t k = 0; k < 4; ++k) {
      auto g = createInferred<SliceOp>(b, loc, et, 1, z, i64(rank - 1),
                                       i64(k * filters), i64(filters));
      if (!g)
        return failure();
      gates.push_back(
          activation(g.getResult(), k == 2 ? op.getActivation()
                                           : op.getRecurrentActivation()));
    }
    // c = f c + i g, h = o act(c).
    Value ig = binary(MultiplyOp(), gates[0], gates[2]);
    c = c ? binary(AddOp(), binary(MultiplyOp(), gates[1], c), ig) : ig;
    h = binary(MultiplyOp(), gates[3], activation(c, op.getActivation()));
    if (!h)
      return failure();
    if (op.getReturnSequences()) {
      SmallVector<int64_t> one{1};
      llvm::append_range(
          one, cast<RankedTensorType>(h.getType()).getShape().drop_front());
      auto step =
          createInferred<ReshapeOp>(b, loc, et, 1, h, ArrayRef<int64_t>(one));
      if (!step)
        return failure();
      sequence.push_back(step.getResult());
    }
  }
  Value output = h;
  if (op.getReturnSequences() && sequence.size() > 1) {
    auto joined =
        createInferred<ConcatenateOp>(b, loc, et, 1, sequence, int64_t(1));
    if (!joined)
      return failure();
    output = joined.getResult();
  } else if (op.getReturnSequences()) {
    output = sequence.front();
  }
  return UnrolledConvLstm{output, h, c};
}

struct ConvLstmGrad {
  static LogicalResult build(ConvLstmOp op, OpBuilder &b, ArrayRef<Value> dys,
                             SmallVectorImpl<Value> &grads) {
    Recorder recorder;
    OpBuilder::Listener *previous = b.getListener();
    b.setListener(&recorder);
    FailureOr<UnrolledConvLstm> unrolled = unrollConvLstm(op, b);
    b.setListener(previous);
    if (failed(unrolled))
      return failure();
    DenseMap<Value, Value> seeds;
    auto seed = [&](Value v, Value g) -> LogicalResult {
      Value &slot = seeds[v];
      if (!slot) {
        slot = g;
        return success();
      }
      auto sum =
          createInferred<AddOp>(b, op.getLoc(), elementTypeOf(g), 1, slot, g);
      if (!sum)
        return failure();
      slot = sum.getResult();
      return success();
    };
    if (failed(seed(unrolled->output, dys[0])) ||
        failed(seed(unrolled->h, dys[1])) || failed(seed(unrolled->c, dys[2])))
      return failure();
    if (failed(propagateGradients(b, recorder.ops, seeds)))
      return failure();
    SmallVector<Value> operands{op.getInput(), op.getKernel(),
                                op.getRecurrentKernel()};
    if (op.getBias())
      operands.push_back(op.getBias());
    for (auto [i, operand] : llvm::enumerate(operands))
      grads[i] = seeds.lookup(operand);
    return success();
  }
};

} // namespace

void layerc::layer::registerRecurrentGradients(MLIRContext *ctx) {
  RnnOp::attachInterface<GradientModel<RnnGrad, RnnOp>>(*ctx);
  ConvLstmOp::attachInterface<GradientModel<ConvLstmGrad, ConvLstmOp>>(*ctx);
}
