//===- Builders.cpp - Building blocks of the layer -> linalg lowering
//------===//
//
// See Builders.h. All helpers produce tensor-level linalg/arith/math ops, so
// the results stay fusable and bufferize in one place later.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"
#include "codegen/Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/bit.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;

/// An empty tensor of `type` whose dynamic size i is `dim(like, likeDims[i])`.
static Value emptyWithDims(OpBuilder &b, Location loc, RankedTensorType type,
                           Value like, ArrayRef<int64_t> likeDims) {
  SmallVector<Value> dynamic;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dynamic.push_back(tensor::DimOp::create(b, loc, like, likeDims[i]));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamic);
}

static SmallVector<int64_t> iota(int64_t n) {
  SmallVector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = i;
  return v;
}

Value codegen::emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                         Value like) {
  return emptyWithDims(b, loc, type, like, iota(type.getRank()));
}

Value codegen::floatConst(OpBuilder &b, Location loc, Type type, double value) {
  // A splat for vectors (the activations of the kernels' epilogues).
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(
        b, loc, vector,
        DenseElementsAttr::get(vector,
                               b.getFloatAttr(vector.getElementType(), value)));
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value Epilogue::apply(OpBuilder &b, Location loc, Value acc,
                      ValueRange index) const {
  auto type = cast<VectorType>(acc.getType());
  Value zero = floatConst(b, loc, type.getElementType(), 0.0);
  if (bias) {
    Value v = vector::TransferReadOp::create(b, loc, type, bias,
                                             ValueRange{index.back()}, zero,
                                             ArrayRef<bool>{true});
    acc = arith::AddFOp::create(b, loc, acc, v);
  }
  acc = activationScalar(b, loc, activation, acc);
  if (residual) {
    assert(index.size() ==
               static_cast<size_t>(
                   cast<RankedTensorType>(residual.getType()).getRank()) &&
           "a residual needs the output's whole index");
    Value r = vector::TransferReadOp::create(b, loc, type, residual, index,
                                             zero, ArrayRef<bool>{true});
    acc = arith::AddFOp::create(b, loc, acc, r);
  }
  return acc;
}

Value Epilogue::applyScalar(OpBuilder &b, Location loc, Value acc,
                            ValueRange index) const {
  if (bias)
    acc = arith::AddFOp::create(
        b, loc, acc,
        tensor::ExtractOp::create(b, loc, bias, ValueRange{index.back()}));
  acc = activationScalar(b, loc, activation, acc);
  if (residual)
    acc = arith::AddFOp::create(
        b, loc, acc, tensor::ExtractOp::create(b, loc, residual, index));
  return acc;
}

Value codegen::addF(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}

Value codegen::splatConstant(OpBuilder &b, Location loc, RankedTensorType type,
                             double value) {
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          type, Attribute(b.getFloatAttr(type.getElementType(), value))));
}

Value codegen::filledLike(OpBuilder &b, Location loc, RankedTensorType type,
                          Value like, double value) {
  Value empty = emptyLike(b, loc, type, like);
  Value scalar = floatConst(b, loc, type.getElementType(), value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

SmallVector<Value> codegen::elementwise(OpBuilder &b, Location loc,
                                        ArrayRef<RankedTensorType> resultTypes,
                                        ValueRange inputs, Value like,
                                        const BodyFn &body,
                                        ArrayRef<AffineMap> inputMaps) {
  int64_t rank = resultTypes.front().getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputMaps);
  if (maps.empty())
    maps.assign(inputs.size(), identity);
  maps.append(resultTypes.size(), identity);
  SmallVector<Value> outputs;
  SmallVector<Type> types;
  for (RankedTensorType t : resultTypes) {
    outputs.push_back(emptyLike(b, loc, t, like));
    types.push_back(t);
  }
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, types, inputs, outputs, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
  return SmallVector<Value>(generic.getResults());
}

AffineMap codegen::dropAxisMap(MLIRContext *ctx, int64_t rank, int64_t axis) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value codegen::reduceAxis(
    OpBuilder &b, Location loc, Value input, int64_t axis, double init,
    const std::function<Value(OpBuilder &, Location, Value, Value)> &combine,
    ValueRange extraInputs,
    const std::function<Value(OpBuilder &, Location, ValueRange)> &map) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape, likeDims;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis) {
      shape.push_back(type.getDimSize(i));
      likeDims.push_back(i);
    }
  auto outType = RankedTensorType::get(shape, type.getElementType());
  Value acc = emptyWithDims(b, loc, outType, input, likeDims);
  acc = linalg::FillOp::create(
            b, loc, floatConst(b, loc, type.getElementType(), init), acc)
            .getResult(0);

  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, extraInputs);
  // Extra inputs of the input's rank are read element-wise; those with the
  // reduced axis removed are broadcast along it.
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(cast<RankedTensorType>(v.getType()).getRank() == rank
                       ? b.getMultiDimIdentityMap(rank)
                       : dropAxisMap(b.getContext(), rank, axis));
  maps.push_back(dropAxisMap(b.getContext(), rank, axis));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[axis] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, inputs, ValueRange{acc}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = map ? map(nb, nloc, args.drop_back()) : args.front();
        linalg::YieldOp::create(nb, nloc, combine(nb, nloc, args.back(), v));
      });
  return generic.getResult(0);
}

