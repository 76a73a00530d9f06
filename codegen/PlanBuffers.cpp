//===- PlanBuffers.cpp - The layer-plan-buffers pass ----------------------===//
//
// After bufferization a function allocates every intermediate with its own
// malloc and frees them all at its end. glibc serves large blocks with
// mmap, or returns the top of its heap to the kernel when they are freed,
// so each call faults every page in again (measured: 52 -> 30 ms for the
// toy ResNet at batch 64 when the heap is kept). This pass gives each
// function one arena instead, as XLA's and TFLite's buffer assignment do:
//
//   1. Liveness: an allocation of the entry block lives from its alloc to
//      the last op of the entry block that uses it or a view of it.
//   2. Offsets: greedy, largest first, each at the lowest offset (64-byte
//      aligned) that no buffer live at the same time occupies. Buffers are
//      grouped by their one dynamic size value (the batch, as a rule; the
//      static ones form a group of their own), and each group is planned
//      in bytes per unit of that value, so one plan holds for every batch.
//   3. Each group's arena comes from a cache of its own (a global slot,
//      taken with an atomic exchange before the group's first buffer and
//      given back at the end of the call, grown when a call needs more):
//      steady-state calls allocate nothing. A call that runs while another
//      holds the block allocates its own.
//
// `<prefix>release_memory()` frees the arenas held in the slots (a server
// dropping memory between bursts; the JIT when a module goes away).
//
// Each planned function records `layerc.arena_bytes` (its static groups)
// and `layerc.arena_bytes_per_sample` (its dynamic groups, per unit: per
// sample when every dynamic size is the batch). A failed arena allocation is
// the out-of-memory status (layer-lower-checks).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERPLANBUFFERS
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using layerc::kOutOfMemoryMessage;

namespace {

constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

/// One planned allocation.
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t first, last; // positions in the entry block
  int64_t bytes;       // per unit of the dynamic size when dynamic
  bool dynamic;
  int64_t offset = 0;
};

/// The position in `block` of the ancestor of `op` there, or -1.
int64_t positionIn(Block &block, Operation *op,
                   const DenseMap<Operation *, int64_t> &index) {
  Operation *top = block.findAncestorOpInBlock(*op);
  if (!top)
    return -1;
  return index.lookup(top);
}

/// The last position at which `alloc` or a memref derived from it is used
/// (its dealloc aside); nullopt when it escapes (returned, passed to a
/// call, or used outside `block`'s ops).
std::optional<int64_t> lastUse(memref::AllocOp alloc, memref::DeallocOp dealloc,
                               Block &block,
                               const DenseMap<Operation *, int64_t> &index) {
  int64_t last = index.lookup(alloc);
  SmallVector<Value> worklist{alloc.getResult()};
  DenseSet<Value> seen{alloc.getResult()};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user == dealloc.getOperation())
        continue;
      // Escapes: returned, passed to a call, yielded out of a region (its
      // later uses would not count), or used by an op we do not know.
      Dialect *dialect = user->getDialect();
      if (isa<func::CallOp, memref::DeallocOp>(user) ||
          user->hasTrait<OpTrait::IsTerminator>() || !dialect ||
          dialect->getNamespace() == "llvm")
        return std::nullopt;
      int64_t at = positionIn(block, user, index);
      if (at < 0)
        return std::nullopt;
      last = std::max(last, at);
      // Views and casts alias the buffer.
      for (Value r : user->getResults())
        if (isa<BaseMemRefType>(r.getType()) && seen.insert(r).second)
          worklist.push_back(r);
    }
  }
  return last;
}

/// Assigns offsets (in units) to `buffers`, largest first; returns the
/// total.
int64_t assignOffsets(MutableArrayRef<Buffer *> buffers) {
  llvm::stable_sort(buffers, [](const Buffer *a, const Buffer *b) {
    return a->bytes > b->bytes;
  });
  SmallVector<Buffer *> placed;
  int64_t total = 0;
  for (Buffer *buffer : buffers) {
    // Ranges taken by buffers live at the same time, by offset.
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (Buffer *other : placed)
      if (other->first <= buffer->last && buffer->first <= other->last)
        taken.push_back({other->offset, other->offset + other->bytes});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [begin, end] : taken) {
      if (offset + buffer->bytes <= begin)
        break;
      offset = std::max(offset, alignUp(end));
    }
    buffer->offset = offset;
    total = std::max(total, offset + buffer->bytes);
    placed.push_back(buffer);
  }
  return alignUp(total);
}

