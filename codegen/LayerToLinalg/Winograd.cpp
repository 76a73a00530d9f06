//===- Winograd.cpp - Winograd F(m x m, 3 x 3) convolutions ---------------===//
//
// A 3 x 3, stride-1 convolution computes each m x m block of its output
// (a tile) from the n x n block of input that covers it (n = m + 2):
//
//   Y = A^T [ (G g G^T) . (B^T d B) ] A     (. elementwise, per position)
//
// summed over the input channels. The n^2 positions of a tile each take
// one product per (channel, filter) where the direct kernel takes 9 per
// output: F(2 x 2, 3 x 3) takes 16 for 4 outputs (2.25x fewer
// multiply-adds), F(4 x 4, 3 x 3) 36 for 16 (4x fewer), for three
// transforms (the filter's, once per call; the input's, once per tile and
// channel; the output's, once per tile and filter). F(2, 3)'s transforms
// are additions; F(4, 3)'s multiply too, and in float32 it errs by about
// 4x the direct kernel (interpolation points 0, 1, -1, 2, -2: the sparsest
// transforms; 1/2 and -2 err 1.4x less for a denser B^T).
//
// Written, like the direct kernels (ConvKernels.cpp), as loops over vectors:
//   - U = G g G^T, (filters / width, n^2, channels, width) with width the
//     filters of a register block, contiguous where the products read it,
//     once per call, or folded at compile time for a constant kernel;
//   - the tiles numbered through the batch (image, row, column) and taken
//     in blocks of `block` tiles: for each block, V = B^T d B, (n^2, block,
//     channels), vectorized over the channels;
//   - for each block of `vectors` vectors of filters: the n^2 products
//     M = V U, one register-blocked matmul per position over the channels
//     (as a dense's kernel), and the output transform of M with the bias
//     and activation applied, written to the output.
// The blocks are split into kWinogradChunks parts that run in parallel,
// each with scratch of its own for V and M. (Splitting a batch of a few
// blocks by their filters too, so that two threads share the toy ResNet's
// 9 x 9 layers evenly at batch 1, left 2 threads as fast and made 1 thread
// 10% slower: each group transforms the input again.) U laid out by
// blocks of filters rather than (n^2, channels, filters) made the toy
// ResNet 8% faster at batch 1: the products stream it from L2.
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
/// A transform's matrix, rows x columns (at most 6 x 6).
struct Matrix {
  int64_t rows, columns;
  double at[6][6];
};

/// F(m x m, 3 x 3): its output tile m, B^T (n x n, n = m + 2), G (n x 3)
/// and A^T (m x n).
struct Variant {
  int64_t m;
  Matrix inputT, filter, outputT;
  int64_t n() const { return m + 2; }
  int64_t positions() const { return n() * n(); }
};

/// F(2, 3) with interpolation points 0, 1, -1.
constexpr Variant kF2{
    2,
    {4, 4, {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}},
    {4, 3, {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}},
    {2, 4, {{1, 1, 1, 0}, {0, 1, -1, -1}}}};

/// F(4, 3) with interpolation points 0, 1, -1, 2, -2.
constexpr Variant kF4{4,
                      {6,
                       6,
                       {{4, 0, -5, 0, 1, 0},
                        {0, -4, -4, 1, 1, 0},
                        {0, 4, -4, -1, 1, 0},
                        {0, -2, -1, 2, 1, 0},
                        {0, 2, -1, -2, 1, 0},
                        {0, 4, 0, -5, 0, 1}}},
                      {6,
                       3,
                       {{1.0 / 4, 0, 0},
                        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                        {1.0 / 24, 1.0 / 12, 1.0 / 6},
                        {1.0 / 24, -1.0 / 12, 1.0 / 6},
                        {0, 0, 1}}},
                      {4,
                       6,
                       {{1, 1, 1, 1, 1, 0},
                        {0, 1, -1, 2, -2, 0},
                        {0, 1, 1, 4, 4, 0},
                        {0, 1, -1, 8, -8, 1}}}};

const Variant &variantOf(int64_t m) { return m == 4 ? kF4 : kF2; }

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

/// The same on numbers of type T (float, double), in the same order and
/// with the same rounded coefficients: a transform folded at compile time
/// is bit for bit the one the kernel computes.
template <typename T> struct ScalarArith {
  T add(T x, T y) { return x + y; }
  T sub(T x, T y) { return x - y; }
  T neg(T x) { return -x; }
  T scale(T x, double k) { return x * static_cast<T>(k); }
};