Value codegen::multiplyAccumulate(OpBuilder &b, Location loc, Value lhs,
                                  Value rhs, Value init,
                                  ArrayRef<AffineMap> maps,
                                  ArrayRef<utils::IteratorType> iterators) {
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
             ValueRange{init}, maps, iterators,
             [](OpBuilder &nb, Location l, ValueRange v) {
               Value prod = arith::MulFOp::create(nb, l, v[0], v[1]);
               linalg::YieldOp::create(nb, l,
                                       ValueRange{addF(nb, l, v[2], prod)});
             })
      .getResult(0);
}

SmallVector<Value> codegen::sumToChannels(OpBuilder &b, Location loc,
                                          Value like, ValueRange inputs,
                                          unsigned numResults,
                                          const BodyFn &body) {
  auto type = cast<RankedTensorType>(like.getType());
  int64_t rank = type.getRank();
  Type et = type.getElementType();
  auto vecType = RankedTensorType::get({type.getShape().back()}, et);
  Value zero = floatConst(b, loc, et, 0.0);
  SmallVector<Value> inits;
  for (unsigned i = 0; i < numResults; ++i)
    inits.push_back(
        linalg::FillOp::create(
            b, loc, zero,
            tensor::EmptyOp::create(b, loc, vecType.getShape(), et).getResult())
            .getResult(0));
  AffineMap channel =
      AffineMap::get(rank, 0, {b.getAffineDimExpr(rank - 1)}, b.getContext());
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(cast<RankedTensorType>(v.getType()).getRank() == rank
                       ? b.getMultiDimIdentityMap(rank)
                       : channel);
  maps.append(numResults, channel);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  iterators.back() = utils::IteratorType::parallel;
  SmallVector<Type> types(numResults, vecType);
  auto generic = linalg::GenericOp::create(
      b, loc, types, inputs, inits, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        size_t n = inputs.size();
        SmallVector<Value> terms = body(nb, l, args.take_front(n));
        SmallVector<Value> sums;
        for (auto [acc, term] : llvm::zip(args.drop_front(n), terms))
          sums.push_back(arith::AddFOp::create(nb, l, acc, term));
        linalg::YieldOp::create(nb, l, sums);
      });
  return SmallVector<Value>(generic.getResults());
}

//===----------------------------------------------------------------------===//
// Register-blocked kernels
//===----------------------------------------------------------------------===//

Value KernelBuilder::index(OpBuilder &b, int64_t v) const {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value KernelBuilder::add(OpBuilder &b, Value l, Value r) const {
  return arith::AddIOp::create(b, loc, l, r);
}

Value KernelBuilder::mul(OpBuilder &b, Value v, int64_t k) const {
  return k == 1 ? v : arith::MulIOp::create(b, loc, v, index(b, k));
}

Value KernelBuilder::clamped(OpBuilder &b, Value v, int64_t k,
                             Value last) const {
  return arith::MinSIOp::create(b, loc, add(b, v, index(b, k)), last);
}

Value KernelBuilder::zeros(OpBuilder &b, VectorType type) const {
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0)));
}

