//===- Core.cpp - Lowering of core, merging and reshaping layers
//-----------===//
//
// layer.dense becomes linalg.matmul plus one element-wise generic for bias
// and activation (softmax adds its reductions); inputs of rank > 2 are one
// generic contraction over the last axis (contractLastAxis). Transposed matmuls
// (gradients) are generic contractions. Dropout lowers to its inference
// behaviour, the identity.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

Value addF(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}

struct DenseLowering : OpConversionPattern<DenseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DenseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!outType || !inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Value x = adaptor.getInput();
    Value y;
    if (inType.getRank() > 2) {
      y = contractLastAxis(rewriter, loc, x, adaptor.getKernel());
    } else {
      auto mmType = RankedTensorType::get(
          {inType.getDimSize(0), outType.getShape().back()},
          outType.getElementType());
      y = matmulVectorized(rewriter, loc, x, adaptor.getKernel(), false,
                           mmType);
      if (!y) {
        Value init = filledLike(rewriter, loc, mmType, x, 0.0);
        y = linalg::MatmulOp::create(rewriter, loc, TypeRange{mmType},
                                     ValueRange{x, adaptor.getKernel()},
                                     ValueRange{init})
                .getResult(0);
      }
    }
    y = biasAndActivation(rewriter, loc, y, adaptor.getBias(),
                          *parseActivation(op.getActivation()));
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct ActivationLowering : OpConversionPattern<ActivationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ActivationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Activation act = *parseActivation(op.getActivation());
    Value x = adaptor.getInput();
    if (act == Activation::Softmax) {
      rewriter.replaceOp(op, softmax(rewriter, op.getLoc(), x));
      return success();
    }
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), {type}, ValueRange{x}, x,
                        [&](OpBuilder &b, Location l,
                            ValueRange a) -> SmallVector<Value> {
                          return {activationScalar(b, l, act, a[0])};
                        }));
    return success();
  }
};

/// dx = dy * act'(x), written with whichever of x and y is cheaper.
struct ActivationGradLowering : OpConversionPattern<ActivationGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ActivationGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value dy = adaptor.getGrad(), x = adaptor.getInput(),
          y = adaptor.getOutput();
    Activation act = *parseActivation(op.getActivation());
    if (act == Activation::Softmax) {
      // dx = y * (dy - sum(dy * y)) over the last axis.
      int64_t rank = type.getRank();
      Value dot = reduceAxis(
          rewriter, loc, dy, rank - 1, 0.0,
          [](OpBuilder &b, Location l, Value acc, Value v) {
            return addF(b, l, acc, v);
          },
          ValueRange{y},
          [](OpBuilder &b, Location l, ValueRange a) -> Value {
            return arith::MulFOp::create(b, l, a[0], a[1]);
          });
      AffineMap id = rewriter.getMultiDimIdentityMap(rank);
      rewriter.replaceOp(
          op,
          elementwise(
              rewriter, loc, {type}, ValueRange{dy, y, dot}, dy,
              [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
                Value diff = arith::SubFOp::create(b, l, a[0], a[2]);
                return {arith::MulFOp::create(b, l, a[1], diff)};
              },
              {id, id, dropAxisMap(rewriter.getContext(), rank, rank - 1)}));
      return success();
    }
    auto body = [&](OpBuilder &b, Location l,
                    ValueRange a) -> SmallVector<Value> {
      return {activationGradScalar(b, l, act, a[0], a[1], a[2])};
    };
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, {type}, ValueRange{dy, x, y}, dy, body));
    return success();
  }
};

struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

