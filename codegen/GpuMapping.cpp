//===- GpuMapping.cpp - The CUDA target: layer-gpu-map and friends --------===//
//
// The GPU half of the pipeline (Pipeline.cpp, for `--target=cuda:sm_NN`)
// starts from the same bufferized loops as the CPU's: every linalg op is an
// scf.parallel over its parallel dimensions with its reductions as scf.for
// inside. Three passes make that code run on an NVIDIA GPU:
//
//   layer-gpu-map        (memref level) every buffer on the device and
//                        every loop nest in a kernel:
//     * an exported function f gets two entry points for the C API, each
//       returning f's status combined with the device's (layerc_cuda_status):
//       f_host copies its host buffers to device buffers, calls f and copies
//       the outputs back; f_device hands f the caller's device buffers;
//     * each outermost scf.parallel becomes a gpu.launch of 256-thread
//       blocks over the product of its trip counts: thread i delinearizes i
//       into the loop's indices (the last one fastest, so neighbouring
//       threads touch neighbouring elements) and runs one iteration; a
//       reduction inside keeps its element in a register, and a long sum
//       with few outputs is split over more threads (GpuReductions.h);
//     * any other op that reads or writes a buffer (a reduction to a scalar,
//       a loop without a parallel dimension) runs in a one-thread launch, so
//       the host never dereferences a device pointer.
//   layer-gpu-math       (in each gpu.module) math functions as polynomials
//                        (exp, tanh, log, erf, ...), so that the PTX calls
//                        nothing: no libdevice, no CUDA toolkit.
//   layer-gpu-host-alloc (LLVM dialect) the host code's malloc/free become
//                        layerc_cuda_malloc/free (device memory from the
//                        driver's pool) and each constant (a weight of an
//                        --embed-weights library) is copied to the device
//                        once, by layerc_cuda_global.
//
// runtime/cuda/CudaDriver.c implements the layerc_cuda_* functions and
// MLIR's mgpu* launch API over the CUDA driver, loaded with dlopen.
//
//===----------------------------------------------------------------------===//

#include "codegen/GpuReductions.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERGPUMAP
#define GEN_PASS_DEF_LAYERGPUMATH
#define GEN_PASS_DEF_LAYERGPUHOSTALLOC
#define GEN_PASS_DEF_LAYERGPUMERGEKERNELS
#define GEN_PASS_DEF_LAYERGPULIBDEVICE
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using layerc::kNumInputsAttr;
namespace gpumap = layerc::gpumap;

namespace {

/// Threads per block of a mapped loop nest.
constexpr int64_t kBlockThreads = 256;
/// Outputs of a reduction computed by one thread (GpuReductions.h).
constexpr int64_t kOutputsPerThread = 4;
/// Enough threads to fill a large GPU (an H100 runs 132 x 2048 at once):
/// a split sum has at least this many when its loop is long enough.
constexpr int64_t kFillThreads = 1 << 18;

/// The module attribute that lists the memref globals the host code reads
/// (layer-gpu-map), with their sizes in bytes: layer-gpu-host-alloc gives
/// the host their device copies.
constexpr llvm::StringLiteral kDeviceGlobalsAttr = "layer.device_globals";

Value index(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Ops that stay on the host even though they handle buffers: they touch
/// descriptors, never the elements.
bool isHostOp(Operation *op) {
  return isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
             memref::DimOp, memref::GetGlobalOp, memref::SubViewOp,
             memref::ViewOp, memref::ReinterpretCastOp, memref::CastOp,
             memref::CollapseShapeOp, memref::ExpandShapeOp,
             memref::ExtractAlignedPointerAsIndexOp,
             memref::ExtractStridedMetadataOp, func::CallOp, func::ReturnOp,
             cf::AssertOp, gpu::LaunchOp>(op);
}

/// Whether `op` or an op inside it reads or writes buffer elements.
bool touchesMemory(Operation *op) {
  if (isHostOp(op))
    return false;
  WalkResult result = op->walk([](Operation *inner) {
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(inner)) {
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffects(list);
      for (auto &e : list)
        if (isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect()))
          return WalkResult::interrupt();
      return WalkResult::advance();
    }
    if (inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
        inner->hasTrait<OpTrait::IsTerminator>())
      return WalkResult::advance();
    return WalkResult::interrupt(); // unknown: assume it does
  });
  return result.wasInterrupted();
}

