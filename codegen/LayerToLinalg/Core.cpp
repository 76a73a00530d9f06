//===- Core.cpp - Lowering of core layers ---------------------------------===//
//
// layer.dense becomes linalg.matmul plus one element-wise generic for bias
// and activation (softmax adds its reductions); inputs of rank > 2 are one
// generic contraction over the last axis (contractLastAxis). Transposed matmuls
// (gradients) are generic contractions. Dropout lowers to its inference
// behaviour, the identity; dropout_mask hashes each element's position.
// Embeddings gather table rows (their gradient adds the rows of dy back in
// an scf.for), reshape is a collapse and an expand, reduce_sum a reduction.
//
// The merges (add, ..., concatenate) are in Merging.cpp, batch
// normalization and moments in Normalization.cpp.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;
using namespace layerc::layer;

namespace {

/// x (M x K) times w (K x N) where N is not whole vectors (an MLP's
/// Dense(10) logits): w's columns padded with zeros to whole vectors of the
/// target's width, the register-blocked kernel, then the first N columns
/// of its result (the loops of linalg.matmul ran a scalar FMA, a load and a
/// store per step: 18% of the guide MLP's time at batch 64 for 1% of its
/// FLOPs). Null on a GPU target or where w is not static.
static Value matmulPaddedColumns(OpBuilder &b, Location loc, Value x, Value w,
                                 RankedTensorType type) {
  auto wType = cast<RankedTensorType>(w.getType());
  Type et = type.getElementType();
  int64_t bits = vectorBitsAt(b);
  if (bits == 0 || !wType.hasStaticShape() || !et.isIntOrFloat())
    return Value();
  int64_t lanes = std::max<int64_t>(bits / et.getIntOrFloatBitWidth(), 1);
  int64_t n = wType.getDimSize(1);
  int64_t padded = (n + lanes - 1) / lanes * lanes;
  Value zero = floatConst(b, loc, et, 0.0);
  Value wp = tensor::createPadHighOp(
      RankedTensorType::get({wType.getDimSize(0), padded}, et), w, zero,
      /*nofold=*/false, loc, b);
  auto pType = RankedTensorType::get({type.getDimSize(0), padded}, et);
  Value y = matmulVectorized(b, loc, x, wp, /*transposeA=*/false, pType,
                             tilingOf(nullptr, b, pType));
  if (!y)
    return Value();
  OpFoldResult rows =
      type.isDynamicDim(0)
          ? OpFoldResult(tensor::DimOp::create(b, loc, x, 0).getResult())
          : OpFoldResult(b.getIndexAttr(type.getDimSize(0)));
  return tensor::ExtractSliceOp::create(
      b, loc, type, y,
      SmallVector<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
      SmallVector<OpFoldResult>{rows, b.getIndexAttr(n)},
      SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

struct DenseLowering : RankedLowering<DenseOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(DenseOp op, OpAdaptor adaptor, RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!inType)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    Value x = adaptor.getInput();
    Value y;
    Epilogue epilogue{adaptor.getBias(), op.getActivation()};
    if (inType.getRank() > 2) {
      y = contractLastAxis(rewriter, loc, x, adaptor.getKernel());
    } else {
      auto mmType = RankedTensorType::get(
          {inType.getDimSize(0), outType.getShape().back()},
          outType.getElementType());
      y = matmulVectorized(rewriter, loc, x, adaptor.getKernel(), false, mmType,
                           tilingOf(op, rewriter, mmType), &epilogue);
      if (!y)
        y = matmulPaddedColumns(rewriter, loc, x, adaptor.getKernel(), mmType);
      if (!y) {
        Value init = filledLike(rewriter, loc, mmType, x, 0.0);
        y = linalg::MatmulOp::create(rewriter, loc, TypeRange{mmType},
                                     ValueRange{x, adaptor.getKernel()},
                                     ValueRange{init})
                .getResult(0);
      }
    }
    if (!epilogue.applied)
      y = biasAndActivation(rewriter, loc, y, adaptor.getBias(),
                            op.getActivation());
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct ActivationLowering : RankedLowering<ActivationOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ActivationOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Activation act = op.getActivation();
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
struct ActivationGradLowering : RankedLowering<ActivationGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ActivationGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value dy = adaptor.getGrad(), x = adaptor.getInput(),
          y = adaptor.getOutput();
    Activation act = op.getActivation();
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

/// x > t ? x : 0, or with `mask` x > t ? 1 : 0.
struct ThresholdLowering : RankedLowering<ThresholdOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ThresholdOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double t = op.getThreshold().convertToDouble();
    bool mask = op.getMask();
    Type et = type.getElementType();
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, op.getLoc(), {type}, ValueRange{adaptor.getInput()},
            adaptor.getInput(),
            [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
              Value above =
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a[0],
                                        floatConst(b, l, et, t));
              return {arith::SelectOp::create(
                  b, l, above, mask ? floatConst(b, l, et, 1.0) : a[0],
                  floatConst(b, l, et, 0.0))};
            })[0]);
    return success();
  }
};