SmallVector<Value> KernelBuilder::loop(OpBuilder &b, Value ub, int64_t step,
                                       ValueRange inits, Body body,
                                       bool parallel) const {
  auto forOp = scf::ForOp::create(
      b, loc, index(b, 0), ub, index(b, step), inits,
      [&](OpBuilder &lb, Location, Value iv, ValueRange args) {
        scf::YieldOp::create(lb, loc, body(lb, iv, args));
      });
  if (parallel)
    forOp->setAttr(kParallelLoopAttr, b.getUnitAttr());
  return forOp.getResults();
}

SmallVector<Value> KernelBuilder::loop(OpBuilder &b, int64_t ub, int64_t step,
                                       ValueRange inits, Body body,
                                       bool parallel) const {
  return loop(b, index(b, ub), step, inits, body, parallel);
}

Value KernelBuilder::imagesAndRows(
    OpBuilder &b, Value batch, int64_t rows, Value out,
    llvm::function_ref<Value(OpBuilder &, Value, Value, Value)> body,
    bool flat) const {
  if (!flat)
    return loop(
        b, batch, 1, out,
        [&](OpBuilder &b1, Value n, ValueRange a1) {
          return loop(
              b1, rows, 1, a1,
              [&](OpBuilder &b2, Value row, ValueRange a2) {
                return SmallVector<Value>{body(b2, n, row, a2[0])};
              },
              /*parallel=*/true);
        },
        /*parallel=*/true)[0];
  // One loop over (image, row) pairs: layer-parallel-loops parallelizes one
  // loop of a nest, chosen at compile time, and a loop over a dynamic batch
  // left a batch of one on one thread (the toy ResNet's first convolution
  // and its pooling at batch 1).
  Value total = arith::MulIOp::create(b, loc, batch, index(b, rows));
  return loop(
      b, total, 1, out,
      [&](OpBuilder &b1, Value i, ValueRange a1) {
        Value perImage = index(b1, rows);
        Value n = arith::DivUIOp::create(b1, loc, i, perImage);
        Value row = arith::RemUIOp::create(b1, loc, i, perImage);
        return SmallVector<Value>{body(b1, n, row, a1[0])};
      },
      /*parallel=*/true)[0];
}

int64_t codegen::vectorBitsAt(OpBuilder &b) {
  Block *block = b.getInsertionBlock();
  Operation *parent = block ? block->getParentOp() : nullptr;
  auto module = dyn_cast_or_null<ModuleOp>(parent);
  if (parent && !module)
    module = parent->getParentOfType<ModuleOp>();
  if (module)
    if (auto bits = module->getAttrOfType<IntegerAttr>(kVectorBitsAttr))
      return bits.getInt();
  return 256;
}

codegen::VectorBlocking codegen::vectorBlocking(Type et, int64_t size,
                                                int64_t bits,
                                                int64_t maxVectors) {
  int64_t width = et.getIntOrFloatBitWidth();
  int64_t accumulators = bits >= 512 ? 24 : 12;
  int64_t lanes = std::max<int64_t>(bits / width, 1);
  // Narrower vectors when the target's do not divide the axis.
  while (lanes > 128 / width && size % lanes != 0)
    lanes /= 2;
  int64_t vectors =
      std::min<int64_t>(std::max<int64_t>(size / lanes, 1), maxVectors);
  while ((size / lanes) % vectors != 0)
    --vectors;
  return {lanes, vectors, accumulators};
}

LogicalResult codegen::checkVectorBits(Operation *op, int64_t bits,
                                       StringRef pass) {
  if (bits == 0 || bits == 128 || bits == 256 || bits == 512)
    return success();
  return op->emitError() << pass
                         << ": vector-bits must be 0, 128, 256 or 512, not "
                         << bits;
}