/// init += lhs * rhs over the loops of `maps` / `iterators`, into a
/// zero-filled result of `type` (`dynamic`: its unknown sizes).
Value multiplyAccumulate(ConversionPatternRewriter &rewriter, Location loc,
                         RankedTensorType type, Value lhs, Value rhs,
                         ValueRange dynamic, ArrayRef<AffineMap> maps,
                         ArrayRef<utils::IteratorType> iterators) {
  Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                       type.getElementType(), dynamic);
  init = linalg::FillOp::create(
             rewriter, loc,
             floatConst(rewriter, loc, type.getElementType(), 0.0), init)
             .getResult(0);
  if (maps.empty())
    return linalg::MatmulOp::create(rewriter, loc, TypeRange{type},
                                    ValueRange{lhs, rhs}, ValueRange{init})
        .getResult(0);
  return linalg::GenericOp::create(
             rewriter, loc, TypeRange{type}, ValueRange{lhs, rhs},
             ValueRange{init}, maps, iterators,
             [](OpBuilder &b, Location l, ValueRange v) {
               Value prod = arith::MulFOp::create(b, l, v[0], v[1]);
               linalg::YieldOp::create(b, l,
                                       ValueRange{addF(b, l, v[2], prod)});
             })
      .getResult(0);
}

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  /// An lhs of rank r > 2: (..., K) x rhs -> (..., N) contracting the last
  /// axis, or with transpose_lhs (..., K)^T x (..., N) -> (K, N)
  /// contracting every leading axis (Dense's kernel gradient).
  static LogicalResult lowerBatched(MatmulOp op, RankedTensorType type, Value a,
                                    Value bm, bool ta, bool tb,
                                    ConversionPatternRewriter &rewriter) {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t r = cast<RankedTensorType>(a.getType()).getRank();
    // Loops: r - 1 leading axes, then two more.
    unsigned loops = static_cast<unsigned>(r + 1);
    SmallVector<AffineExpr> lead;
    for (int64_t i = 0; i + 1 < r; ++i)
      lead.push_back(getAffineDimExpr(i, ctx));
    AffineExpr x = getAffineDimExpr(r - 1, ctx), y = getAffineDimExpr(r, ctx);
    SmallVector<AffineMap> maps;
    SmallVector<utils::IteratorType> iterators;
    SmallVector<Value> dynamic;
    auto with = [&](AffineExpr last) {
      SmallVector<AffineExpr> e(lead);
      e.push_back(last);
      return e;
    };
    if (!ta) {
      // x = n (parallel), y = k (reduction).
      maps = {
          AffineMap::get(loops, 0, with(y), ctx),
          AffineMap::get(loops, 0, tb ? ArrayRef{x, y} : ArrayRef{y, x}, ctx),
          AffineMap::get(loops, 0, with(x), ctx)};
      iterators.assign(r, utils::IteratorType::parallel);
      iterators.push_back(utils::IteratorType::reduction);
      for (int64_t i = 0; i + 1 < r; ++i)
        if (type.isDynamicDim(i))
          dynamic.push_back(tensor::DimOp::create(rewriter, loc, a, i));
    } else {
      // x = k, y = n (parallel); the leading axes reduce.
      maps = {AffineMap::get(loops, 0, with(x), ctx),
              AffineMap::get(loops, 0, with(y), ctx),
              AffineMap::get(loops, 0, {x, y}, ctx)};
      iterators.assign(r - 1, utils::IteratorType::reduction);
      iterators.push_back(utils::IteratorType::parallel);
      iterators.push_back(utils::IteratorType::parallel);
    }
    rewriter.replaceOp(op, multiplyAccumulate(rewriter, loc, type, a, bm,
                                              dynamic, maps, iterators));
    return success();
  }

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value a = adaptor.getLhs(), bm = adaptor.getRhs();
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    if (cast<RankedTensorType>(a.getType()).getRank() > 2)
      return lowerBatched(op, type, a, bm, ta, tb, rewriter);
    // Register-blocked when the columns are whole vectors; a transposed rhs
    // (a kernel, small and static) is transposed first so its rows are
    // contiguous.
    auto bType = cast<RankedTensorType>(bm.getType());
    if ((!tb || bType.hasStaticShape()) &&
        fillsVectors(type.getElementType(), type.getDimSize(1))) {
      Value rhs = bm;
      if (tb)
        rhs =
            linalg::TransposeOp::create(
                rewriter, loc, bm,
                tensor::EmptyOp::create(
                    rewriter, loc,
                    ArrayRef<int64_t>{bType.getDimSize(1), bType.getDimSize(0)},
                    bType.getElementType())
                    .getResult(),
                ArrayRef<int64_t>{1, 0})
                .getResult()[0];
      if (Value c = matmulVectorized(rewriter, loc, a, rhs, ta, type)) {
        rewriter.replaceOp(op, c);
        return success();
      }
    }
    SmallVector<Value> dynamic;
    if (type.isDynamicDim(0))
      dynamic.push_back(tensor::DimOp::create(rewriter, loc, a, ta ? 1 : 0));
    if (type.isDynamicDim(1))
      dynamic.push_back(tensor::DimOp::create(rewriter, loc, bm, tb ? 0 : 1));
    if (!ta && !tb) {
      rewriter.replaceOp(
          op, multiplyAccumulate(rewriter, loc, type, a, bm, dynamic, {}, {}));
      return success();
    }
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> maps{
        AffineMap::get(3, 0, ta ? ArrayRef{k, m} : ArrayRef{m, k}, ctx),
        AffineMap::get(3, 0, tb ? ArrayRef{n, k} : ArrayRef{k, n}, ctx),
        AffineMap::get(3, 0, {m, n}, ctx)};
    SmallVector<utils::IteratorType> iterators{utils::IteratorType::parallel,
                                               utils::IteratorType::parallel,
                                               utils::IteratorType::reduction};
    rewriter.replaceOp(op, multiplyAccumulate(rewriter, loc, type, a, bm,
                                              dynamic, maps, iterators));
    return success();
  }
};

