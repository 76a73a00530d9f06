//===- Builders.h - Building blocks of the layer -> linalg lowering -*- C++
//-*-===//
//
// Every lowering in this folder is a composition of a few tensor-level
// building blocks: empty/zero tensors whose dynamic (batch) sizes come from
// an operand, element-wise linalg.generics, reductions over one axis, and
// the scalar math of activations. Keeping them here keeps each op's lowering
// a few lines long.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_LAYERTOLINALG_BUILDERS_H
#define LAYERC_CODEGEN_LAYERTOLINALG_BUILDERS_H

#include "dialect/LayerOps.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <functional>

namespace layerc::codegen {

using BodyFn = std::function<mlir::SmallVector<mlir::Value>(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// The pattern of an op whose lowering needs its shapes: it matches once
/// the op's (first) result is a ranked tensor, which `lower` gets as
/// `type`; before shape inference it leaves the op, which the conversion
/// then reports. Lowerings with more to check do it in `lower`.
template <typename OpTy>
struct RankedLowering : mlir::OpConversionPattern<OpTy> {
  using mlir::OpConversionPattern<OpTy>::OpConversionPattern;

  virtual mlir::LogicalResult
  lower(OpTy op, typename OpTy::Adaptor adaptor, mlir::RankedTensorType type,
        mlir::ConversionPatternRewriter &rewriter) const = 0;

  mlir::LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  mlir::ConversionPatternRewriter &rewriter) const final {
    auto type =
        mlir::dyn_cast<mlir::RankedTensorType>(op->getResult(0).getType());
    if (!type)
      return rewriter.notifyMatchFailure(op, "shapes not inferred");
    return lower(op, adaptor, type, rewriter);
  }
};

/// An uninitialised tensor of `type`; each dynamic size i is `dim(like, i)`.
mlir::Value emptyLike(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::RankedTensorType type, mlir::Value like);
/// The same, filled with `value`.
mlir::Value filledLike(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::RankedTensorType type, mlir::Value like,
                       double value);

/// A static-shaped tensor constant with every element `value`.
mlir::Value splatConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::RankedTensorType type, double value);
/// A float constant of `type` (f32 or f64).
mlir::Value floatConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                       double value);
/// x + y on floats: the combine of every sum.
mlir::Value addF(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                 mlir::Value y);

/// An all-parallel linalg.generic over the shape of `resultTypes[0]`
/// (sizes taken from `like`): inputs are read through `inputMaps` (identity
/// when empty), outputs are fresh tensors; `body` gets the input scalars
/// (then the outputs' current values) and returns one value per output.
mlir::SmallVector<mlir::Value>
elementwise(mlir::OpBuilder &b, mlir::Location loc,
            mlir::ArrayRef<mlir::RankedTensorType> resultTypes,
            mlir::ValueRange inputs, mlir::Value like, const BodyFn &body,
            mlir::ArrayRef<mlir::AffineMap> inputMaps = {});

/// The map that reads a tensor of rank `rank - 1` (axis `axis` removed)
/// inside a loop nest of rank `rank`: a broadcast along `axis`.
mlir::AffineMap dropAxisMap(mlir::MLIRContext *ctx, int64_t rank, int64_t axis);

/// Reduces `input` over `axis` (which disappears) starting from `init`:
/// acc = combine(acc, map(inputs...)). `extraInputs` have the input's shape
/// or the reduced shape (then they are broadcast along `axis`); `map` gets
/// the scalars of input then extraInputs and may use linalg.index.
mlir::Value reduceAxis(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value input, int64_t axis,
    double init,
    const std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                    mlir::Value acc, mlir::Value v)> &combine,
    mlir::ValueRange extraInputs = {},
    const std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                    mlir::ValueRange)> &map = nullptr);

/// The sum of every element of `x` (each through `map` when given) as a
/// rank-0 tensor.
mlir::Value
sumAll(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
       const std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                       mlir::Value)> &map = nullptr);

