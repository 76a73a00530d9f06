//===- ExportFunctions.cpp - The layer-export-functions pass
//---------------===//
//
// Gives every public function the calling convention of Abi.h: memref
// arguments for inputs then outputs, nothing returned. Inputs are wrapped
// in `to_tensor restrict` (the caller promises no aliasing), results are
// materialized into the output buffers, so one-shot bufferization can write
// them in place and no allocation escapes a call.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace layerc {
#define GEN_PASS_DEF_LAYEREXPORTFUNCTIONS
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;

namespace {

MemRefType bufferOf(Type t) {
  auto tensor = cast<RankedTensorType>(t);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

LogicalResult exportFunction(func::FuncOp fn) {
  for (Type t :
       llvm::concat<const Type>(fn.getArgumentTypes(), fn.getResultTypes()))
    if (!isa<RankedTensorType>(t))
      return fn.emitError() << "cannot export '" << fn.getName()
                            << "': every argument and result must be a "
                               "ranked tensor, got "
                            << t;
  if (!fn.getBody().hasOneBlock())
    return fn.emitError() << "cannot export '" << fn.getName()
                          << "': expected a single block";

  Block &entry = fn.getBody().front();
  OpBuilder b(fn.getContext());
  b.setInsertionPointToStart(&entry);
  unsigned numInputs = fn.getNumArguments();
  SmallVector<Type> newTypes;
  for (unsigned i = 0; i < numInputs; ++i) {
    BlockArgument old = entry.getArgument(i);
    MemRefType type = bufferOf(old.getType());
    BlockArgument buffer = entry.addArgument(type, old.getLoc());
    Value tensor = bufferization::ToTensorOp::create(
        b, old.getLoc(), old.getType(), buffer, /*restrict=*/true,
        /*writable=*/false);
    old.replaceAllUsesWith(tensor);
    newTypes.push_back(type);
  }

  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  b.setInsertionPoint(ret);
  for (Value result : ret.getOperands()) {
    MemRefType type = bufferOf(result.getType());
    BlockArgument out = entry.addArgument(type, ret.getLoc());
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), Type(), result, out, /*restrict=*/true,
        /*writable=*/true);
    newTypes.push_back(type);
  }
  func::ReturnOp::create(b, ret.getLoc());
  ret.erase();
  entry.eraseArguments(0, numInputs);

  fn.setType(FunctionType::get(fn.getContext(), newTypes, {}));
  fn->removeAttr(fn.getArgAttrsAttrName());
  fn->removeAttr(fn.getResAttrsAttrName());
  fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
              UnitAttr::get(fn.getContext()));
  return success();
}

struct LayerExportFunctionsPass
    : layerc::impl::LayerExportFunctionsBase<LayerExportFunctionsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal() && failed(exportFunction(fn)))
        return signalPassFailure();
  }
};

} // namespace
