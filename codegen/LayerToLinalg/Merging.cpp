//===- Merging.cpp - Lowering of merging layers ---------------------------===//
//
// The element-wise merges (add, subtract, multiply, maximum; an rhs of lower
// rank broadcast over the leading axes) and average are one element-wise
// generic each, as is maximum's gradient (which routes dy to the larger
// input). concatenate writes its inputs into one buffer with vector copies
// (see ConcatenateLowering for why not insert_slice); its gradient, slice,
// is an extract_slice. transpose (Permute) is a linalg.transpose.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

/// add, multiply: one element-wise generic applying ArithOp.
template <typename OpTy, typename ArithOp>
struct MergeLowering : RankedLowering<OpTy> {
  using RankedLowering<OpTy>::RankedLowering;
  LogicalResult lower(OpTy op, typename OpTy::Adaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    // An rhs of lower rank is broadcast over the leading dimensions.
    int64_t rank = type.getRank();
    int64_t rhsRank = cast<RankedTensorType>(rhs.getType()).getRank();
    SmallVector<AffineMap> maps;
    if (rhsRank < rank) {
      MLIRContext *ctx = op.getContext();
      SmallVector<AffineExpr> trailing;
      for (int64_t i = rank - rhsRank; i < rank; ++i)
        trailing.push_back(getAffineDimExpr(i, ctx));
      maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
              AffineMap::get(rank, 0, trailing, ctx)};
    }
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type}, ValueRange{lhs, rhs}, lhs,
            [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              return {ArithOp::create(b, l, a[0], a[1])};
            },
            maps));
    return success();
  }
};
using AddLowering = MergeLowering<AddOp, arith::AddFOp>;
using MultiplyLowering = MergeLowering<MultiplyOp, arith::MulFOp>;
using SubtractLowering = MergeLowering<SubtractOp, arith::SubFOp>;
using MaximumLowering = MergeLowering<MaximumOp, arith::MaximumFOp>;

/// average: one generic summing every input, times 1 / count.
struct AverageLowering : RankedLowering<AverageOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(AverageOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    ValueRange inputs = adaptor.getInputs();
    double scale = 1.0 / static_cast<double>(inputs.size());
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type}, inputs, inputs.front(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Value sum = a[0];
              for (size_t i = 1; i < inputs.size(); ++i)
                sum = addF(b, l, sum, a[i]);
              return {arith::MulFOp::create(
                  b, l, sum, floatConst(b, l, type.getElementType(), scale))};
            }));
    return success();
  }
};

struct MaximumGradLowering : RankedLowering<MaximumGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(MaximumGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Type et = type.getElementType();
    Value a = adaptor.getLhs();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type, type},
            ValueRange{a, adaptor.getRhs(), adaptor.getGrad()}, a,
            [&](OpBuilder &b, Location l, ValueRange v) -> SmallVector<Value> {
              Value left = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OGE, v[0], v[1]);
              Value zero = floatConst(b, l, et, 0.0);
              return {arith::SelectOp::create(b, l, left, v[2], zero),
                      arith::SelectOp::create(b, l, left, zero, v[2])};
            }));
    return success();
  }
};