/// init += lhs * rhs as one linalg.generic over the loops of `maps` (lhs,
/// rhs, init) and `iterators`: the contractions the named ops do not cover
/// (transposed or batched matmuls, convolution gradients, interpolation
/// matrices).
mlir::Value
multiplyAccumulate(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                   mlir::Value rhs, mlir::Value init,
                   mlir::ArrayRef<mlir::AffineMap> maps,
                   mlir::ArrayRef<mlir::utils::IteratorType> iterators);

/// Sums over every axis but the last of `like`: one channel vector (rank 1)
/// per value `body` returns, each accumulated from 0. `inputs` have the
/// shape of `like` or are channel vectors (broadcast); `body` gets their
/// scalars.
mlir::SmallVector<mlir::Value>
sumToChannels(mlir::OpBuilder &b, mlir::Location loc, mlir::Value like,
              mlir::ValueRange inputs, unsigned numResults, const BodyFn &body);

/// Index arithmetic and value-carrying scf.for loops for the
/// register-blocked kernels (convolutions in Conv.cpp, matmuls in Core.cpp):
/// loops over vectors whose accumulators the loops carry, so they stay in
/// registers.
struct KernelBuilder {
  using Body = llvm::function_ref<mlir::SmallVector<mlir::Value>(
      mlir::OpBuilder &, mlir::Value, mlir::ValueRange)>;
  mlir::Location loc;

  mlir::Value index(mlir::OpBuilder &b, int64_t v) const;
  mlir::Value add(mlir::OpBuilder &b, mlir::Value l, mlir::Value r) const;
  mlir::Value mul(mlir::OpBuilder &b, mlir::Value v, int64_t k) const;
  /// min(v + k, last): a lane of a block clamped to the last position.
  mlir::Value clamped(mlir::OpBuilder &b, mlir::Value v, int64_t k,
                      mlir::Value last) const;
  mlir::Value zeros(mlir::OpBuilder &b, mlir::VectorType type) const;
  /// for (iv = 0; iv < ub; iv += step), `inits` carried. A `parallel`
  /// loop's iterations write disjoint parts of the carried tensors and read
  /// nothing another iteration writes: it is marked kParallelLoopAttr, and
  /// layer-parallel-loops may run it on several threads.
  mlir::SmallVector<mlir::Value> loop(mlir::OpBuilder &b, mlir::Value ub,
                                      int64_t step, mlir::ValueRange inits,
                                      Body body, bool parallel = false) const;
  /// The same to a constant bound.
  mlir::SmallVector<mlir::Value> loop(mlir::OpBuilder &b, int64_t ub,
                                      int64_t step, mlir::ValueRange inits,
                                      Body body, bool parallel = false) const;
  /// for (n < batch) for (row < rows): the image and output-row loops of an
  /// NHWC kernel, `out` carried, as one parallel loop over both: threads
  /// split the rows of all the images, a batch of one too. `flat = false`
  /// keeps two nested loops (the images parallel, or the rows of a batch of
  /// 1 known at compile time), as the copies still do: their rows are short,
  /// and a flat copy was not measured on its own.
  mlir::Value imagesAndRows(
      mlir::OpBuilder &b, mlir::Value batch, int64_t rows, mlir::Value out,
      llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Value n,
                                     mlir::Value row, mlir::Value out)>
          body,
      bool flat = true) const;
};

/// The unit attribute of an scf.for whose iterations are independent (see
/// KernelBuilder::loop).
inline constexpr llvm::StringLiteral kParallelLoopAttr = "layerc.parallel";

/// The module attribute (i64) through which layer-to-linalg's `vector-bits`
/// option reaches the kernels while the conversion runs.
inline constexpr llvm::StringLiteral kVectorBitsAttr = "layerc.vector_bits";
/// The target's vector width for kernels built at `b`'s insertion point:
/// the enclosing module's kVectorBitsAttr, else 256 (AVX2). A block not yet
/// in a module (the body builder of an op under construction) gets 256.
int64_t vectorBitsAt(mlir::OpBuilder &b);

