//===- Recurrent.cpp - Lowering of SimpleRNN, LSTM and GRU ----------------===//
//
// layer.rnn becomes:
//   1. the input projection of every step at once: one linalg.matmul of
//      (batch * time, features) by the kernel;
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
  return linalg::MatmulOp::create(b, loc, TypeRange{type},
                                  ValueRange{lhs, rhs}, ValueRange{init})
      .getResult(0);
}

/// Collects the operands of a step's generic. A gate's columns
/// [k * units, (k + 1) * units) of a (batch, G * units) tensor are an
/// extract_slice (a view after bufferization), so every operand has the
/// loop shape (batch, units) or (units) and linalg derives the right loop
/// ranges whichever operands survive canonicalization.
class StepOperands {
public:
  StepOperands(OpBuilder &b, Location loc, int64_t units)
      : b_(b), loc_(loc), units_(units) {}

  /// Columns of gate `gate` of a (batch, G * units) tensor.
  int gateOf(Value v, int64_t gate) {
    auto type = cast<RankedTensorType>(v.getType());
    OpFoldResult rows =
        type.isDynamicDim(0)
            ? OpFoldResult(tensor::DimOp::create(b_, loc_, v, 0).getResult())
            : OpFoldResult(b_.getIndexAttr(type.getDimSize(0)));
    Value slice = tensor::ExtractSliceOp::create(
        b_, loc_, v,
        SmallVector<OpFoldResult>{b_.getIndexAttr(0),
                                  b_.getIndexAttr(gate * units_)},
        SmallVector<OpFoldResult>{rows, b_.getIndexAttr(units_)},
        SmallVector<OpFoldResult>(2, b_.getIndexAttr(1)));
    return add(slice, AffineMap::getMultiDimIdentityMap(2, b_.getContext()));
  }
  /// A (batch, units) tensor.
  int whole(Value v) {
    return add(v, AffineMap::getMultiDimIdentityMap(2, b_.getContext()));
  }
  /// Gate `gate` of a bias: (G * units), or row `row` of (2, G * units).
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
    return add(slice, AffineMap::get(2, 0, {b_.getAffineDimExpr(1)},
                                     b_.getContext()));
  }

  SmallVector<Value> values;
  SmallVector<AffineMap> maps;

private:
  int add(Value v, AffineMap map) {
    values.push_back(v);
    maps.push_back(map);
    return static_cast<int>(values.size()) - 1;
  }
  OpBuilder &b_;
  Location loc_;
  int64_t units_;
};