/// add, multiply: one element-wise generic applying ArithOp.
template <typename OpTy, typename ArithOp>
struct MergeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
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
struct AverageLowering : OpConversionPattern<AverageOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AverageOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
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

struct ScaleLowering : OpConversionPattern<ScaleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    double factor = op.getFactor().convertToDouble();
    Value x = adaptor.getInput();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type}, ValueRange{x}, x,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              return {arith::MulFOp::create(
                  b, l, a[0], floatConst(b, l, type.getElementType(), factor))};
            }));
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
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

struct MaximumGradLowering : OpConversionPattern<MaximumGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaximumGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getLhsGrad().getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
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

/// The table gradient: an scf.for over the (flattened) indices adds each
/// row of dy into its table row; out-of-range indices are skipped.
struct EmbeddingGradLowering : OpConversionPattern<EmbeddingGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto idsType = dyn_cast<RankedTensorType>(adaptor.getIndices().getType());
    if (!type || !idsType || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    int64_t rank = idsType.getRank();
    int64_t rows = type.getDimSize(0), width = type.getDimSize(1);
    Value ids = adaptor.getIndices(), dy = adaptor.getGrad();
    // Flatten the indices to (N) and dy to (N, width).
    if (rank != 1) {
      SmallVector<ReassociationIndices> all(1), lead(2);
      for (int64_t i = 0; i < rank; ++i) {
        all[0].push_back(i);
        lead[0].push_back(i);
      }
      lead[1].push_back(rank);
      ids = tensor::CollapseShapeOp::create(rewriter, loc, ids, all);
      dy = tensor::CollapseShapeOp::create(rewriter, loc, dy, lead);
    }
    Value table = splatConstant(rewriter, loc, type, 0.0);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value count = tensor::DimOp::create(rewriter, loc, ids, 0);
    Value numRows = arith::ConstantIndexOp::create(rewriter, loc, rows);
    auto rowType = RankedTensorType::get({width}, type.getElementType());
    auto sliceAt = [&](OpBuilder &b, Location l, Value t, Value row) {
      return tensor::ExtractSliceOp::create(
          b, l, rowType, t, SmallVector<OpFoldResult>{row, b.getIndexAttr(0)},
          SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(width)},
          SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
    };
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, count, one, ValueRange{table},
        [&](OpBuilder &b, Location l, Value i, ValueRange carried) {
          Value id = arith::IndexCastOp::create(
              b, l, b.getIndexType(),
              tensor::ExtractOp::create(b, l, ids, ValueRange{i}));
          Value inRange = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, id, zero),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, id,
                                    numRows));
          auto branch = scf::IfOp::create(
              b, l, inRange,
              [&](OpBuilder &tb, Location tl) {
                Value cur = sliceAt(tb, tl, carried[0], id);
                Value add = sliceAt(tb, tl, dy, i);
                Value sum =
                    elementwise(tb, tl, {rowType}, ValueRange{cur, add}, cur,
                                [](OpBuilder &eb, Location el,
                                   ValueRange a) -> SmallVector<Value> {
                                  return {addF(eb, el, a[0], a[1])};
                                })[0];
                Value updated = tensor::InsertSliceOp::create(
                    tb, tl, sum, carried[0],
                    SmallVector<OpFoldResult>{id, tb.getIndexAttr(0)},
                    SmallVector<OpFoldResult>{tb.getIndexAttr(1),
                                              tb.getIndexAttr(width)},
                    SmallVector<OpFoldResult>(2, tb.getIndexAttr(1)));
                scf::YieldOp::create(tb, tl, ValueRange{updated});
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, ValueRange{carried[0]});
              });
          scf::YieldOp::create(b, l, branch.getResults());
        });
    rewriter.replaceOp(op, loop.getResults());
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
struct ConcatenateLowering : OpConversionPattern<ConcatenateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatenateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
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