/// How a register-blocked kernel covers a last axis: `vectors` vectors of
/// `lanes` elements per block, and `accumulators` vector registers for a
/// block of outputs (at most `maxVectors` vectors). The widest vectors of
/// at most the target's `bits` that divide the axis are used (a 512-bit
/// target still runs an axis of 8
/// floats in 256-bit vectors); the accumulators leave room for a block's
/// operand vectors and a broadcast: 12 of AVX2's 16 registers, 24 of
/// AVX-512's 32.
struct VectorBlocking {
  int64_t lanes, vectors, accumulators;
};
VectorBlocking vectorBlocking(mlir::Type et, int64_t size, int64_t bits,
                              int64_t maxVectors = 2);
/// Whether a last axis of `size` elements of `et` is whole vectors, so the
/// register-blocked kernels apply (checked before building their operands).
inline bool fillsVectors(mlir::OpBuilder &b, mlir::Type et, int64_t size) {
  return size > 0 && vectorBitsAt(b) != 0 &&
         size % vectorBlocking(et, size, vectorBitsAt(b)).lanes == 0;
}

/// Success when `bits` is a vector width the kernels know (0, 128, 256 or
/// 512); otherwise an error on `op` that names `pass`'s option.
mlir::LogicalResult checkVectorBits(mlir::Operation *op, int64_t bits,
                                    llvm::StringRef pass);

/// The tiling layer-tile gives a register-blocked kernel whose output's last
/// axis has `size` elements of `et`, on a target with `bits`-bit vectors
/// and these caches (Passes.td, layer-tile), with at most `maxVectors`
/// vectors per register block; null when the axis is not whole vectors or
/// `bits` is 0.
layer::TileAttr chooseTiling(mlir::MLIRContext *ctx, mlir::Type et,
                             int64_t size, int64_t bits, int64_t l1Bytes,
                             int64_t l2Bytes, int64_t maxVectors = 2);
/// The tiling of the kernel that computes `outType` for `op`: its
/// layer.tile (if `op` is not null), else chooseTiling for the module's vector
/// width (vectorBitsAt) and the default caches. Null: no register-blocked
/// kernel (a GPU target, an axis that is not whole vectors).
layer::TileAttr tilingOf(mlir::Operation *op, mlir::OpBuilder &b,
                         mlir::RankedTensorType outType);

struct Epilogue;

/// C = A B (A^T with `transposeA`) for rank-2 A (M x R, or R x M) and B
/// (R x N, rows contiguous), N a multiple of the vector lanes, tiled as
/// `tile` says: in panels of `panel` columns of C and slices of `slice` of
/// R (cache blocks; B's slice of a panel packed from `pack_rows` rows and
/// `pack_columns` columns), blocks of `block` rows of C by `vectors`
/// vectors accumulate in registers, and the rows left over are done 4 and
/// then one at a time. The threads split the panels where B is packed, the
/// row blocks once where all of B's panel fits the tile's budget for a
/// slice (a batch of 1 starts none), else the row blocks of every slice.
/// M and R may be dynamic. Null when N does not fit or `tile` is null.
mlir::Value matmulVectorized(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value a, mlir::Value bm, bool transposeA,
                             mlir::RankedTensorType type, layer::TileAttr tile,
                             Epilogue *epilogue = nullptr);

/// Keras's SELU constants.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

/// Scalar activation for the element-wise kinds (not softmax).
mlir::Value activationScalar(mlir::OpBuilder &b, mlir::Location loc,
                             layer::Activation kind, mlir::Value x);
/// g * act'(x) for the element-wise kinds, written with whichever of x and
/// y = act(x) is cheaper; `kind` not softmax.
mlir::Value activationGradScalar(mlir::OpBuilder &b, mlir::Location loc,
                                 layer::Activation kind, mlir::Value g,
                                 mlir::Value x, mlir::Value y);
/// Softmax over the last axis of `x` (max-subtracted, stable).
mlir::Value softmax(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);
/// The bias and activation of a dense or convolution, applied by its
/// register-blocked kernel to each block of accumulators before it is
/// written (no second pass over the result), or by biasAndActivation after
/// it. `applied` says which: the kernel sets it.
struct Epilogue {
  mlir::Value bias; // rank 1, along the last axis; may be null
  layer::Activation activation = layer::Activation::Linear;
  bool applied = false;
  /// A convolution's residual (layer-fuse): the output's type, added after
  /// the activation; may be null.
  mlir::Value residual;

