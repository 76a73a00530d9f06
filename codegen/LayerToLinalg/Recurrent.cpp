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
    Cell cell = op.getCell();
    bool lstm = cell == Cell::Lstm, gru = cell == Cell::Gru;
    bool resetAfter = op.getResetAfter();
    Activation act = op.getActivation();
    Activation recAct = op.getRecurrentActivation();
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
    Activation act = op.getActivation();
    Activation recAct = op.getRecurrentActivation();
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
                   Value xt = convolve(
                       b, l, timeSlice(b, l, x, t, batch), adaptor.getKernel(),
                       op.getStrides(), op.getDilations(),
                       op.getPadding() == layer::Padding::Same, 1, hrType);
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

} // namespace

void codegen::populateRecurrentLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<RnnLowering, ConvLstmLowering>(patterns.getContext());
}
