//===- ConvKernels.cpp - The register-blocked convolution kernels ---------===//
//
// The CPU's 2-D convolution kernels written with vectors, tiled as the op's
// layer.tile says: the forward convolution (convolveVectorized: also the
// transposed convolution and the input gradient, as convolutions) and the
// kernel gradient (filterGradVectorized).
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <optional>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;

namespace {
/// The sizes of a 2-D register-blocked kernel: the kernel window, its input
/// channels and filters, the output rows and columns, and (from its
/// layer.tile) the blocking of the filters into `fv` vectors of `vl` lanes
/// by `block` output columns (input channels for a filter gradient).
struct Kernel2D {
  int64_t kh, kw, channels, filters, oh, ow, vl, fv, block;
};

/// Kernel2D for an input of `xType`, a (kh, kw, channels, filters) kernel
/// shape `kType` and an output (or output gradient) of `outType`; none when
/// the register-blocked kernels do not apply: the input is not 2-D, the
/// kernel shape not static, the filters not whole blocks of `tile`'s
/// vectors, or the output rows or columns unknown or 0.
} // namespace

static std::optional<Kernel2D> kernel2D(RankedTensorType xType,
                                        RankedTensorType kType,
                                        RankedTensorType outType, Type et,
                                        layer::TileAttr tile) {
  if (!tile || xType.getRank() != 4 || !kType.hasStaticShape() ||
      !et.isIntOrFloat())
    return std::nullopt;
  Kernel2D k;
  k.kh = kType.getDimSize(0);
  k.kw = kType.getDimSize(1);
  k.channels = kType.getDimSize(2);
  k.filters = kType.getDimSize(3);
  k.oh = outType.getDimSize(1);
  k.ow = outType.getDimSize(2);
  k.vl = tile.getLanes();
  k.fv = tile.getVectors();
  k.block = tile.getBlock();
  if (k.filters % (k.vl * k.fv) != 0 || ShapedType::isDynamic(k.oh) ||
      ShapedType::isDynamic(k.ow) || k.oh == 0 || k.ow == 0)
    return std::nullopt;
  return k;
}