layer::TileAttr codegen::chooseTiling(MLIRContext *ctx, Type et, int64_t size,
                                      int64_t bits, int64_t l1Bytes,
                                      int64_t l2Bytes, int64_t maxVectors) {
  if (bits == 0 || size <= 0 || !et.isIntOrFloat())
    return {};
  auto [lanes, vectors, accumulators] =
      vectorBlocking(et, size, bits, maxVectors);
  if (size % (lanes * vectors) != 0)
    return {};
  int64_t width = lanes * vectors, block = accumulators / vectors;
  int64_t bytes = std::max<int64_t>(et.getIntOrFloatBitWidth() / 8, 1);
  // In powers of two: a register block's slice of A (block x slice) in a
  // quarter of L1, beside the rows of B it streams; B's slice of a panel
  // (slice x panel) in half of L2, which the row blocks of A pass over.
  // Measured on Dense 1024 -> 1024 at batch 1024 (bench/sgemm.sh, a Xeon
  // with 48 KiB L1 and 2 MiB L2): slices of 512 by panels of 512 ran at
  // 181-183 GFLOP/s, 0.92-1.00x oneDNN, where the square 256 x 256 (a
  // quarter of L2) ran at 167-169, 0.87-0.90x; slices of 1024 (half of L1
  // for A) fell to 143-149.
  auto floorPow2 = [](int64_t x) {
    return static_cast<int64_t>(
        llvm::bit_floor(static_cast<uint64_t>(std::max<int64_t>(x, 1))));
  };
  int64_t slice = floorPow2(l1Bytes / 4 / (block * bytes));
  int64_t panel = floorPow2(l2Bytes / 2 / (slice * bytes));
  panel = std::max(width, panel / width * width);
  // Packing costs one copy of B's slice per panel, read by every block of
  // rows: it pays from 64 rows, and where B's rows are far apart (two
  // panels or more: a narrower B, as an MLP's, stays in cache as it is).
  constexpr int64_t kPackRows = 64;
  return layer::TileAttr::get(ctx, lanes, vectors, block, panel,
                              std::max<int64_t>(slice, 1), kPackRows, 2 * panel,
                              /*winograd=*/0);
}

layer::TileAttr codegen::tilingOf(Operation *op, OpBuilder &b,
                                  RankedTensorType outType) {
  if (vectorBitsAt(b) == 0)
    return {};
  if (auto tile =
          !op ? layer::TileAttr()
              : op->getAttrOfType<layer::TileAttr>(layer::kTileAttrName))
    return tile;
  if (outType.getRank() == 0)
    return {};
  return chooseTiling(b.getContext(), outType.getElementType(),
                      outType.getShape().back(), vectorBitsAt(b),
                      kDefaultL1Bytes, kDefaultL2Bytes);
}

Value codegen::activationScalar(OpBuilder &b, Location loc,
                                layer::Activation kind, Value x) {
  Type t = x.getType();
  switch (kind) {
  case layer::Activation::Linear:
    return x;
  case layer::Activation::Relu:
    return arith::MaximumFOp::create(b, loc, x, floatConst(b, loc, t, 0.0));
  case layer::Activation::Sigmoid: {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    Value one = floatConst(b, loc, t, 1.0);
    return arith::DivFOp::create(b, loc, one,
                                 arith::AddFOp::create(b, loc, one, e));
  }
  case layer::Activation::Tanh:
    return math::TanhOp::create(b, loc, x);
  case layer::Activation::Gelu: {
    // 0.5 x (1 + erf(x / sqrt(2))), Keras's exact (non-approximate) GELU.
    Value e = math::ErfOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, x, floatConst(b, loc, t, M_SQRT1_2)));
    Value half = arith::MulFOp::create(b, loc, x, floatConst(b, loc, t, 0.5));
    return arith::MulFOp::create(
        b, loc, half,
        arith::AddFOp::create(b, loc, e, floatConst(b, loc, t, 1.0)));
  }
  case layer::Activation::Elu:
  case layer::Activation::Selu: {
    // x > 0 ? x : alpha (exp(x) - 1), times scale for selu.
    bool selu = kind == layer::Activation::Selu;
    double alpha = selu ? kSeluAlpha : 1.0, scale = selu ? kSeluScale : 1.0;
    Value zero = floatConst(b, loc, t, 0.0);
    Value neg = arith::MulFOp::create(
        b, loc, floatConst(b, loc, t, alpha),
        arith::SubFOp::create(b, loc, math::ExpOp::create(b, loc, x),
                              floatConst(b, loc, t, 1.0)));
    Value pos =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
    Value y = arith::SelectOp::create(b, loc, pos, x, neg);
    return selu ? Value(arith::MulFOp::create(b, loc, y,
                                              floatConst(b, loc, t, scale)))
                : y;
  }
  case layer::Activation::Swish:
    return arith::MulFOp::create(
        b, loc, x, activationScalar(b, loc, layer::Activation::Sigmoid, x));
  case layer::Activation::HardSigmoid: {
    // Keras 3's piecewise-linear sigmoid: relu6(x + 3) / 6, that is
    // clip(x / 6 + 0.5, 0, 1) (Keras 2's was clip(0.2 x + 0.5, 0, 1)).
    Value y = arith::AddFOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, x, floatConst(b, loc, t, 1.0 / 6.0)),
        floatConst(b, loc, t, 0.5));
    y = arith::MaximumFOp::create(b, loc, y, floatConst(b, loc, t, 0.0));
    return arith::MinimumFOp::create(b, loc, y, floatConst(b, loc, t, 1.0));
  }
  case layer::Activation::Softmax:
    break;
  }
  llvm_unreachable("softmax is not element-wise");
}

