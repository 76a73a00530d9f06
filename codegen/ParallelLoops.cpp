//===- ParallelLoops.cpp - Threads: layer-parallel-loops, layer-thread-count
//==//
//
// layerc runs loops on threads with OpenMP (LLVM's libomp): upstream
// convert-scf-to-openmp turns an `scf.parallel` into an `omp.parallel`
// region, and the LLVM IR translation outlines it into a function that
// `__kmpc_fork_call` runs on a team of threads. These two passes decide
// which loops become such regions and with how many threads:
//
//   layer-parallel-loops  one parallel loop per loop nest, the outermost
//                         one with enough work; every other scf.parallel
//                         (convert-linalg-to-parallel-loops makes one per
//                         linalg op) becomes sequential scf.for loops.
//   layer-thread-count    the run-time policy: set_num_threads, then
//                         LAYERC_NUM_THREADS, then OpenMP's default, and one
//                         thread for a region that starts while another runs.
//
// Why OpenMP rather than a pool of our own: the region outlining, the
// static schedule and the team's barrier come from MLIR and libomp, tested
// upstream; a pool of our own would need an outlining pass and a runtime
// that every AOT library carries. The cost is one shared library (libomp)
// that AOT libraries link.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERPARALLELLOOPS
#define GEN_PASS_DEF_LAYERTHREADCOUNT
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// layer-parallel-loops
//===----------------------------------------------------------------------===//

/// Iterations of a loop from lb to ub by step; `unknown` when not constant,
/// `unknown` times k for a bound (dynamic) x k from 0 by 1 (a loop over a
/// batch's rows, KernelBuilder::imagesAndRows), c / step for a slice from lb
/// to min(lb + c, x).
int64_t tripCount(Value lb, Value ub, Value step, int64_t unknown) {
  std::optional<int64_t> l = getConstantIntValue(lb),
                         u = getConstantIntValue(ub),
                         s = getConstantIntValue(step);
  if (l && s && *l == 0 && *s == 1 && !u)
    if (auto product = ub.getDefiningOp<arith::MulIOp>())
      for (Value factor : product->getOperands())
        if (std::optional<int64_t> k = getConstantIntValue(factor); k && *k > 0)
          return unknown * *k;
  // A slice of a reduction (matmulVectorized): from lb to min(lb + c, x),
  // at most c / step whatever x.
  if (s && *s > 0 && !u)
    if (auto min = ub.getDefiningOp<arith::MinSIOp>())
      for (Value side : min->getOperands())
        if (auto add = side.getDefiningOp<arith::AddIOp>())
          for (auto [base, offset] : {std::pair(add.getLhs(), add.getRhs()),
                                      std::pair(add.getRhs(), add.getLhs())})
            if (std::optional<int64_t> c = getConstantIntValue(offset);
                base == lb && c && *c > 0)
              return (*c + *s - 1) / *s;
  if (!l || !u || !s || *s <= 0)
    return unknown;
  return std::max<int64_t>((*u - *l + *s - 1) / *s, 0);
}

/// A dynamic bound is a batch: assume a small one.
constexpr int64_t kUnknownTrips = 16;

int64_t tripCount(scf::ForOp loop) {
  return tripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep(),
                   kUnknownTrips);
}

int64_t tripCount(scf::ParallelOp loop) {
  int64_t trips = 1;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
    trips *= tripCount(lb, ub, step, kUnknownTrips);
  return trips;
}

/// Operations one execution of `region` runs, loops multiplied out
/// (saturating: only compared with a threshold).
int64_t work(Region &region) {
  int64_t total = 0;
  for (Block &block : region)
    for (Operation &op : block) {
      int64_t inner = 0;
      for (Region &r : op.getRegions())
        inner = std::max(inner, work(r));
      if (auto loop = dyn_cast<scf::ForOp>(op))
        inner = inner * tripCount(loop);
      else if (auto loop = dyn_cast<scf::ParallelOp>(op))
        inner = inner * tripCount(loop);
      total = std::min<int64_t>(total + 1 + inner, int64_t(1) << 40);
    }
  return total;
}