/// A 2-D ungrouped convolution of the (already padded) `x` written as
/// loops over vectors, register-blocked the way oneDNN's direct kernels
/// are: each (batch, output row, block of `wt` output columns, block of
/// `fv` vectors of filters) keeps its wt x fv accumulators in registers
/// through the whole reduction over (kh, kw, input channel), each step one
/// load per filter vector, one broadcast per column and wt x fv FMAs. The
/// last column block is clamped (its extra columns recompute and rewrite
/// the last column), so no masks are needed. Returns null when the filters
/// are not whole vectors (of at least 128 bits) or the shape is not static.
Value codegen::convolveVectorized(OpBuilder &b, Location loc, Value x,
                                  Value kernel, ArrayRef<int64_t> strides,
                                  ArrayRef<int64_t> dil,
                                  RankedTensorType outType,
                                  layer::TileAttr tile, Epilogue *epilogue) {
  Type et = outType.getElementType();
  std::optional<Kernel2D> k =
      kernel2D(cast<RankedTensorType>(x.getType()),
               cast<RankedTensorType>(kernel.getType()), outType, et, tile);
  if (!k)
    return Value();
  auto [kh, kw, channels, filters, oh, ow, vl, fv, most] = *k;
  int64_t wt = evenBlock(ow, most);
  bool fuse = epilogue && epilogue->blockwise();
  if (fuse)
    epilogue->applied = true;
  auto vecType = VectorType::get({vl}, et);
  KernelBuilder kb{loc};
  Value zeroScalar = floatConst(b, loc, et, 0.0);
  Value zeroVector = kb.zeros(b, vecType);

  // One step of the reduction: input channel c at kernel offset (i, j),
  // for the block's input row `ih`, input columns `iws` and filters `fs`.
  auto fmaStep = [&](OpBuilder &nb, Value n, Value ih, ArrayRef<Value> iws,
                     Value i, Value j, Value c, ArrayRef<Value> fs,
                     ValueRange acc) {
    SmallVector<Value> ks, next;
    for (Value f : fs)
      ks.push_back(vector::TransferReadOp::create(
          nb, loc, vecType, kernel, ValueRange{i, j, c, f}, zeroScalar,
          ArrayRef<bool>{true}));
    for (auto [w, iw] : llvm::enumerate(iws)) {
      Value xs =
          tensor::ExtractOp::create(nb, loc, x, ValueRange{n, ih, iw, c});
      Value bx = vector::BroadcastOp::create(nb, loc, vecType, xs);
      for (int64_t v = 0; v < fv; ++v)
        next.push_back(
            vector::FMAOp::create(nb, loc, bx, ks[v], acc[w * fv + v]));
    }
    return next;
  };
  // The wt x fv accumulators of output row `row`, columns `cols`, filters
  // `fs`: the whole reduction over (kh, kw, input channel).
  auto block = [&](OpBuilder &nb, Value n, Value row, ArrayRef<Value> cols,
                   ArrayRef<Value> fs) {
    SmallVector<Value> zeros(wt * fv, zeroVector);
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
                return kb.loop(b2, channels, 1, a2,
                               [&](OpBuilder &b3, Value c, ValueRange acc) {
                                 return fmaStep(b3, n, ih, iws, i, j, c, fs,
                                                acc);
                               });
              });
        });
  };
  // The output loops: batch, row, column blocks, filter blocks.
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  auto columns = [&](OpBuilder &nb, Value n, Value row, Value t) {
    return kb.loop(
        nb, ow, wt, t, [&](OpBuilder &b1, Value col0, ValueRange a1) {
          SmallVector<Value> cols;
          for (int64_t w = 0; w < wt; ++w)
            cols.push_back(kb.clamped(b1, col0, w, kb.index(b1, ow - 1)));
          return kb.loop(b1, filters, vl * fv, a1,
                         [&](OpBuilder &b2, Value f0, ValueRange a2) {
                           SmallVector<Value> fs;
                           for (int64_t v = 0; v < fv; ++v)
                             fs.push_back(kb.add(b2, f0, kb.index(b2, v * vl)));
                           SmallVector<Value> acc = block(b2, n, row, cols, fs);
                           Value written = a2[0];
                           for (auto [w, col] : llvm::enumerate(cols))
                             for (auto [v, f] : llvm::enumerate(fs)) {
                               Value out = acc[w * fv + v];
                               if (fuse)
                                 out = epilogue->apply(
                                     b2, loc, out, ValueRange{n, row, col, f});
                               written = vector::TransferWriteOp::create(
                                             b2, loc, out, written,
                                             ValueRange{n, row, col, f},
                                             ArrayRef<bool>{true})
                                             .getResult();
                             }
                           return SmallVector<Value>{written};
                         });
        })[0];
  };
  return kb.imagesAndRows(b, batch, oh, out, columns);
}

