//===- Winograd.cpp - Winograd F(2 x 2, 3 x 3) convolutions ---------------===//
//
// A 3 x 3, stride-1 convolution computes each 2 x 2 block of its output
// (a tile) from the 4 x 4 block of input that covers it:
//
//   Y = A^T [ (G g G^T) . (B^T d B) ] A     (. elementwise, per position)
//
// summed over the input channels. The 16 positions of a tile each take
// one product per (channel, filter) where the direct kernel takes 36 per
// four outputs: 2.25x fewer multiply-adds, for three transforms that cost
// additions only (the filter's, once per call; the input's, once per tile
// and channel; the output's, once per tile and filter).
//
// Written, like the direct kernels (ConvKernels.cpp), as loops over vectors:
//   - U = G g G^T, (16, channels, filters), once per call, or folded at
//     compile time for a constant kernel;
//   - the tiles numbered through the batch (image, row, column) and taken
//     in blocks of `block` tiles: for each block, V = B^T d B, (16, block,
//     channels), vectorized over the channels;
//   - for each block of `vectors` vectors of filters: the 16 products
//     M = V U, one register-blocked matmul per position over the channels
//     (as a dense's kernel), and the output transform of M with the bias
//     and activation applied, written to the output.
// The blocks are split into kWinogradChunks parts that run in parallel,
// each with scratch of its own for V and M, small enough to stay in L1
// between their writes and reads. (Splitting a batch of a few blocks by
// their filters too, so that two threads share the toy ResNet's 9 x 9
// layers evenly at batch 1, left 2 threads as fast and made 1 thread 10%
// slower: each group transforms the input again.)
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

#include <array>
#include <cmath>
#include <optional>
#include <vector>

using namespace mlir;
using namespace layerc;
using namespace layerc::codegen;

namespace {
/// A transform's matrix, rows x columns (at most 4 x 4).
struct Matrix {
  int64_t rows, columns;
  double at[4][4];
};

/// B^T, G and A^T of F(2, 3) with interpolation points 0, 1, -1.
constexpr Matrix kInputT{
    4, 4, {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
constexpr Matrix kFilter{
    4, 3, {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}};
constexpr Matrix kOutputT{2, 4, {{1, 1, 1, 0}, {0, 1, -1, -1}}};

/// Parts of the batch's rows of tiles that run in parallel, as the kernel
/// gradient's parts of the batch (ConvKernels.cpp).
constexpr int64_t kWinogradChunks = 8;

/// The arithmetic of the transforms on vectors, as IR built at `b`.
struct VectorArith {
  OpBuilder &b;
  Location loc;
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, loc, x); }
  Value scale(Value x, double k) {
    Value c = floatConst(b, loc, getElementTypeOrSelf(x.getType()), k);
    return arith::MulFOp::create(
        b, loc, x, vector::BroadcastOp::create(b, loc, x.getType(), c));
  }
};

/// The same on numbers of type T (float, double), in the same order: a
/// transform folded at compile time is bit for bit the one the kernel
/// computes (all the coefficients are 1 or 1/2, so no product rounds).
template <typename T> struct ScalarArith {
  T add(T x, T y) { return x + y; }
  T sub(T x, T y) { return x - y; }
  T neg(T x) { return -x; }
  T scale(T x, double k) { return x * static_cast<T>(k); }
};

/// Row `r` of `m` times the values `in` (one per column): the nonzero
/// coefficients added or subtracted, then scaled once where they share a
/// magnitude (G's rows of halves), so the transforms are additions.
template <typename V, typename Arith>
V combineRow(Arith &ops, const Matrix &m, int64_t r, ArrayRef<V> in) {
  double scale = 0;
  for (int64_t k = 0; k < m.columns; ++k)
    if (m.at[r][k] != 0)
      scale = std::fabs(m.at[r][k]);
  std::optional<V> sum;
  for (int64_t k = 0; k < m.columns; ++k) {
    double c = m.at[r][k];
    if (c == 0)
      continue;
    V term = in[k];
    if (std::fabs(c) != scale)
      term = ops.scale(term, std::fabs(c) / scale);
    if (!sum)
      sum = c < 0 ? ops.neg(term) : term;
    else
      sum = c < 0 ? ops.sub(*sum, term) : ops.add(*sum, term);
  }
  return scale != 1 ? ops.scale(*sum, scale) : *sum;
}

/// m X m^T for the columns x columns values `x` (row-major): the
/// rows x rows result, row-major.
template <typename V, typename Arith>
SmallVector<V> transform2D(Arith &ops, const Matrix &m, ArrayRef<V> x) {
  int64_t n = m.columns;
  // t = m x: each column of x through m.
  SmallVector<V> t(m.rows * n);
  for (int64_t j = 0; j < n; ++j) {
    SmallVector<V> column;
    for (int64_t i = 0; i < n; ++i)
      column.push_back(x[i * n + j]);
    for (int64_t r = 0; r < m.rows; ++r)
      t[r * n + j] = combineRow<V>(ops, m, r, column);
  }
  // t m^T: each row of t through m.
  SmallVector<V> y;
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t s = 0; s < m.rows; ++s)
      y.push_back(combineRow<V>(ops, m, s, ArrayRef<V>(t).slice(r * n, n)));
  return y;
}