/// The module's arena caches: one global slot per arena (newSlot), and
/// take(slot, bytes) -> pointer or null, give(slot, pointer). A block is
/// malloc(bytes + 64) with its capacity in its first 8 bytes; the pointer
/// handed out is 64 bytes in.
class ArenaCache {
public:
  explicit ArenaCache(ModuleOp module) : module(module), b(module) {}

  LogicalResult build() {
    MLIRContext *ctx = module.getContext();
    Location loc = module.getLoc();
    Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = b.getI64Type();
    Type voidType = LLVM::LLVMVoidType::get(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto malloc = LLVM::lookupOrCreateFn(b, module, "malloc", {i64}, ptr);
    auto free = LLVM::lookupOrCreateFn(b, module, "free", {ptr}, voidType);
    if (failed(malloc) || failed(free))
      return module.emitError(
          "layer-plan-buffers: malloc or free is declared with another type");
    auto header = [&](Value p, int32_t delta) -> Value {
      return LLVM::GEPOp::create(b, loc, ptr, b.getI8Type(), p,
                                 ArrayRef<LLVM::GEPArg>{delta});
    };
    auto i64Constant = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
    };

    // ptr take(ptr slot, i64 bytes)
    {
      OpBuilder::InsertionGuard guard(b);
      take =
          LLVM::LLVMFuncOp::create(b, loc, "__layerc_arena_take",
                                   LLVM::LLVMFunctionType::get(ptr, {ptr, i64}),
                                   LLVM::Linkage::Internal);
      Region &body = take.getBody();
      Block *entry = b.createBlock(&body, {}, {ptr, i64}, {loc, loc});
      Block *check = b.createBlock(&body);
      Block *reuse = b.createBlock(&body);
      Block *drop = b.createBlock(&body);
      Block *fresh = b.createBlock(&body);
      Block *stamp = b.createBlock(&body);
      Block *fail = b.createBlock(&body);
      Value slot = entry->getArgument(0), bytes = entry->getArgument(1);

      b.setInsertionPointToEnd(entry);
      Value zero = LLVM::ZeroOp::create(b, loc, ptr);
      Value cached =
          LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::xchg, slot, zero,
                                    LLVM::AtomicOrdering::acq_rel);
      Value none =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, cached, zero);
      LLVM::CondBrOp::create(b, loc, none, fresh, check);