/// The kernel gradient of a 2-D convolution, dk[i, j, c, f] = sum over
/// (n, oh, ow) of x[n, oh s + i d, ow s + j d, c] dy[n, oh, ow, f], with
/// `x` already padded, register-blocked like convolveVectorized: a block
/// of `ct` channels by `fv` vectors of filters accumulates in registers
/// over one output row (ow), and is added to dk after each row, so the rows
/// of x and dy it reads stay in cache. The last channel block is clamped.
/// The batch is split into kGradientChunks parts that run in parallel, each
/// adding into a copy of dk of its own; the copies are summed at the end.
/// (A reduction over the batch otherwise leaves nothing to share between
/// threads: this kernel ran on one core while the rest of a training step
/// ran on all.) Null when it does not apply.
Value codegen::filterGradVectorized(OpBuilder &b, Location loc, Value x,
                                    Value dy, ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> dil,
                                    RankedTensorType type,
                                    layer::TileAttr tile) {
  Type et = type.getElementType();
  std::optional<Kernel2D> k =
      kernel2D(cast<RankedTensorType>(x.getType()), type,
               cast<RankedTensorType>(dy.getType()), et, tile);
  if (!k)
    return Value();
  auto [kh, kw, channels, filters, oh, ow, vl, fv, most] = *k;
  int64_t ct = evenBlock(channels, most);
  auto vecType = VectorType::get({vl}, et);
  KernelBuilder kb{loc};
  Value zeroScalar = floatConst(b, loc, et, 0.0);
  // Parts of the batch, each with its copy of dk, zeroed and summed once
  // per call. The toy ResNet's train_step (batch 32) on 2 threads took
  // 34 ms with one part, 25 with 4 or 8, 28.5 with 16; on 1 thread 53 ms
  // with 1, 4 or 8 parts, 56 with 16 (bench/train_step). 8 parts keep 8
  // cores busy at a cost this machine does not measure.
  constexpr int64_t kGradientChunks = 8;
  Value parts = splatConstant(
      b, loc,
      RankedTensorType::get({kGradientChunks, kh, kw, channels, filters}, et),
      0.0);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  Value part; // the chunk whose copy of dk rowBody adds into
  auto rowBody = [&](OpBuilder &b1, Value n, Value row, Value dkIn) -> Value {
    return kb.loop(b1, kh, 1, dkIn, [&](OpBuilder &b2, Value i, ValueRange a2) {
      Value ih = kb.add(b2, kb.mul(b2, row, strides[0]), kb.mul(b2, i, dil[0]));
      return kb.loop(b2, kw, 1, a2, [&](OpBuilder &b3, Value j, ValueRange a3) {
        Value jw = kb.mul(b3, j, dil[1]);
        return kb.loop(
            b3, channels, ct, a3, [&](OpBuilder &b4, Value c0, ValueRange a4) {
              SmallVector<Value> cs;
              for (int64_t c = 0; c < ct; ++c)
                cs.push_back(kb.clamped(b4, c0, c, kb.index(b4, channels - 1)));
              return kb.loop(
                  b4, filters, vl * fv, a4,
                  [&](OpBuilder &b5, Value f0, ValueRange a5) {
                    SmallVector<Value> fs, acc;
                    for (int64_t v = 0; v < fv; ++v)
                      fs.push_back(kb.add(b5, f0, kb.index(b5, v * vl)));
                    for (Value c : cs)
                      for (Value f : fs)
                        acc.push_back(vector::TransferReadOp::create(
                            b5, loc, vecType, a5[0],
                            ValueRange{part, i, j, c, f}, zeroScalar,
                            ArrayRef<bool>{true}));
                    SmallVector<Value> sums = kb.loop(
                        b5, ow, 1, acc,
                        [&](OpBuilder &b6, Value col, ValueRange a6) {
                          Value iw =
                              kb.add(b6, kb.mul(b6, col, strides[1]), jw);
                          SmallVector<Value> gs, next;
                          for (Value f : fs)
                            gs.push_back(vector::TransferReadOp::create(
                                b6, loc, vecType, dy,
                                ValueRange{n, row, col, f}, zeroScalar,
                                ArrayRef<bool>{true}));
                          for (auto [ci, c] : llvm::enumerate(cs)) {
                            Value xs = tensor::ExtractOp::create(
                                b6, loc, x, ValueRange{n, ih, iw, c});
                            Value bx = vector::BroadcastOp::create(b6, loc,
                                                                   vecType, xs);
                            for (int64_t v = 0; v < fv; ++v)
                              next.push_back(vector::FMAOp::create(
                                  b6, loc, bx, gs[v], a6[ci * fv + v]));
                          }
                          return next;
                        });
                    Value t = a5[0];
                    for (auto [ci, c] : llvm::enumerate(cs))
                      for (int64_t v = 0; v < fv; ++v)
                        t = vector::TransferWriteOp::create(
                                b5, loc, sums[ci * fv + v], t,
                                ValueRange{part, i, j, c, fs[v]},
                                ArrayRef<bool>{true})
                                .getResult();
                    return SmallVector<Value>{t};
                  });
            });
      });
    })[0];
  };
  // Chunk p takes the images [p * batch / chunks, (p + 1) * batch / chunks).
  auto bound = [&](OpBuilder &b1, Value p) -> Value {
    Value scaled = arith::MulIOp::create(b1, loc, p, batch);
    return arith::DivUIOp::create(b1, loc, scaled,
                                  kb.index(b1, kGradientChunks));
  };
  parts = kb.loop(
      b, kGradientChunks, 1, parts,
      [&](OpBuilder &b1, Value p, ValueRange a1) {
        part = p;
        Value first = bound(b1, p);
        Value last = bound(b1, kb.add(b1, p, kb.index(b1, 1)));
        auto images = scf::ForOp::create(
            b1, loc, first, last, kb.index(b1, 1), a1,
            [&](OpBuilder &b2, Location, Value n, ValueRange a2) {
              scf::YieldOp::create(
                  b2, loc,
                  kb.loop(b2, oh, 1, a2,
                          [&](OpBuilder &b3, Value row, ValueRange a3) {
                            return SmallVector<Value>{
                                rowBody(b3, n, row, a3[0])};
                          }));
            });
        return SmallVector<Value>(images.getResults());
      },
      /*parallel=*/true)[0];
  return reduceAxis(b, loc, parts, 0, 0.0,
                    [](OpBuilder &b1, Location l, Value acc, Value v) {
                      return arith::AddFOp::create(b1, l, acc, v).getResult();
                    });
}