/// Whether an op nested in `op` must run on the host: an allocation or
/// deallocation (the buffer deallocation pipeline frees buffers under
/// `scf.if`), a call, a launch.
bool containsHostOp(Operation *op) {
  return op
      ->walk([&](Operation *inner) {
        return inner != op && isa<memref::AllocOp, memref::DeallocOp,
                                  func::CallOp, gpu::LaunchOp>(inner)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

bool containsParallel(Operation *op) {
  return op->walk([](scf::ParallelOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// A gpu.launch of `blocks` x `threads` (x only) before `before`, its body
/// ending in gpu.terminator; the builder is left at the start of the body.
gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, Value blocks,
                           Value threads) {
  Value one = index(b, loc, 1);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
  Block &body = launch.getBody().front();
  if (body.empty() || !body.back().hasTrait<OpTrait::IsTerminator>()) {
    b.setInsertionPointToEnd(&body);
    gpu::TerminatorOp::create(b, loc);
  }
  b.setInsertionPointToStart(&body);
  return launch;
}

/// `loop` as a nest of scf.for (inside a GPU thread).
LogicalResult sequentialize(scf::ParallelOp loop) {
  if (loop.getNumReductions() != 0)
    return loop.emitError("layer-gpu-map: a parallel loop with reductions "
                          "inside a GPU thread is not supported");
  OpBuilder b(loop);
  scf::buildLoopNest(
      b, loop.getLoc(), loop.getLowerBound(), loop.getUpperBound(),
      loop.getStep(), [&](OpBuilder &nb, Location, ValueRange ivs) {
        IRMapping map;
        map.map(loop.getInductionVars(), ivs);
        for (Operation &op : loop.getBody()->without_terminator())
          nb.clone(op, map);
      });
  loop.erase();
  return success();
}

/// One thread per iteration of `loop` (see the file comment).
LogicalResult launchParallel(scf::ParallelOp loop) {
  if (loop.getNumReductions() != 0)
    return loop.emitError("layer-gpu-map: a parallel loop with reductions "
                          "cannot be mapped to GPU threads");
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  std::optional<gpumap::Accumulation> acc = gpumap::findAccumulation(loop);
  // A reduction with a static last index whose extent is a multiple of
  // kOutputsPerThread, which the output depends on: outputs per thread.
  int64_t unroll = 1;
  if (acc) {
    Value last = loop.getInductionVars().back();
    std::optional<int64_t> lb =
        getConstantIntValue(loop.getLowerBound().back());
    std::optional<int64_t> ub =
        getConstantIntValue(loop.getUpperBound().back());
    std::optional<int64_t> st = getConstantIntValue(loop.getStep().back());
    if (lb && ub && st && *st > 0 && (*ub - *lb) > 0 &&
        ((*ub - *lb + *st - 1) / *st) % kOutputsPerThread == 0 &&
        llvm::is_contained(acc->store.getIndices(), last))
      unroll = kOutputsPerThread;
  }
  SmallVector<Value> counts;
  Value total = index(b, loc, 1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    Value count = arith::CeilDivSIOp::create(b, loc, span, step);
    count = arith::MaxSIOp::create(b, loc, count, index(b, loc, 0));
    counts.push_back(count);
  }
  if (unroll > 1)
    counts.back() =
        arith::DivSIOp::create(b, loc, counts.back(), index(b, loc, unroll));
  for (Value count : counts)
    total = arith::MulIOp::create(b, loc, total, count);
  // A sum over a long loop with few outputs: split (GpuReductions.h).
  Value outputs = total, slices, chunk;
  if (acc && acc->sum && !gpumap::shortLoop(acc->nest.front())) {
    Value n = gpumap::tripCount(b, acc->nest.front());
    Value want = arith::CeilDivSIOp::create(
        b, loc, index(b, loc, kFillThreads),
        arith::MaxSIOp::create(b, loc, total, index(b, loc, 1)));
    slices = arith::MaxSIOp::create(b, loc, index(b, loc, 1),
                                    arith::MinSIOp::create(b, loc, n, want));
    chunk = arith::CeilDivSIOp::create(b, loc, n, slices);
    total = arith::MulIOp::create(b, loc, total, slices);
  }
  Value threads = index(b, loc, kBlockThreads);
  Value blocks = arith::CeilDivSIOp::create(b, loc, total, threads);
  // A grid of 0 blocks is an error for the driver: launch one that does
  // nothing.
  blocks = arith::MaxSIOp::create(b, loc, blocks, index(b, loc, 1));
  gpu::LaunchOp launch = createLaunch(b, loc, blocks, threads);
  Value id = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, threads),
      launch.getThreadIds().x);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, id, total);
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guard.getThenRegion().front());
  IRMapping map;
  Value rest = id, slice;
  if (slices) { // the slice varies slowest
    slice = arith::DivSIOp::create(b, loc, id, outputs);
    rest = arith::RemSIOp::create(b, loc, id, outputs);
  }
  int64_t lastDim = static_cast<int64_t>(counts.size()) - 1;
  SmallVector<IRMapping> maps(unroll);
  for (int64_t d = lastDim; d >= 0; --d) {
    Value i = d == 0 ? rest : arith::RemSIOp::create(b, loc, rest, counts[d]);
    if (d != 0)
      rest = arith::DivSIOp::create(b, loc, rest, counts[d]);
    Value iv = arith::AddIOp::create(
        b, loc, loop.getLowerBound()[d],
        arith::MulIOp::create(b, loc, i, loop.getStep()[d]));
    map.map(loop.getInductionVars()[d], iv);
    // A thread's outputs are a quarter of the extent apart, so that
    // neighbouring threads still touch neighbouring elements.
    for (auto [u, m] : llvm::enumerate(maps))
      m.map(loop.getInductionVars()[d],
            d != lastDim || u == 0
                ? iv
                : arith::AddIOp::create(
                      b, loc, iv,
                      arith::MulIOp::create(
                          b, loc, loop.getStep()[d],
                          arith::MulIOp::create(b, loc, counts[d],
                                                index(b, loc, u)))));
  }
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (acc && &op == acc->nest.front().getOperation())
      gpumap::emitAccumulation(b, *acc, maps, slice, chunk);
    else
      b.clone(op, map);
  }
  loop.erase();
  // Parallel loops nested in the thread's iteration run sequentially.
  SmallVector<scf::ParallelOp> nested;
  launch.walk([&](scf::ParallelOp inner) { nested.push_back(inner); });
  for (scf::ParallelOp inner : nested) // innermost first
    if (failed(sequentialize(inner)))
      return failure();
  return success();
}