/// batch_norm: x * inv + (beta - mean * inv), inv = gamma / sqrt(var + eps),
/// as tf.nn.batch_normalization computes it.
struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Type et = type.getElementType();
    double eps = op.getEpsilon().convertToDouble();
    SmallVector<Value> params{adaptor.getMovingMean(),
                              adaptor.getMovingVariance()};
    bool hasGamma = static_cast<bool>(adaptor.getGamma());
    bool hasBeta = static_cast<bool>(adaptor.getBeta());
    if (hasGamma)
      params.push_back(adaptor.getGamma());
    if (hasBeta)
      params.push_back(adaptor.getBeta());
    auto vecType = cast<RankedTensorType>(params[0].getType());
    SmallVector<Value> scaleShift = elementwise(
        rewriter, loc, {vecType, vecType}, params, params[0],
        [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value inv = math::RsqrtOp::create(
              b, l, addF(b, l, a[1], floatConst(b, l, et, eps)));
          if (hasGamma)
            inv = arith::MulFOp::create(b, l, inv, a[2]);
          Value shift = arith::NegFOp::create(
              b, l, arith::MulFOp::create(b, l, a[0], inv));
          if (hasBeta)
            shift = addF(b, l, shift, a[hasGamma ? 3 : 2]);
          return {inv, shift};
        });
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(
        rank, 0, {rewriter.getAffineDimExpr(rank - 1)}, rewriter.getContext());
    Value x = adaptor.getInput();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type}, ValueRange{x, scaleShift[0], scaleShift[1]},
            x,
            [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              return {
                  addF(b, l, arith::MulFOp::create(b, l, a[0], a[1]), a[2])};
            },
            {rewriter.getMultiDimIdentityMap(rank), channel, channel}));
    return success();
  }
};

/// moments: the mean, then the mean of squared deviations from it (two
/// passes over the input, as a numerically safe variance needs).
struct MomentsLowering : OpConversionPattern<MomentsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MomentsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto vecType = dyn_cast<RankedTensorType>(op.getMean().getType());
    if (!vecType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Type et = vecType.getElementType();
    Value count = countAsFloat(rewriter, loc, x, et, /*allDims=*/false);
    auto divideByCount = [&](Value sum) {
      return elementwise(
          rewriter, loc, {vecType}, ValueRange{sum}, sum,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, a[0], count)};
          })[0];
    };
    Value mean = divideByCount(sumToChannels(
        rewriter, loc, x, ValueRange{x}, 1,
        [](OpBuilder &, Location, ValueRange a) -> SmallVector<Value> {
          return {a[0]};
        })[0]);
    Value variance = divideByCount(sumToChannels(
        rewriter, loc, x, ValueRange{x, mean}, 1,
        [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value d = arith::SubFOp::create(b, l, a[0], a[1]);
          return {arith::MulFOp::create(b, l, d, d)};
        })[0]);
    rewriter.replaceOp(op, {mean, variance});
    return success();
  }
};

/// moments_grad: (dmean + 2 dvariance (x - mean)) / count.
struct MomentsGradLowering : OpConversionPattern<MomentsGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MomentsGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Type et = type.getElementType();
    Value count = countAsFloat(rewriter, loc, x, et, /*allDims=*/false);
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(
        rank, 0, {rewriter.getAffineDimExpr(rank - 1)}, rewriter.getContext());
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type},
            ValueRange{x, adaptor.getMean(), adaptor.getMeanGrad(),
                       adaptor.getVarianceGrad()},
            x,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Value d = arith::SubFOp::create(b, l, a[0], a[1]);
              Value twoDv =
                  arith::MulFOp::create(b, l, a[3], floatConst(b, l, et, 2.0));
              Value sum =
                  addF(b, l, a[2], arith::MulFOp::create(b, l, twoDv, d));
              return {arith::DivFOp::create(b, l, sum, count)};
            },
            {id, channel, channel, channel}));
    return success();
  }
};

