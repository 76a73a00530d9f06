//===- RecurrentBuilders.h - Steps and time loops of recurrent layers -*- C++
//-*-===//
//
// Shared by the forward lowering of SimpleRNN, LSTM, GRU and ConvLSTM
// (Recurrent.cpp) and their backpropagation through time
// (RecurrentGrad.cpp): a step's element-wise generic over gate slices, the
// LSTM cell, time slices and the scf.for over time.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_LAYERTOLINALG_RECURRENTBUILDERS_H
#define LAYERC_CODEGEN_LAYERTOLINALG_RECURRENTBUILDERS_H

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <functional>
#include <optional>

namespace layerc::codegen::rnn {

using namespace mlir;
using layerc::layer::Activation;

/// Collects the operands of a step's generic. A gate's columns
/// [k * units, (k + 1) * units) of a (batch, G * units) tensor are an
/// extract_slice (a view after bufferization), so every operand has the
/// loop shape (batch, units) or (units) and linalg derives the right loop
/// ranges whichever operands survive canonicalization.
class StepOperands {
public:
  /// Operands of loop shape (batch, ..., units): rank `rank`.
  StepOperands(OpBuilder &b, Location loc, int64_t units, int64_t rank = 2)
      : b_(b), loc_(loc), units_(units), rank_(rank) {}

  /// Gate `gate`'s slice [gate * units, ...) of the last axis of a
  /// (batch, ..., G * units) tensor.
  int gateOf(Value v, int64_t gate) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> offsets(rank_, b_.getIndexAttr(0)), sizes;
    for (int64_t d = 0; d + 1 < rank_; ++d)
      sizes.push_back(
          type.isDynamicDim(d)
              ? OpFoldResult(tensor::DimOp::create(b_, loc_, v, d).getResult())
              : OpFoldResult(b_.getIndexAttr(type.getDimSize(d))));
    offsets.back() = b_.getIndexAttr(gate * units_);
    sizes.push_back(b_.getIndexAttr(units_));
    Value slice = tensor::ExtractSliceOp::create(
        b_, loc_, v, offsets, sizes,
        SmallVector<OpFoldResult>(rank_, b_.getIndexAttr(1)));
    return add(slice, identity());
  }
  /// A tensor of the loop shape.
  int whole(Value v) { return add(v, identity()); }
  /// Gate `gate` of a bias: (G * units), or row `row` of (2, G * units),
  /// broadcast along every axis but the last.
  int biasOf(Value v, int64_t gate, std::optional<int64_t> row) {
    auto type = RankedTensorType::get(
        {units_}, cast<RankedTensorType>(v.getType()).getElementType());
    SmallVector<OpFoldResult> offsets, sizes, strides;
    if (row) {
      offsets.push_back(b_.getIndexAttr(*row));
      sizes.push_back(b_.getIndexAttr(1));
      strides.push_back(b_.getIndexAttr(1));
    }
    offsets.push_back(b_.getIndexAttr(gate * units_));
    sizes.push_back(b_.getIndexAttr(units_));
    strides.push_back(b_.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(b_, loc_, type, v, offsets,
                                                 sizes, strides);
    return add(slice, AffineMap::get(rank_, 0, {b_.getAffineDimExpr(rank_ - 1)},
                                     b_.getContext()));
  }

  SmallVector<Value> values;
  SmallVector<AffineMap> maps;

private:
  AffineMap identity() const {
    return AffineMap::getMultiDimIdentityMap(rank_, b_.getContext());
  }
  int add(Value v, AffineMap map) {
    values.push_back(v);
    maps.push_back(map);
    return static_cast<int>(values.size()) - 1;
  }
  OpBuilder &b_;
  Location loc_;
  int64_t units_, rank_;
};

/// lhs (rows, k) x rhs (k, n) on tensors, rows taken from `lhs`.
Value matmul(OpBuilder &b, Location loc, Value lhs, Value rhs);
/// z = x_t (+ bias) + h U for a gate, as a scalar in a step's body.
Value preActivation(OpBuilder &b, Location l, ValueRange a, int xIdx, int hIdx,
                    int biasIdx);
/// One LSTM step from the input and recurrent products `xt` and `hr`
/// (batch, ..., 4 units): returns (h, c).
SmallVector<Value> lstmGates(OpBuilder &b, Location l, Value xt, Value hr,
                             Value c, Value bias, int64_t units, Activation act,
                             Activation recAct);
/// A static size as an attribute, a dynamic one as `dynamic`.
OpFoldResult sizeOf(OpBuilder &b, RankedTensorType type, int64_t d,
                    Value dynamic);
/// The time slice t of a (batch, time, rest...) tensor, time dropped.
Value timeSlice(OpBuilder &b, Location l, Value v, Value t, Value batch);
/// Writes `step` (batch, rest...) at time t of `seq` (batch, time, rest...).
Value insertTimeSlice(OpBuilder &b, Location l, Value step, Value seq, Value t,
                      Value batch);
/// Runs `step(t, carried) -> next states` over the time axis of `x`
/// (backwards when asked), carrying `inits` and, with `sequenceType`, the
/// sequence of the first state. Returns the loop's results: the states,
/// then the sequence.
ValueRange
timeLoop(OpBuilder &b, Location loc, Value x, ValueRange inits, bool backwards,
         RankedTensorType sequenceType,
         const std::function<SmallVector<Value>(OpBuilder &, Location, Value,
                                                ValueRange)> &step);

} // namespace layerc::codegen::rnn

#endif // LAYERC_CODEGEN_LAYERTOLINALG_RECURRENTBUILDERS_H