/// A host load of the element `load` reads (from device memory): the
/// element is copied into a host buffer first (layerc_cuda_memcpy waits for
/// the device), operands through `map`.
Operation *readBack(OpBuilder &b, memref::LoadOp load, IRMapping &map) {
  Location loc = load.getLoc();
  Value buffer = map.lookupOrDefault(load.getMemRef());
  auto type = cast<MemRefType>(buffer.getType());
  int64_t bytes = std::max<int64_t>(type.getElementTypeBitWidth() / 8, 1);
  // The element's offset in an identity-layout buffer.
  Value linear = index(b, loc, 0);
  for (auto [d, i] : llvm::enumerate(load.getIndices())) {
    Value size = memref::DimOp::create(b, loc, buffer, d);
    linear = arith::AddIOp::create(b, loc,
                                   arith::MulIOp::create(b, loc, linear, size),
                                   map.lookupOrDefault(i));
  }
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  Value address = arith::AddIOp::create(
      b, loc, base,
      arith::MulIOp::create(b, loc, linear, index(b, loc, bytes)));
  auto host = memref::AllocaOp::create(
      b, loc, MemRefType::get({}, type.getElementType()));
  Value hostAddress =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, host);
  auto i64 = b.getI64Type();
  auto memcpy = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      load, StringAttr::get(b.getContext(), "layerc_cuda_memcpy"));
  func::CallOp::create(
      b, loc, memcpy,
      ValueRange{arith::IndexCastOp::create(b, loc, i64, hostAddress),
                 arith::IndexCastOp::create(b, loc, i64, address),
                 arith::ConstantIntOp::create(b, loc, bytes, 64)});
  return memref::LoadOp::create(b, loc, host, ValueRange{});
}