/// Ops that are the identity outside a training step (dropout and the
/// noise layers; an activity regularizer, whose penalty layer-autodiff
/// adds to the loss).
template <typename OpT> struct IdentityLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

/// A 32-bit counter-based generator: each element hashes (seed, step, its
/// linear index in the global batch, a stream number) with an integer
/// mixer (multiply-xorshift rounds); the top 24 bits give a uniform u in
/// [0, 1). Elements that differ only on shared axes get one index (those
/// axes count as size 1), so they draw the same noise.
struct NoiseHash {
  OpBuilder &b;
  Location l;
  Type et;
  Value step; // i32
  uint32_t seed;

  Value c32(uint32_t v) {
    return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(v));
  }
  Value mix(Value x, uint32_t mul, unsigned shift) {
    x = arith::MulIOp::create(b, l, x, c32(mul));
    return arith::XOrIOp::create(b, l, x,
                                 arith::ShRUIOp::create(b, l, x, c32(shift)));
  }
  /// The top 24 bits of the hash of `index` in stream `stream`, in [0, 2^24).
  Value bits(Value index, uint32_t stream) {
    Value h = arith::IndexCastUIOp::create(b, l, b.getI32Type(), index);
    h = arith::XOrIOp::create(
        b, l, h, arith::MulIOp::create(b, l, step, c32(0x85EBCA77u)));
    h = arith::XOrIOp::create(b, l, h, c32(seed ^ (stream * 0x27D4EB2Fu)));
    h = mix(h, 0x9E3779B1u, 16);
    h = mix(h, 0x2C1B3C6Du, 13);
    h = mix(h, 0x297A2D39u, 16);
    return arith::ShRUIOp::create(b, l, h, c32(8));
  }
  Value c(double v) { return floatConst(b, l, et, v); }
  /// u in [0, 1) (`plusOne`: (0, 1], for a logarithm).
  Value uniform(Value index, uint32_t stream, bool plusOne = false) {
    Value top = bits(index, stream);
    if (plusOne)
      top = arith::AddIOp::create(b, l, top, c32(1));
    return arith::MulFOp::create(b, l, arith::UIToFPOp::create(b, l, et, top),
                                 c(1.0 / 16777216.0));
  }
  /// A standard normal from two uniforms (Box-Muller).
  Value normal(Value index) {
    Value u1 = uniform(index, 1, /*plusOne=*/true), u2 = uniform(index, 2);
    Value radius = math::SqrtOp::create(
        b, l,
        arith::MulFOp::create(b, l, c(-2.0), math::LogOp::create(b, l, u1)));
    Value angle = arith::MulFOp::create(b, l, c(2.0 * M_PI), u2);
    return arith::MulFOp::create(b, l, radius,
                                 math::CosOp::create(b, l, angle));
  }
};

/// The noise of one element, from its (shared-axis-collapsed) index:
/// dropout's 0 or 1 / (1 - rate), normals scaled for gaussian_dropout and
/// gaussian_noise, AlphaDropout's affine terms (Keras's a, b and alpha').
Value noiseValue(NoiseHash &h, DropoutMaskOp op, Value index) {
  double rate = op.getRate().convertToDouble();
  auto keep = [&] {
    return arith::CmpFOp::create(h.b, h.l, arith::CmpFPredicate::OGE,
                                 h.uniform(index, 0), h.c(rate));
  };
  auto mul = [&](Value x, double f) {
    return arith::MulFOp::create(h.b, h.l, x, h.c(f));
  };
  switch (op.getNoise()) {
  case Noise::Dropout:
    return arith::SelectOp::create(h.b, h.l, keep(), h.c(1.0 / (1.0 - rate)),
                                   h.c(0.0));
  case Noise::GaussianDropout:
    return arith::AddFOp::create(
        h.b, h.l, h.c(1.0),
        mul(h.normal(index), std::sqrt(rate / (1.0 - rate))));
  case Noise::GaussianNoise:
    return mul(h.normal(index), op.getStddev().convertToDouble());
  case Noise::AlphaDropout: {
    const double alphaP =
        -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;
    double a = std::pow((1.0 - rate) * (1.0 + rate * alphaP * alphaP), -0.5);
    double bias = -a * alphaP * rate;
    if (op.getShift())
      return arith::SelectOp::create(h.b, h.l, keep(), h.c(bias),
                                     h.c(a * alphaP + bias));
    return arith::SelectOp::create(h.b, h.l, keep(), h.c(a), h.c(0.0));
  }
  }
  llvm_unreachable("unknown noise");
}

