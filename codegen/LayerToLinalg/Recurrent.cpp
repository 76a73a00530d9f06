//===- Recurrent.cpp - Lowering of SimpleRNN, LSTM and GRU ----------------===//
//
// layer.rnn becomes:
//   1. the input projection of every step at once: one generic
//      contraction of (batch, time, features) by the kernel;
//   2. an scf.for over time whose iter_args carry the states (and the
//      sequence output), each step a linalg.matmul of h by the recurrent
//      kernel and one element-wise generic for the cell's gates. A gate k
//      reads its columns [k * units, (k + 1) * units) as an extract_slice,
//      a view once bufferized.
// A GRU without reset_after needs r before its recurrent product, so its
// step is generic (z, r * h), matmul by the h-columns, generic (h).
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

/// lhs (rows, k) x rhs (k, n) on tensors, rows taken from `lhs`.
Value matmul(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  auto lt = cast<RankedTensorType>(lhs.getType());
  auto rt = cast<RankedTensorType>(rhs.getType());
  auto type = RankedTensorType::get({lt.getDimSize(0), rt.getDimSize(1)},
                                    lt.getElementType());
  Value init = filledLike(b, loc, type, lhs, 0.0);
  return linalg::MatmulOp::create(b, loc, TypeRange{type}, ValueRange{lhs, rhs},
                                  ValueRange{init})
      .getResult(0);
}

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

/// z = x_t (+ bias) + h U for a gate, as a scalar in a step's body.
Value preActivation(OpBuilder &b, Location l, ValueRange a, int xIdx, int hIdx,
                    int biasIdx) {
  Value z = a[xIdx];
  if (biasIdx >= 0)
    z = arith::AddFOp::create(b, l, z, a[biasIdx]);
  return arith::AddFOp::create(b, l, z, a[hIdx]);
}

/// One LSTM step from the input and recurrent products `xt` and `hr`
/// (batch, ..., 4 units): returns (h, c).
SmallVector<Value> lstmGates(OpBuilder &b, Location l, Value xt, Value hr,
                             Value c, Value bias, int64_t units, Activation act,
                             Activation recAct) {
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
OpFoldResult sizeOf(OpBuilder &b, RankedTensorType type, int64_t d,
                    Value dynamic) {
  if (type.isDynamicDim(d))
    return dynamic;
  return b.getIndexAttr(type.getDimSize(d));
}

/// The time slice t of a (batch, time, rest...) tensor, time dropped.
Value timeSlice(OpBuilder &b, Location l, Value v, Value t, Value batch) {
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
Value insertTimeSlice(OpBuilder &b, Location l, Value step, Value seq, Value t,
                      Value batch) {
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
ValueRange
timeLoop(OpBuilder &b, Location loc, Value x, ValueRange inits, bool backwards,
         RankedTensorType sequenceType,
         const std::function<SmallVector<Value>(OpBuilder &, Location, Value,
                                                ValueRange)> &step) {
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

struct RnnLowering : OpConversionPattern<RnnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RnnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto rkType =
        dyn_cast<RankedTensorType>(adaptor.getRecurrentKernel().getType());
    auto outType = dyn_cast<RankedTensorType>(op.getOutput().getType());
    if (!inType || !rkType || !rkType.hasStaticShape() || !outType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Type et = inType.getElementType();
    int64_t units = rkType.getDimSize(0);
    StringRef cell = op.getCell();
    bool lstm = cell == "lstm", gru = cell == "gru";
    bool resetAfter = op.getResetAfter();
    Activation act = *parseActivation(op.getActivation());
    Activation recAct = *parseActivation(op.getRecurrentActivation());
    Value x = adaptor.getInput(), rk = adaptor.getRecurrentKernel(),
          bias = adaptor.getBias();

    // 1. Every step's input projection at once: (batch, time, features) x
    // kernel, one generic contraction.
    Value proj = contractLastAxis(rewriter, loc, x, adaptor.getKernel());

    // 2. The loop over time.
    auto stateType = RankedTensorType::get({inType.getDimSize(0), units}, et);
    SmallVector<Value> inits{filledLike(rewriter, loc, stateType, x, 0.0)};
    if (lstm)
      inits.push_back(filledLike(rewriter, loc, stateType, x, 0.0));
    bool sequences = op.getReturnSequences();
    Value batch = tensor::DimOp::create(rewriter, loc, x, 0);
    ValueRange results =
        timeLoop(rewriter, loc, x, inits, op.getGoBackwards(),
                 sequences ? outType : RankedTensorType(),
                 [&](OpBuilder &b, Location l, Value t,
                     ValueRange carried) -> SmallVector<Value> {
                   Value xt = timeSlice(b, l, proj, t, batch);
                   Value h = carried[0];
                   Value hr = matmul(b, l, h, rk);
                   if (lstm)
                     return lstmGates(b, l, xt, hr, carried[1], bias, units,
                                      act, recAct);
                   if (gru)
                     return gruStep(b, l, xt, hr, h, rk, bias, units,
                                    resetAfter, act, recAct);
                   return simpleStep(b, l, xt, hr, h, bias, units, act);
                 });
    SmallVector<Value> replacements{sequences ? results.back() : results[0]};
    replacements.push_back(results[0]);
    if (lstm)
      replacements.push_back(results[1]);
    rewriter.replaceOp(op, replacements);
    return success();
  }

  static SmallVector<Value> simpleStep(OpBuilder &b, Location l, Value xt,
                                       Value hr, Value h, Value bias,
                                       int64_t units, Activation act) {
    StepOperands ops(b, l, units);
    int xi = ops.gateOf(xt, 0), hi = ops.gateOf(hr, 0);
    int bi = bias ? ops.biasOf(bias, 0, std::nullopt) : -1;
    auto type = cast<RankedTensorType>(h.getType());
    return elementwise(
        b, l, {type}, ops.values, h,
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          return {activationScalar(nb, nl, act,
                                   preActivation(nb, nl, a, xi, hi, bi))};
        },
        ops.maps);
  }

  static SmallVector<Value> gruStep(OpBuilder &b, Location l, Value xt,
                                    Value hr, Value h, Value rk, Value bias,
                                    int64_t units, bool resetAfter,
                                    Activation act, Activation recAct) {
    auto type = cast<RankedTensorType>(h.getType());
    Type et = type.getElementType();
    StepOperands ops(b, l, units);
    int xi[3], hi[3], bi[3], ri[3];
    for (int k = 0; k < 3; ++k) {
      xi[k] = ops.gateOf(xt, k);
      hi[k] = ops.gateOf(hr, k);
      bi[k] = bias ? ops.biasOf(bias, k,
                                resetAfter ? std::optional<int64_t>(0)
                                           : std::nullopt)
                   : -1;
      ri[k] = bias && resetAfter ? ops.biasOf(bias, k, 1) : -1;
    }
    int hPrev = ops.whole(h);
    auto gateZR = [&](OpBuilder &nb, Location nl, ValueRange a, int k) {
      Value z = preActivation(nb, nl, a, xi[k], hi[k], bi[k]);
      if (ri[k] >= 0)
        z = arith::AddFOp::create(nb, nl, z, a[ri[k]]);
      return activationScalar(nb, nl, recAct, z);
    };
    auto blend = [&](OpBuilder &nb, Location nl, Value z, Value hOld,
                     Value hh) -> Value {
      // z h + (1 - z) hh
      Value oneMinus =
          arith::SubFOp::create(nb, nl, floatConst(nb, nl, et, 1.0), z);
      return arith::AddFOp::create(nb, nl,
                                   arith::MulFOp::create(nb, nl, z, hOld),
                                   arith::MulFOp::create(nb, nl, oneMinus, hh));
    };
    if (resetAfter) {
      return elementwise(
          b, l, {type}, ops.values, h,
          [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
            Value z = gateZR(nb, nl, a, 0), r = gateZR(nb, nl, a, 1);
            Value rec = a[hi[2]];
            if (ri[2] >= 0)
              rec = arith::AddFOp::create(nb, nl, rec, a[ri[2]]);
            Value pre = a[xi[2]];
            if (bi[2] >= 0)
              pre = arith::AddFOp::create(nb, nl, pre, a[bi[2]]);
            pre = arith::AddFOp::create(nb, nl, pre,
                                        arith::MulFOp::create(nb, nl, r, rec));
            Value hh = activationScalar(nb, nl, act, pre);
            return {blend(nb, nl, z, a[hPrev], hh)};
          },
          ops.maps);
    }
    // reset_after=False: hh = act(x_h + b_h + (r * h) U_h).
    SmallVector<Value> zr = elementwise(
        b, l, {type, type}, ops.values, h,
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          Value z = gateZR(nb, nl, a, 0), r = gateZR(nb, nl, a, 1);
          return {z, arith::MulFOp::create(nb, nl, r, a[hPrev])};
        },
        ops.maps);
    Value rkH = tensor::ExtractSliceOp::create(
        b, l, rk,
        SmallVector<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(2 * units)},
        SmallVector<OpFoldResult>{b.getIndexAttr(units), b.getIndexAttr(units)},
        SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
    Value m = matmul(b, l, zr[1], rkH);
    StepOperands last(b, l, units);
    int x2 = last.gateOf(xt, 2),
        b2 = bias ? last.biasOf(bias, 2, std::nullopt) : -1;
    int zi = last.whole(zr[0]), mi = last.whole(m), hi2 = last.whole(h);
    return elementwise(
        b, l, {type}, last.values, h,
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          Value hh = activationScalar(nb, nl, act,
                                      preActivation(nb, nl, a, x2, mi, b2));
          return {blend(nb, nl, a[zi], a[hi2], hh)};
        },
        last.maps);
  }
};