/// Runs `ops` (consecutive in one block) in a one-thread launch. Pure ops
/// of the run whose operands come from outside it stay on the host; a value
/// computed from device memory cannot leave the launch.
LogicalResult launchSingle(ArrayRef<Operation *> ops) {
  llvm::SmallPtrSet<Operation *, 8> inRun(ops.begin(), ops.end());
  SmallVector<Operation *> device, host;
  for (Operation *op : ops) {
    bool fromOutside = llvm::none_of(op->getOperands(), [&](Value v) {
      return inRun.contains(v.getDefiningOp());
    });
    if (isMemoryEffectFree(op) && op->getNumRegions() == 0 && fromOutside) {
      inRun.erase(op);
      host.push_back(op);
      continue;
    }
    device.push_back(op);
  }
  if (device.empty())
    return success();
  auto onDevice = [&](Operation *user) {
    return llvm::any_of(device,
                        [&](Operation *d) { return d->isAncestor(user); });
  };
  llvm::SmallPtrSet<Operation *, 8> inDevice(device.begin(), device.end());
  // Values the host needs (a run-time check of the labels reads a flag the
  // kernel wrote): recomputed after the launch, each load reading the
  // element's host copy.
  llvm::SetVector<Operation *> forHost;
  SmallVector<Operation *> worklist;
  for (Operation *op : device)
    for (Operation *user : op->getUsers())
      if (!onDevice(user))
        worklist.push_back(op);
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!forHost.insert(op))
      continue;
    if (!isa<memref::LoadOp>(op) &&
        !(isMemoryEffectFree(op) && op->getNumRegions() == 0))
      return op->emitError("layer-gpu-map: this value is computed on the "
                           "device but used by host code");
    for (Value operand : op->getOperands())
      if (inDevice.contains(operand.getDefiningOp()))
        worklist.push_back(operand.getDefiningOp());
  }
  OpBuilder b(device.front());
  Location loc = device.front()->getLoc();
  Value one = index(b, loc, 1);
  gpu::LaunchOp launch = createLaunch(b, loc, one, one);
  for (Operation *op : host)
    op->moveBefore(launch);
  Operation *terminator = launch.getBody().front().getTerminator();
  for (Operation *op : device)
    op->moveBefore(terminator);
  b.setInsertionPointAfter(launch);
  IRMapping map;
  for (Operation *op : device) {
    if (!forHost.contains(op))
      continue;
    Operation *clone;
    if (auto load = dyn_cast<memref::LoadOp>(op))
      clone = readBack(b, load, map);
    else
      clone = b.clone(*op, map);
    for (auto [result, copy] :
         llvm::zip(op->getResults(), clone->getResults())) {
      map.map(result, copy);
      result.replaceUsesWithIf(copy, [&](OpOperand &use) {
        return !launch->isAncestor(use.getOwner());
      });
    }
  }
  // What only the host needed leaves the kernel (a flag read for a host
  // condition), and a kernel left empty is not launched.
  for (Operation *op : llvm::reverse(device))
    if (forHost.contains(op) && op->use_empty())
      op->erase();
  if (llvm::hasSingleElement(launch.getBody().front()))
    launch.erase();
  return success();
}

/// Maps the ops of `block` (see the file comment).
LogicalResult mapBlock(Block &block) {
  SmallVector<Operation *> run;
  auto flush = [&]() -> LogicalResult {
    LogicalResult result = launchSingle(run);
    run.clear();
    return result;
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      if (failed(flush()) || failed(launchParallel(loop)))
        return failure();
      continue;
    }
    if (isHostOp(&op) || op.hasTrait<OpTrait::IsTerminator>()) {
      if (failed(flush()))
        return failure();
      continue;
    }
    if (op.getNumRegions() != 0 &&
        (containsParallel(&op) || containsHostOp(&op))) {
      // Host control flow around kernels (a loop over the batch whose body
      // holds parallel loops) or around host work (a buffer freed under a
      // condition the device computed): its operands are host values (read
      // back when the device computed them).
      if (failed(flush()))
        return failure();
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          if (failed(mapBlock(inner)))
            return failure();
      continue;
    }
    if (touchesMemory(&op) || !run.empty())
      run.push_back(&op);
  }
  return flush();
}