/// batch_norm_grad: two per-channel sums, S1 = sum(dy) and
/// S2 = sum(dy (x - mean)), give every channel gradient; dx is dy scaled by
/// gamma / sqrt(variance + epsilon).
struct BatchNormGradLowering : OpConversionPattern<BatchNormGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getInputGrad().getType());
    auto vecType = dyn_cast<RankedTensorType>(op.getMeanGrad().getType());
    if (!type || !vecType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Type et = type.getElementType();
    double eps = op.getEpsilon().convertToDouble();
    Value dy = adaptor.getOutputGrad(), x = adaptor.getInput();
    SmallVector<Value> sums = sumToChannels(
        rewriter, loc, x, ValueRange{dy, x, adaptor.getMean()}, 2,
        [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value d = arith::SubFOp::create(b, l, a[1], a[2]);
          return {a[0], arith::MulFOp::create(b, l, a[0], d)};
        });
    SmallVector<Value> vecInputs{adaptor.getVariance(), sums[0], sums[1]};
    bool hasGamma = static_cast<bool>(adaptor.getGamma());
    if (hasGamma)
      vecInputs.push_back(adaptor.getGamma());
    // rg = r gamma, dmean, dvariance, dgamma, dbeta.
    SmallVector<Value> vecs = elementwise(
        rewriter, loc, {vecType, vecType, vecType, vecType, vecType}, vecInputs,
        vecInputs[0],
        [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          auto mul = [&](Value p, Value q) {
            return arith::MulFOp::create(b, l, p, q).getResult();
          };
          Value r = math::RsqrtOp::create(
              b, l, addF(b, l, a[0], floatConst(b, l, et, eps)));
          Value rg = hasGamma ? mul(r, a[3]) : r;
          Value dmean = arith::NegFOp::create(b, l, mul(a[1], rg));
          Value dvar =
              mul(mul(mul(a[2], rg), mul(r, r)), floatConst(b, l, et, -0.5));
          return {rg, dmean, dvar, mul(a[2], r), a[1]};
        });
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(
        rank, 0, {rewriter.getAffineDimExpr(rank - 1)}, rewriter.getContext());
    Value dx = elementwise(
        rewriter, loc, {type}, ValueRange{dy, vecs[0]}, x,
        [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          return {arith::MulFOp::create(b, l, a[0], a[1])};
        },
        {rewriter.getMultiDimIdentityMap(rank), channel})[0];
    rewriter.replaceOp(op, {dx, vecs[1], vecs[2], vecs[3], vecs[4]});
    return success();
  }
};

/// embedding: a gather of table rows; an index outside [0, input_dim)
/// reads nothing and gives zeros.
struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value ids = adaptor.getIndices(), table = adaptor.getTable();
    Type et = type.getElementType();
    int64_t rank = type.getRank();
    Value rows = tensor::DimOp::create(rewriter, loc, table, 0);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type}, ValueRange{ids}, ids,
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Value id =
                  arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]);
              Value zeroIdx = arith::ConstantIndexOp::create(b, l, 0);
              Value inRange = arith::AndIOp::create(
                  b, l,
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, id,
                                        zeroIdx),
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, id,
                                        rows));
              Value safe = arith::SelectOp::create(b, l, inRange, id, zeroIdx);
              Value v = tensor::ExtractOp::create(
                  b, l, table,
                  ValueRange{safe, linalg::IndexOp::create(b, l, rank - 1)});
              return {arith::SelectOp::create(b, l, inRange, v,
                                              floatConst(b, l, et, 0.0))};
            },
            {dropAxisMap(rewriter.getContext(), rank, rank - 1)}));
    return success();
  }
};