struct RnnLowering : OpConversionPattern<RnnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RnnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    auto rkType =
        dyn_cast<RankedTensorType>(adaptor.getRecurrentKernel().getType());
    if (!inType || !rkType || !rkType.hasStaticShape() ||
        !isa<RankedTensorType>(op.getOutput().getType()))
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type et = inType.getElementType();
    int64_t units = rkType.getDimSize(0);
    int64_t gates = rkType.getDimSize(1) / units;
    StringRef cell = op.getCell();
    bool lstm = cell == "lstm", gru = cell == "gru";
    bool resetAfter = op.getResetAfter();
    Activation act = *parseActivation(op.getActivation());
    Activation recAct = *parseActivation(op.getRecurrentActivation());
    Value x = adaptor.getInput(), kernel = adaptor.getKernel(),
          rk = adaptor.getRecurrentKernel(), bias = adaptor.getBias();

    // 1. Every step's input projection: (batch * time, features) x kernel.
    Value flat = tensor::CollapseShapeOp::create(
        rewriter, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    Value proj = matmul(rewriter, loc, flat, kernel);
    Value batchDim = tensor::DimOp::create(rewriter, loc, x, 0);
    Value timeDim = tensor::DimOp::create(rewriter, loc, x, 1);
    auto projType = RankedTensorType::get(
        {inType.getDimSize(0), inType.getDimSize(1), gates * units}, et);
    // Static sizes must be attributes in output_shape, or later passes see
    // a static type with a dynamic size.
    auto sizeOf = [&](int64_t d, Value dynamic) -> OpFoldResult {
      if (inType.isDynamicDim(d))
        return dynamic;
      return rewriter.getIndexAttr(inType.getDimSize(d));
    };
    proj = tensor::ExpandShapeOp::create(
        rewriter, loc, projType, proj,
        SmallVector<ReassociationIndices>{{0, 1}, {2}},
        SmallVector<OpFoldResult>{sizeOf(0, batchDim), sizeOf(1, timeDim),
                                  rewriter.getIndexAttr(gates * units)});

    // 2. The loop over time.
    auto stateType = RankedTensorType::get({inType.getDimSize(0), units}, et);
    SmallVector<Value> inits{filledLike(rewriter, loc, stateType, x, 0.0)};
    if (lstm)
      inits.push_back(filledLike(rewriter, loc, stateType, x, 0.0));
    bool sequences = op.getReturnSequences();
    if (sequences)
      inits.push_back(emptyLike(
          rewriter, loc,
          RankedTensorType::get(
              {inType.getDimSize(0), inType.getDimSize(1), units}, et),
          x));
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    bool backwards = op.getGoBackwards();
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, timeDim, one, inits,
        [&](OpBuilder &b, Location l, Value t, ValueRange carried) {
          Value h = carried[0];
          Value step = t;
          if (backwards)
            step = arith::SubIOp::create(
                b, l, arith::SubIOp::create(b, l, timeDim, one), t);
          auto xtType = RankedTensorType::get(
              {inType.getDimSize(0), gates * units}, et);
          Value xt = tensor::ExtractSliceOp::create(
              b, l, xtType, proj,
              SmallVector<OpFoldResult>{b.getIndexAttr(0), step,
                                        b.getIndexAttr(0)},
              SmallVector<OpFoldResult>{sizeOf(0, batchDim),
                                        b.getIndexAttr(1),
                                        b.getIndexAttr(gates * units)},
              SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
          SmallVector<Value> next =
              lstm ? lstmStep(b, l, xt, h, carried[1], rk, bias, units, act,
                              recAct)
              : gru ? gruStep(b, l, xt, h, rk, bias, units, resetAfter, act,
                              recAct)
                    : simpleStep(b, l, xt, h, rk, bias, units, act);
          if (sequences) {
            Value seq = carried.back();
            seq = tensor::InsertSliceOp::create(
                b, l, next[0], seq,
                SmallVector<OpFoldResult>{b.getIndexAttr(0), t,
                                          b.getIndexAttr(0)},
                SmallVector<OpFoldResult>{sizeOf(0, batchDim),
                                          b.getIndexAttr(1),
                                          b.getIndexAttr(units)},
                SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
            next.push_back(seq);
          }
          scf::YieldOp::create(b, l, next);
        });
    ValueRange results = loop.getResults();
    SmallVector<Value> replacements{sequences ? results.back() : results[0]};
    replacements.push_back(results[0]);
    if (lstm)
      replacements.push_back(results[1]);
    rewriter.replaceOp(op, replacements);
    return success();
  }

  /// z = x_t + h U (+ bias) for gate k, as a scalar in a step's body.
  static Value preActivation(OpBuilder &b, Location l, ValueRange a, int xIdx,
                             int hIdx, int biasIdx) {
    Value z = a[xIdx];
    if (biasIdx >= 0)
      z = arith::AddFOp::create(b, l, z, a[biasIdx]);
    return arith::AddFOp::create(b, l, z, a[hIdx]);
  }

  static SmallVector<Value> simpleStep(OpBuilder &b, Location l, Value xt,
                                       Value h, Value rk, Value bias,
                                       int64_t units, Activation act) {
    Value hr = matmul(b, l, h, rk);
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

  static SmallVector<Value> lstmStep(OpBuilder &b, Location l, Value xt,
                                     Value h, Value c, Value rk, Value bias,
                                     int64_t units, Activation act,
                                     Activation recAct) {
    Value hr = matmul(b, l, h, rk);
    StepOperands ops(b, l, units);
    int xi[4], hi[4], bi[4];
    for (int k = 0; k < 4; ++k) {
      xi[k] = ops.gateOf(xt, k);
      hi[k] = ops.gateOf(hr, k);
      bi[k] = bias ? ops.biasOf(bias, k, std::nullopt) : -1;
    }
    int ci = ops.whole(c);
    auto type = cast<RankedTensorType>(h.getType());
    return elementwise(
        b, l, {type, type}, ops.values, h,
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
          Value hNew = arith::MulFOp::create(
              nb, nl, o, activationScalar(nb, nl, act, cNew));
          return {hNew, cNew};
        },
        ops.maps);
  }

  static SmallVector<Value> gruStep(OpBuilder &b, Location l, Value xt,
                                    Value h, Value rk, Value bias,
                                    int64_t units, bool resetAfter,
                                    Activation act, Activation recAct) {
    auto type = cast<RankedTensorType>(h.getType());
    Type et = type.getElementType();
    Value hr = matmul(b, l, h, rk);
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
      Value oneMinus = arith::SubFOp::create(
          nb, nl, floatConst(nb, nl, et, 1.0), z);
      return arith::AddFOp::create(nb, nl,
                                   arith::MulFOp::create(nb, nl, z, hOld),
                                   arith::MulFOp::create(nb, nl, oneMinus, hh));
    };
    if (resetAfter) {
      return elementwise(
          b, l, {type}, ops.values, h,
          [&](OpBuilder &nb, Location nl,
              ValueRange a) -> SmallVector<Value> {
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
        SmallVector<OpFoldResult>{b.getIndexAttr(0),
                                  b.getIndexAttr(2 * units)},
        SmallVector<OpFoldResult>{b.getIndexAttr(units),
                                  b.getIndexAttr(units)},
        SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
    Value m = matmul(b, l, zr[1], rkH);
    StepOperands last(b, l, units);
    int x2 = last.gateOf(xt, 2), b2 = bias ? last.biasOf(bias, 2, std::nullopt)
                                            : -1;
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

} // namespace

void codegen::populateRecurrentLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<RnnLowering>(patterns.getContext());
}