func::FuncOp declare(ModuleOp module, StringRef name, FunctionType type) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
  fn.setPrivate();
  return fn;
}

/// The element address of `buffer` as an i64, and its size in bytes.
std::pair<Value, Value> addressAndBytes(OpBuilder &b, Location loc,
                                        Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  Value pointer =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  Value bytes = index(b, loc, type.getElementTypeBitWidth() / 8);
  for (int64_t d = 0; d < type.getRank(); ++d)
    bytes = arith::MulIOp::create(b, loc, bytes,
                                  memref::DimOp::create(b, loc, buffer, d));
  auto i64 = b.getI64Type();
  return {arith::IndexCastOp::create(b, loc, i64, pointer),
          arith::IndexCastOp::create(b, loc, i64, bytes)};
}

void copy(OpBuilder &b, Location loc, func::FuncOp memcpy, Value to,
          Value from) {
  auto [dst, bytes] = addressAndBytes(b, loc, to);
  Value src = addressAndBytes(b, loc, from).first;
  func::CallOp::create(b, loc, memcpy, ValueRange{dst, src, bytes});
}

/// The entry points of exported function `fn` (see the file comment): `fn`
/// becomes a private body on device buffers, called by two public
/// functions that return its status combined with the device's:
/// `<fn>_host` on host buffers (copied to device buffers, the outputs
/// back), `<fn>_device` on the caller's device buffers. The body keeps the
/// name, and its kernels theirs (profiles name them).
LogicalResult splitEntryPoints(func::FuncOp fn, func::FuncOp memcpy,
                               func::FuncOp status) {
  auto numInputs = fn->getAttrOfType<IntegerAttr>(kNumInputsAttr);
  if (!numInputs || !fn.getBody().hasOneBlock())
    return success();
  fn->removeAttr(kNumInputsAttr);
  auto module = fn->getParentOfType<ModuleOp>();
  for (StringRef suffix : {"_host", "_device"})
    if (module.lookupSymbol((fn.getName() + suffix).str()))
      return fn.emitError()
             << "layer-gpu-map: '" << fn.getName() << suffix << "' is taken";
  DictionaryAttr attrs = fn->getDiscardableAttrDictionary();
  fn->removeAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName());
  fn.setPrivate();
  Location loc = fn.getLoc();
  OpBuilder b(fn.getContext());
  b.setInsertionPointAfter(fn);
  for (StringRef suffix : {"_host", "_device"}) {
    auto entry = func::FuncOp::create(b, loc, (fn.getName() + suffix).str(),
                                      fn.getFunctionType());
    entry->setDiscardableAttrs(attrs);
    Block *block = entry.addEntryBlock();
    OpBuilder eb = OpBuilder::atBlockBegin(block);
    SmallVector<Value> operands, buffers;
    SmallVector<std::pair<Value, Value>> outputs; // host, device
    for (BlockArgument arg : block->getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || suffix == "_device") {
        operands.push_back(arg);
        continue;
      }
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          sizes.push_back(memref::DimOp::create(eb, loc, arg, d));
      Value buffer = memref::AllocOp::create(
          eb, loc, MemRefType::get(type.getShape(), type.getElementType()),
          sizes);
      if (arg.getArgNumber() < numInputs.getInt())
        copy(eb, loc, memcpy, buffer, arg);
      else
        outputs.push_back({arg, buffer});
      buffers.push_back(buffer);
      operands.push_back(buffer.getType() == type
                             ? buffer
                             : memref::CastOp::create(eb, loc, type, buffer));
    }
    Value own = func::CallOp::create(eb, loc, fn, operands).getResult(0);
    for (auto [host, buffer] : outputs)
      copy(eb, loc, memcpy, host, buffer);
    for (Value buffer : buffers)
      memref::DeallocOp::create(eb, loc, buffer);
    Value gpu = func::CallOp::create(eb, loc, status).getResult(0);
    Value ok =
        arith::CmpIOp::create(eb, loc, arith::CmpIPredicate::eq, own,
                              arith::ConstantIntOp::create(eb, loc, 0, 32));
    func::ReturnOp::create(
        eb, loc, ValueRange{arith::SelectOp::create(eb, loc, ok, gpu, own)});
    b.setInsertionPointAfter(entry);
  }
  return success();
}