/// Activation derivatives (layer.activation_grad and recurrent backward
/// passes); see Builders.h.
Value codegen::activationGradScalar(OpBuilder &b, Location l,
                                    layer::Activation act, Value g, Value xv,
                                    Value yv) {
  using layer::Activation;
  Type et = g.getType();
  Value one = floatConst(b, l, et, 1.0);
  switch (act) {
  case Activation::Relu: {
    Value zero = floatConst(b, l, et, 0.0);
    Value pos =
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, xv, zero);
    return arith::SelectOp::create(b, l, pos, g, zero);
  }
  case Activation::Sigmoid: {
    Value d =
        arith::MulFOp::create(b, l, yv, arith::SubFOp::create(b, l, one, yv));
    return arith::MulFOp::create(b, l, g, d);
  }
  case Activation::Tanh: {
    Value sq = arith::MulFOp::create(b, l, yv, yv);
    return arith::MulFOp::create(b, l, g, arith::SubFOp::create(b, l, one, sq));
  }
  case Activation::Gelu: {
    // 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi).
    Value cdf = arith::MulFOp::create(
        b, l, floatConst(b, l, et, 0.5),
        arith::AddFOp::create(
            b, l, one,
            math::ErfOp::create(
                b, l,
                arith::MulFOp::create(b, l, xv,
                                      floatConst(b, l, et, M_SQRT1_2)))));
    Value x2 = arith::MulFOp::create(b, l, xv, xv);
    Value pdf = arith::MulFOp::create(
        b, l,
        math::ExpOp::create(
            b, l, arith::MulFOp::create(b, l, x2, floatConst(b, l, et, -0.5))),
        floatConst(b, l, et, 0.5 * M_2_SQRTPI * M_SQRT1_2));
    Value d =
        arith::AddFOp::create(b, l, cdf, arith::MulFOp::create(b, l, xv, pdf));
    return arith::MulFOp::create(b, l, g, d);
  }
  case Activation::Elu:
  case Activation::Selu: {
    // x > 0 ? scale : scale alpha exp(x).
    bool selu = act == Activation::Selu;
    double alpha = selu ? kSeluAlpha : 1.0, scale = selu ? kSeluScale : 1.0;
    Value pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, xv,
                                      floatConst(b, l, et, 0.0));
    Value negD =
        arith::MulFOp::create(b, l, floatConst(b, l, et, scale * alpha),
                              math::ExpOp::create(b, l, xv));
    Value d =
        arith::SelectOp::create(b, l, pos, floatConst(b, l, et, scale), negD);
    return arith::MulFOp::create(b, l, g, d);
  }
  case Activation::Swish: {
    // s + x s (1 - s), s = sigmoid(x).
    Value s = activationScalar(b, l, Activation::Sigmoid, xv);
    Value ds =
        arith::MulFOp::create(b, l, s, arith::SubFOp::create(b, l, one, s));
    Value d =
        arith::AddFOp::create(b, l, s, arith::MulFOp::create(b, l, xv, ds));
    return arith::MulFOp::create(b, l, g, d);
  }
  case Activation::HardSigmoid: {
    // 1/6 inside (-3, 3), 0 where the output is clipped.
    Value inside = arith::AndIOp::create(
        b, l,
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, xv,
                              floatConst(b, l, et, -3.0)),
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, xv,
                              floatConst(b, l, et, 3.0)));
    return arith::SelectOp::create(
        b, l, inside,
        arith::MulFOp::create(b, l, g, floatConst(b, l, et, 1.0 / 6.0)),
        floatConst(b, l, et, 0.0));
  }
  default:
    return g;
  }
}