struct DropoutMaskLowering : RankedLowering<DropoutMaskOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(DropoutMaskOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type();
    uint64_t seed = op.getSeed();
    Value stepF = tensor::ExtractOp::create(rewriter, loc, adaptor.getStep(),
                                            ValueRange{});
    Value step = arith::FPToUIOp::create(rewriter, loc, i32, stepF);
    llvm::SmallDenseSet<int64_t> shared(op.getSharedAxes().begin(),
                                        op.getSharedAxes().end());
    // Sizes of the noise's own shape: 1 on shared axes.
    SmallVector<Value> dims;
    for (int64_t d = 0; d < type.getRank(); ++d)
      dims.push_back(
          shared.contains(d)
              ? arith::ConstantIndexOp::create(rewriter, loc, 1).getResult()
              : tensor::DimOp::create(rewriter, loc, adaptor.getLike(), d)
                    .getResult());
    // A shard starting at sample `offset` of its global batch starts at
    // linear index offset * (noise values per sample) of that batch.
    Value first = arith::ConstantIndexOp::create(rewriter, loc, 0);
    if (Value offset = adaptor.getOffset()) {
      Value offsetF =
          tensor::ExtractOp::create(rewriter, loc, offset, ValueRange{});
      first = arith::IndexCastUIOp::create(
          rewriter, loc, rewriter.getIndexType(),
          arith::FPToUIOp::create(rewriter, loc, rewriter.getI64Type(),
                                  offsetF));
      for (int64_t d = 1; d < type.getRank(); ++d)
        first = arith::MulIOp::create(rewriter, loc, first, dims[d]);
    }
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, {type}, ValueRange{}, adaptor.getLike(),
            [&](OpBuilder &b, Location l, ValueRange) -> SmallVector<Value> {
              // Row-major linear index in the noise's shape.
              Value index = arith::ConstantIndexOp::create(b, l, 0);
              for (int64_t d = 0; d < type.getRank(); ++d) {
                if (shared.contains(d))
                  continue;
                index = arith::MulIOp::create(b, l, index, dims[d]);
                index = arith::AddIOp::create(b, l, index,
                                              linalg::IndexOp::create(b, l, d));
              }
              index = arith::AddIOp::create(b, l, index, first);
              NoiseHash hash{b, l, type.getElementType(), step,
                             static_cast<uint32_t>(seed ^ (seed >> 32))};
              return {noiseValue(hash, op, index)};
            })[0]);
    return success();
  }
};

/// lhs x rhs into a zero-filled result of `type` (`dynamic`: its unknown
/// sizes): linalg.matmul without `maps`, else a generic over `maps` /
/// `iterators`.
Value contract(ConversionPatternRewriter &rewriter, Location loc,
               RankedTensorType type, Value lhs, Value rhs, ValueRange dynamic,
               ArrayRef<AffineMap> maps,
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
  return multiplyAccumulate(rewriter, loc, lhs, rhs, init, maps, iterators);
}