/// layer.conv_lstm: the same loop with convolutions for the products (the
/// input one per step: folding time into the batch would need an
/// expand_shape with two dynamic sizes, which MLIR 22 miscompiles).
struct ConvLstmLowering : OpConversionPattern<ConvLstmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvLstmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto kType = dyn_cast<RankedTensorType>(adaptor.getKernel().getType());
    auto rkType =
        dyn_cast<RankedTensorType>(adaptor.getRecurrentKernel().getType());
    auto outType = dyn_cast<RankedTensorType>(op.getOutput().getType());
    auto stateType = dyn_cast<RankedTensorType>(op.getH().getType());
    if (!inType || !kType || !rkType || !outType || !stateType ||
        !kType.hasStaticShape() || !rkType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Type et = inType.getElementType();
    int64_t rank = inType.getRank(), n = rank - 3;
    int64_t filters = stateType.getShape().back();
    Activation act = *parseActivation(op.getActivation());
    Activation recAct = *parseActivation(op.getRecurrentActivation());
    Value x = adaptor.getInput(), rk = adaptor.getRecurrentKernel(),
          bias = adaptor.getBias();

    SmallVector<int64_t> gatesShape(stateType.getShape());
    gatesShape.back() = 4 * filters;

    // 2. The loop; the recurrent convolution is "same" with stride 1.
    SmallVector<Value> inits{filledLike(rewriter, loc, stateType, x, 0.0),
                             filledLike(rewriter, loc, stateType, x, 0.0)};
    bool sequences = op.getReturnSequences();
    Value batch = tensor::DimOp::create(rewriter, loc, x, 0);
    SmallVector<int64_t> ones(n, 1);
    auto hrType = RankedTensorType::get(gatesShape, et);
    ValueRange results =
        timeLoop(rewriter, loc, x, inits, op.getGoBackwards(),
                 sequences ? outType : RankedTensorType(),
                 [&](OpBuilder &b, Location l, Value t,
                     ValueRange carried) -> SmallVector<Value> {
                   Value xt = convolve(b, l, timeSlice(b, l, x, t, batch),
                                       adaptor.getKernel(), op.getStrides(),
                                       op.getDilations(),
                                       op.getPadding() == "same", 1, hrType);
                   Value hr = convolve(b, l, carried[0], rk, ones, ones,
                                       /*same=*/true, 1, hrType);
                   return lstmGates(b, l, xt, hr, carried[1], bias, filters,
                                    act, recAct);
                 });
    rewriter.replaceOp(
        op, {sequences ? results.back() : results[0], results[0], results[1]});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Backpropagation through time
//===----------------------------------------------------------------------===//

/// out(d0, d2) = sum over d1 of a[aMap] * c[cMap]: the two-operand
/// contractions of the backward pass, `init` their zero start.
Value contract(OpBuilder &b, Location l, Value a, Value c, Value init,
               ArrayRef<AffineExpr> aExprs, ArrayRef<AffineExpr> cExprs) {
  MLIRContext *ctx = b.getContext();
  AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(2, ctx);
  return linalg::GenericOp::create(
             b, l, TypeRange{init.getType()}, ValueRange{a, c},
             ValueRange{init},
             SmallVector<AffineMap>{AffineMap::get(3, 0, aExprs, ctx),
                                    AffineMap::get(3, 0, cExprs, ctx),
                                    AffineMap::get(3, 0, {i, j}, ctx)},
             SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                              utils::IteratorType::reduction,
                                              utils::IteratorType::parallel},
             [](OpBuilder &nb, Location nl, ValueRange v) {
               Value prod = arith::MulFOp::create(nb, nl, v[0], v[1]);
               linalg::YieldOp::create(
                   nb, nl,
                   ValueRange{arith::AddFOp::create(nb, nl, v[2], prod)});
             })
      .getResult(0);
}