      b.setInsertionPointToEnd(check);
      Value capacity =
          LLVM::LoadOp::create(b, loc, i64, header(cached, -kAlign));
      Value fits = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::uge,
                                        capacity, bytes);
      LLVM::CondBrOp::create(b, loc, fits, reuse, drop);

      b.setInsertionPointToEnd(reuse);
      LLVM::ReturnOp::create(b, loc, ValueRange{cached});

      b.setInsertionPointToEnd(drop);
      LLVM::CallOp::create(b, loc, *free, ValueRange{header(cached, -kAlign)});
      LLVM::BrOp::create(b, loc, fresh);

      b.setInsertionPointToEnd(fresh);
      Value total =
          LLVM::AddOp::create(b, loc, bytes, i64Constant(kAlign)).getResult();
      Value block =
          LLVM::CallOp::create(b, loc, *malloc, ValueRange{total}).getResult();
      Value failed =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, block, zero);
      LLVM::CondBrOp::create(b, loc, failed, fail, stamp);

      b.setInsertionPointToEnd(stamp);
      LLVM::StoreOp::create(b, loc, bytes, block);
      LLVM::ReturnOp::create(b, loc, ValueRange{header(block, kAlign)});

      b.setInsertionPointToEnd(fail);
      LLVM::ReturnOp::create(b, loc, ValueRange{block});
    }
    // void give(ptr slot, ptr p): back into the slot, or freed when another
    // block went there meanwhile.
    {
      OpBuilder::InsertionGuard guard(b);
      give = LLVM::LLVMFuncOp::create(
          b, loc, layerc::kArenaGive,
          LLVM::LLVMFunctionType::get(voidType, {ptr, ptr}),
          LLVM::Linkage::Internal);
      Region &body = give.getBody();
      Block *entry = b.createBlock(&body, {}, {ptr, ptr}, {loc, loc});
      Block *release = b.createBlock(&body);
      Block *done = b.createBlock(&body);
      b.setInsertionPointToEnd(entry);
      Value slot = entry->getArgument(0), p = entry->getArgument(1);
      // A null pointer (an arena a failed call had not taken yet) is no
      // block.
      Block *put = b.createBlock(&body);
      b.setInsertionPointToEnd(entry);
      Value null = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, p,
                                        LLVM::ZeroOp::create(b, loc, ptr));
      LLVM::CondBrOp::create(b, loc, null, done, put);
      b.setInsertionPointToEnd(put);
      auto exchange = LLVM::AtomicCmpXchgOp::create(
          b, loc, slot, LLVM::ZeroOp::create(b, loc, ptr), p,
          LLVM::AtomicOrdering::acq_rel, LLVM::AtomicOrdering::acquire);
      Value stored =
          LLVM::ExtractValueOp::create(b, loc, exchange, ArrayRef<int64_t>{1});
      LLVM::CondBrOp::create(b, loc, stored, done, release);
      b.setInsertionPointToEnd(release);
      LLVM::CallOp::create(b, loc, *free, ValueRange{header(p, -kAlign)});
      LLVM::BrOp::create(b, loc, done);
      b.setInsertionPointToEnd(done);
      LLVM::ReturnOp::create(b, loc, ValueRange{});
    }
    return success();
  }

  /// A new empty slot (a null pointer global).
  LLVM::GlobalOp newSlot() {
    OpBuilder::InsertionGuard guard(b);
    Location loc = module.getLoc();
    Type ptr = LLVM::LLVMPointerType::get(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    auto slot = LLVM::GlobalOp::create(
        b, loc, ptr, false, LLVM::Linkage::Internal,
        "__layerc_arena_" + std::to_string(slots++), Attribute());
    slotOps.push_back(slot);
    b.createBlock(&slot.getInitializerRegion());
    LLVM::ReturnOp::create(b, loc,
                           ValueRange{LLVM::ZeroOp::create(b, loc, ptr)});
    return slot;
  }

  /// void <prefix>release_memory(void): frees every arena now in its slot
  /// (a call that runs meanwhile keeps its own and gives it back after).
  void buildRelease(StringRef prefix) {
    OpBuilder::InsertionGuard guard(b);
    MLIRContext *ctx = module.getContext();
    Location loc = module.getLoc();
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    Type voidType = LLVM::LLVMVoidType::get(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto free = LLVM::lookupOrCreateFn(b, module, "free", {ptr}, voidType);
    auto release =
        LLVM::LLVMFuncOp::create(b, loc, (prefix + "release_memory").str(),
                                 LLVM::LLVMFunctionType::get(voidType, {}));
    Block *block = b.createBlock(&release.getBody());
    for (LLVM::GlobalOp slot : slotOps) {
      Value zero = LLVM::ZeroOp::create(b, loc, ptr);
      Value p =
          LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::xchg,
                                    LLVM::AddressOfOp::create(b, loc, slot),
                                    zero, LLVM::AtomicOrdering::acq_rel);
      Value some =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, p, zero);
      Block *drop = b.createBlock(&release.getBody());
      Block *next = b.createBlock(&release.getBody());
      b.setInsertionPointToEnd(block);
      LLVM::CondBrOp::create(b, loc, some, drop, next);
      b.setInsertionPointToEnd(drop);
      Value base = LLVM::GEPOp::create(b, loc, ptr, b.getI8Type(), p,
                                       ArrayRef<LLVM::GEPArg>{-kAlign});
      LLVM::CallOp::create(b, loc, *free, ValueRange{base});
      LLVM::BrOp::create(b, loc, next);
      block = next;
      b.setInsertionPointToEnd(block);
    }
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }

  LLVM::LLVMFuncOp take, give;
  int slots = 0;
  SmallVector<LLVM::GlobalOp> slotOps;