static Value rowMax(OpBuilder &b, Location loc, Value x) {
  int64_t axis = cast<RankedTensorType>(x.getType()).getRank() - 1;
  return reduceAxis(b, loc, x, axis, -std::numeric_limits<double>::infinity(),
                    [](OpBuilder &nb, Location l, Value acc, Value v) {
                      return arith::MaximumFOp::create(nb, l, acc, v);
                    });
}

/// exp(x - rowMax) and the row sums of it.
static std::pair<Value, Value> shiftedExp(OpBuilder &b, Location loc, Value x,
                                          Value max) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap bcast = dropAxisMap(b.getContext(), rank, rank - 1);
  Value e = elementwise(
      b, loc, {type}, ValueRange{x, max}, x,
      [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {math::ExpOp::create(nb, l,
                                    arith::SubFOp::create(nb, l, a[0], a[1]))};
      },
      {id, bcast})[0];
  Value sum = reduceAxis(b, loc, e, rank - 1, 0.0,
                         [](OpBuilder &nb, Location l, Value acc, Value v) {
                           return arith::AddFOp::create(nb, l, acc, v);
                         });
  return {e, sum};
}

Value codegen::softmax(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  auto [e, sum] = shiftedExp(b, loc, x, rowMax(b, loc, x));
  return elementwise(
      b, loc, {type}, ValueRange{e, sum}, x,
      [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {arith::DivFOp::create(nb, l, a[0], a[1])};
      },
      {b.getMultiDimIdentityMap(rank),
       dropAxisMap(b.getContext(), rank, rank - 1)})[0];
}

Value codegen::contractLastAxis(OpBuilder &b, Location loc, Value x, Value w) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t rank = xType.getRank();
  SmallVector<int64_t> shape(xType.getShape());
  shape.back() = wType.getDimSize(1);
  auto outType = RankedTensorType::get(shape, xType.getElementType());
  Value init = filledLike(b, loc, outType, x, 0.0);
  // Loops: d0..d(rank-2) = leading axes, d(rank-1) = k, d(rank) = n.
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> xExprs, outExprs;
  for (int64_t i = 0; i < rank - 1; ++i) {
    xExprs.push_back(getAffineDimExpr(i, ctx));
    outExprs.push_back(getAffineDimExpr(i, ctx));
  }
  AffineExpr k = getAffineDimExpr(rank - 1, ctx),
             n = getAffineDimExpr(rank, ctx);
  xExprs.push_back(k);
  outExprs.push_back(n);
  SmallVector<utils::IteratorType> iterators(rank + 1,
                                             utils::IteratorType::parallel);
  iterators[rank - 1] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{x, w}, ValueRange{init},
      SmallVector<AffineMap>{AffineMap::get(rank + 1, 0, xExprs, ctx),
                             AffineMap::get(rank + 1, 0, {k, n}, ctx),
                             AffineMap::get(rank + 1, 0, outExprs, ctx)},
      iterators, [](OpBuilder &nb, Location l, ValueRange a) {
        Value prod = arith::MulFOp::create(nb, l, a[0], a[1]);
        linalg::YieldOp::create(
            nb, l, ValueRange{arith::AddFOp::create(nb, l, a[2], prod)});
      });
  return generic.getResult(0);
}

Value codegen::biasAndActivation(OpBuilder &b, Location loc, Value y,
                                 Value bias, layer::Activation act) {
  auto type = cast<RankedTensorType>(y.getType());
  int64_t rank = type.getRank();
  bool elementwiseAct =
      act != layer::Activation::Linear && act != layer::Activation::Softmax;
  if (bias || elementwiseAct) {
    SmallVector<Value> inputs{y};
    SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
    if (bias) {
      inputs.push_back(bias);
      maps.push_back(
          AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, b.getContext())},
                         b.getContext()));
    }
    layer::Activation fused = elementwiseAct ? act : layer::Activation::Linear;
    y = elementwise(
        b, loc, {type}, inputs, y,
        [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
          Value v = inputs.size() == 2
                        ? Value(arith::AddFOp::create(nb, l, a[0], a[1]))
                        : a[0];
          return {activationScalar(nb, l, fused, v)};
        },
        maps)[0];
  }
  if (act == layer::Activation::Softmax)
    y = softmax(b, loc, y);
  return y;
}

