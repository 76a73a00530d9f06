//===- LowerChecks.cpp - The layer-lower-checks pass ----------------------===//
//
// The run-time checks of a function (layer-shape-checks, the output checks
// of layer-export-functions, the value checks of the lowerings) are
// `cf.assert`s, and its allocations are `memref.alloc`s that nothing
// checks. Upstream, a failed assert aborts the process and a failed malloc
// is dereferenced. In an exported function, whose control flow is flat by
// now (after convert-scf-to-cf), this pass makes both return a status
// instead:
//
//   cf.assert %ok, "msg"        cf.cond_br %ok, ^next, ^fail(%c107 : i32)
//   %m = memref.alloc(...)  ->  %m = memref.alloc(...)
//                               %p = memref.extract_aligned_pointer_as_index %m
//                               cf.cond_br (%p == 0), ^fail(%c4), ^next
//   ^fail(%code: i32): return %code
//
// Messages are numbered in the module attribute `layer.check_messages`.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "runtime/Abi.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERLOWERCHECKS
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;

namespace {

/// The module's check messages, numbered in order of first appearance.
class MessageTable {
public:
  explicit MessageTable(ModuleOp module) : module(module) {
    if (auto existing = module->getAttrOfType<ArrayAttr>(kAttr))
      for (Attribute a : existing)
        add(cast<StringAttr>(a).getValue());
  }
  int32_t add(StringRef message) {
    auto [it, inserted] = index.try_emplace(message, messages.size());
    if (inserted)
      messages.push_back(StringAttr::get(module.getContext(), message));
    return kStatusCheckBase + static_cast<int32_t>(it->second);
  }
  void store() {
    if (!messages.empty())
      module->setAttr(kAttr, ArrayAttr::get(module.getContext(), messages));
  }
  static constexpr StringLiteral kAttr = "layer.check_messages";

private:
  ModuleOp module;
  llvm::StringMap<size_t> index;
  SmallVector<Attribute> messages;
};

/// Splits the block after `op` and ends it with a branch: to the rest when
/// `ok`, else to `fail` with `code`.
void branchOnFailure(OpBuilder &b, Operation *op, Value ok, Block *fail,
                     int32_t code) {
  Block *rest = op->getBlock()->splitBlock(op->getNextNode());
  b.setInsertionPointAfter(op);
  Location loc = op->getLoc();
  Value status = arith::ConstantIntOp::create(b, loc, code, 32);
  cf::CondBranchOp::create(b, loc, ok, rest, ValueRange{}, fail,
                           ValueRange{status});
}

LogicalResult lowerChecks(func::FuncOp fn, MessageTable &table) {
  auto type = fn.getFunctionType();
  if (type.getNumResults() != 1 || !type.getResult(0).isInteger(32))
    return fn.emitError() << "layer-lower-checks: exported function '"
                          << fn.getName() << "' must return an i32 status";
  SmallVector<cf::AssertOp> asserts;
  SmallVector<memref::AllocOp> allocs;
  // After convert-scf-to-cf every op of interest sits directly in a block
  // of the function; one still nested in a region keeps its upstream
  // lowering.
  for (Block &block : fn.getBody())
    for (Operation &op : block) {
      if (auto a = dyn_cast<cf::AssertOp>(op))
        asserts.push_back(a);
      else if (auto alloc = dyn_cast<memref::AllocOp>(op))
        allocs.push_back(alloc);
    }
  fn->removeAttr("layer.status");
  fn->removeAttr(kNumInputsAttr);
  if (asserts.empty() && allocs.empty())
    return success();

  OpBuilder b(fn.getContext());
  Block *fail = b.createBlock(&fn.getBody(), fn.getBody().end(),
                              {b.getIntegerType(32)}, {fn.getLoc()});
  Value status = fail->getArgument(0);
  // A CUDA target (layer-gpu-map): a failed device explains any failure
  // (its allocations return null too), so its status comes first.
  if (auto device = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          fn, StringAttr::get(fn.getContext(), "layerc_cuda_status"))) {
    Value own = status;
    Value gpu = func::CallOp::create(b, fn.getLoc(), device).getResult(0);
    Value ok = arith::CmpIOp::create(
        b, fn.getLoc(), arith::CmpIPredicate::eq, gpu,
        arith::ConstantIntOp::create(b, fn.getLoc(), 0, 32));
    status = arith::SelectOp::create(b, fn.getLoc(), ok, own, gpu);
  }
  // The arenas taken so far go back to their caches (layer-plan-buffers'
  // cells; null, and given as nothing, where a check failed first), so a
  // stream of bad inputs does not leak an arena per call.
  auto give = SymbolTable::lookupNearestSymbolFrom<LLVM::LLVMFuncOp>(
      fn, StringAttr::get(fn.getContext(), kArenaGive));
  for (auto cell : fn.getBody().front().getOps<LLVM::AllocaOp>()) {
    auto slot = cell->getAttrOfType<FlatSymbolRefAttr>(kArenaCellAttr);
    if (!slot || !give)
      continue;
    Location loc = cell.getLoc();
    Type ptr = cell.getType();
    Value arena = LLVM::LoadOp::create(b, loc, ptr, cell);
    Value slotAddress = LLVM::AddressOfOp::create(b, loc, ptr, slot);
    LLVM::CallOp::create(b, loc, give, ValueRange{slotAddress, arena});
  }
  func::ReturnOp::create(b, fn.getLoc(), status);

  for (cf::AssertOp a : asserts) {
    int32_t code = a.getMsg() == kOutOfMemoryMessage ? kStatusOutOfMemory
                                                     : table.add(a.getMsg());
    branchOnFailure(b, a, a.getArg(), fail, code);
    a.erase();
  }
  for (memref::AllocOp alloc : allocs) {
    b.setInsertionPointAfter(alloc);
    Location loc = alloc.getLoc();
    Value pointer =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, alloc);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value ok =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, pointer, zero);
    branchOnFailure(b, ok.getDefiningOp(), ok, fail, kStatusOutOfMemory);
  }
  return success();
}

struct LayerLowerChecksPass
    : layerc::impl::LayerLowerChecksBase<LayerLowerChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MessageTable table(module);
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && fn->hasAttr("layer.status") &&
          failed(lowerChecks(fn, table)))
        return signalPassFailure();
    table.store();
  }
};

} // namespace

std::vector<std::string> layerc::takeCheckMessages(ModuleOp module) {
  std::vector<std::string> out;
  if (auto messages = module->getAttrOfType<ArrayAttr>(MessageTable::kAttr))
    for (Attribute a : messages)
      out.push_back(cast<StringAttr>(a).getValue().str());
  module->removeAttr(MessageTable::kAttr);
  return out;
}