private:
  ModuleOp module;
  OpBuilder b;
};

/// A memref<?xi8> of `bytes` at `pointer`: an LLVM descriptor cast to the
/// memref type (convert-to-llvm's own cast back folds it away).
Value arenaMemRef(OpBuilder &b, Location loc, Value pointer, Value bytes) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type(), ptr = LLVM::LLVMPointerType::get(ctx);
  auto array = LLVM::LLVMArrayType::get(i64, 1);
  auto descriptorType =
      LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, i64, array, array});
  auto constant = [&](int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  Value d = LLVM::UndefOp::create(b, loc, descriptorType);
  d = LLVM::InsertValueOp::create(b, loc, d, pointer, ArrayRef<int64_t>{0});
  d = LLVM::InsertValueOp::create(b, loc, d, pointer, ArrayRef<int64_t>{1});
  d = LLVM::InsertValueOp::create(b, loc, d, constant(0), ArrayRef<int64_t>{2});
  d = LLVM::InsertValueOp::create(b, loc, d, bytes, ArrayRef<int64_t>{3, 0});
  d = LLVM::InsertValueOp::create(b, loc, d, constant(1),
                                  ArrayRef<int64_t>{4, 0});
  auto type = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  return UnrealizedConversionCastOp::create(b, loc, type, d).getResult(0);
}

struct LayerPlanBuffersPass
    : layerc::impl::LayerPlanBuffersBase<LayerPlanBuffersPass> {
  using LayerPlanBuffersBase::LayerPlanBuffersBase;

  /// Plans `fn`; false when it has nothing to plan.
  bool plan(func::FuncOp fn, ArenaCache &cache);

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<ArenaCache> cache;
    bool planned = false;
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (fn.isExternal())
        continue;
      if (!cache) {
        cache.emplace(module);
        if (failed(cache->build()))
          return signalPassFailure();
      }
      planned |= plan(fn, *cache);
    }
    // Every library exports release_memory (its header declares it), a
    // no-op when nothing was planned.
    ArenaCache none(module);
    (cache ? *cache : none).buildRelease(prefix);
    // (Symbol uses are not SSA uses: remember whether a call was made.)
    if (cache && !planned) {
      cache->take.erase();
      cache->give.erase();
    }
  }
};