/// concatenate: one buffer for the result, written by loops over its rows
/// (the dimensions before the axis, flattened), each of which copies the
/// rows (the dimensions from the axis on, flattened) of up to 32 inputs into
/// place with vector loads and stores; the inputs are read through
/// bufferization.to_buffer and the buffer becomes the result tensor.
///
/// A concatenate of N inputs costs linear compile time this way. The
/// obvious lowering, N tensor.insert_slice into one destination, puts all N
/// slices into one alias set, in which One-Shot Bufferize's analysis (and
/// eliminate-empty-tensors, which runs it first) compares every read with
/// every write for each in-place decision: about N^4, minutes for N = 250.
/// Copying each input into a subview of the buffer instead
/// (materialize_in_destination) is linear in MLIR but leaves N copy loop
/// nests, each of which LLVM unrolls and vectorizes on its own: 30 ms per
/// input, more as the function grows. Here the buffer is a memref the
/// analysis does not see, each input one read of its own value, and LLVM gets
/// a loop per 32 inputs whose body has two vector operations per input.
///
/// The price is one copy of each input (the insert_slice chain let
/// eliminate-empty-tensors write producers straight into the result). An
/// input whose buffer has another layout (a strided slice) is first copied
/// to an identity-layout buffer by the bufferization of to_buffer.
struct ConcatenateLowering : RankedLowering<ConcatenateOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ConcatenateOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type et = type.getElementType();
    int64_t rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    // a * b and a + b on sizes, folded when both are constant (the usual
    // case: only the batch size is dynamic, and it is before the axis).
    auto combine = [&](OpBuilder &b, Location l, OpFoldResult x, OpFoldResult y,
                       bool multiply) -> OpFoldResult {
      std::optional<int64_t> cx = getConstantIntValue(x),
                             cy = getConstantIntValue(y);
      if (cx && cy)
        return b.getIndexAttr(multiply ? *cx * *cy : *cx + *cy);
      int64_t identity = multiply ? 1 : 0;
      if (cx == identity)
        return y;
      if (cy == identity)
        return x;
      Value vx = getValueOrCreateConstantIndexOp(b, l, x),
            vy = getValueOrCreateConstantIndexOp(b, l, y);
      if (multiply)
        return arith::MulIOp::create(b, l, vx, vy).getResult();
      return arith::AddIOp::create(b, l, vx, vy).getResult();
    };
    // The rows of a tensor of this rank: (before the axis, from the axis).
    auto rowsOf = [&](Value t) {
      OpFoldResult outer = rewriter.getIndexAttr(1),
                   inner = rewriter.getIndexAttr(1);
      for (int64_t i = 0; i < rank; ++i) {
        OpFoldResult size = tensor::getMixedSize(rewriter, loc, t, i);
        if (i < axis)
          outer = combine(rewriter, loc, outer, size, /*multiply=*/true);
        else
          inner = combine(rewriter, loc, inner, size, /*multiply=*/true);
      }
      return std::make_pair(outer, inner);
    };
    // Each input as an identity-layout buffer viewed as (rows, row length).
    SmallVector<Value> sources;
    SmallVector<OpFoldResult> rowLengths, offsets;
    OpFoldResult rows, total = rewriter.getIndexAttr(0);
    for (Value in : adaptor.getInputs()) {
      auto inType = cast<RankedTensorType>(in.getType());
      Value buffer = bufferization::ToBufferOp::create(
          rewriter, loc, MemRefType::get(inType.getShape(), et), in,
          /*read_only=*/true);
      auto [outer, inner] = rowsOf(in);
      rows = outer;
      sources.push_back(memref::ReinterpretCastOp::create(
          rewriter, loc, buffer, rewriter.getIndexAttr(0), {outer, inner},
          {inner, rewriter.getIndexAttr(1)}));
      rowLengths.push_back(inner);
      offsets.push_back(total);
      total = combine(rewriter, loc, total, inner, /*multiply=*/false);
    }
    // The result: sizes of the first input but the axis, which is summed.
    SmallVector<Value> dynamicSizes;
    for (int64_t i = 0; i < rank; ++i) {
      if (!type.isDynamicDim(i))
        continue;
      OpFoldResult size =
          i == axis ? rewriter.getIndexAttr(0)
                    : tensor::getMixedSize(rewriter, loc,
                                           adaptor.getInputs().front(), i);
      if (i == axis)
        for (Value in : adaptor.getInputs())
          size = combine(rewriter, loc, size,
                         tensor::getMixedSize(rewriter, loc, in, i),
                         /*multiply=*/false);
      dynamicSizes.push_back(
          getValueOrCreateConstantIndexOp(rewriter, loc, size));
    }
    // Aligned as One-Shot Bufferize aligns its allocations.
    Value buffer = memref::AllocOp::create(
        rewriter, loc, MemRefType::get(type.getShape(), et), dynamicSizes,
        rewriter.getI64IntegerAttr(64));
    Value result = memref::ReinterpretCastOp::create(
        rewriter, loc, buffer, rewriter.getIndexAttr(0), {rows, total},
        {total, rewriter.getIndexAttr(1)});

    // Copies `length` elements of row `row` of `src` to `dst` at column
    // `at`: vector loads and stores of at most kChunk elements (a loop over
    // the chunks for long rows), scalar ones for a row length known only at
    // run time.
    constexpr int64_t kChunk = 64, kUnrolledChunks = 4;
    auto copyRow = [&](OpBuilder &b, Location l, Value src, Value dst,
                       Value row, OpFoldResult length, OpFoldResult at) {
      Value dstAt = getValueOrCreateConstantIndexOp(b, l, at);
      auto copyVector = [&](OpBuilder &vb, Location vl, Value col,
                            int64_t size) {
        Value v = vector::LoadOp::create(vb, vl, VectorType::get({size}, et),
                                         src, ValueRange{row, col});
        Value to = arith::AddIOp::create(vb, vl, dstAt, col);
        vector::StoreOp::create(vb, vl, v, dst, ValueRange{row, to});
      };
      auto index = [&](int64_t i) {
        return arith::ConstantIndexOp::create(b, l, i).getResult();
      };
      std::optional<int64_t> n = getConstantIntValue(length);
      if (!n) {
        scf::ForOp::create(
            b, l, index(0), getValueOrCreateConstantIndexOp(b, l, length),
            index(1), ValueRange{},
            [&](OpBuilder &lb, Location ll, Value col, ValueRange) {
              Value x =
                  memref::LoadOp::create(lb, ll, src, ValueRange{row, col});
              Value to = arith::AddIOp::create(lb, ll, dstAt, col);
              memref::StoreOp::create(lb, ll, x, dst, ValueRange{row, to});
              scf::YieldOp::create(lb, ll);
            });
        return;
      }
      int64_t chunks = *n / kChunk, tail = *n % kChunk;
      if (chunks <= kUnrolledChunks) {
        for (int64_t c = 0; c < chunks; ++c)
          copyVector(b, l, index(c * kChunk), kChunk);
      } else {
        scf::ForOp::create(
            b, l, index(0), index(chunks * kChunk), index(kChunk), ValueRange{},
            [&](OpBuilder &lb, Location ll, Value col, ValueRange) {
              copyVector(lb, ll, col, kChunk);
              scf::YieldOp::create(lb, ll);
            });
      }
      if (tail)
        copyVector(b, l, index(chunks * kChunk), tail);
    };
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value numRows = getValueOrCreateConstantIndexOp(rewriter, loc, rows);
    // One loop per group of inputs: LLVM's loop-load elimination and
    // machine scheduling are quadratic in a loop body's loads and stores
    // (2,000 inputs in one loop: 34 s), and every loop has a fixed cost
    // (groups of 8: 4.5 s, of 32: 1.9 s, of 128: 2.8 s).
    constexpr size_t kInputsPerLoop = 32;
    for (size_t first = 0; first < sources.size(); first += kInputsPerLoop) {
      size_t last = std::min(sources.size(), first + kInputsPerLoop);
      scf::ForOp::create(rewriter, loc, zero, numRows, one, ValueRange{},
                         [&](OpBuilder &b, Location l, Value row, ValueRange) {
                           for (size_t i = first; i < last; ++i)
                             copyRow(b, l, sources[i], result, row,
                                     rowLengths[i], offsets[i]);
                           scf::YieldOp::create(b, l);
                         });
    }
    rewriter.replaceOp(op, bufferization::ToTensorOp::create(
                               rewriter, loc, type, buffer,
                               /*restrict=*/true, /*writable=*/true));
    return success();
  }
};