  /// Whether a kernel can apply it to blocks (softmax needs a whole row).
  bool blockwise() const { return activation != layer::Activation::Softmax; }
  /// `acc` (the vector of outputs at `index`, the channel last: the first
  /// of the vector's) plus the bias, through the activation, plus the
  /// residual there. Without a residual the index may be the channel alone.
  mlir::Value apply(mlir::OpBuilder &b, mlir::Location loc, mlir::Value acc,
                    mlir::ValueRange index) const;
  /// The same for one output (a scalar `acc`).
  mlir::Value applyScalar(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value acc, mlir::ValueRange index) const;
};

/// The epilogue of dense and convolutions: adds `bias` (rank 1, along the
/// last axis; may be null) and applies `act` (softmax over the last axis).
mlir::Value biasAndActivation(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value y, mlir::Value bias,
                              layer::Activation act);
/// x (..., k) times w (k, n) -> (..., n) as one linalg.generic whose loops
/// are (..., k, n): the reduction outside the unit-stride n loop, so LLVM
/// vectorizes it. For inputs of rank > 2, instead of collapse -> matmul ->
/// expand (MLIR 22's expand-strided-metadata crashes on an expand_shape
/// with two dynamic sizes in one group, e.g. batch and sequence length).
mlir::Value contractLastAxis(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value x, mlir::Value w);
/// A channels-last convolution (Keras's cross-correlation) of `input` by
/// `kernel (k..., in / groups, filters)` giving `outType` (which fixes the
/// output sizes): `same` pads as TensorFlow. The register-blocked kernel
/// applies a blockwise `epilogue` (and marks it applied); otherwise no
/// bias, no activation. It is tiled as `tile` says (null: the default of
/// tilingOf).
mlir::Value convolve(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                     mlir::Value kernel, llvm::ArrayRef<int64_t> strides,
                     llvm::ArrayRef<int64_t> dilations, bool same,
                     int64_t groups, mlir::RankedTensorType outType,
                     Epilogue *epilogue = nullptr, layer::TileAttr tile = {});
/// A 2-D ungrouped convolution of the (already padded) NHWC `x` by a
/// (kh, kw, channels, filters) `kernel`, register-blocked the way oneDNN's
/// direct kernels are, tiled as `tile` says (ConvKernels.cpp). Applies a
/// blockwise `epilogue` (and marks it applied). Null when the filters are
/// not whole blocks of the tile's vectors or the shape is not static.
mlir::Value
convolveVectorized(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                   mlir::Value kernel, llvm::ArrayRef<int64_t> strides,
                   llvm::ArrayRef<int64_t> dil, mlir::RankedTensorType outType,
                   layer::TileAttr tile, Epilogue *epilogue = nullptr);
/// The same convolution by Winograd's F(2 x 2, 3 x 3) (Winograd.cpp), when
/// `tile` asks for it (winograd = 2) and it applies: a 3 x 3 kernel of
/// static shape, `x` padded to the output's rows and columns (each at least
/// 2) plus 2, stride and dilation 1, whole blocks of the tile's filter
/// vectors. Applies a blockwise `epilogue` (and marks it applied). Null
/// otherwise.
mlir::Value convolveWinograd(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value x, mlir::Value kernel,
                             mlir::RankedTensorType outType,
                             layer::TileAttr tile,
                             Epilogue *epilogue = nullptr);
/// The kernel gradient of a 2-D convolution of the (already padded) `x`
/// with output gradient `dy`, giving `type` (kh, kw, channels, filters),
/// register-blocked and tiled as `tile` says (ConvKernels.cpp). Null when
/// it does not apply.
mlir::Value filterGradVectorized(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value x, mlir::Value dy,
                                 llvm::ArrayRef<int64_t> strides,
                                 llvm::ArrayRef<int64_t> dil,
                                 mlir::RankedTensorType type,
                                 layer::TileAttr tile);