struct LayerGpuMapPass : layerc::impl::LayerGpuMapBase<LayerGpuMapPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto i64 = IntegerType::get(ctx, 64);
    func::FuncOp memcpy = declare(module, "layerc_cuda_memcpy",
                                  FunctionType::get(ctx, {i64, i64, i64}, {}));
    func::FuncOp status =
        declare(module, "layerc_cuda_status",
                FunctionType::get(ctx, {}, {IntegerType::get(ctx, 32)}));
    // The constants the host hands to kernels, with their sizes.
    SmallVector<NamedAttribute> globals;
    module.walk([&](memref::GetGlobalOp get) {
      auto type = cast<MemRefType>(get.getType());
      if (!type.hasStaticShape())
        return;
      globals.push_back(NamedAttribute(
          get.getNameAttr().getAttr(),
          IntegerAttr::get(i64, type.getNumElements() *
                                    type.getElementTypeBitWidth() / 8)));
    });
    module->setAttr(kDeviceGlobalsAttr, DictionaryAttr::get(ctx, globals));
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (fn.isExternal())
        continue;
      if (fn.isPublic() && failed(splitEntryPoints(fn, memcpy, status)))
        return signalPassFailure();
      for (Block &block : fn.getBody())
        if (failed(mapBlock(block)))
          return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
  }
};

/// The first name in `loc` (a layer's, from MLIRGen) as a C identifier's
/// characters; empty when there is none.
std::string layerName(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc)) {
    std::string name = named.getName().str();
    for (char &c : name)
      if (!llvm::isAlnum(c))
        c = '_';
    return name;
  }
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::string name = layerName(inner); !name.empty())
        return name;
  if (auto call = dyn_cast<CallSiteLoc>(loc))
    return layerName(call.getCallee());
  return "";
}

struct LayerGpuMergeKernelsPass
    : layerc::impl::LayerGpuMergeKernelsBase<LayerGpuMergeKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> modules(module.getOps<gpu::GPUModuleOp>());
    if (modules.empty())
      return;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    std::string name = moduleName;
    if (module.lookupSymbol(name)) {
      module.emitError() << "layer-gpu-merge-kernels: '" << name
                         << "' is taken";
      return signalPassFailure();
    }
    auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), name);
    Block &body = merged.getBodyRegion().front();
    // Outlining names each module uniquely but may reuse function names
    // across modules: a kernel takes its module's name, and the name of
    // the layer it computes.
    llvm::StringMap<std::string> renamed; // "module::function" -> new name
    for (gpu::GPUModuleOp old : modules) {
      std::string oldModule = old.getSymName().str();
      bool oneKernel = llvm::hasSingleElement(old.getBodyRegion().front());
      for (Operation &op :
           llvm::make_early_inc_range(old.getBodyRegion().front())) {
        if (auto symbol = dyn_cast<SymbolOpInterface>(op)) {
          // Outlining makes one kernel per module: the module's name.
          std::string fresh = oldModule;
          if (!oneKernel)
            fresh += "_" + symbol.getName().str();
          // The Keras layer it computes, for profiles and debuggers.
          std::string layer = layerName(op.getLoc());
          if (!layer.empty())
            fresh += "_" + layer;
          if (merged.lookupSymbol(fresh)) {
            op.emitError("layer-gpu-merge-kernels: two kernels named '")
                << fresh << "'";
            return signalPassFailure();
          }
          renamed[oldModule + "::" + symbol.getName().str()] = fresh;
          SymbolTable::setSymbolName(symbol, fresh);
        }
        op.moveBefore(&body, body.end());
      }
      old.erase();
    }
    auto mergedName = StringAttr::get(&getContext(), name);
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find(launch.getKernelModuleName().str() +
                             "::" + launch.getKernelName().str());
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          mergedName, {FlatSymbolRefAttr::get(&getContext(), it->second)}));
    });
  }
};

struct LayerGpuMathPass : layerc::impl::LayerGpuMathBase<LayerGpuMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // pow, sinh, ... in terms of exp and log; then the polynomials.
    math::populateExpansionPatterns(patterns);
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