/// Moves the body of `loop` (no results, no reductions) into a nest of
/// scf.for over its dimensions from `first` on, built at `rewriter`'s
/// insertion point inside `innermost`'s block, with `ivs` (the induction
/// variables of the dimensions before `first`) extended; erases `loop`.
void nestRest(scf::ParallelOp loop, unsigned first, SmallVector<Value> ivs,
              Operation *innermost, RewriterBase &rewriter) {
  Location loc = loop.getLoc();
  for (unsigned i = first; i < loop.getNumLoops(); ++i) {
    auto forOp = scf::ForOp::create(rewriter, loc, loop.getLowerBound()[i],
                                    loop.getUpperBound()[i], loop.getStep()[i]);
    ivs.push_back(forOp.getInductionVar());
    rewriter.setInsertionPointToStart(forOp.getBody());
    innermost = forOp.getBody()->getTerminator();
  }
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator()); // scf.reduce, no operands
  rewriter.inlineBlockBefore(body, innermost, ivs);
  rewriter.eraseOp(loop);
}

/// Replaces `loop` (no results, no reductions) by a nest of scf.for.
void sequentialize(scf::ParallelOp loop, RewriterBase &rewriter) {
  rewriter.setInsertionPoint(loop);
  nestRest(loop, 0, {}, loop, rewriter);
}

/// Keeps the first `keep` dimensions of `loop` (no results, no reductions)
/// parallel and makes the others a nest of scf.for inside it.
/// convert-scf-to-openmp collapses every dimension of an scf.parallel into
/// one OpenMP loop whose iterations recover their indices by division: done
/// per element of the innermost dimension, that loop neither vectorizes nor
/// strength-reduces its addresses (a fill or copy of an NHWC tensor ran
/// scalar, several integer divisions per float).
void keepOuterParallel(scf::ParallelOp loop, unsigned keep,
                       RewriterBase &rewriter) {
  if (keep >= loop.getNumLoops())
    return;
  rewriter.setInsertionPoint(loop);
  auto outer = scf::ParallelOp::create(
      rewriter, loop.getLoc(), loop.getLowerBound().take_front(keep),
      loop.getUpperBound().take_front(keep), loop.getStep().take_front(keep));
  Operation *innermost = outer.getBody()->getTerminator();
  rewriter.setInsertionPoint(innermost);
  nestRest(loop, keep, SmallVector<Value>(outer.getInductionVars()), innermost,
           rewriter);
}

/// How many leading dimensions of an scf.parallel of `rank` stay parallel:
/// all but the last (the unit-stride one, which LLVM vectorizes), at most
/// two (an NHWC op's images and rows: enough iterations for the threads
/// even in a batch of one, each a whole row of work).
unsigned parallelDims(unsigned rank) {
  return rank <= 1 ? rank : std::min(2u, rank - 1);
}

/// Replaces the marked scf.for `loop` (no iteration arguments) by an
/// scf.parallel.
void parallelize(scf::ForOp loop, RewriterBase &rewriter) {
  rewriter.setInsertionPoint(loop);
  auto parallel = scf::ParallelOp::create(
      rewriter, loop.getLoc(), ValueRange{loop.getLowerBound()},
      ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator()); // scf.yield, no operands
  rewriter.inlineBlockBefore(body, parallel.getBody()->getTerminator(),
                             parallel.getInductionVars());
  rewriter.eraseOp(loop);
}

/// Makes every loop under `op` sequential.
void sequentializeAll(Operation *op, RewriterBase &rewriter) {
  SmallVector<scf::ParallelOp> inner;
  op->walk([&](Operation *nested) {
    if (nested != op)
      if (auto p = dyn_cast<scf::ParallelOp>(nested))
        inner.push_back(p);
    if (nested != op)
      nested->removeAttr(layerc::codegen::kParallelLoopAttr);
  });
  // Post-order: inner loops first, so each sequentialize sees an intact
  // parent.
  for (scf::ParallelOp p : inner)
    sequentialize(p, rewriter);
}

struct LayerParallelLoopsPass
    : layerc::impl::LayerParallelLoopsBase<LayerParallelLoopsPass> {
  using LayerParallelLoopsBase::LayerParallelLoopsBase;

  /// Chooses the parallel loops among the ops of `region`.
  void choose(Region &region, IRRewriter &rewriter) {
    SmallVector<Operation *> ops;
    for (Block &block : region)
      for (Operation &op : block)
        ops.push_back(&op);
    for (Operation *op : ops) {
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        sequentializeAll(loop, rewriter);
        if (loop.getNumResults() == 0 && loop.getInitVals().empty() &&
            tripCount(loop) * work(loop.getRegion()) >= minWork &&
            tripCount(loop) != 1) {
          keepOuterParallel(loop, parallelDims(loop.getNumLoops()), rewriter);
          continue;
        }
        sequentialize(loop, rewriter);
        continue;
      }
      auto loop = dyn_cast<scf::ForOp>(op);
      if (loop && loop->hasAttr(layerc::codegen::kParallelLoopAttr)) {
        loop->removeAttr(layerc::codegen::kParallelLoopAttr);
        // Bufferization leaves the carried tensor of a kernel loop as a
        // memref that each iteration writes in place; canonicalization
        // removes it. A loop that still carries a value stays sequential.
        bool eligible = loop.getInitArgs().empty();
        if (eligible && tripCount(loop) == 1) {
          choose(loop.getRegion(), rewriter);
          continue;
        }
        if (eligible && tripCount(loop) * work(loop.getRegion()) >= minWork) {
          sequentializeAll(loop, rewriter);
          parallelize(loop, rewriter);
          continue;
        }
      }
      for (Region &r : op->getRegions())
        choose(r, rewriter);
    }
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    choose(getOperation().getBody(), rewriter);
  }
};