/// Each element hashes (seed, step, linear index) with a 32-bit integer
/// mixer (multiply-xorshift rounds); the top 24 bits give u in [0, 1) and
/// the element is kept, scaled by 1 / (1 - rate), when u >= rate.
struct DropoutMaskLowering : OpConversionPattern<DropoutMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Type et = type.getElementType();
    Type i32 = rewriter.getI32Type();
    double rate = op.getRate().convertToDouble();
    uint64_t seed = op.getSeed();
    Value stepF = tensor::ExtractOp::create(rewriter, loc, adaptor.getStep(),
                                            ValueRange{});
    Value step = arith::FPToUIOp::create(rewriter, loc, i32, stepF);
    SmallVector<Value> dims;
    for (int64_t d = 0; d < type.getRank(); ++d)
      dims.push_back(
          tensor::DimOp::create(rewriter, loc, adaptor.getLike(), d));
    auto c32 = [&](OpBuilder &b, Location l, uint32_t v) -> Value {
      return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(v));
    };
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type}, ValueRange{}, adaptor.getLike(),
            [&](OpBuilder &b, Location l, ValueRange) -> SmallVector<Value> {
              // Row-major linear index of the element.
              Value index = arith::ConstantIndexOp::create(b, l, 0);
              for (int64_t d = 0; d < type.getRank(); ++d) {
                index = arith::MulIOp::create(b, l, index, dims[d]);
                index = arith::AddIOp::create(b, l, index,
                                              linalg::IndexOp::create(b, l, d));
              }
              Value h = arith::IndexCastUIOp::create(b, l, i32, index);
              auto mix = [&](Value x, uint32_t mul, unsigned shift) {
                x = arith::MulIOp::create(b, l, x, c32(b, l, mul));
                return arith::XOrIOp::create(
                    b, l, x, arith::ShRUIOp::create(b, l, x, c32(b, l, shift)));
              };
              h = arith::XOrIOp::create(
                  b, l, h,
                  arith::MulIOp::create(b, l, step, c32(b, l, 0x85EBCA77u)));
              h = arith::XOrIOp::create(
                  b, l, h,
                  c32(b, l, static_cast<uint32_t>(seed ^ (seed >> 32))));
              h = mix(h, 0x9E3779B1u, 16);
              h = mix(h, 0x2C1B3C6Du, 13);
              h = mix(h, 0x297A2D39u, 16);
              Value top = arith::ShRUIOp::create(b, l, h, c32(b, l, 8));
              Value u = arith::MulFOp::create(
                  b, l, arith::UIToFPOp::create(b, l, et, top),
                  floatConst(b, l, et, 1.0 / 16777216.0));
              Value keep =
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, u,
                                        floatConst(b, l, et, rate));
              return {arith::SelectOp::create(
                  b, l, keep, floatConst(b, l, et, 1.0 / (1.0 - rate)),
                  floatConst(b, l, et, 0.0))};
            })[0]);
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!outType || !inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Location loc = op.getLoc();
    Value flat = adaptor.getInput();
    if (inType.getRank() > 1) {
      SmallVector<ReassociationIndices> all(1);
      for (int64_t i = 0; i < inType.getRank(); ++i)
        all[0].push_back(i);
      flat = tensor::CollapseShapeOp::create(rewriter, loc, flat, all);
    }
    if (outType.getRank() == 1) {
      rewriter.replaceOp(op, flat);
      return success();
    }
    SmallVector<OpFoldResult> shape;
    shape.push_back(
        outType.isDynamicDim(0)
            ? OpFoldResult(
                  tensor::DimOp::create(rewriter, loc, adaptor.getInput(), 0)
                      .getResult())
            : OpFoldResult(rewriter.getIndexAttr(outType.getDimSize(0))));
    for (int64_t d : outType.getShape().drop_front())
      shape.push_back(rewriter.getIndexAttr(d));
    SmallVector<ReassociationIndices> all(1);
    for (int64_t i = 0; i < outType.getRank(); ++i)
      all[0].push_back(i);
    rewriter.replaceOp(op, tensor::ExpandShapeOp::create(rewriter, loc, outType,
                                                         flat, all, shape));
    return success();
  }
};

struct ReduceSumLowering : OpConversionPattern<ReduceSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReduceSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    rewriter.replaceOp(op,
                       reduceAxis(rewriter, op.getLoc(), adaptor.getInput(),
                                  static_cast<int64_t>(op.getAxis()), 0.0,
                                  [](OpBuilder &b, Location l, Value acc,
                                     Value v) { return addF(b, l, acc, v); }));
    return success();
  }
};

} // namespace

void codegen::populateCoreLoweringPatterns(RewritePatternSet &patterns) {
  patterns
      .add<DenseLowering, ActivationLowering, ActivationGradLowering,
           DropoutLowering, DropoutMaskLowering, MatmulLowering, AddLowering,
           MultiplyLowering, SubtractLowering, MaximumLowering, AverageLowering,
           ConcatenateLowering, BatchNormLowering, MomentsLowering,
           MomentsGradLowering, BatchNormGradLowering, EmbeddingLowering,
           ScaleLowering, SliceLowering, MaximumGradLowering,
           EmbeddingGradLowering, ReshapeLowering, ReduceSumLowering>(
          patterns.getContext());
}