Value codegen::logSumExp(OpBuilder &b, Location loc, Value x) {
  Value max = rowMax(b, loc, x);
  Value sum = shiftedExp(b, loc, x, max).second;
  auto type = cast<RankedTensorType>(sum.getType());
  return elementwise(
      b, loc, {type}, ValueRange{sum, max}, sum,
      [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {arith::AddFOp::create(nb, l, math::LogOp::create(nb, l, a[0]),
                                      a[1])};
      })[0];
}

Value codegen::countAsFloat(OpBuilder &b, Location loc, Value tensor, Type type,
                            bool allDims) {
  auto t = cast<RankedTensorType>(tensor.getType());
  int64_t n = allDims ? t.getRank() : t.getRank() - 1;
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t i = 0; i < n; ++i)
    count = arith::MulIOp::create(b, loc, count,
                                  tensor::DimOp::create(b, loc, tensor, i));
  Value asInt =
      arith::IndexCastOp::create(b, loc, b.getI64Type(), count).getResult();
  return arith::SIToFPOp::create(b, loc, type, asInt);
}

void codegen::assertAllInRange(OpBuilder &b, Location loc, Value values,
                               Value upper, StringRef message) {
  auto type = cast<RankedTensorType>(values.getType());
  int64_t rank = type.getRank();
  Value init =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getI1Type());
  Value falseValue = arith::ConstantIntOp::create(b, loc, 0, 1);
  init = linalg::FillOp::create(b, loc, falseValue, init).getResult(0);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, {}, b.getContext())};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto any = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{values}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = arith::IndexCastOp::create(nb, l, nb.getIndexType(), args[0]);
        Value zero = arith::ConstantIndexOp::create(nb, l, 0);
        Value below =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, v, zero);
        Value above =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, v, upper);
        Value bad = arith::OrIOp::create(nb, l, below, above);
        linalg::YieldOp::create(
            nb, l, arith::OrIOp::create(nb, l, args[1], bad).getResult());
      });
  Value found =
      tensor::ExtractOp::create(b, loc, any.getResult(0), ValueRange{});
  Value trueValue = arith::ConstantIntOp::create(b, loc, 1, 1);
  Value ok = arith::XOrIOp::create(b, loc, found, trueValue);
  cf::AssertOp::create(b, loc, ok, message);
}

Value codegen::sumAll(
    OpBuilder &b, Location loc, Value x,
    const std::function<Value(OpBuilder &, Location, Value)> &map) {
  auto type = cast<RankedTensorType>(x.getType());
  auto scalarType = RankedTensorType::get({}, type.getElementType());
  Value acc = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{},
                                      type.getElementType());
  acc = linalg::FillOp::create(
            b, loc, floatConst(b, loc, type.getElementType(), 0.0), acc)
            .getResult(0);
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(type.getRank()),
      AffineMap::get(type.getRank(), 0, b.getContext())};
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, TypeRange{scalarType}, ValueRange{x}, ValueRange{acc},
             maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value v = map ? map(nb, l, a[0]) : a[0];
               linalg::YieldOp::create(nb, l, ValueRange{addF(nb, l, a[1], v)});
             })
      .getResult(0);
}

/// Pads the spatial axes of a channels-last `x` with `value`.
Value codegen::padSpatial(OpBuilder &b, Location loc, Value x,
                          ArrayRef<int64_t> before, ArrayRef<int64_t> after,
                          double value) {
  if (llvm::all_of(before, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(after, [](int64_t v) { return v == 0; }))
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> low{b.getIndexAttr(0)}, high{b.getIndexAttr(0)};
  SmallVector<int64_t> shape{type.getDimSize(0)};
  for (size_t i = 0; i < before.size(); ++i) {
    low.push_back(b.getIndexAttr(before[i]));
    high.push_back(b.getIndexAttr(after[i]));
    shape.push_back(type.getDimSize(i + 1) + before[i] + after[i]);
  }
  low.push_back(b.getIndexAttr(0));
  high.push_back(b.getIndexAttr(0));
  shape.push_back(type.getShape().back());
  auto padded = RankedTensorType::get(shape, type.getElementType());
  Value pad = floatConst(b, loc, type.getElementType(), value);
  return tensor::PadOp::create(b, loc, padded, x, low, high, pad);
}

/// A zero tensor of `shape` whose dynamic batch comes from `like`.
Value codegen::zerosLike(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                         Type et, Value like) {
  return filledLike(b, loc, RankedTensorType::get(shape, et), like, 0.0);
}