//===----------------------------------------------------------------------===//
// layer-thread-count
//===----------------------------------------------------------------------===//

/// The module's thread policy, as LLVM dialect functions and globals.
class ThreadPolicy {
public:
  ThreadPolicy(ModuleOp module, StringRef prefix)
      : module(module), b(module.getContext()), loc(module.getLoc()),
        i32(b.getI32Type()), ptr(LLVM::LLVMPointerType::get(b.getContext())),
        prefix(prefix.str()) {}

  /// Adds the globals and functions; the entry and exit functions.
  LogicalResult build() {
    b.setInsertionPointToEnd(module.getBody());
    auto internal = LLVM::Linkage::Internal;
    // -1: not set and the environment not read yet.
    count =
        LLVM::GlobalOp::create(b, loc, i32, false, internal,
                               "__layerc_num_threads", b.getI32IntegerAttr(-1));
    active = LLVM::GlobalOp::create(b, loc, i32, false, internal,
                                    "__layerc_active_regions",
                                    b.getI32IntegerAttr(0));
    auto getenv = LLVM::lookupOrCreateFn(b, module, "getenv", {ptr}, ptr);
    auto atoi = LLVM::lookupOrCreateFn(b, module, "atoi", {ptr}, i32);
    auto maxThreads =
        LLVM::lookupOrCreateFn(b, module, "omp_get_max_threads", {}, i32);
    if (failed(getenv) || failed(atoi) || failed(maxThreads))
      return module.emitError(
          "layer-thread-count: getenv, atoi or omp_get_max_threads is "
          "declared with another type");
    buildSetter();
    buildEnter(*getenv, *atoi, *maxThreads);
    buildExit();
    return success();
  }

