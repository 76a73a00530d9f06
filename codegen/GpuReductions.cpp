//===- GpuReductions.cpp - Reductions inside GPU threads ------------------===//
//
// See GpuReductions.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/GpuReductions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace layerc::gpumap;

namespace {

bool sameIndices(ValueRange a, ValueRange b) {
  return a.size() == b.size() && llvm::equal(a, b);
}

} // namespace

std::optional<Accumulation>
layerc::gpumap::findAccumulation(scf::ParallelOp loop) {
  Accumulation acc;
  Block *body = loop.getBody();
  if (!llvm::hasSingleElement(body->without_terminator()))
    return std::nullopt;
  auto outer = dyn_cast<scf::ForOp>(&body->front());
  // A perfect nest of loops without loop-carried values.
  for (scf::ForOp f = outer; f;) {
    if (f.getNumRegionIterArgs() != 0)
      return std::nullopt;
    acc.nest.push_back(f);
    scf::ForOp next;
    for (Operation &op : f.getBody()->without_terminator())
      if (auto inner = dyn_cast<scf::ForOp>(op)) {
        if (next)
          return std::nullopt;
        next = inner;
      }
    if (next && !llvm::hasSingleElement(f.getBody()->without_terminator()))
      return std::nullopt;
    f = next;
  }
  if (acc.nest.empty())
    return std::nullopt;
  for (Value v : {outer.getLowerBound(), outer.getUpperBound(), outer.getStep()})
    if (!loop.isDefinedOutsideOfLoop(v))
      return std::nullopt;
  // One store in the innermost body, at indices the nest does not change,
  // of a value computed from one load of the same element before it; no
  // other access to that buffer in the nest.
  Block *inner = acc.nest.back().getBody();
  for (Operation &op : inner->without_terminator()) {
    auto store = dyn_cast<memref::StoreOp>(op);
    if (!store)
      continue;
    if (acc.store)
      return std::nullopt;
    acc.store = store;
  }
  if (!acc.store || !isa<FloatType>(acc.store.getValueToStore().getType()))
    return std::nullopt;
  Value buffer = acc.store.getMemRef();
  for (Value i : acc.store.getIndices())
    if (!outer.isDefinedOutsideOfLoop(i))
      return std::nullopt;
  for (Operation *user : buffer.getUsers()) {
    if (!outer->isAncestor(user) || user == acc.store)
      continue;
    auto load = dyn_cast<memref::LoadOp>(user);
    if (!load || acc.load || load->getBlock() != inner ||
        !load->isBeforeInBlock(acc.store) ||
        !sameIndices(load.getIndices(), acc.store.getIndices()))
      return std::nullopt;
    acc.load = load;
  }
  if (!acc.load)
    return std::nullopt;
  if (auto add = acc.store.getValueToStore().getDefiningOp<arith::AddFOp>())
    acc.sum = (add.getLhs() == acc.load.getResult()) !=
              (add.getRhs() == acc.load.getResult());
  return acc;
}

Value layerc::gpumap::tripCount(OpBuilder &b, scf::ForOp loop) {
  Location loc = loop.getLoc();
  Value span = arith::SubIOp::create(b, loc, loop.getUpperBound(),
                                     loop.getLowerBound());
  Value count = arith::CeilDivSIOp::create(b, loc, span, loop.getStep());
  return arith::MaxSIOp::create(b, loc, count,
                                arith::ConstantIndexOp::create(b, loc, 0));
}

namespace {

/// Level `level` of the nest with the element carried in `acc`; returns
/// the element after the loop.
Value emitLevel(OpBuilder &b, Accumulation &a, IRMapping &map,
                size_t level, Value acc, Value lb, Value ub) {
  scf::ForOp f = a.nest[level];
  Location loc = f.getLoc();
  auto loop = scf::ForOp::create(
      b, loc, lb ? lb : map.lookupOrDefault(f.getLowerBound()),
      ub ? ub : map.lookupOrDefault(f.getUpperBound()),
      map.lookupOrDefault(f.getStep()), ValueRange{acc},
      [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
        map.map(f.getInductionVar(), iv);
        Value carried = args[0];
        for (Operation &op : f.getBody()->without_terminator()) {
          if (level + 1 < a.nest.size() && &op == a.nest[level + 1]) {
            carried = emitLevel(nb, a, map, level + 1, carried, {}, {});
          } else if (&op == a.load.getOperation()) {
            map.map(a.load.getResult(), carried);
          } else if (&op == a.store.getOperation()) {
            carried = map.lookupOrDefault(a.store.getValueToStore());
          } else {
            nb.clone(op, map);
          }
        }
        scf::YieldOp::create(nb, loc, carried);
      });
  return loop.getResult(0);
}

} // namespace

void layerc::gpumap::emitAccumulation(OpBuilder &b, Accumulation a,
                                   IRMapping &map, Value slice, Value chunk) {
  Location loc = a.store.getLoc();
  Value buffer = map.lookupOrDefault(a.store.getMemRef());
  SmallVector<Value> indices;
  for (Value i : a.store.getIndices())
    indices.push_back(map.lookupOrDefault(i));
  scf::ForOp outer = a.nest.front();
  if (!slice) {
    Value init = memref::LoadOp::create(b, loc, buffer, indices);
    Value result = emitLevel(b, a, map, 0, init, {}, {});
    memref::StoreOp::create(b, loc, result, buffer, indices);
    return;
  }
  // Iterations [slice * chunk, (slice + 1) * chunk) of the outermost loop.
  Value lb = map.lookupOrDefault(outer.getLowerBound());
  Value ub = map.lookupOrDefault(outer.getUpperBound());
  Value step = map.lookupOrDefault(outer.getStep());
  Value first = arith::MulIOp::create(b, loc, slice, chunk);
  Value from = arith::AddIOp::create(
      b, loc, lb, arith::MulIOp::create(b, loc, first, step));
  Value to = arith::MinSIOp::create(
      b, loc, ub,
      arith::AddIOp::create(b, loc, from,
                            arith::MulIOp::create(b, loc, chunk, step)));
  auto type = cast<FloatType>(a.store.getValueToStore().getType());
  Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(type, 0.0));
  Value partial = emitLevel(b, a, map, 0, zero, from, to);
  memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf, partial,
                              buffer, indices);
}