/// Row `r` of `m` times the values `in` (one per column): the values whose
/// coefficients share a magnitude added or subtracted, each such sum scaled
/// once, and the sums combined (F(4, 3)'s row 0 -4 -4 1 1 0 is
/// (x3 + x4) - 4 (x1 + x2): one product).
template <typename V, typename Arith>
V combineRow(Arith &ops, const Matrix &m, int64_t r, ArrayRef<V> in) {
  SmallVector<double, 6> magnitudes;
  for (int64_t k = 0; k < m.columns; ++k)
    if (m.at[r][k] != 0 &&
        !llvm::is_contained(magnitudes, std::fabs(m.at[r][k])))
      magnitudes.push_back(std::fabs(m.at[r][k]));
  // Each group's sum starts from a positive term where it has one, so it
  // needs no negation; groups with one are combined first.
  struct Group {
    V sum;
    bool negative;
  };
  SmallVector<Group, 6> groups;
  for (double magnitude : magnitudes) {
    auto coefficient = [&](int64_t k) {
      return std::fabs(m.at[r][k]) == magnitude ? m.at[r][k] : 0.0;
    };
    int64_t lead = -1;
    for (int64_t k = 0; k < m.columns && lead < 0; ++k)
      if (coefficient(k) > 0)
        lead = k;
    bool negative = lead < 0;
    std::optional<V> sum;
    if (!negative)
      sum = in[lead];
    for (int64_t k = 0; k < m.columns; ++k) {
      double c = coefficient(k);
      if (c == 0 || k == lead)
        continue;
      if (!sum)
        sum = in[k];
      else
        sum = (c < 0) != negative ? ops.sub(*sum, in[k]) : ops.add(*sum, in[k]);
    }
    V scaled = magnitude != 1 ? ops.scale(*sum, magnitude) : *sum;
    groups.push_back({scaled, negative});
  }
  std::stable_partition(groups.begin(), groups.end(),
                        [](const Group &g) { return !g.negative; });
  std::optional<V> total;
  for (const Group &g : groups) {
    if (!total)
      total = g.negative ? ops.neg(g.sum) : g.sum;
    else
      total = g.negative ? ops.sub(*total, g.sum) : ops.add(*total, g.sum);
  }
  return *total;
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
/// (3, 3, channels, filters) `g`, in T, laid out as the kernel reads it:
/// (filters / width, positions, channels, width), a block of `width`
/// filters contiguous through the positions and channels.
template <typename T>
std::vector<T> filterTransform(const Variant &w, ArrayRef<T> g,
                               int64_t channels, int64_t filters,
                               int64_t width) {
  ScalarArith<T> ops;
  int64_t plane = channels * filters;
  std::vector<T> u(w.positions() * plane);
  for (int64_t e = 0; e < plane; ++e) {
    SmallVector<T> taps;
    for (int64_t i = 0; i < 9; ++i)
      taps.push_back(g[i * plane + e]);
    int64_t c = e / filters, f = e % filters;
    for (auto [p, v] : llvm::enumerate(transform2D<T>(ops, w.filter, taps)))
      u[((f / width * w.positions() + p) * channels + c) * width + f % width] =
          v;
  }
  return u;
}

/// U = G g G^T of a constant (3, 3, channels, filters) f32 or f64 kernel,
/// computed here as a constant laid out as filterTransform's; null when
/// the kernel is not such a constant.
Value foldedFilterTransform(OpBuilder &b, Location loc, const Variant &w,
                            Value kernel, int64_t width) {
  DenseElementsAttr attr;
  if (!matchPattern(kernel, m_Constant(&attr)))
    return Value();
  auto type = cast<RankedTensorType>(attr.getType());
  Type et = type.getElementType();
  int64_t channels = type.getDimSize(2), filters = type.getDimSize(3);
  auto uType = RankedTensorType::get(
      {filters / width, w.positions(), channels, width}, et);
  DenseElementsAttr folded;
  if (et.isF64()) {
    SmallVector<double> g(attr.getValues<double>());
    folded =
        DenseElementsAttr::get(uType, ArrayRef<double>(filterTransform<double>(
                                          w, g, channels, filters, width)));
  } else if (et.isF32()) {
    SmallVector<float> g(attr.getValues<float>());
    folded =
        DenseElementsAttr::get(uType, ArrayRef<float>(filterTransform<float>(
                                          w, g, channels, filters, width)));
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
  if (!tile || tile.getWinograd() == 0 || xType.getRank() != 4 ||
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
  // F(4, 3) needs an output of 4 x 4; a smaller one takes F(2, 3).
  const Variant &w = variantOf(oh >= 4 && ow >= 4 ? tile.getWinograd() : 2);
  int64_t side = w.m, positions = w.positions();
  // Tiles: the last row or column of tiles of an output that m does not
  // divide starts early (its first rows or columns recomputed), so every
  // tile is whole.
  int64_t th = (oh + side - 1) / side, tw = (ow + side - 1) / side;
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

  // U = G g G^T: (filters / width, positions, channels, width), width =
  // vl fv, the filters of one register block contiguous; folded when the
  // kernel is a constant (a library's embedded weights).
  int64_t width = vl * fv;
  Value u = foldedFilterTransform(b, loc, w, kernel, width);
  if (!u) {
    u = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{filters / width, positions, channels, width},
        et);
    u = kb.loop(
        b, channels, 1, u,
        [&](OpBuilder &b1, Value c, ValueRange a1) {
          return kb.loop(
              b1, filters, vl, a1, [&](OpBuilder &b2, Value f, ValueRange a2) {
                return SmallVector<Value>{transformPatch(
                    b2, 3, w.filter,
                    [&](int64_t i, int64_t j) {
                      return read(b2, fVec, kernel,
                                  {kb.index(b2, i), kb.index(b2, j), c, f});
                    },
                    a2[0],
                    [&](int64_t p) {
                      Value w0 = kb.index(b2, width);
                      return SmallVector<Value>{
                          arith::DivUIOp::create(b2, loc, f, w0),
                          kb.index(b2, p), c,
                          arith::RemUIOp::create(b2, loc, f, w0)};
                    })};
              });
        },
        /*parallel=*/true)[0];
  }

  // Tiles are numbered through the batch (image, then row, then column);
  // a block is `wt` consecutive tiles, the last block's extra lanes clamped
  // to the last tile (they recompute and rewrite it). Scratch per part: V
  // (positions, wt, channels) and M (positions, wt, vl fv).
  Value vs = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{kWinogradChunks, positions, wt, channels}, et);
  Value ms = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{kWinogradChunks, positions, wt, vl * fv}, et);
  Value out = emptyLike(b, loc, outType, x);
  Value batch = tensor::DimOp::create(b, loc, x, 0);
  Value total = arith::MulIOp::create(b, loc, batch, kb.index(b, th * tw));
  Value lastTile = arith::SubIOp::create(b, loc, total, kb.index(b, 1));
  Value blocks = arith::CeilDivUIOp::create(b, loc, total, kb.index(b, wt));
  Value parts =
      arith::MinUIOp::create(b, loc, blocks, kb.index(b, kWinogradChunks));
  // Tile `slot` of the block from tile `first`: its image, and the rows
  // and columns of the input it reads (row, col: the corner of its output,
  // early for the last tile where m does not divide the size) and of the
  // output it writes (rows max(row + i, row0), row0 = m r its own first
  // row: a tile that starts early writes its rows before row0 to row0,
  // then row0's own value, so that each output is written last by the one
  // tile it belongs to, whichever thread runs the other; columns alike).
  struct Origin {
    Value n, row, col, row0, col0;
  };
  auto origin = [&](OpBuilder &nb, Value first, Value slot) {
    Value q =
        arith::MinUIOp::create(nb, loc, kb.add(nb, first, slot), lastTile);
    Value perImage = kb.index(nb, th * tw), perRow = kb.index(nb, tw);
    Value rem = arith::RemUIOp::create(nb, loc, q, perImage);
    Value row0 = kb.mul(nb, arith::DivUIOp::create(nb, loc, rem, perRow), side);
    Value col0 = kb.mul(nb, arith::RemUIOp::create(nb, loc, rem, perRow), side);
    auto corner = [&](Value start, int64_t last) {
      return arith::MinUIOp::create(nb, loc, start, kb.index(nb, last))
          .getResult();
    };
    return Origin{arith::DivUIOp::create(nb, loc, q, perImage),
                  corner(row0, oh - side), corner(col0, ow - side), row0, col0};
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
                    b3, w.n(), w.inputT,
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
    // For each block of filters: the products M = V U, then Y.
    SmallVector<Value> ym = kb.loop(
        b1, filters, vl * fv, {carried[0], carried[2]},
        [&](OpBuilder &b2, Value f0, ValueRange a2) {
          SmallVector<Value> fs;
          for (int64_t q = 0; q < fv; ++q)
            fs.push_back(kb.add(b2, f0, kb.index(b2, q * vl)));
          Value group =
              arith::DivUIOp::create(b2, loc, f0, kb.index(b2, width));
          Value m = kb.loop(
              b2, positions, 1, a2[1],
              [&](OpBuilder &b3, Value pos, ValueRange a3) {
                SmallVector<Value> zeros(wt * fv, zeroVector);
                SmallVector<Value> acc = kb.loop(
                    b3, channels, 1, zeros,
                    [&](OpBuilder &b4, Value c, ValueRange a4) {
                      SmallVector<Value> us, next;
                      for (int64_t q = 0; q < fv; ++q)
                        us.push_back(
                            read(b4, fVec, u,
                                 {group, pos, c, kb.index(b4, q * vl)}));
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
                SmallVector<Value> rows, cols;
                for (int64_t i = 0; i < side; ++i) {
                  rows.push_back(arith::MaxUIOp::create(
                      b3, loc, kb.add(b3, o.row, kb.index(b3, i)), o.row0));
                  cols.push_back(arith::MaxUIOp::create(
                      b3, loc, kb.add(b3, o.col, kb.index(b3, i)), o.col0));
                }
                Value yt = a3[0];
                for (int64_t q = 0; q < fv; ++q) {
                  SmallVector<Value> mv;
                  for (int64_t pos = 0; pos < positions; ++pos)
                    mv.push_back(read(
                        b3, fVec, m,
                        {p, kb.index(b3, pos), slot, kb.index(b3, q * vl)}));
                  VectorArith vops3{b3, loc};
                  SmallVector<Value> ys =
                      transform2D<Value>(vops3, w.outputT, mv);
                  for (int64_t i = 0; i < side; ++i)
                    for (int64_t j = 0; j < side; ++j) {
                      Value val = ys[i * side + j];
                      if (fuse)
                        val = epilogue->apply(b3, loc, val,
                                              {o.n, rows[i], cols[j], fs[q]});
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