/// a^T c for a (rows, m) and c (rows, n): (m, n), the rows reduced.
Value matmulTN(OpBuilder &b, Location l, Value a, Value c) {
  auto at = cast<RankedTensorType>(a.getType());
  auto ct = cast<RankedTensorType>(c.getType());
  auto type = RankedTensorType::get({at.getDimSize(1), ct.getDimSize(1)},
                                    at.getElementType());
  Value init = splatConstant(b, l, type, 0.0);
  MLIRContext *ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), r = getAffineDimExpr(1, ctx),
             n = getAffineDimExpr(2, ctx);
  return contract(b, l, a, c, init, {r, m}, {r, n});
}

/// a w^T for a (rows, n) and w (m, n): (rows, m), n reduced.
Value matmulNT(OpBuilder &b, Location l, Value a, Value w) {
  auto at = cast<RankedTensorType>(a.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  auto type = RankedTensorType::get({at.getDimSize(0), wt.getDimSize(0)},
                                    at.getElementType());
  Value init = filledLike(b, l, type, a, 0.0);
  MLIRContext *ctx = b.getContext();
  AffineExpr r = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             m = getAffineDimExpr(2, ctx);
  return contract(b, l, a, w, init, {r, n}, {m, n});
}

Value addTensors(OpBuilder &b, Location l, Value x, Value y) {
  return elementwise(
      b, l, {cast<RankedTensorType>(x.getType())}, ValueRange{x, y}, x,
      [](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        return {arith::AddFOp::create(nb, nl, a[0], a[1])};
      })[0];
}

/// A (time, batch, width) buffer of per-step values, time-major.
struct StepBuffer {
  Value buffer;
  int64_t width;

  static StepBuffer create(OpBuilder &b, Location l, Value steps, Value batch,
                           int64_t batchSize, int64_t width, Type et) {
    SmallVector<Value> dynamic{steps};
    if (ShapedType::isDynamic(batchSize))
      dynamic.push_back(batch);
    auto type =
        RankedTensorType::get({ShapedType::kDynamic, batchSize, width}, et);
    return {tensor::EmptyOp::create(b, l, type, dynamic), width};
  }
  SmallVector<OpFoldResult> sizes(OpBuilder &b, Value batch) const {
    auto type = cast<RankedTensorType>(buffer.getType());
    return {b.getIndexAttr(1), sizeOf(b, type, 1, batch),
            b.getIndexAttr(width)};
  }
  Value at(OpBuilder &b, Location l, Value t, Value batch) const {
    auto type = cast<RankedTensorType>(buffer.getType());
    return tensor::ExtractSliceOp::create(
        b, l,
        RankedTensorType::get({type.getDimSize(1), width},
                              type.getElementType()),
        buffer,
        SmallVector<OpFoldResult>{t, b.getIndexAttr(0), b.getIndexAttr(0)},
        sizes(b, batch), SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
  }
  static Value put(OpBuilder &b, Location l, Value buffer, Value step, Value t,
                   Value batch, int64_t width) {
    StepBuffer sb{buffer, width};
    return tensor::InsertSliceOp::create(
        b, l, step, buffer,
        SmallVector<OpFoldResult>{t, b.getIndexAttr(0), b.getIndexAttr(0)},
        sb.sizes(b, batch), SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
  }
};

/// What both backpropagation-through-time patterns read off a
/// layer.rnn_grad: its operands, attributes, the loop bounds and types.
struct Bptt {
  Bptt(RnnGradOp op, RnnGradOp::Adaptor adaptor, OpBuilder &b)
      : loc(op.getLoc()), x(adaptor.getInput()), w(adaptor.getKernel()),
        rk(adaptor.getRecurrentKernel()), bias(adaptor.getBias()),
        resultGrads(adaptor.getResultGrads()) {
    auto inType = cast<RankedTensorType>(x.getType());
    auto rkType = cast<RankedTensorType>(rk.getType());
    this->inType = inType;
    et = inType.getElementType();
    units = rkType.getDimSize(0);
    gu = rkType.getDimSize(1);
    features = inType.getDimSize(2);
    batchSize = inType.getDimSize(0);
    sequences = op.getReturnSequences();
    backwards = op.getGoBackwards();
    act = *parseActivation(op.getActivation());
    recAct = *parseActivation(op.getRecurrentActivation());
    c0 = arith::ConstantIndexOp::create(b, loc, 0);
    c1 = arith::ConstantIndexOp::create(b, loc, 1);
    batch = tensor::DimOp::create(b, loc, x, 0);
    time = tensor::DimOp::create(b, loc, x, 1);
    timePlus1 = arith::AddIOp::create(b, loc, time, c1);
    stateType = RankedTensorType::get({batchSize, units}, et);
    gatesType = RankedTensorType::get({batchSize, gu}, et);
  }

  /// The time index of processing step p (reversed with go_backwards).
  Value timeIndex(OpBuilder &b, Location l, Value p) const {
    if (!backwards)
      return p;
    return arith::SubIOp::create(b, l, arith::SubIOp::create(b, l, time, c1),
                                 p);
  }
  /// The gradient reaching the last h: its own, plus the output's when
  /// the output is the last h.
  Value initialDh(OpBuilder &b) const {
    Value dh = resultGrads[1];
    return sequences ? dh : addTensors(b, loc, dh, resultGrads[0]);
  }

  Location loc;
  Value x, w, rk, bias;
  ValueRange resultGrads;
  RankedTensorType inType, stateType, gatesType;
  Type et;
  int64_t units, gu, features, batchSize;
  bool sequences, backwards;
  Activation act, recAct;
  Value c0, c1, batch, time, timePlus1;
};

struct RnnGradLowering : OpConversionPattern<RnnGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RnnGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto rkType =
        dyn_cast<RankedTensorType>(adaptor.getRecurrentKernel().getType());
    if (!inType || !rkType || !rkType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    StringRef cell = op.getCell();
    if (cell == "gru")
      return rewriter.notifyMatchFailure(op, "GRUs have their own pattern");
    Bptt t(op, adaptor, rewriter);
    Location loc = t.loc;
    Type et = t.et;
    int64_t units = t.units, gu = t.gu, features = t.features,
            batchSize = t.batchSize;
    bool lstm = cell == "lstm", sequences = t.sequences;
    Activation act = t.act, recAct = t.recAct;
    Value x = t.x, w = t.w, rk = t.rk, bias = t.bias;
    ValueRange resultGrads = t.resultGrads;
    Value c0 = t.c0, c1 = t.c1, batch = t.batch, time = t.time,
          timePlus1 = t.timePlus1;
    RankedTensorType stateType = t.stateType, gatesType = t.gatesType;
    auto timeIndex = [&](OpBuilder &b, Location l, Value p) {
      return t.timeIndex(b, l, p);
    };

    // 1. The forward pass again, keeping z (pre-activations), h and c.
    Value proj = contractLastAxis(rewriter, loc, x, w);
    Value zeros = filledLike(rewriter, loc, stateType, x, 0.0);
    StepBuffer zs =
        StepBuffer::create(rewriter, loc, time, batch, batchSize, gu, et);
    StepBuffer hs = StepBuffer::create(rewriter, loc, timePlus1, batch,
                                       batchSize, units, et);
    StepBuffer cs = StepBuffer::create(rewriter, loc, timePlus1, batch,
                                       batchSize, units, et);
    Value hsInit =
        StepBuffer::put(rewriter, loc, hs.buffer, zeros, c0, batch, units);
    Value csInit =
        StepBuffer::put(rewriter, loc, cs.buffer, zeros, c0, batch, units);
    auto forward = scf::ForOp::create(
        rewriter, loc, c0, time, c1,
        ValueRange{zeros, zeros, zs.buffer, hsInit, csInit},
        [&](OpBuilder &b, Location l, Value p, ValueRange carried) {
          Value xt = timeSlice(b, l, proj, timeIndex(b, l, p), batch);
          Value hr = matmul(b, l, carried[0], rk);
          StepOperands ops(b, l, gu);
          int xi = ops.whole(xt), hi = ops.whole(hr);
          int bi = bias ? ops.biasOf(bias, 0, std::nullopt) : -1;
          Value z = elementwise(
              b, l, {gatesType}, ops.values, xt,
              [&](OpBuilder &nb, Location nl,
                  ValueRange a) -> SmallVector<Value> {
                return {preActivation(nb, nl, a, xi, hi, bi)};
              },
              ops.maps)[0];
          SmallVector<Value> next;
          if (lstm) {
            next = lstmGates(b, l, z, filledLike(b, l, gatesType, z, 0.0),
                             carried[1], Value(), units, act, recAct);
          } else {
            next = elementwise(b, l, {stateType}, ValueRange{z}, z,
                               [&](OpBuilder &nb, Location nl,
                                   ValueRange a) -> SmallVector<Value> {
                                 return {activationScalar(nb, nl, act, a[0])};
                               });
            next.push_back(carried[1]);
          }
          Value pNext = arith::AddIOp::create(b, l, p, c1);
          scf::YieldOp::create(
              b, l,
              ValueRange{next[0], next[1],
                         StepBuffer::put(b, l, carried[2], z, p, batch, gu),
                         StepBuffer::put(b, l, carried[3], next[0], pNext,
                                         batch, units),
                         StepBuffer::put(b, l, carried[4], next[1], pNext,
                                         batch, units)});
        });
    StepBuffer zAll{forward.getResult(2), gu},
        hAll{forward.getResult(3), units}, cAll{forward.getResult(4), units};

    // 2. The reverse loop.
    Value dh = t.initialDh(rewriter);
    Value dc = lstm ? resultGrads[2] : zeros;
    auto zerosOf = [&](RankedTensorType type) {
      return splatConstant(rewriter, loc, type, 0.0);
    };
    Value dW = zerosOf(RankedTensorType::get({features, gu}, et));
    Value dU = zerosOf(RankedTensorType::get({units, gu}, et));
    Value dB = zerosOf(RankedTensorType::get({gu}, et));
    Value dX = filledLike(rewriter, loc, inType, x, 0.0);
    auto backward = scf::ForOp::create(
        rewriter, loc, c0, time, c1, ValueRange{dh, dc, dW, dU, dB, dX},
        [&](OpBuilder &b, Location l, Value k, ValueRange carried) {
          Value p = arith::SubIOp::create(
              b, l, arith::SubIOp::create(b, l, time, c1), k);
          Value pNext = arith::AddIOp::create(b, l, p, c1);
          Value dhp = carried[0];
          if (sequences)
            dhp = addTensors(b, l, dhp,
                             timeSlice(b, l, resultGrads[0], p, batch));
          Value z = zAll.at(b, l, p, batch);
          Value dz, dcPrev = carried[1];
          if (lstm) {
            StepOperands ops(b, l, units);
            int dhi = ops.whole(dhp), dci = ops.whole(carried[1]);
            int zi[4];
            for (int g = 0; g < 4; ++g)
              zi[g] = ops.gateOf(z, g);
            int cpi = ops.whole(cAll.at(b, l, p, batch));
            int ci = ops.whole(cAll.at(b, l, pNext, batch));
            SmallVector<Value> parts = elementwise(
                b, l, {stateType, stateType, stateType, stateType, stateType},
                ops.values, dhp,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  auto mul = [&](Value u, Value v) -> Value {
                    return arith::MulFOp::create(nb, nl, u, v);
                  };
                  Value i = activationScalar(nb, nl, recAct, a[zi[0]]);
                  Value f = activationScalar(nb, nl, recAct, a[zi[1]]);
                  Value g = activationScalar(nb, nl, act, a[zi[2]]);
                  Value o = activationScalar(nb, nl, recAct, a[zi[3]]);
                  Value ac = activationScalar(nb, nl, act, a[ci]);
                  Value dct = arith::AddFOp::create(
                      nb, nl, a[dci],
                      activationGradScalar(nb, nl, act, mul(a[dhi], o), a[ci],
                                           ac));
                  return {activationGradScalar(nb, nl, recAct, mul(dct, g),
                                               a[zi[0]], i),
                          activationGradScalar(nb, nl, recAct, mul(dct, a[cpi]),
                                               a[zi[1]], f),
                          activationGradScalar(nb, nl, act, mul(dct, i),
                                               a[zi[2]], g),
                          activationGradScalar(nb, nl, recAct, mul(a[dhi], ac),
                                               a[zi[3]], o),
                          mul(dct, f)};
                },
                ops.maps);
            dz = emptyLike(b, l, gatesType, dhp);
            for (int g = 0; g < 4; ++g)
              dz = tensor::InsertSliceOp::create(
                  b, l, parts[g], dz,
                  SmallVector<OpFoldResult>{b.getIndexAttr(0),
                                            b.getIndexAttr(g * units)},
                  SmallVector<OpFoldResult>{sizeOf(b, gatesType, 0, batch),
                                            b.getIndexAttr(units)},
                  SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
            dcPrev = parts[4];
          } else {
            Value h = hAll.at(b, l, pNext, batch);
            dz = elementwise(
                b, l, {gatesType}, ValueRange{dhp, z, h}, dhp,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  return {activationGradScalar(nb, nl, act, a[0], a[1], a[2])};
                })[0];
          }
          Value tt = timeIndex(b, l, p);
          Value xt = timeSlice(b, l, x, tt, batch);
          Value hPrev = hAll.at(b, l, p, batch);
          Value newDW = addTensors(b, l, carried[2], matmulTN(b, l, xt, dz));
          Value newDU = addTensors(b, l, carried[3], matmulTN(b, l, hPrev, dz));
          Value newDB = addTensors(
              b, l, carried[4],
              reduceAxis(b, l, dz, 0, 0.0,
                         [](OpBuilder &nb, Location nl, Value acc, Value v) {
                           return arith::AddFOp::create(nb, nl, acc, v);
                         }));
          Value newDX = insertTimeSlice(b, l, matmulNT(b, l, dz, w), carried[5],
                                        tt, batch);
          scf::YieldOp::create(b, l,
                               ValueRange{matmulNT(b, l, dz, rk), dcPrev, newDW,
                                          newDU, newDB, newDX});
        });
    SmallVector<Value> grads{backward.getResult(5), backward.getResult(2),
                             backward.getResult(3)};
    if (bias)
      grads.push_back(backward.getResult(4));
    rewriter.replaceOp(op, grads);
    return success();
  }
};

/// BPTT of a GRU. The forward pass keeps, per step, the input projection
/// with its bias (xp, 3 units) and the recurrent part (rp, 3 units): with
/// reset_after, h U + the recurrent bias; without, [h U_z, h U_r,
/// (r * h) U_h]. From them the gates are recomputed in the reverse loop:
///   z = ra(xp_z + rp_z), r = ra(xp_r + rp_r),
///   n = act(xp_n + r * rp_n)   (reset_after)   or act(xp_n + rp_n),
///   h = z * h_prev + (1 - z) * n.
struct GruGradLowering : OpConversionPattern<RnnGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RnnGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto rkType =
        dyn_cast<RankedTensorType>(adaptor.getRecurrentKernel().getType());
    if (op.getCell() != "gru")
      return rewriter.notifyMatchFailure(op, "not a GRU");
    if (!inType || !rkType || !rkType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Bptt t(op, adaptor, rewriter);
    Location loc = t.loc;
    Type et = t.et;
    int64_t u = t.units, gu = t.gu, features = t.features,
            batchSize = t.batchSize;
    bool sequences = t.sequences, resetAfter = op.getResetAfter();
    Activation act = t.act, recAct = t.recAct;
    Value x = t.x, w = t.w, rk = t.rk, bias = t.bias;
    ValueRange resultGrads = t.resultGrads;
    Value c0 = t.c0, c1 = t.c1, batch = t.batch, time = t.time,
          timePlus1 = t.timePlus1;
    RankedTensorType stateType = t.stateType, gatesType = t.gatesType;
    auto timeIndex = [&](OpBuilder &b, Location l, Value p) {
      return t.timeIndex(b, l, p);
    };
    // Column ranges of the recurrent kernel.
    auto columns = [&](OpBuilder &b, Location l, Value m, int64_t from,
                       int64_t count) -> Value {
      auto type = cast<RankedTensorType>(m.getType());
      return tensor::ExtractSliceOp::create(
          b, l, m,
          SmallVector<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(from)},
          SmallVector<OpFoldResult>{sizeOf(b, type, 0, batch),
                                    b.getIndexAttr(count)},
          SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
    };
    auto joinColumns = [&](OpBuilder &b, Location l,
                           ArrayRef<Value> parts) -> Value {
      auto first = cast<RankedTensorType>(parts[0].getType());
      int64_t width = 0;
      for (Value v : parts)
        width += cast<RankedTensorType>(v.getType()).getDimSize(1);
      Value out = emptyLike(
          b, l, RankedTensorType::get({first.getDimSize(0), width}, et),
          parts[0]);
      int64_t at = 0;
      for (Value v : parts) {
        int64_t n = cast<RankedTensorType>(v.getType()).getDimSize(1);
        out = tensor::InsertSliceOp::create(
            b, l, v, out,
            SmallVector<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(at)},
            SmallVector<OpFoldResult>{sizeOf(b, first, 0, batch),
                                      b.getIndexAttr(n)},
            SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
        at += n;
      }
      return out;
    };
    auto biasRow = [&](OpBuilder &b, Location l, int64_t row) -> Value {
      auto vec = RankedTensorType::get({gu}, et);
      if (!resetAfter)
        return row == 0 ? bias : Value();
      return tensor::ExtractSliceOp::create(
          b, l, vec, bias,
          SmallVector<OpFoldResult>{b.getIndexAttr(row), b.getIndexAttr(0)},
          SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(gu)},
          SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
    };
    auto plusBias = [&](OpBuilder &b, Location l, Value m, Value vec) {
      if (!vec)
        return m;
      return elementwise(
          b, l, {cast<RankedTensorType>(m.getType())}, ValueRange{m, vec}, m,
          [](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
            return {arith::AddFOp::create(nb, nl, a[0], a[1])};
          },
          {b.getMultiDimIdentityMap(2),
           AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, b.getContext())})[0];
    };

    // 1. Forward: keep xp, rp and h.
    Value proj = contractLastAxis(rewriter, loc, x, w);
    Value zeros = filledLike(rewriter, loc, stateType, x, 0.0);
    StepBuffer xps =
        StepBuffer::create(rewriter, loc, time, batch, batchSize, gu, et);
    StepBuffer rps =
        StepBuffer::create(rewriter, loc, time, batch, batchSize, gu, et);
    StepBuffer hs =
        StepBuffer::create(rewriter, loc, timePlus1, batch, batchSize, u, et);
    Value hsInit =
        StepBuffer::put(rewriter, loc, hs.buffer, zeros, c0, batch, u);
    Value rkH = tensor::ExtractSliceOp::create(
        rewriter, loc, rk,
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(0),
                                  rewriter.getIndexAttr(2 * u)},
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(u),
                                  rewriter.getIndexAttr(u)},
        SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
    Value rkZR = tensor::ExtractSliceOp::create(
        rewriter, loc, rk,
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(0),
                                  rewriter.getIndexAttr(0)},
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(u),
                                  rewriter.getIndexAttr(2 * u)},
        SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
    auto gates = [&](OpBuilder &b, Location l, ValueRange a, int xz, int rz,
                     int xr, int rr) {
      Value z = activationScalar(b, l, recAct,
                                 arith::AddFOp::create(b, l, a[xz], a[rz]));
      Value r = activationScalar(b, l, recAct,
                                 arith::AddFOp::create(b, l, a[xr], a[rr]));
      return std::pair<Value, Value>{z, r};
    };
    auto forward = scf::ForOp::create(
        rewriter, loc, c0, time, c1,
        ValueRange{zeros, xps.buffer, rps.buffer, hsInit},
        [&](OpBuilder &b, Location l, Value p, ValueRange carried) {
          Value h = carried[0];
          Value xp =
              plusBias(b, l, timeSlice(b, l, proj, timeIndex(b, l, p), batch),
                       bias ? biasRow(b, l, 0) : Value());
          Value rp, hNew;
          if (resetAfter) {
            rp = plusBias(b, l, matmul(b, l, h, rk),
                          bias ? biasRow(b, l, 1) : Value());
            StepOperands ops(b, l, u);
            int hi = ops.whole(h), xz = ops.gateOf(xp, 0),
                rz = ops.gateOf(rp, 0), xr = ops.gateOf(xp, 1),
                rr = ops.gateOf(rp, 1), xn = ops.gateOf(xp, 2),
                rn = ops.gateOf(rp, 2);
            hNew = elementwise(
                b, l, {stateType}, ops.values, h,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  auto [z, r] = gates(nb, nl, a, xz, rz, xr, rr);
                  Value n = activationScalar(
                      nb, nl, act,
                      arith::AddFOp::create(
                          nb, nl, a[xn],
                          arith::MulFOp::create(nb, nl, r, a[rn])));
                  Value keep = arith::MulFOp::create(nb, nl, z, a[hi]);
                  Value fresh = arith::MulFOp::create(
                      nb, nl,
                      arith::SubFOp::create(nb, nl, floatConst(nb, nl, et, 1.0),
                                            z),
                      n);
                  return {arith::AddFOp::create(nb, nl, keep, fresh)};
                },
                ops.maps)[0];
          } else {
            Value hzr = matmul(b, l, h, rkZR);
            StepOperands ops(b, l, u);
            int hi = ops.whole(h), xz = ops.gateOf(xp, 0),
                rz = ops.gateOf(hzr, 0), xr = ops.gateOf(xp, 1),
                rr = ops.gateOf(hzr, 1);
            Value rh = elementwise(
                b, l, {stateType}, ops.values, h,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  Value r = gates(nb, nl, a, xz, rz, xr, rr).second;
                  return {arith::MulFOp::create(nb, nl, r, a[hi])};
                },
                ops.maps)[0];
            Value m = matmul(b, l, rh, rkH);
            rp = joinColumns(b, l, {hzr, m});
            StepOperands last(b, l, u);
            int h2 = last.whole(h), xz2 = last.gateOf(xp, 0),
                rz2 = last.gateOf(rp, 0), xr2 = last.gateOf(xp, 1),
                rr2 = last.gateOf(rp, 1), xn2 = last.gateOf(xp, 2),
                mn = last.gateOf(rp, 2);
            hNew = elementwise(
                b, l, {stateType}, last.values, h,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  Value z = gates(nb, nl, a, xz2, rz2, xr2, rr2).first;
                  Value n = activationScalar(
                      nb, nl, act,
                      arith::AddFOp::create(nb, nl, a[xn2], a[mn]));
                  Value keep = arith::MulFOp::create(nb, nl, z, a[h2]);
                  Value fresh = arith::MulFOp::create(
                      nb, nl,
                      arith::SubFOp::create(nb, nl, floatConst(nb, nl, et, 1.0),
                                            z),
                      n);
                  return {arith::AddFOp::create(nb, nl, keep, fresh)};
                },
                last.maps)[0];
          }
          Value pNext = arith::AddIOp::create(b, l, p, c1);
          scf::YieldOp::create(
              b, l,
              ValueRange{
                  hNew, StepBuffer::put(b, l, carried[1], xp, p, batch, gu),
                  StepBuffer::put(b, l, carried[2], rp, p, batch, gu),
                  StepBuffer::put(b, l, carried[3], hNew, pNext, batch, u)});
        });
    StepBuffer xpAll{forward.getResult(1), gu}, rpAll{forward.getResult(2), gu},
        hAll{forward.getResult(3), u};

    // 2. The reverse loop.
    Value dh = t.initialDh(rewriter);
    auto zerosOf = [&](RankedTensorType type) {
      return splatConstant(rewriter, loc, type, 0.0);
    };
    Value dW = zerosOf(RankedTensorType::get({features, gu}, et));
    Value dU = zerosOf(RankedTensorType::get({u, gu}, et));
    Value dBin = zerosOf(RankedTensorType::get({gu}, et));
    Value dBrec = zerosOf(RankedTensorType::get({gu}, et));
    Value dX = filledLike(rewriter, loc, inType, x, 0.0);
    auto sumRows = [&](OpBuilder &b, Location l, Value m) {
      return reduceAxis(b, l, m, 0, 0.0,
                        [](OpBuilder &nb, Location nl, Value acc, Value v) {
                          return arith::AddFOp::create(nb, nl, acc, v);
                        });
    };
    auto backward = scf::ForOp::create(
        rewriter, loc, c0, time, c1, ValueRange{dh, dW, dU, dBin, dBrec, dX},
        [&](OpBuilder &b, Location l, Value k, ValueRange carried) {
          Value p = arith::SubIOp::create(
              b, l, arith::SubIOp::create(b, l, time, c1), k);
          Value dhp = carried[0];
          if (sequences)
            dhp = addTensors(b, l, dhp,
                             timeSlice(b, l, resultGrads[0], p, batch));
          Value xp = xpAll.at(b, l, p, batch), rp = rpAll.at(b, l, p, batch);
          Value hPrev = hAll.at(b, l, p, batch);
          StepOperands ops(b, l, u);
          int dhi = ops.whole(dhp), hi = ops.whole(hPrev),
              xz = ops.gateOf(xp, 0), rz = ops.gateOf(rp, 0),
              xr = ops.gateOf(xp, 1), rr = ops.gateOf(rp, 1),
              xn = ops.gateOf(xp, 2), rn = ops.gateOf(rp, 2);
          // Outputs: dz_pre, dr_pre, dn_pre, d(rp_n) (reset_after: dn_pre *
          // r; else the gradient of (r h) U_h, i.e. dn_pre), dh direct.
          SmallVector<Value> parts = elementwise(
              b, l, {stateType, stateType, stateType, stateType, stateType},
              ops.values, dhp,
              [&](OpBuilder &nb, Location nl,
                  ValueRange a) -> SmallVector<Value> {
                auto mul = [&](Value v1, Value v2) -> Value {
                  return arith::MulFOp::create(nb, nl, v1, v2);
                };
                Value zPre = arith::AddFOp::create(nb, nl, a[xz], a[rz]);
                Value rPre = arith::AddFOp::create(nb, nl, a[xr], a[rr]);
                Value z = activationScalar(nb, nl, recAct, zPre);
                Value r = activationScalar(nb, nl, recAct, rPre);
                Value nPre =
                    resetAfter
                        ? Value(arith::AddFOp::create(nb, nl, a[xn],
                                                      mul(r, a[rn])))
                        : Value(arith::AddFOp::create(nb, nl, a[xn], a[rn]));
                Value n = activationScalar(nb, nl, act, nPre);
                Value one = floatConst(nb, nl, et, 1.0);
                Value dn = mul(a[dhi], arith::SubFOp::create(nb, nl, one, z));
                Value dz = mul(a[dhi], arith::SubFOp::create(nb, nl, a[hi], n));
                Value dnPre = activationGradScalar(nb, nl, act, dn, nPre, n);
                Value dr = resetAfter ? mul(dnPre, a[rn])
                                      : floatConst(nb, nl, et, 0.0);
                return {activationGradScalar(nb, nl, recAct, dz, zPre, z),
                        activationGradScalar(nb, nl, recAct, dr, rPre, r),
                        dnPre, resetAfter ? mul(dnPre, r) : dnPre,
                        mul(a[dhi], z)};
              },
              ops.maps);
          Value dzPre = parts[0], drPre = parts[1], dnPre = parts[2];
          Value dRec = parts[3], dhPrev = parts[4];
          Value dxp, drp, newDU;
          if (resetAfter) {
            dxp = joinColumns(b, l, {dzPre, drPre, dnPre});
            drp = joinColumns(b, l, {dzPre, drPre, dRec});
            newDU = addTensors(b, l, carried[2], matmulTN(b, l, hPrev, drp));
            dhPrev = addTensors(b, l, dhPrev, matmulNT(b, l, drp, rk));
          } else {
            // n = act(xn + (r h) U_h): d(r h) = dn_pre U_h^T.
            Value drh = matmulNT(b, l, dnPre, rkH);
            StepOperands ops2(b, l, u);
            int drhi = ops2.whole(drh), hi2 = ops2.whole(hPrev),
                xr2 = ops2.gateOf(xp, 1), rr2 = ops2.gateOf(rp, 1);
            SmallVector<Value> rParts = elementwise(
                b, l, {stateType, stateType}, ops2.values, drh,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  Value rPre = arith::AddFOp::create(nb, nl, a[xr2], a[rr2]);
                  Value r = activationScalar(nb, nl, recAct, rPre);
                  Value dr = arith::MulFOp::create(nb, nl, a[drhi], a[hi2]);
                  return {activationGradScalar(nb, nl, recAct, dr, rPre, r),
                          arith::MulFOp::create(nb, nl, a[drhi], r)};
                },
                ops2.maps);
            drPre = rParts[0];
            dhPrev = addTensors(b, l, dhPrev, rParts[1]);
            dxp = joinColumns(b, l, {dzPre, drPre, dnPre});
            Value dzr = joinColumns(b, l, {dzPre, drPre});
            // r h, recomputed for U_h's gradient.
            StepOperands ops3(b, l, u);
            int hi3 = ops3.whole(hPrev), xr3 = ops3.gateOf(xp, 1),
                rr3 = ops3.gateOf(rp, 1);
            Value rh = elementwise(
                b, l, {stateType}, ops3.values, hPrev,
                [&](OpBuilder &nb, Location nl,
                    ValueRange a) -> SmallVector<Value> {
                  Value r = activationScalar(
                      nb, nl, recAct,
                      arith::AddFOp::create(nb, nl, a[xr3], a[rr3]));
                  return {arith::MulFOp::create(nb, nl, r, a[hi3])};
                },
                ops3.maps)[0];
            Value dUzr = matmulTN(b, l, hPrev, dzr);
            Value dUh = matmulTN(b, l, rh, dnPre);
            auto full = RankedTensorType::get({u, gu}, et);
            Value dUstep = tensor::InsertSliceOp::create(
                b, l, dUh,
                tensor::InsertSliceOp::create(
                    b, l, dUzr,
                    tensor::EmptyOp::create(b, l, full.getShape(), et),
                    SmallVector<OpFoldResult>{b.getIndexAttr(0),
                                              b.getIndexAttr(0)},
                    SmallVector<OpFoldResult>{b.getIndexAttr(u),
                                              b.getIndexAttr(2 * u)},
                    SmallVector<OpFoldResult>(2, b.getIndexAttr(1))),
                SmallVector<OpFoldResult>{b.getIndexAttr(0),
                                          b.getIndexAttr(2 * u)},
                SmallVector<OpFoldResult>{b.getIndexAttr(u), b.getIndexAttr(u)},
                SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
            newDU = addTensors(b, l, carried[2], dUstep);
            dhPrev = addTensors(b, l, dhPrev, matmulNT(b, l, dzr, rkZR));
            drp = dzr;
          }
          Value tt = timeIndex(b, l, p);
          Value xt = timeSlice(b, l, x, tt, batch);
          Value newDW = addTensors(b, l, carried[1], matmulTN(b, l, xt, dxp));
          Value newDBin = addTensors(b, l, carried[3], sumRows(b, l, dxp));
          Value newDBrec =
              resetAfter ? addTensors(b, l, carried[4], sumRows(b, l, drp))
                         : carried[4];
          Value newDX = insertTimeSlice(b, l, matmulNT(b, l, dxp, w),
                                        carried[5], tt, batch);
          scf::YieldOp::create(
              b, l, ValueRange{dhPrev, newDW, newDU, newDBin, newDBrec, newDX});
        });
    SmallVector<Value> grads{backward.getResult(5), backward.getResult(1),
                             backward.getResult(2)};
    if (bias) {
      if (!resetAfter) {
        grads.push_back(backward.getResult(3));
      } else {
        // Stack the input and recurrent bias gradients as (2, 3 units).
        auto type = RankedTensorType::get({2, gu}, et);
        Value both =
            tensor::EmptyOp::create(rewriter, loc, type.getShape(), et);
        for (int row = 0; row < 2; ++row)
          both = tensor::InsertSliceOp::create(
              rewriter, loc, backward.getResult(3 + row), both,
              SmallVector<OpFoldResult>{rewriter.getIndexAttr(row),
                                        rewriter.getIndexAttr(0)},
              SmallVector<OpFoldResult>{rewriter.getIndexAttr(1),
                                        rewriter.getIndexAttr(gu)},
              SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
        grads.push_back(both);
      }
    }
    rewriter.replaceOp(op, grads);
    return success();
  }
};

} // namespace

void codegen::populateRecurrentLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<RnnLowering, ConvLstmLowering, RnnGradLowering, GruGradLowering>(
      patterns.getContext());
}