struct MatmulLowering : RankedLowering<MatmulOp> {
  using RankedLowering::RankedLowering;

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
    rewriter.replaceOp(
        op, contract(rewriter, loc, type, a, bm, dynamic, maps, iterators));
    return success();
  }

  LogicalResult lower(MatmulOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value a = adaptor.getLhs(), bm = adaptor.getRhs();
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    if (cast<RankedTensorType>(a.getType()).getRank() > 2)
      return lowerBatched(op, type, a, bm, ta, tb, rewriter);
    // Register-blocked when the columns are whole vectors; a transposed rhs
    // (a kernel, small and static) is transposed first so its rows are
    // contiguous.
    auto bType = cast<RankedTensorType>(bm.getType());
    layer::TileAttr tile = tilingOf(op, rewriter, type);
    int64_t columns = type.getDimSize(1);
    if ((!tb || bType.hasStaticShape()) && tile && columns > 0 &&
        columns % (tile.getLanes() * tile.getVectors()) == 0) {
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
      if (Value c = matmulVectorized(rewriter, loc, a, rhs, ta, type, tile)) {
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
      rewriter.replaceOp(op,
                         contract(rewriter, loc, type, a, bm, dynamic, {}, {}));
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
    rewriter.replaceOp(
        op, contract(rewriter, loc, type, a, bm, dynamic, maps, iterators));
    return success();
  }
};

struct ScaleLowering : RankedLowering<ScaleOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ScaleOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    double factor = op.getFactor().convertToDouble();
    Value x = adaptor.getInput();
    // A factor of zero makes zeros (ops::zerosLike, the slabs of ZeroPadding
    // and of causal padding), even where x is infinite or NaN.
    if (factor == 0.0) {
      rewriter.replaceOp(op, filledLike(rewriter, op.getLoc(), type, x, 0.0));
      return success();
    }
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

/// embedding: a gather of table rows; an index outside [0, input_dim)
/// reads nothing and gives zeros.
struct EmbeddingLowering : RankedLowering<EmbeddingOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(EmbeddingOp op, OpAdaptor adaptor, RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
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

/// The table gradient: an scf.for over the (flattened) indices adds each
/// row of dy into its table row; out-of-range indices are skipped.
struct EmbeddingGradLowering : RankedLowering<EmbeddingGradOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(EmbeddingGradOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    auto idsType = dyn_cast<RankedTensorType>(adaptor.getIndices().getType());
    if (!idsType || !type.hasStaticShape())
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

struct ReshapeLowering : RankedLowering<ReshapeOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ReshapeOp op, OpAdaptor adaptor, RankedTensorType outType,
                      ConversionPatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
    if (!inType)
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

struct ReduceSumLowering : RankedLowering<ReduceSumOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(ReduceSumOp op, OpAdaptor adaptor, RankedTensorType,
                      ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       reduceAxis(rewriter, op.getLoc(), adaptor.getInput(),
                                  static_cast<int64_t>(op.getAxis()), 0.0,
                                  [](OpBuilder &b, Location l, Value acc,
                                     Value v) { return addF(b, l, acc, v); }));
    return success();
  }
};

/// batch_matmul: one generic, the leading axes and the rows and columns
/// parallel, the contraction a reduction (transposes folded into the maps).
struct BatchMatmulLowering : RankedLowering<BatchMatmulOp> {
  using RankedLowering::RankedLowering;
  LogicalResult lower(BatchMatmulOp op, OpAdaptor adaptor,
                      RankedTensorType type,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value a = adaptor.getLhs(), bm = adaptor.getRhs();
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    int64_t r = type.getRank();
    unsigned loops = static_cast<unsigned>(r + 1);
    SmallVector<AffineExpr> lead;
    for (int64_t d = 0; d + 2 < r; ++d)
      lead.push_back(getAffineDimExpr(d, ctx));
    AffineExpr i = getAffineDimExpr(r - 2, ctx),
               j = getAffineDimExpr(r - 1, ctx), k = getAffineDimExpr(r, ctx);
    auto with = [&](AffineExpr x, AffineExpr y) {
      SmallVector<AffineExpr> e(lead);
      e.push_back(x);
      e.push_back(y);
      return AffineMap::get(loops, 0, e, ctx);
    };
    SmallVector<AffineMap> maps = {ta ? with(k, i) : with(i, k),
                                   tb ? with(j, k) : with(k, j), with(i, j)};
    SmallVector<utils::IteratorType> iterators(r,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < r; ++d) {
      if (!type.isDynamicDim(d))
        continue;
      if (d == r - 1)
        dynamic.push_back(
            tensor::DimOp::create(rewriter, loc, bm, tb ? r - 2 : r - 1));
      else if (d == r - 2)
        dynamic.push_back(
            tensor::DimOp::create(rewriter, loc, a, ta ? r - 1 : r - 2));
      else
        dynamic.push_back(tensor::DimOp::create(rewriter, loc, a, d));
    }
    rewriter.replaceOp(
        op, contract(rewriter, loc, type, a, bm, dynamic, maps, iterators));
    return success();
  }
};

} // namespace

void codegen::populateCoreLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<DenseLowering, ActivationLowering, ActivationGradLowering,
               IdentityLowering<DropoutOp>,
               IdentityLowering<ActivityRegularizationOp>, DropoutMaskLowering,
               ThresholdLowering, MatmulLowering, BatchMatmulLowering,
               ScaleLowering, EmbeddingLowering, EmbeddingGradLowering,
               ReshapeLowering, ReduceSumLowering>(patterns.getContext());
}
