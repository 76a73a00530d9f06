//===- RecurrentGrad.cpp - Backpropagation through time ------------------===//
//
// layer.rnn_grad becomes a backward scf.for over time that recomputes each
// step's gates from the saved states (Bptt), accumulates the kernels'
// gradients and carries d h (and d c) to the step before. GRU has its own
// pattern: its reset gate multiplies the recurrent product (reset_after)
// or h before it.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/RecurrentBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::codegen::rnn;
using namespace layerc::layer;

namespace {

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
    act = op.getActivation();
    recAct = op.getRecurrentActivation();
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
    Cell cell = op.getCell();
    if (cell == Cell::Gru)
      return rewriter.notifyMatchFailure(op, "GRUs have their own pattern");
    Bptt t(op, adaptor, rewriter);
    Location loc = t.loc;
    Type et = t.et;
    int64_t units = t.units, gu = t.gu, features = t.features,
            batchSize = t.batchSize;
    bool lstm = cell == Cell::Lstm, sequences = t.sequences;
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
    if (op.getCell() != Cell::Gru)
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

void codegen::populateRecurrentGradLoweringPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RnnGradLowering, GruGradLowering>(patterns.getContext());
}