  LLVM::LLVMFuncOp enter, exit;

private:
  Value constant(int32_t v) {
    return LLVM::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(v));
  }
  Value address(LLVM::GlobalOp global) {
    return LLVM::AddressOfOp::create(b, loc, global);
  }

  /// void <prefix>set_num_threads(int n): n <= 0 means the default.
  void buildSetter() {
    OpBuilder::InsertionGuard guard(b);
    auto fn = LLVM::LLVMFuncOp::create(
        b, loc, prefix + "set_num_threads",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(b.getContext()),
                                    {i32}));
    Block *entry = b.createBlock(&fn.getBody(), {}, {i32}, {loc});
    Value n = entry->getArgument(0);
    Value positive =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::sgt, n, constant(0));
    LLVM::StoreOp::create(
        b, loc, LLVM::SelectOp::create(b, loc, positive, n, constant(0)),
        address(count), /*alignment=*/4, /*isVolatile=*/false,
        /*isNonTemporal=*/false, /*isInvariantGroup=*/false,
        LLVM::AtomicOrdering::monotonic);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }

  /// int enter(): the threads of a region about to start.
  void buildEnter(LLVM::LLVMFuncOp getenv, LLVM::LLVMFuncOp atoi,
                  LLVM::LLVMFuncOp maxThreads) {
    OpBuilder::InsertionGuard guard(b);
    enter = LLVM::LLVMFuncOp::create(b, loc, "__layerc_region_threads",
                                     LLVM::LLVMFunctionType::get(i32, {}),
                                     LLVM::Linkage::Internal);
    Region &body = enter.getBody();
    Block *entry = b.createBlock(&body);
    Block *read = b.createBlock(&body);
    Block *parse = b.createBlock(&body);
    Block *have = b.createBlock(&body, {}, {i32}, {loc});

    b.setInsertionPointToEnd(entry);
    Value n =
        LLVM::LoadOp::create(b, loc, i32, address(count), 4, false, false,
                             false, false, LLVM::AtomicOrdering::monotonic);
    Value unread =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::slt, n, constant(0));
    LLVM::CondBrOp::create(b, loc, unread, read, ValueRange{}, have,
                           ValueRange{n});

    b.setInsertionPointToEnd(read);
    Value name = LLVM::createGlobalString(
        loc, b, "__layerc_threads_variable",
        llvm::StringRef("LAYERC_NUM_THREADS", sizeof("LAYERC_NUM_THREADS")),
        LLVM::Linkage::Internal);
    Value text =
        LLVM::CallOp::create(b, loc, getenv, ValueRange{name}).getResult();
    Value missing = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, text,
                                         LLVM::ZeroOp::create(b, loc, ptr));
    LLVM::CondBrOp::create(b, loc, missing, have, ValueRange{constant(0)},
                           parse, ValueRange{});

    b.setInsertionPointToEnd(parse);
    Value parsed =
        LLVM::CallOp::create(b, loc, atoi, ValueRange{text}).getResult();
    Value valid = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::sgt, parsed,
                                       constant(0));
    Value setting = LLVM::SelectOp::create(b, loc, valid, parsed, constant(0));
    LLVM::StoreOp::create(b, loc, setting, address(count), 4, false, false,
                          false, LLVM::AtomicOrdering::monotonic);
    LLVM::BrOp::create(b, loc, ValueRange{setting}, have);

    // 0: OpenMP's default; a region already running: one thread.
    b.setInsertionPointToEnd(have);
    Value setCount = have->getArgument(0);
    Value unset = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::sle,
                                       setCount, constant(0));
    Value fallback =
        LLVM::CallOp::create(b, loc, maxThreads, ValueRange{}).getResult();
    Value wanted = LLVM::SelectOp::create(b, loc, unset, fallback, setCount);
    Value before = LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add,
                                             address(active), constant(1),
                                             LLVM::AtomicOrdering::acq_rel);
    Value busy = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::sgt, before,
                                      constant(0));
    LLVM::ReturnOp::create(
        b, loc,
        ValueRange{LLVM::SelectOp::create(b, loc, busy, constant(1), wanted)});
  }

  /// void exit(): the region is done.
  void buildExit() {
    OpBuilder::InsertionGuard guard(b);
    exit = LLVM::LLVMFuncOp::create(
        b, loc, "__layerc_region_done",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(b.getContext()),
                                    {}),
        LLVM::Linkage::Internal);
    b.createBlock(&exit.getBody());
    LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::sub, address(active),
                              constant(1), LLVM::AtomicOrdering::acq_rel);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }

  ModuleOp module;
  OpBuilder b;
  Location loc;
  Type i32, ptr;
  std::string prefix;
  LLVM::GlobalOp count, active;
};

struct LayerThreadCountPass
    : layerc::impl::LayerThreadCountBase<LayerThreadCountPass> {
  using LayerThreadCountBase::LayerThreadCountBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<omp::ParallelOp> regions;
    module.walk([&](omp::ParallelOp region) {
      if (!region->getParentOfType<omp::ParallelOp>())
        regions.push_back(region);
    });
    // A module without regions still exports set_num_threads: a header
    // declares it for every library.
    ThreadPolicy policy(module, prefix);
    if (failed(policy.build()))
      return signalPassFailure();
    // convert-scf-to-openmp wraps each loop body in a memref.alloca_scope,
    // which must be a single block: scf-to-cf would break it. A scope
    // without allocas frees nothing; inline it.
    IRRewriter rewriter(&getContext());
    SmallVector<memref::AllocaScopeOp> scopes;
    module.walk([&](memref::AllocaScopeOp scope) { scopes.push_back(scope); });
    for (memref::AllocaScopeOp scope : scopes) {
      bool allocates = false;
      scope.walk([&](memref::AllocaOp alloca) {
        allocates |= alloca->getParentOfType<memref::AllocaScopeOp>() == scope;
      });
      if (allocates)
        continue;
      Block *body = &scope.getBodyRegion().front();
      Operation *terminator = body->getTerminator();
      SmallVector<Value> results(terminator->getOperands());
      rewriter.eraseOp(terminator);
      rewriter.inlineBlockBefore(body, scope);
      rewriter.replaceOp(scope, results);
    }
    OpBuilder b(&getContext());
    for (omp::ParallelOp region : regions) {
      b.setInsertionPoint(region);
      Value threads =
          LLVM::CallOp::create(b, region.getLoc(), policy.enter, ValueRange{})
              .getResult();
      region.getNumThreadsMutable().assign(threads);
      b.setInsertionPointAfter(region);
      LLVM::CallOp::create(b, region.getLoc(), policy.exit, ValueRange{});
    }
  }
};

} // namespace