struct SliceLowering : RankedLowering<SliceOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(SliceOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes;
    offsets[axis] = rewriter.getIndexAttr(static_cast<int64_t>(op.getOffset()));
    for (int64_t i = 0; i < rank; ++i)
      sizes.push_back(i == axis ? OpFoldResult(rewriter.getIndexAttr(
                                      static_cast<int64_t>(op.getSize())))
                                : tensor::getMixedSize(rewriter, loc,
                                                       adaptor.getInput(), i));
    rewriter.replaceOp(
        op, tensor::ExtractSliceOp::create(
                rewriter, loc, type, adaptor.getInput(), offsets, sizes,
                SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(1))));
    return success();
  }
};

/// transpose: a linalg.transpose into a tensor of the permuted sizes.
struct TransposeLowering : RankedLowering<TransposeOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(TransposeOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> perm = op.getPermutation();
    SmallVector<OpFoldResult> sizes;
    for (int64_t p : perm)
      sizes.push_back(tensor::getMixedSize(rewriter, loc, input, p));
    Value init =
        tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    Value out = linalg::TransposeOp::create(rewriter, loc, input, init, perm)
                    .getResult()[0];
    if (out.getType() != type)
      out = tensor::CastOp::create(rewriter, loc, type, out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void codegen::populateMergingLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<AddLowering, MultiplyLowering, SubtractLowering, MaximumLowering,
               AverageLowering, MaximumGradLowering, ConcatenateLowering,
               SliceLowering, TransposeLowering>(patterns.getContext());
}