/// The kernel's transform U = G g G^T of every (channel, filter) of the
/// (3, 3, channels, filters) `g`, in T: (16, channels, filters).
template <typename T>
std::vector<T> filterTransform(ArrayRef<T> g, int64_t plane) {
  ScalarArith<T> ops;
  std::vector<T> u(16 * plane);
  for (int64_t e = 0; e < plane; ++e) {
    SmallVector<T> taps;
    for (int64_t i = 0; i < 9; ++i)
      taps.push_back(g[i * plane + e]);
    for (auto [p, v] : llvm::enumerate(transform2D<T>(ops, kFilter, taps)))
      u[p * plane + e] = v;
  }
  return u;
}

/// U = G g G^T of a constant (3, 3, channels, filters) f32 or f64 kernel,
/// computed here as a (16, channels, filters) constant; null when the
/// kernel is not such a constant.
Value foldedFilterTransform(OpBuilder &b, Location loc, Value kernel) {
  DenseElementsAttr attr;
  if (!matchPattern(kernel, m_Constant(&attr)))
    return Value();
  auto type = cast<RankedTensorType>(attr.getType());
  Type et = type.getElementType();
  int64_t plane = type.getDimSize(2) * type.getDimSize(3);
  auto uType =
      RankedTensorType::get({16, type.getDimSize(2), type.getDimSize(3)}, et);
  DenseElementsAttr folded;
  if (et.isF64()) {
    SmallVector<double> g(attr.getValues<double>());
    folded = DenseElementsAttr::get(
        uType, ArrayRef<double>(filterTransform<double>(g, plane)));
  } else if (et.isF32()) {
    SmallVector<float> g(attr.getValues<float>());
    folded = DenseElementsAttr::get(
        uType, ArrayRef<float>(filterTransform<float>(g, plane)));
  } else {
    return Value();
  }
  return arith::ConstantOp::create(b, loc, folded);
}

/// The widest vector of at most `lanes` lanes, a power of two, that divides
/// `size`.
int64_t dividingLanes(int64_t size, int64_t lanes) {
  while (lanes > 1 && size % lanes != 0)
    lanes /= 2;
  return lanes;
}
} // namespace

