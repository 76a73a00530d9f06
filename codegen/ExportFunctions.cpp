//===- ExportFunctions.cpp - The layer-export-functions pass
//---------------===//
//
// Gives every public function the calling convention of Abi.h: memref
// arguments for inputs then outputs, an i32 status returned (0, or the
// code of a failed check: layer-lower-checks). Inputs are wrapped in
// `to_tensor restrict` (the caller promises no aliasing), results are
// materialized into the output buffers, so one-shot bufferization can write
// them in place and no allocation escapes a call. A result size the
// compiler could not prove equal to its buffer's is checked first: a
// caller's buffer is never written past its end.
//
//===----------------------------------------------------------------------===//

#include "codegen/Header.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

namespace layerc {
#define GEN_PASS_DEF_LAYEREXPORTFUNCTIONS
#define GEN_PASS_DEF_LAYERPREFIXSYMBOLS
#define GEN_PASS_DEF_LAYERINTERNALIZEPRIVATE
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
  for (auto [index, result] : llvm::enumerate(ret.getOperands())) {
    MemRefType type = bufferOf(result.getType());
    BlockArgument out = entry.addArgument(type, ret.getLoc());
    std::string what = "output 'output" + std::to_string(index) + "'";
    if (auto name = fn.getResultAttrOfType<StringAttr>(index, "layer.name"))
      what = "output '" + name.str() + "'";
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      Value have = memref::DimOp::create(b, ret.getLoc(), out, d);
      Value want = tensor::DimOp::create(b, ret.getLoc(), result, d);
      Value ok = arith::CmpIOp::create(b, ret.getLoc(),
                                       arith::CmpIPredicate::eq, have, want);
      cf::AssertOp::create(
          b, ret.getLoc(), ok,
          "function '" + fn.getName().str() + "': dimension " +
              std::to_string(d) + " of " + what +
              " differs from its buffer's (the output's size "
              "depends on the inputs in a way the caller did not give)");
    }
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), Type(), result, out, /*restrict=*/true,
        /*writable=*/true);
    newTypes.push_back(type);
  }
  Value ok = arith::ConstantIntOp::create(b, ret.getLoc(), 0, 32);
  func::ReturnOp::create(b, ret.getLoc(), ok);
  ret.erase();
  entry.eraseArguments(0, numInputs);

  fn.setType(
      FunctionType::get(fn.getContext(), newTypes, {b.getIntegerType(32)}));
  fn->removeAttr(fn.getArgAttrsAttrName());
  fn->removeAttr(fn.getResAttrsAttrName());
  fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
              UnitAttr::get(fn.getContext()));
  // layer-lower-checks turns this function's asserts into status codes.
  fn->setAttr("layer.status", UnitAttr::get(fn.getContext()));
  // layer-gpu-map copies the first `layer.num_inputs` arguments in and the
  // others (the outputs) back.
  fn->setAttr(kNumInputsAttr, b.getI64IntegerAttr(numInputs));
  return success();
}

struct LayerPrefixSymbolsPass
    : layerc::impl::LayerPrefixSymbolsBase<LayerPrefixSymbolsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (prefix.empty())
      return;
    ModuleOp module = getOperation();
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (!fn.isPublic())
        continue;
      auto symbol =
          StringAttr::get(&getContext(), exportedSymbol(cIdentifier(prefix),
                                                        fn.getName().str()));
      if (failed(SymbolTable::replaceAllSymbolUses(fn, symbol, module))) {
        fn.emitError() << "layer-prefix-symbols: cannot rename '"
                       << fn.getName() << "'";
        return signalPassFailure();
      }
      SymbolTable::setSymbolName(fn, symbol);
    }
  }
};

struct LayerInternalizePrivatePass
    : layerc::impl::LayerInternalizePrivateBase<LayerInternalizePrivatePass> {
  void runOnOperation() override {
    auto internal =
        LLVM::LinkageAttr::get(&getContext(), LLVM::Linkage::Internal);
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPrivate() && !fn.isExternal())
        fn->setAttr("llvm.linkage", internal);
  }
};

struct LayerExportFunctionsPass
    : layerc::impl::LayerExportFunctionsBase<LayerExportFunctionsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal() && failed(exportFunction(fn)))
        return signalPassFailure();
  }
};

} // namespace
