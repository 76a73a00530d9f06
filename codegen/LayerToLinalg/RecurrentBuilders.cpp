//===- RecurrentBuilders.cpp - Steps and time loops of recurrent layers ---===//
//
// See RecurrentBuilders.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/RecurrentBuilders.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::codegen::rnn;
using namespace layerc::layer;

/// lhs (rows, k) x rhs (k, n) on tensors, rows taken from `lhs`.
Value rnn::matmul(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  auto lt = cast<RankedTensorType>(lhs.getType());
  auto rt = cast<RankedTensorType>(rhs.getType());
  auto type = RankedTensorType::get({lt.getDimSize(0), rt.getDimSize(1)},
                                    lt.getElementType());
  Value init = filledLike(b, loc, type, lhs, 0.0);
  return linalg::MatmulOp::create(b, loc, TypeRange{type}, ValueRange{lhs, rhs},
                                  ValueRange{init})
      .getResult(0);
}

/// z = x_t (+ bias) + h U for a gate, as a scalar in a step's body.
Value rnn::preActivation(OpBuilder &b, Location l, ValueRange a, int xIdx,
                         int hIdx, int biasIdx) {
  Value z = a[xIdx];
  if (biasIdx >= 0)
    z = arith::AddFOp::create(b, l, z, a[biasIdx]);
  return arith::AddFOp::create(b, l, z, a[hIdx]);
}

/// One LSTM step from the input and recurrent products `xt` and `hr`
/// (batch, ..., 4 units): returns (h, c).
SmallVector<Value> rnn::lstmGates(OpBuilder &b, Location l, Value xt, Value hr,
                                  Value c, Value bias, int64_t units,
                                  Activation act, Activation recAct) {
  auto type = cast<RankedTensorType>(c.getType());
  StepOperands ops(b, l, units, type.getRank());
  int ci = ops.whole(c);
  int xi[4], hi[4], bi[4];
  for (int k = 0; k < 4; ++k) {
    xi[k] = ops.gateOf(xt, k);
    hi[k] = ops.gateOf(hr, k);
    bi[k] = bias ? ops.biasOf(bias, k, std::nullopt) : -1;
  }
  return elementwise(
      b, l, {type, type}, ops.values, c,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        auto gate = [&](int k, Activation f) {
          return activationScalar(
              nb, nl, f, preActivation(nb, nl, a, xi[k], hi[k], bi[k]));
        };
        Value i = gate(0, recAct), f = gate(1, recAct), g = gate(2, act),
              o = gate(3, recAct);
        Value cNew = arith::AddFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, f, a[ci]),
            arith::MulFOp::create(nb, nl, i, g));
        Value hNew = arith::MulFOp::create(nb, nl, o,
                                           activationScalar(nb, nl, act, cNew));
        return {hNew, cNew};
      },
      ops.maps);
}

/// A static size as an attribute, a dynamic one as `dynamic`.
OpFoldResult rnn::sizeOf(OpBuilder &b, RankedTensorType type, int64_t d,
                         Value dynamic) {
  if (type.isDynamicDim(d))
    return dynamic;
  return b.getIndexAttr(type.getDimSize(d));
}

/// The time slice t of a (batch, time, rest...) tensor, time dropped.
Value rnn::timeSlice(OpBuilder &b, Location l, Value v, Value t, Value batch) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape{type.getDimSize(0)};
  llvm::append_range(shape, type.getShape().drop_front(2));
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
      sizes{sizeOf(b, type, 0, batch), b.getIndexAttr(1)};
  offsets[1] = t;
  for (int64_t d = 2; d < rank; ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  return tensor::ExtractSliceOp::create(
      b, l, RankedTensorType::get(shape, type.getElementType()), v, offsets,
      sizes, SmallVector<OpFoldResult>(rank, b.getIndexAttr(1)));
}

/// Writes `step` (batch, rest...) at time t of `seq` (batch, time, rest...).
Value rnn::insertTimeSlice(OpBuilder &b, Location l, Value step, Value seq,
                           Value t, Value batch) {
  auto type = cast<RankedTensorType>(seq.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
      sizes{sizeOf(b, type, 0, batch), b.getIndexAttr(1)};
  offsets[1] = t;
  for (int64_t d = 2; d < rank; ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  return tensor::InsertSliceOp::create(
      b, l, step, seq, offsets, sizes,
      SmallVector<OpFoldResult>(rank, b.getIndexAttr(1)));
}

/// Runs `step(t, carried) -> next states` over the time axis of `x`
/// (backwards when asked), carrying `inits` and, with `sequenceType`, the
/// sequence of the first state. Returns the loop's results: the states,
/// then the sequence.
ValueRange rnn::timeLoop(OpBuilder &b, Location loc, Value x, ValueRange inits,
                         bool backwards, RankedTensorType sequenceType,
                         const std::function<SmallVector<Value>(
                             OpBuilder &, Location, Value, ValueRange)> &step) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  Value time = tensor::DimOp::create(b, loc, x, 1);
  SmallVector<Value> all(inits);
  if (sequenceType)
    all.push_back(emptyLike(b, loc, sequenceType, x));
  auto loop = scf::ForOp::create(
      b, loc, zero, time, one, all,
      [&](OpBuilder &nb, Location l, Value t, ValueRange carried) {
        Value at = t;
        if (backwards)
          at = arith::SubIOp::create(
              nb, l, arith::SubIOp::create(nb, l, time, one), t);
        SmallVector<Value> next =
            step(nb, l, at, carried.take_front(inits.size()));
        if (sequenceType)
          next.push_back(
              insertTimeSlice(nb, l, next[0], carried.back(), t, batch));
        scf::YieldOp::create(nb, l, next);
      });
  return loop.getResults();
}
