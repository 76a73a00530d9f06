//===- Matmul.cpp - The register-blocked, cache-blocked matmul kernel -----===//
//
// C = A B for Dense layers and their gradients (matmulVectorized,
// Builders.h): blocks of rows of C by vectors of columns accumulate in
// registers over a slice of the reduction, inside panels of columns and
// slices of the reduction sized for the caches, B's slice of a panel
// packed first when it is wide and read by many rows. Every size comes
// from the op's layer.tile (layer-tile, from the target's description).
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

Value codegen::matmulVectorized(OpBuilder &b, Location loc, Value a, Value bm,
                                bool transposeA, RankedTensorType type,
                                layer::TileAttr tile, Epilogue *epilogue) {
  auto bType = cast<RankedTensorType>(bm.getType());
  Type et = type.getElementType();
  int64_t n = type.getDimSize(1);
  if (!tile || vectorBitsAt(b) == 0 || type.getRank() != 2 ||
      ShapedType::isDynamic(n) || n == 0 || bType.getDimSize(1) != n ||
      !et.isIntOrFloat())
    return Value();
  int64_t vl = tile.getLanes(), fv = tile.getVectors(), rt = tile.getBlock();
  if (n % (vl * fv) != 0)
    return Value();
  bool fuse = epilogue && epilogue->blockwise();
  if (fuse)
    epilogue->applied = true;
  auto vecType = VectorType::get({vl}, et);
  KernelBuilder kb{loc};
  Value zero = floatConst(b, loc, et, 0.0);
  Value zeroVector = kb.zeros(b, vecType);
  Value rows = tensor::DimOp::create(b, loc, a, transposeA ? 1 : 0);
  Value reduce = tensor::DimOp::create(b, loc, a, transposeA ? 0 : 1);
  Value out = tensor::EmptyOp::create(b, loc, type.getShape(), et,
                                      type.isDynamicDim(0) ? ValueRange{rows}
                                                           : ValueRange{});
  // Cache blocks (GotoBLAS's loop order): a panel of `panel` columns of C
  // at a time, and the reduction in slices of `slice`, so that B's slice
  // of the panel (512 x 512 floats, 1 MiB, on a Xeon with a 2 MiB L2 and
  // 48 KiB L1; chooseTiling) stays in L2 while every block of rows of A
  // passes over it, and a block of rows' slice of A in L1. A block's
  // accumulators go to C between slices and come back: the sums are the same
  // chains of FMAs, so the result does not change. Smaller matrices are one
  // panel and one slice.
  int64_t panel = tile.getPanel(), slice = tile.getSlice();
  Value nIndex = kb.index(b, n);
  auto minIndex = [&](OpBuilder &b1, Value x, Value y) -> Value {
    return arith::MinSIOp::create(b1, loc, x, y);
  };
  // `count` rows of C from row i0, columns [j0, j1), the reduction
  // [k0, k1): count x fv accumulators per block of fv vectors, started
  // from zero on the first slice and from C after, and the epilogue
  // applied on the last.
  // With `packed`, B's slice of the panel is read from its packed copy
  // (below, the panel's part `panelIndex`) rather than from B.
  auto rowBlock = [&](OpBuilder &b1, Value i0, int64_t count, Value c, Value j0,
                      Value j1, Value k0, Value k1, Value first, Value last,
                      Value packed, Value panelIndex) -> Value {
    SmallVector<Value> is;
    for (int64_t r = 0; r < count; ++r)
      is.push_back(kb.add(b1, i0, kb.index(b1, r)));
    auto columns = scf::ForOp::create(
        b1, loc, j0, j1, kb.index(b1, vl * fv), ValueRange{c},
        [&](OpBuilder &b2, Location, Value jb, ValueRange a2) {
          SmallVector<Value> js;
          for (int64_t v = 0; v < fv; ++v)
            js.push_back(kb.add(b2, jb, kb.index(b2, v * vl)));
          Value block =
              packed ? arith::DivUIOp::create(
                           b2, loc, arith::SubIOp::create(b2, loc, jb, j0),
                           kb.index(b2, vl * fv))
                     : Value();
          SmallVector<Type> accTypes(count * fv, vecType);
          auto start = scf::IfOp::create(b2, loc, accTypes, first, true, true);
          {
            OpBuilder tb = start.getThenBodyBuilder();
            scf::YieldOp::create(tb, loc,
                                 SmallVector<Value>(count * fv, zeroVector));
            OpBuilder eb = start.getElseBodyBuilder();
            SmallVector<Value> partial;
            for (Value i : is)
              for (Value j : js)
                partial.push_back(vector::TransferReadOp::create(
                    eb, loc, vecType, a2[0], ValueRange{i, j}, zero,
                    ArrayRef<bool>{true}));
            scf::YieldOp::create(eb, loc, partial);
          }
          auto sums = scf::ForOp::create(
              b2, loc, k0, k1, kb.index(b2, 1), start.getResults(),
              [&](OpBuilder &b3, Location, Value k, ValueRange a3) {
                SmallVector<Value> bs, next;
                Value kk =
                    packed ? arith::SubIOp::create(b3, loc, k, k0) : Value();
                for (auto [v, j] : llvm::enumerate(js))
                  bs.push_back(packed
                                   ? vector::TransferReadOp::create(
                                         b3, loc, vecType, packed,
                                         ValueRange{panelIndex, block, kk,
                                                    kb.index(b3, v * vl)},
                                         zero, ArrayRef<bool>{true})
                                   : vector::TransferReadOp::create(
                                         b3, loc, vecType, bm, ValueRange{k, j},
                                         zero, ArrayRef<bool>{true}));
                for (auto [r, i] : llvm::enumerate(is)) {
                  Value s = tensor::ExtractOp::create(
                      b3, loc, a,
                      transposeA ? ValueRange{k, i} : ValueRange{i, k});
                  Value bs0 = vector::BroadcastOp::create(b3, loc, vecType, s);
                  for (int64_t v = 0; v < fv; ++v)
                    next.push_back(vector::FMAOp::create(b3, loc, bs0, bs[v],
                                                         a3[r * fv + v]));
                }
                scf::YieldOp::create(b3, loc, next);
              });
          Value t = a2[0];
          for (auto [r, i] : llvm::enumerate(is))
            for (int64_t v = 0; v < fv; ++v) {
              Value acc = sums.getResult(r * fv + v);
              if (fuse)
                acc = arith::SelectOp::create(
                    b2, loc, last,
                    epilogue->apply(b2, loc, acc, ValueRange{js[v]}), acc);
              t = vector::TransferWriteOp::create(b2, loc, acc, t,
                                                  ValueRange{i, js[v]},
                                                  ArrayRef<bool>{true})
                      .getResult();
            }
          scf::YieldOp::create(b2, loc, t);
        });
    return columns.getResult(0);
  };
  // Whole blocks of rt rows (in parallel), then of 4 rows, then the
  // remaining rows one at a time (a batch of 1 does no redundant work; a
  // row alone loads B for 2 FMAs, so the rows left over from a batch of 64
  // cost a third of the time one at a time).
  auto roundDown = [&](Value from, Value to, int64_t step) -> Value {
    Value count = arith::DivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, to, from), kb.index(b, step));
    return kb.add(b, from, kb.mul(b, count, step));
  };
  Value full = roundDown(kb.index(b, 0), rows, rt);
  constexpr int64_t kTailRows = 4;
  Value quads = rt > kTailRows ? roundDown(full, rows, kTailRows) : full;
  // Packing (GotoBLAS's): with many rows, each panel's slice of B is first
  // copied to P[panel][(j - j0) / W][k - k0][0, W), W = vl * fv columns, so
  // that the block of columns a row block reads at each k follows the one
  // it read at k - 1: one stream, and one page for 16 of them, where B's
  // rows are n floats apart (a page at n = 1024, so every k was another
  // page and the same few cache sets). The copy is read by every row
  // block: it pays from pack_rows rows, and where B's rows are far apart
  // (from pack_columns columns; a narrower B, as an MLP's, stays in cache
  // as it is). The threads then split the panels rather than the rows of
  // each slice, each packing its own (P has a part per panel, a slice's
  // worth, reused down the panel): one fork-join per call instead of two a
  // slice. Measured by bench/sgemm.sh (1024 x 1024, AVX-512, batch 1024 /
  // 64): 0.72x / 0.79x oneDNN's rate before on one thread, and 0.70x /
  // 0.60x on two.
  int64_t packRows = tile.getPackRows(), packColumns = tile.getPackColumns();
  int64_t width = vl * fv;
  int64_t panels = (n + panel - 1) / panel;
  auto packedType = RankedTensorType::get(
      {panels, std::min(panel, n) / width, slice, width}, et);
  auto loops = [&](OpBuilder &b0, bool pack) -> Value {
    SmallVector<Value> inits = {out};
    if (pack)
      inits.push_back(
          tensor::EmptyOp::create(b0, loc, packedType.getShape(), et));
    return kb.loop(
        b0, nIndex, panel, inits,
        [&](OpBuilder &b1, Value j0, ValueRange a1) {
          Value j1 = minIndex(b1, kb.add(b1, j0, kb.index(b1, panel)), nIndex);
          Value panelIndex =
              pack ? arith::DivUIOp::create(b1, loc, j0, kb.index(b1, panel))
                   : Value();
          // At least one slice, so that an empty reduction still writes C.
          Value slicesEnd =
              arith::MaxSIOp::create(b1, loc, reduce, kb.index(b1, 1));
          auto slices = scf::ForOp::create(
              b1, loc, kb.index(b1, 0), slicesEnd, kb.index(b1, slice), a1,
              [&](OpBuilder &b2, Location, Value k0, ValueRange a2) {
                Value k1 =
                    minIndex(b2, kb.add(b2, k0, kb.index(b2, slice)), reduce);
                Value first = arith::CmpIOp::create(
                    b2, loc, arith::CmpIPredicate::eq, k0, kb.index(b2, 0));
                Value last = arith::CmpIOp::create(
                    b2, loc, arith::CmpIPredicate::eq, k1, reduce);
                Value packed;
                if (pack) {
                  // Row k of the slice at a time: B read along its rows.
                  Value blocks = arith::DivUIOp::create(
                      b2, loc, arith::SubIOp::create(b2, loc, j1, j0),
                      kb.index(b2, width));
                  auto copy = scf::ForOp::create(
                      b2, loc, k0, k1, kb.index(b2, 1), ValueRange{a2[1]},
                      [&](OpBuilder &b3, Location, Value k, ValueRange p3) {
                        Value kk = arith::SubIOp::create(b3, loc, k, k0);
                        auto row = scf::ForOp::create(
                            b3, loc, kb.index(b3, 0), blocks, kb.index(b3, 1),
                            p3,
                            [&](OpBuilder &b4, Location, Value jb,
                                ValueRange p4) {
                              Value j = kb.add(b4, j0, kb.mul(b4, jb, width));
                              Value p = p4[0];
                              for (int64_t v = 0; v < fv; ++v) {
                                Value lane = kb.index(b4, v * vl);
                                Value x = vector::TransferReadOp::create(
                                    b4, loc, vecType, bm,
                                    ValueRange{k, kb.add(b4, j, lane)}, zero,
                                    ArrayRef<bool>{true});
                                p = vector::TransferWriteOp::create(
                                        b4, loc, x, p,
                                        ValueRange{panelIndex, jb, kk, lane},
                                        ArrayRef<bool>{true})
                                        .getResult();
                              }
                              scf::YieldOp::create(b4, loc, p);
                            });
                        scf::YieldOp::create(b3, loc, row.getResults());
                      });
                  packed = copy.getResult(0);
                }
                auto block = [&](OpBuilder &b3, Value i, int64_t count,
                                 Value c) {
                  return rowBlock(b3, i, count, c, j0, j1, k0, k1, first, last,
                                  packed, panelIndex);
                };
                Value blocked = kb.loop(
                    b2, full, rt, a2[0],
                    [&](OpBuilder &b3, Value i0, ValueRange a3) {
                      return SmallVector<Value>{block(b3, i0, rt, a3[0])};
                    },
                    /*parallel=*/!pack)[0];
                Value fours =
                    rt <= kTailRows
                        ? blocked
                        : scf::ForOp::create(
                              b2, loc, full, quads, kb.index(b2, kTailRows),
                              ValueRange{blocked},
                              [&](OpBuilder &b3, Location, Value i,
                                  ValueRange a3) {
                                scf::YieldOp::create(
                                    b3, loc, block(b3, i, kTailRows, a3[0]));
                              })
                              .getResult(0);
                Value done =
                    scf::ForOp::create(
                        b2, loc, quads, rows, kb.index(b2, 1),
                        ValueRange{fours},
                        [&](OpBuilder &b3, Location, Value i, ValueRange a3) {
                          scf::YieldOp::create(b3, loc, block(b3, i, 1, a3[0]));
                        })
                        .getResult(0);
                SmallVector<Value> results = {done};
                if (pack)
                  results.push_back(packed);
                scf::YieldOp::create(b2, loc, results);
              });
          return SmallVector<Value>(slices.getResults());
        },
        /*parallel=*/pack)[0];
  };
  // Where B's whole panel fits the tile's budget for a slice of it (R x
  // panel within slice x panel: B stays in L2 whatever the order), the
  // threads split the row blocks once, outside the panels and slices,
  // rather than at every slice: one fork-join per call where the MLP's
  // first layer (784 x 64, 4 slices) had 4. Each block still runs the
  // same slices in the same order, so the sums do not change.
  int64_t bRows = bType.getDimSize(0);
  bool rowsOuter = !ShapedType::isDynamic(bRows) &&
                   bRows * std::min(panel, n) <= slice * panel;
  using SweepBody =
      llvm::function_ref<Value(OpBuilder &, Value j0, Value j1, Value k0,
                               Value k1, Value first, Value last, Value c)>;
  // for (panels) for (slices) c = body(...): the loops of `loops` above,
  // without packing.
  auto sweep = [&](OpBuilder &b0, Value c, SweepBody body) -> Value {
    return kb.loop(
        b0, nIndex, panel, ValueRange{c},
        [&](OpBuilder &b1, Value j0, ValueRange a1) {
          Value j1 = minIndex(b1, kb.add(b1, j0, kb.index(b1, panel)), nIndex);
          Value slicesEnd =
              arith::MaxSIOp::create(b1, loc, reduce, kb.index(b1, 1));
          auto slices = scf::ForOp::create(
              b1, loc, kb.index(b1, 0), slicesEnd, kb.index(b1, slice), a1,
              [&](OpBuilder &b2, Location, Value k0, ValueRange a2) {
                Value k1 =
                    minIndex(b2, kb.add(b2, k0, kb.index(b2, slice)), reduce);
                Value first = arith::CmpIOp::create(
                    b2, loc, arith::CmpIPredicate::eq, k0, kb.index(b2, 0));
                Value last = arith::CmpIOp::create(
                    b2, loc, arith::CmpIPredicate::eq, k1, reduce);
                scf::YieldOp::create(
                    b2, loc, body(b2, j0, j1, k0, k1, first, last, a2[0]));
              });
          return SmallVector<Value>(slices.getResults());
        })[0];
  };
  auto rowsOuterLoops = [&](OpBuilder &b0) -> Value {
    // Only where there is a whole block: the parallel region of a batch of
    // 1 (no whole block) would still start the threads, which cost a batch
    // of 1 a fifth of its time (0.0028 -> 0.0033 ms, the MLP).
    Value any = arith::CmpIOp::create(b0, loc, arith::CmpIPredicate::ugt, full,
                                      kb.index(b0, 0));
    auto ifAny =
        scf::IfOp::create(b0, loc, TypeRange{out.getType()}, any, true, true);
    {
      OpBuilder tb = ifAny.getThenBodyBuilder();
      scf::YieldOp::create(
          tb, loc,
          kb.loop(
              tb, full, rt, ValueRange{out},
              [&](OpBuilder &b1, Value i0, ValueRange a1) {
                return SmallVector<Value>{
                    sweep(b1, a1[0],
                          [&](OpBuilder &b2, Value j0, Value j1, Value k0,
                              Value k1, Value first, Value last, Value c) {
                            return rowBlock(b2, i0, rt, c, j0, j1, k0, k1,
                                            first, last, Value(), Value());
                          })};
              },
              /*parallel=*/true));
      OpBuilder eb = ifAny.getElseBodyBuilder();
      scf::YieldOp::create(eb, loc, out);
    }
    Value blocked = ifAny.getResult(0);
    return sweep(
        b0, blocked,
        [&](OpBuilder &b2, Value j0, Value j1, Value k0, Value k1, Value first,
            Value last, Value c) {
          auto rowsOf = [&](Value from, Value to, int64_t count, Value c0) {
            return scf::ForOp::create(
                       b2, loc, from, to, kb.index(b2, count), ValueRange{c0},
                       [&](OpBuilder &b3, Location, Value i, ValueRange a3) {
                         scf::YieldOp::create(b3, loc,
                                              rowBlock(b3, i, count, a3[0], j0,
                                                       j1, k0, k1, first, last,
                                                       Value(), Value()));
                       })
                .getResult(0);
          };
          Value fours = rt <= kTailRows ? c : rowsOf(full, quads, kTailRows, c);
          return rowsOf(quads, rows, 1, fours);
        });
  };
  auto unpacked = [&](OpBuilder &b0) -> Value {
    return rowsOuter ? rowsOuterLoops(b0) : loops(b0, false);
  };
  if (n < packColumns)
    return unpacked(b);
  if (!type.isDynamicDim(0) && type.getDimSize(0) >= packRows)
    return loops(b, true);
  if (!type.isDynamicDim(0))
    return unpacked(b);
  Value many = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, rows,
                                     kb.index(b, packRows));
  auto choice =
      scf::IfOp::create(b, loc, TypeRange{out.getType()}, many, true, true);
  {
    OpBuilder tb = choice.getThenBodyBuilder();
    scf::YieldOp::create(tb, loc, loops(tb, true));
  }
  {
    OpBuilder eb = choice.getElseBodyBuilder();
    scf::YieldOp::create(eb, loc, unpacked(eb));
  }
  return choice.getResult(0);
}
