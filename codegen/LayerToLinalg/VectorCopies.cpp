//===- VectorCopies.cpp - Data movement of NHWC tensors as vector copies --===//
//
// Nearest upsampling and the scatter of a transposed convolution move whole
// pixels (channel vectors) and compute nothing. As linalg ops they become
// loops of scalar loads and stores that LLVM unrolls but does not vectorize
// (it cannot prove that the stores miss the next loads), under index
// arithmetic per element. Written with explicit channel vectors, each pixel
// is one load and one store per vector.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;

namespace {

/// The channel vectors of a rank-4 tensor type whose channels are static
/// and whole vectors of `et`; 0 lanes when they are not.
int64_t channelLanes(OpBuilder &b, RankedTensorType type) {
  Type et = type.getElementType();
  int64_t channels = type.getDimSize(3);
  if (type.getRank() != 4 || !et.isIntOrFloat() ||
      ShapedType::isDynamic(channels) || !fillsVectors(b, et, channels))
    return 0;
  return vectorBlocking(et, channels, vectorBitsAt(b)).lanes;
}

/// Copies pixel (n, ih, iw) of `src` to pixels (n, oh, ow) of `dst` for
/// each ow of `ows`, one vector of `lanes` channels at a time (each vector
/// loaded once).
Value copyPixel(OpBuilder &b, Location loc, Value src, Value dst, Value n,
                Value ih, Value iw, Value oh, ArrayRef<Value> ows,
                int64_t lanes) {
  auto srcType = cast<RankedTensorType>(src.getType());
  Type et = srcType.getElementType();
  auto vecType = VectorType::get({lanes}, et);
  KernelBuilder kb{loc};
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(et));
  return kb.loop(
      b, srcType.getDimSize(3), lanes, dst,
      [&](OpBuilder &b1, Value c, ValueRange a1) {
        Value v = vector::TransferReadOp::create(b1, loc, vecType, src,
                                                 ValueRange{n, ih, iw, c}, pad,
                                                 ArrayRef<bool>{true});
        Value t = a1[0];
        for (Value ow : ows)
          t = vector::TransferWriteOp::create(
                  b1, loc, v, t, ValueRange{n, oh, ow, c}, ArrayRef<bool>{true})
                  .getResult();
        return SmallVector<Value>{t};
      })[0];
}

} // namespace

Value codegen::scatterVectorized(OpBuilder &b, Location loc, Value src,
                                 Value dst, ArrayRef<int64_t> offsets,
                                 ArrayRef<int64_t> counts,
                                 ArrayRef<int64_t> steps) {
  auto srcType = cast<RankedTensorType>(src.getType());
  int64_t lanes = channelLanes(b, srcType);
  if (lanes == 0 || offsets.size() != 2 || counts.size() != 2 ||
      steps.size() != 2 || counts[0] <= 0 || counts[1] <= 0)
    return Value();
  KernelBuilder kb{loc};
  Value batch = tensor::DimOp::create(b, loc, src, 0);
  // Distinct input rows go to distinct rows of dst: the row loop is
  // parallel, as imagesAndRows requires.
  return kb.imagesAndRows(
      b, batch, counts[0], dst,
      [&](OpBuilder &b1, Value n, Value row, Value t) {
        Value oh =
            kb.add(b1, kb.mul(b1, row, steps[0]), kb.index(b1, offsets[0]));
        return kb.loop(
            b1, counts[1], 1, t, [&](OpBuilder &b2, Value col, ValueRange a2) {
              Value ow = kb.add(b2, kb.mul(b2, col, steps[1]),
                                kb.index(b2, offsets[1]));
              return SmallVector<Value>{
                  copyPixel(b2, loc, src, a2[0], n, row, col, oh, {ow}, lanes)};
            })[0];
      },
      /*flat=*/false);
}

Value codegen::upsampleNearestVectorized(OpBuilder &b, Location loc, Value x,
                                         RankedTensorType outType,
                                         ArrayRef<int64_t> size) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t lanes = channelLanes(b, outType);
  if (lanes == 0 || size.size() != 2 || xType.getRank() != 4)
    return Value();
  int64_t inW = xType.getDimSize(2), oh = outType.getDimSize(1);
  if (ShapedType::isDynamic(inW) || ShapedType::isDynamic(oh) ||
      outType.getDimSize(2) != inW * size[1])
    return Value();
  KernelBuilder kb{loc};
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  // Each output row reads input row row / size[0]; each input pixel is
  // read once per output row and written to size[1] adjacent columns.
  return kb.imagesAndRows(
      b, batch, oh, out,
      [&](OpBuilder &b1, Value n, Value row, Value t) {
        Value ih = arith::DivUIOp::create(b1, loc, row, kb.index(b1, size[0]));
        return kb.loop(
            b1, inW, 1, t, [&](OpBuilder &b2, Value iw, ValueRange a2) {
              Value ow0 = kb.mul(b2, iw, size[1]);
              SmallVector<Value> ows;
              for (int64_t k = 0; k < size[1]; ++k)
                ows.push_back(kb.add(b2, ow0, kb.index(b2, k)));
              return SmallVector<Value>{
                  copyPixel(b2, loc, x, a2[0], n, ih, iw, row, ows, lanes)};
            })[0];
      },
      /*flat=*/false);
}
