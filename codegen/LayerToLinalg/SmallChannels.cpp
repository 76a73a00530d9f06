//===- SmallChannels.cpp - Convolutions whose filters are not vectors -----===//
//
// convolveVectorized (Conv.cpp) puts the filters in the vector lanes; a
// convolution with fewer filters than lanes (an autoencoder's last layer,
// one filter for a grey image) has nothing to fill them with, and its
// linalg.generic runs as scalar loops that store the sum after every FMA
// (LLVM cannot prove that the output does not alias the input). Here the
// lanes hold input channels instead: each output keeps one vector of
// partial sums per filter in registers through the whole window, and adds
// its lanes up once at the end.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;

namespace {

/// The sum of the lanes of `v` by halving: log2(lanes) shuffles and adds,
/// where an ordered vector.reduction would be one serial add per lane.
Value sumLanes(OpBuilder &b, Location loc, Value v) {
  int64_t lanes = cast<VectorType>(v.getType()).getNumElements();
  while (lanes > 1) {
    lanes /= 2;
    SmallVector<int64_t> low, high;
    for (int64_t i = 0; i < lanes; ++i) {
      low.push_back(i);
      high.push_back(lanes + i);
    }
    Value l =
        vector::ShuffleOp::create(b, loc, v, v, b.getDenseI64ArrayAttr(low));
    Value h =
        vector::ShuffleOp::create(b, loc, v, v, b.getDenseI64ArrayAttr(high));
    v = arith::AddFOp::create(b, loc, l, h);
  }
  return vector::ExtractOp::create(b, loc, v, int64_t(0));
}

} // namespace

Value codegen::convolveFewFilters(OpBuilder &b, Location loc, Value x,
                                  Value kernel, ArrayRef<int64_t> strides,
                                  ArrayRef<int64_t> dil,
                                  RankedTensorType outType,
                                  Epilogue *epilogue) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto kType = cast<RankedTensorType>(kernel.getType());
  Type et = outType.getElementType();
  int64_t bits = vectorBitsAt(b);
  if (bits == 0 || xType.getRank() != 4 || outType.getRank() != 4 ||
      !kType.hasStaticShape() || !isa<FloatType>(et) || strides.size() != 2)
    return Value();
  int64_t kh = kType.getDimSize(0), kw = kType.getDimSize(1),
          channels = kType.getDimSize(2), filters = kType.getDimSize(3);
  int64_t oh = outType.getDimSize(1), ow = outType.getDimSize(2);
  VectorBlocking blocking = vectorBlocking(et, channels, bits);
  int64_t vl = blocking.lanes;
  // Each column of a block needs `filters` accumulators: at least two
  // columns, or the loads of x would not be shared by several FMAs.
  if (ShapedType::isDynamic(oh) || ShapedType::isDynamic(ow) || oh == 0 ||
      ow == 0 || channels % vl != 0 || xType.getDimSize(3) != channels ||
      filters == 0 || 2 * filters > blocking.accumulators)
    return Value();
  int64_t wt = evenBlock(ow, blocking.accumulators / filters);
  bool fuse = epilogue && epilogue->blockwise();
  if (fuse)
    epilogue->applied = true;
  auto vecType = VectorType::get({vl}, et);
  KernelBuilder kb{loc};
  Value zeroScalar = floatConst(b, loc, et, 0.0);
  Value zeroVector = kb.zeros(b, vecType);

  // The kernel as (kh, kw, filters, channels): each filter's weights for a
  // vector of channels are one contiguous load. A copy of the weights only.
  Value kt = linalg::TransposeOp::create(
                 b, loc, kernel,
                 tensor::EmptyOp::create(
                     b, loc, ArrayRef<int64_t>{kh, kw, filters, channels}, et)
                     .getResult(),
                 ArrayRef<int64_t>{0, 1, 3, 2})
                 .getResult()[0];

  // The wt x filters accumulators of output row `row`, columns `cols`:
  // lane l of accumulator (w, f) sums the products of the input channels
  // c = l (mod vl) over the window.
  auto block = [&](OpBuilder &nb, Value n, Value row, ArrayRef<Value> cols) {
    SmallVector<Value> zeros(wt * filters, zeroVector);
    return kb.loop(
        nb, kh, 1, zeros, [&](OpBuilder &b1, Value i, ValueRange a1) {
          Value ih =
              kb.add(b1, kb.mul(b1, row, strides[0]), kb.mul(b1, i, dil[0]));
          return kb.loop(
              b1, kw, 1, a1, [&](OpBuilder &b2, Value j, ValueRange a2) {
                SmallVector<Value> iws;
                for (Value col : cols)
                  iws.push_back(kb.add(b2, kb.mul(b2, col, strides[1]),
                                       kb.mul(b2, j, dil[1])));
                return kb.loop(
                    b2, channels, vl, a2,
                    [&](OpBuilder &b3, Value c, ValueRange acc) {
                      SmallVector<Value> ks, next;
                      for (int64_t f = 0; f < filters; ++f)
                        ks.push_back(vector::TransferReadOp::create(
                            b3, loc, vecType, kt,
                            ValueRange{i, j, kb.index(b3, f), c}, zeroScalar,
                            ArrayRef<bool>{true}));
                      for (auto [w, iw] : llvm::enumerate(iws)) {
                        Value xv = vector::TransferReadOp::create(
                            b3, loc, vecType, x, ValueRange{n, ih, iw, c},
                            zeroScalar, ArrayRef<bool>{true});
                        for (int64_t f = 0; f < filters; ++f)
                          next.push_back(vector::FMAOp::create(
                              b3, loc, xv, ks[f], acc[w * filters + f]));
                      }
                      return next;
                    });
              });
        });
  };

  // The output loops: batch, row, column blocks (the last one clamped: its
  // extra columns recompute and rewrite the last column).
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  auto columns = [&](OpBuilder &nb, Value n, Value row, Value t) {
    return kb.loop(
        nb, ow, wt, t, [&](OpBuilder &b1, Value col0, ValueRange a1) {
          SmallVector<Value> cols;
          for (int64_t w = 0; w < wt; ++w)
            cols.push_back(kb.clamped(b1, col0, w, kb.index(b1, ow - 1)));
          SmallVector<Value> acc = block(b1, n, row, cols);
          Value written = a1[0];
          for (auto [w, col] : llvm::enumerate(cols))
            for (int64_t f = 0; f < filters; ++f) {
              Value fi = kb.index(b1, f);
              Value s = sumLanes(b1, loc, acc[w * filters + f]);
              if (fuse)
                s = epilogue->applyScalar(b1, loc, s,
                                          ValueRange{n, row, col, fi});
              written = tensor::InsertOp::create(b1, loc, s, written,
                                                 ValueRange{n, row, col, fi});
            }
          return SmallVector<Value>{written};
        })[0];
  };
  return kb.imagesAndRows(b, batch, oh, out, columns);
}