Value codegen::convolveWinograd(OpBuilder &b, Location loc, Value x,
                                Value kernel, RankedTensorType outType,
                                layer::TileAttr tile, Epilogue *epilogue) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto kType = cast<RankedTensorType>(kernel.getType());
  Type et = outType.getElementType();
  if (!tile || tile.getWinograd() != 2 || xType.getRank() != 4 ||
      !kType.hasStaticShape() || !isa<FloatType>(et) ||
      kType.getDimSize(0) != 3 || kType.getDimSize(1) != 3)
    return Value();
  int64_t channels = kType.getDimSize(2), filters = kType.getDimSize(3);
  int64_t oh = outType.getDimSize(1), ow = outType.getDimSize(2);
  int64_t vl = tile.getLanes(), fv = tile.getVectors();
  if (filters % (vl * fv) != 0 || ShapedType::isDynamic(oh) ||
      ShapedType::isDynamic(ow) || oh < 2 || ow < 2 ||
      xType.getDimSize(1) != oh + 2 || xType.getDimSize(2) != ow + 2 ||
      xType.getDimSize(3) != channels)
    return Value();
  // Tiles: the last row or column of tiles of an odd output starts one
  // early (its first row or column recomputed), so every tile is whole.
  int64_t th = (oh + 1) / 2, tw = (ow + 1) / 2;
  int64_t wt = evenBlock(th * tw, tile.getBlock());
  int64_t cl = dividingLanes(channels, vl);
  bool fuse = epilogue && epilogue->blockwise();
  if (fuse)
    epilogue->applied = true;
  KernelBuilder kb{loc};
  auto fVec = VectorType::get({vl}, et), cVec = VectorType::get({cl}, et);
  Value zeroScalar = floatConst(b, loc, et, 0.0);
  Value zeroVector = kb.zeros(b, fVec);
  auto read = [&](OpBuilder &nb, VectorType type, Value t, ValueRange at) {
    return vector::TransferReadOp::create(nb, loc, type, t, at, zeroScalar,
                                          ArrayRef<bool>{true})
        .getResult();
  };
  auto write = [&](OpBuilder &nb, Value v, Value t, ValueRange at) {
    return vector::TransferWriteOp::create(nb, loc, v, t, at,
                                           ArrayRef<bool>{true})
        .getResult();
  };

  // The n x n values `load(i, j)` through m's transform, value p written
  // into `dst` at `where(p)`: the filter's and the input's transforms.
  auto transformPatch =
      [&](OpBuilder &nb, int64_t n, const Matrix &m,
          llvm::function_ref<Value(int64_t, int64_t)> load, Value dst,
          llvm::function_ref<SmallVector<Value>(int64_t)> where) {
        SmallVector<Value> patch;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < n; ++j)
            patch.push_back(load(i, j));
        VectorArith ops{nb, loc};
        for (auto [p, v] : llvm::enumerate(transform2D<Value>(ops, m, patch)))
          dst = write(nb, v, dst, where(p));
        return dst;
      };

  // U = G g G^T: (16, channels, filters), folded when the kernel is a
  // constant (a library's embedded weights).
  Value u = foldedFilterTransform(b, loc, kernel);
  if (!u) {
    u = tensor::EmptyOp::create(b, loc,
                                ArrayRef<int64_t>{16, channels, filters}, et);
    u = kb.loop(
        b, channels, 1, u,
        [&](OpBuilder &b1, Value c, ValueRange a1) {
          return kb.loop(
              b1, filters, vl, a1, [&](OpBuilder &b2, Value f, ValueRange a2) {
                return SmallVector<Value>{transformPatch(
                    b2, 3, kFilter,
                    [&](int64_t i, int64_t j) {
                      return read(b2, fVec, kernel,
                                  {kb.index(b2, i), kb.index(b2, j), c, f});
                    },
                    a2[0],
                    [&](int64_t p) {
                      return SmallVector<Value>{kb.index(b2, p), c, f};
                    })};
              });
        },
        /*parallel=*/true)[0];
  }

  // Tiles are numbered through the batch (image, then row, then column);
  // a block is `wt` consecutive tiles, the last block's extra lanes clamped
  // to the last tile (they recompute and rewrite it). Scratch per part: V
  // (16, wt, channels) and M (16, wt, vl fv).
  Value vs = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{kWinogradChunks, 16, wt, channels}, et);
  Value ms = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{kWinogradChunks, 16, wt, vl * fv}, et);
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  Value total = arith::MulIOp::create(b, loc, batch, kb.index(b, th * tw));
  Value lastTile = arith::SubIOp::create(b, loc, total, kb.index(b, 1));
  Value blocks = arith::CeilDivUIOp::create(b, loc, total, kb.index(b, wt));
  Value parts =
      arith::MinUIOp::create(b, loc, blocks, kb.index(b, kWinogradChunks));
  // Tile `slot` of the block from tile `first`: its image, and the rows
  // and columns of the input it reads (row, col: the corner of its output,
  // one early for the last tile of an odd size) and of the output it
  // writes ({row0, row + 1} x {col0, col + 1}: row0 = 2 r, its own first
  // row, where a tile that starts one early writes its second row twice,
  // so that each output is written last by the one tile it belongs to,
  // whichever thread runs the other).
  struct Origin {
    Value n, row, col, row0, col0;
  };
  auto origin = [&](OpBuilder &nb, Value first, Value slot) {
    Value q =
        arith::MinUIOp::create(nb, loc, kb.add(nb, first, slot), lastTile);
    Value perImage = kb.index(nb, th * tw), perRow = kb.index(nb, tw);
    Value rem = arith::RemUIOp::create(nb, loc, q, perImage);
    Value row0 = kb.mul(nb, arith::DivUIOp::create(nb, loc, rem, perRow), 2);
    Value col0 = kb.mul(nb, arith::RemUIOp::create(nb, loc, rem, perRow), 2);
    auto corner = [&](Value start, int64_t last) {
      return arith::MinUIOp::create(nb, loc, start, kb.index(nb, last))
          .getResult();
    };
    return Origin{arith::DivUIOp::create(nb, loc, q, perImage),
                  corner(row0, oh - 2), corner(col0, ow - 2), row0, col0};
  };

  // One block of tiles from tile `first`, in part `p`'s scratch. Carries
  // and gives (out, V, M).
  auto tileBlock = [&](OpBuilder &b1, Value p, Value first,
                       ValueRange carried) -> SmallVector<Value> {
    // V = B^T d B for every tile of the block, `cl` channels at a time.
    Value v = kb.loop(
        b1, wt, 1, carried[1], [&](OpBuilder &b2, Value slot, ValueRange a2) {
          Origin o = origin(b2, first, slot);
          return kb.loop(
              b2, channels, cl, a2, [&](OpBuilder &b3, Value c, ValueRange a3) {
                return SmallVector<Value>{transformPatch(
                    b3, 4, kInputT,
                    [&](int64_t i, int64_t j) {
                      return read(b3, cVec, x,
                                  {o.n, kb.add(b3, o.row, kb.index(b3, i)),
                                   kb.add(b3, o.col, kb.index(b3, j)), c});
                    },
                    a3[0],
                    [&](int64_t pos) {
                      return SmallVector<Value>{p, kb.index(b3, pos), slot, c};
                    })};
              });
        })[0];
    // For each block of filters: the 16 products M = V U, then Y.
    SmallVector<Value> ym = kb.loop(
        b1, filters, vl * fv, {carried[0], carried[2]},
        [&](OpBuilder &b2, Value f0, ValueRange a2) {
          SmallVector<Value> fs;
          for (int64_t q = 0; q < fv; ++q)
            fs.push_back(kb.add(b2, f0, kb.index(b2, q * vl)));
          Value m = kb.loop(
              b2, 16, 1, a2[1], [&](OpBuilder &b3, Value pos, ValueRange a3) {
                SmallVector<Value> zeros(wt * fv, zeroVector);
                SmallVector<Value> acc = kb.loop(
                    b3, channels, 1, zeros,
                    [&](OpBuilder &b4, Value c, ValueRange a4) {
                      SmallVector<Value> us, next;
                      for (Value f : fs)
                        us.push_back(read(b4, fVec, u, {pos, c, f}));
                      for (int64_t k = 0; k < wt; ++k) {
                        Value s = tensor::ExtractOp::create(
                            b4, loc, v, ValueRange{p, pos, kb.index(b4, k), c});
                        Value bs =
                            vector::BroadcastOp::create(b4, loc, fVec, s);
                        for (int64_t q = 0; q < fv; ++q)
                          next.push_back(vector::FMAOp::create(
                              b4, loc, bs, us[q], a4[k * fv + q]));
                      }
                      return next;
                    });
                Value mt = a3[0];
                for (int64_t k = 0; k < wt; ++k)
                  for (int64_t q = 0; q < fv; ++q)
                    mt = write(b3, acc[k * fv + q], mt,
                               {p, pos, kb.index(b3, k), kb.index(b3, q * vl)});
                return SmallVector<Value>{mt};
              })[0];
          // Y = A^T M A through the epilogue, for each tile of the block.
          Value y = kb.loop(
              b2, wt, 1, a2[0], [&](OpBuilder &b3, Value slot, ValueRange a3) {
                Origin o = origin(b3, first, slot);
                Value rows[] = {o.row0, kb.add(b3, o.row, kb.index(b3, 1))};
                Value cols[] = {o.col0, kb.add(b3, o.col, kb.index(b3, 1))};
                Value yt = a3[0];
                for (int64_t q = 0; q < fv; ++q) {
                  SmallVector<Value> mv;
                  for (int64_t pos = 0; pos < 16; ++pos)
                    mv.push_back(read(
                        b3, fVec, m,
                        {p, kb.index(b3, pos), slot, kb.index(b3, q * vl)}));
                  VectorArith vops3{b3, loc};
                  SmallVector<Value> ys =
                      transform2D<Value>(vops3, kOutputT, mv);
                  for (int64_t i = 0; i < 2; ++i)
                    for (int64_t j = 0; j < 2; ++j) {
                      Value val = ys[i * 2 + j];
                      if (fuse)
                        val = epilogue->apply(b3, loc, val, fs[q]);
                      yt = write(b3, val, yt, {o.n, rows[i], cols[j], fs[q]});
                    }
                }
                return SmallVector<Value>{yt};
              })[0];
          return SmallVector<Value>{y, m};
        });
    return {ym[0], v, ym[1]};
  };

  // Part p takes the blocks [p blocks / parts, (p + 1) blocks / parts).
  auto bound = [&](OpBuilder &b1, Value p) -> Value {
    Value scaled = arith::MulIOp::create(b1, loc, p, blocks);
    return arith::DivUIOp::create(b1, loc, scaled, parts);
  };
  return kb.loop(
      b, parts, 1, {out, vs, ms},
      [&](OpBuilder &b1, Value p, ValueRange a1) {
        Value first = bound(b1, p);
        Value last = bound(b1, kb.add(b1, p, kb.index(b1, 1)));
        auto loop = scf::ForOp::create(
            b1, loc, first, last, kb.index(b1, 1), a1,
            [&](OpBuilder &b2, Location, Value block, ValueRange a2) {
              scf::YieldOp::create(b2, loc,
                                   tileBlock(b2, p, kb.mul(b2, block, wt), a2));
            });
        return SmallVector<Value>(loop.getResults());
      },
      /*parallel=*/true)[0];
}
