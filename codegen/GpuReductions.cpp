//===- GpuReductions.cpp - Reductions inside GPU threads ------------------===//
//
// See GpuReductions.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/GpuReductions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

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
  for (scf::ForOp f : acc.nest)
    for (Value v : {f.getLowerBound(), f.getUpperBound(), f.getStep()})
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

bool layerc::gpumap::shortLoop(scf::ForOp loop) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  return lb && ub && step && *step > 0 && (*ub - *lb + *step - 1) / *step < 16;
}

Value layerc::gpumap::tripCount(OpBuilder &b, scf::ForOp loop) {
  Location loc = loop.getLoc();
  Value span =
      arith::SubIOp::create(b, loc, loop.getUpperBound(), loop.getLowerBound());
  Value count = arith::CeilDivSIOp::create(b, loc, span, loop.getStep());
  return arith::MaxSIOp::create(b, loc, count,
                                arith::ConstantIndexOp::create(b, loc, 0));
}

namespace {

/// Level `level` of the nest with the elements carried in `accs` (one per
/// mapping: the thread's outputs); returns them after the loop. The loop
/// bounds do not depend on which output (checked by findAccumulation).
SmallVector<Value> emitLevel(OpBuilder &b, Accumulation &a,
                             MutableArrayRef<IRMapping> maps, size_t level,
                             ValueRange accs, Value lb, Value ub) {
  scf::ForOp f = a.nest[level];
  Location loc = f.getLoc();
  IRMapping &first = maps.front();
  auto loop = scf::ForOp::create(
      b, loc, lb ? lb : first.lookupOrDefault(f.getLowerBound()),
      ub ? ub : first.lookupOrDefault(f.getUpperBound()),
      first.lookupOrDefault(f.getStep()), accs,
      [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
        for (IRMapping &map : maps)
          map.map(f.getInductionVar(), iv);
        SmallVector<Value> carried(args);
        if (level + 1 < a.nest.size()) {
          carried = emitLevel(nb, a, maps, level + 1, carried, {}, {});
        } else {
          // The body once per output: loads that do not depend on the
          // output (a convolution's input, for several filters) are
          // equal, and LLVM keeps one.
          for (auto [k, map] : llvm::enumerate(maps))
            for (Operation &op : f.getBody()->without_terminator()) {
              if (&op == a.load.getOperation())
                map.map(a.load.getResult(), carried[k]);
              else if (&op == a.store.getOperation())
                carried[k] = map.lookupOrDefault(a.store.getValueToStore());
              else
                nb.clone(op, map);
            }
        }
        scf::YieldOp::create(nb, loc, carried);
      });
  return SmallVector<Value>(loop.getResults());
}

} // namespace

void layerc::gpumap::emitAccumulation(OpBuilder &b, Accumulation a,
                                      MutableArrayRef<IRMapping> maps,
                                      Value slice, Value chunk) {
  Location loc = a.store.getLoc();
  auto indicesOf = [&](IRMapping &map) {
    SmallVector<Value> indices;
    for (Value i : a.store.getIndices())
      indices.push_back(map.lookupOrDefault(i));
    return indices;
  };
  scf::ForOp outer = a.nest.front();
  IRMapping &map = maps.front();
  if (!slice) {
    SmallVector<Value> inits;
    for (IRMapping &m : maps)
      inits.push_back(memref::LoadOp::create(
          b, loc, m.lookupOrDefault(a.store.getMemRef()), indicesOf(m)));
    SmallVector<Value> results = emitLevel(b, a, maps, 0, inits, {}, {});
    for (auto [m, result] : llvm::zip(maps, results))
      memref::StoreOp::create(
          b, loc, result, m.lookupOrDefault(a.store.getMemRef()), indicesOf(m));
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
  SmallVector<Value> zeros(maps.size(), zero);
  SmallVector<Value> partials = emitLevel(b, a, maps, 0, zeros, from, to);
  for (auto [m, partial] : llvm::zip(maps, partials))
    memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf, partial,
                                m.lookupOrDefault(a.store.getMemRef()),
                                indicesOf(m));
}