/// Bodies for the libdevice functions convert-gpu-to-nvvm calls for math
/// ops with an LLVM intrinsic (floor, sqrt, fabs, ...): the intrinsic,
/// which NVPTX selects, so no libdevice is linked.
struct LayerGpuLibdevicePass
    : layerc::impl::LayerGpuLibdeviceBase<LayerGpuLibdevicePass> {
  void runOnOperation() override {
    static const llvm::StringMap<StringRef> intrinsics = {
        {"floor", "llvm.intr.floor"},
        {"ceil", "llvm.intr.ceil"},
        {"sqrt", "llvm.intr.sqrt"},
        {"fabs", "llvm.intr.fabs"},
        {"trunc", "llvm.intr.trunc"},
        {"round", "llvm.intr.round"},
        {"rint", "llvm.intr.roundeven"},
        {"nearbyint", "llvm.intr.roundeven"},
        {"copysign", "llvm.intr.copysign"},
        {"fma", "llvm.intr.fma"},
        {"fmin", "llvm.intr.minnum"},
        {"fmax", "llvm.intr.maxnum"},
        {"exp2", "llvm.intr.exp2"}};
    for (auto fn : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      StringRef name = fn.getName();
      if (!fn.isExternal() || !name.consume_front("__nv_"))
        continue;
      LLVM::LLVMFunctionType type = fn.getFunctionType();
      if (type.getReturnType().isF32())
        name.consume_back("f");
      auto it = intrinsics.find(name);
      if (it == intrinsics.end()) {
        fn.emitError() << "layer-gpu-libdevice: no replacement for CUDA's '"
                       << fn.getName()
                       << "' (the kernels must not need libdevice)";
        return signalPassFailure();
      }
      OpBuilder builder(fn.getContext());
      Block *entry = fn.addEntryBlock(builder);
      builder.setInsertionPointToStart(entry);
      OperationState state(fn.getLoc(), it->second);
      state.addOperands(entry->getArguments());
      state.addTypes(type.getReturnType());
      Value result = builder.create(state)->getResult(0);
      LLVM::ReturnOp::create(builder, fn.getLoc(), result);
      fn.setLinkage(LLVM::Linkage::Internal);
    }
  }
};

/// The host side of the LLVM dialect module: its functions, not those of
/// the gpu.modules (kernels).
struct LayerGpuHostAllocPass
    : layerc::impl::LayerGpuHostAllocBase<LayerGpuHostAllocPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    auto ptr = LLVM::LLVMPointerType::get(&getContext());
    auto i64 = b.getI64Type();
    auto globals = module->getAttrOfType<DictionaryAttr>(kDeviceGlobalsAttr);
    module->removeAttr(kDeviceGlobalsAttr);
    auto lookup = [&](StringRef name, Type result, ArrayRef<Type> args) {
      b.setInsertionPointToEnd(module.getBody());
      auto fn = LLVM::lookupOrCreateFn(b, module, name, args, result);
      return failed(fn) ? LLVM::LLVMFuncOp() : *fn;
    };
    LLVM::LLVMFuncOp deviceMalloc = lookup("layerc_cuda_malloc", ptr, {i64});
    LLVM::LLVMFuncOp deviceFree = lookup(
        "layerc_cuda_free", LLVM::LLVMVoidType::get(&getContext()), {ptr});
    LLVM::LLVMFuncOp deviceGlobal =
        lookup("layerc_cuda_global", ptr, {ptr, i64});
    if (!deviceMalloc || !deviceFree || !deviceGlobal)
      return signalPassFailure();
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
      fn.walk([&](LLVM::CallOp call) {
        std::optional<StringRef> callee = call.getCallee();
        if (callee == "malloc")
          call.setCallee(deviceMalloc.getName());
        else if (callee == "free")
          call.setCallee(deviceFree.getName());
      });
      if (!globals)
        continue;
      fn.walk([&](LLVM::AddressOfOp address) {
        auto bytes = globals.getAs<IntegerAttr>(address.getGlobalName());
        if (!bytes)
          return;
        b.setInsertionPointAfter(address);
        Value size =
            LLVM::ConstantOp::create(b, address.getLoc(), i64, bytes.getInt());
        auto copy = LLVM::CallOp::create(b, address.getLoc(), deviceGlobal,
                                         ValueRange{address, size});
        address.getResult().replaceAllUsesExcept(copy.getResult(), copy);
      });
    }
  }
};

} // namespace