/// A 2-D ungrouped convolution of the (already padded) NHWC `x` by a
/// (kh, kw, channels, filters) `kernel` whose filters are too few to fill
/// vectors (SmallChannels.cpp): the vectors run over the input channels, and
/// the accumulators of a block of output columns stay in registers through
/// the window. Applies a blockwise `epilogue` (and marks it applied). Null
/// when the channels are not whole vectors or the filters more than half
/// the accumulators.
mlir::Value convolveFewFilters(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value x, mlir::Value kernel,
                               llvm::ArrayRef<int64_t> strides,
                               llvm::ArrayRef<int64_t> dilations,
                               mlir::RankedTensorType outType,
                               Epilogue *epilogue = nullptr);
/// The block size, at most `most`, that covers `size` in the fewest
/// blocks with the least overshoot (Conv.cpp).
int64_t evenBlock(int64_t size, int64_t most);
/// `dst` with each pixel (n, h, w) of the rank-4 `src`, h < counts[0] and
/// w < counts[1], copied to pixel (n, offsets[0] + h steps[0], offsets[1] +
/// w steps[1]): a transposed convolution's scatter, as vector copies of the
/// channels (VectorCopies.cpp). Null unless the channels are whole vectors.
mlir::Value scatterVectorized(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value src, mlir::Value dst,
                              llvm::ArrayRef<int64_t> offsets,
                              llvm::ArrayRef<int64_t> counts,
                              llvm::ArrayRef<int64_t> steps);
/// Nearest 2-D upsampling of the NHWC `x` by `size` to `outType`, as vector
/// copies of the channels (VectorCopies.cpp). Null unless the channels are
/// whole vectors and the output rows and columns static.
mlir::Value upsampleNearestVectorized(mlir::OpBuilder &b, mlir::Location loc,
                                      mlir::Value x,
                                      mlir::RankedTensorType outType,
                                      llvm::ArrayRef<int64_t> size);
/// log(sum(exp(x))) over the last axis, stable.
mlir::Value logSumExp(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// The number of rows (product of all dims but the last, or all dims when
/// `allDims`) as a float scalar of `type`.
mlir::Value countAsFloat(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value tensor, mlir::Type type, bool allDims);

/// A run-time check that every element of the integer tensor `values` lies
/// in [0, upper) (`upper` an index): one pass that ORs the violations, then
/// a `cf.assert` with `message` (an error code of the exported function).
void assertAllInRange(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value values, mlir::Value upper,
                      llvm::StringRef message);

/// Window helpers of the convolution and pooling lowerings (Conv.cpp).

/// Pads the spatial axes of a channels-last `x` with `value`.
mlir::Value padSpatial(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       llvm::ArrayRef<int64_t> before,
                       llvm::ArrayRef<int64_t> after, double value);
/// A zero tensor of `shape` whose dynamic batch comes from `like`.
mlir::Value zerosLike(mlir::OpBuilder &b, mlir::Location loc,
                      llvm::ArrayRef<int64_t> shape, mlir::Type et,
                      mlir::Value like);
/// The padded shape and per-axis (before, after) padding of a window op.
struct Padding {
  llvm::SmallVector<int64_t> before, after, paddedShape;
};
Padding windowPadding(mlir::RankedTensorType input,
                      mlir::RankedTensorType output,
                      llvm::ArrayRef<int64_t> window,
                      llvm::ArrayRef<int64_t> strides, bool same);
/// The unpadded region [before, before + size) of a padded gradient.
mlir::Value cropPadding(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value padded, mlir::RankedTensorType type,
                        const Padding &p, mlir::Value like);

/// Pattern-population entry points, one per layer family.
void populateCoreLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateMergingLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateNormalizationLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateConvLoweringPatterns(mlir::RewritePatternSet &patterns);
void populatePoolingLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateRecurrentLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateRecurrentGradLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateLossLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateOptimizerLoweringPatterns(mlir::RewritePatternSet &patterns);

} // namespace layerc::codegen

#endif // LAYERC_CODEGEN_LAYERTOLINALG_BUILDERS_H