bool LayerPlanBuffersPass::plan(func::FuncOp fn, ArenaCache &cache) {
  Block &block = fn.getBody().front();
  DenseMap<Operation *, int64_t> index;
  for (auto [i, op] : llvm::enumerate(block))
    index[&op] = i;
  // Candidates: entry-block allocations with one dealloc there, static or
  // with one dynamic size. Buffers are grouped by that size value (static
  // ones together); each group is one arena.
  std::vector<Buffer> buffers;
  SmallVector<Value> groups; // the size value of each group; null: static
  DenseMap<Value, size_t> groupOf;
  std::vector<size_t> group;
  for (Operation &op : block) {
    auto alloc = dyn_cast<memref::AllocOp>(op);
    if (!alloc)
      continue;
    MemRefType type = alloc.getType();
    if (!type.getLayout().isIdentity() || type.getMemorySpace() ||
        !type.getElementType().isIntOrFloat() ||
        alloc.getDynamicSizes().size() > 1)
      continue;
    memref::DeallocOp dealloc;
    int deallocs = 0;
    for (Operation *user : alloc->getUsers())
      if (auto d = dyn_cast<memref::DeallocOp>(user)) {
        dealloc = d;
        ++deallocs;
      }
    if (deallocs != 1 || dealloc->getBlock() != &block)
      continue;
    std::optional<int64_t> last = lastUse(alloc, dealloc, block, index);
    if (!last)
      continue;
    bool dynamic = alloc.getDynamicSizes().size() == 1;
    Value n = dynamic ? alloc.getDynamicSizes()[0] : Value();
    auto [it, inserted] = groupOf.try_emplace(n, groups.size());
    if (inserted)
      groups.push_back(n);
    // Sub-byte elements (i1 flags) take a byte each, as LLVM stores them.
    int64_t bytes = (type.getElementTypeBitWidth() + 7) / 8;
    for (int64_t d : type.getShape())
      bytes *= ShapedType::isDynamic(d) ? 1 : d;
    buffers.push_back(
        {alloc, dealloc, index[alloc], *last, alignUp(bytes), dynamic});
    group.push_back(it->second);
  }
  if (buffers.empty())
    return false;

  int64_t fixedBytes = 0, sampleBytes = 0;
  Location loc = fn.getLoc();
  OpBuilder b(fn.getContext());
  Type i64 = b.getI64Type();
  auto i64Constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, v, 64);
  };
  SmallVector<std::pair<LLVM::GlobalOp, Value>> arenas;
  SmallVector<LLVM::AllocaOp> cells;
  for (auto [g, n] : llvm::enumerate(groups)) {
    SmallVector<Buffer *> members;
    for (auto [i, buffer] : llvm::enumerate(buffers))
      if (group[i] == g)
        members.push_back(&buffer);
    // The arena goes before the group's first allocation, where its size
    // value is defined.
    Operation *first = members.front()->alloc;
    int64_t units = assignOffsets(members);
    (n ? sampleBytes : fixedBytes) += units;
    b.setInsertionPoint(first);
    Value bytes = i64Constant(units);
    Value count;
    if (n) {
      // units * n bytes; a batch whose arena would overflow is out of
      // memory.
      count = arith::IndexCastOp::create(b, loc, i64, n);
      int64_t most =
          std::numeric_limits<int64_t>::max() / 2 / std::max<int64_t>(units, 1);
      Value fits = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                         count, i64Constant(most));
      cf::AssertOp::create(b, loc, fits, kOutOfMemoryMessage);
      bytes = arith::MulIOp::create(b, loc, count, bytes);
    }
    LLVM::GlobalOp slot = cache.newSlot();
    Value slotAddress = LLVM::AddressOfOp::create(b, loc, slot);
    Value pointer =
        LLVM::CallOp::create(b, loc, cache.take, ValueRange{slotAddress, bytes})
            .getResult();
    // The arena's cell (kArenaCellAttr): null from the entry on, the
    // arena once taken, so that layer-lower-checks' failure exit, which
    // any check may reach, gives back what was taken.
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&fn.getBody().front());
      Type ptr = pointer.getType();
      auto cell = LLVM::AllocaOp::create(b, loc, ptr, ptr, i64Constant(1));
      cell->setAttr(layerc::kArenaCellAttr, FlatSymbolRefAttr::get(slot));
      LLVM::StoreOp::create(b, loc, LLVM::ZeroOp::create(b, loc, ptr), cell);
      cells.push_back(cell);
    }
    LLVM::StoreOp::create(b, loc, pointer, cells.back());
    Value ok =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, pointer,
                             LLVM::ZeroOp::create(b, loc, pointer.getType()));
    cf::AssertOp::create(b, loc, ok, kOutOfMemoryMessage);
    Value arena = arenaMemRef(b, loc, pointer, bytes);
    arenas.push_back({slot, pointer});

    for (Buffer *buffer : members) {
      b.setInsertionPoint(buffer->alloc);
      Value offset = i64Constant(buffer->offset);
      if (n)
        offset = arith::MulIOp::create(b, loc, count, offset);
      offset = arith::IndexCastOp::create(b, loc, b.getIndexType(), offset);
      Value view = memref::ViewOp::create(
          b, buffer->alloc.getLoc(), buffer->alloc.getType(), arena, offset,
          buffer->alloc.getDynamicSizes());
      buffer->alloc.replaceAllUsesWith(view);
      buffer->dealloc.erase();
      buffer->alloc.erase();
    }
  }
  fn->setAttr("layerc.arena_bytes", b.getI64IntegerAttr(fixedBytes));
  fn->setAttr("layerc.arena_bytes_per_sample",
              b.getI64IntegerAttr(sampleBytes));
  fn.walk([&](func::ReturnOp ret) {
    b.setInsertionPoint(ret);
    for (auto [slot, pointer] : arenas)
      LLVM::CallOp::create(
          b, loc, cache.give,
          ValueRange{LLVM::AddressOfOp::create(b, loc, slot), pointer});
  });
  return true;
}

} // namespace
