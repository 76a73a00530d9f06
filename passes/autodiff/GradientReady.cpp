//===- GradientReady.cpp - grad_step announces each final gradient --------===//
//
// A gradient's value is final where the op that defines the returned value
// runs: the backward sweep accumulates the contributions of a weight used
// several times (a shared layer) into one sum, and the last add is that
// op. The notification goes right after it, so that the runtime sees the
// gradients in the order the backward pass finishes them (the last layers'
// first).
//
// The call takes a pointer, not a tensor: to_buffer (read-only, identity
// layout) reads the tensor at that point of the program, and One-Shot
// Bufferize keeps that read ordered before any later in-place write of the
// same buffer; the pointer escapes into the call, so LLVM keeps every store
// of the gradient before it. The callee copies the data before returning,
// so nothing needs the buffer afterwards.
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/GradientReady.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace {

/// The module's declaration of the callee, created on first use.
FailureOr<func::FuncOp> declareCallee(ModuleOp module, Location loc) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  Type i64 = b.getI64Type();
  FunctionType type = b.getFunctionType(
      {i64, LLVM::LLVMPointerType::get(ctx), i64}, TypeRange{});
  if (auto existing = module.lookupSymbol<func::FuncOp>(
          layerc::layer::kGradientReadyFunction)) {
    if (existing.getFunctionType() != type || !existing.isExternal())
      return existing.emitError()
             << "layer-autodiff: gradient-ready needs '"
             << layerc::layer::kGradientReadyFunction
             << "' to be an external function of type " << type;
    return existing;
  }
  b.setInsertionPointToStart(module.getBody());
  auto callee =
      func::FuncOp::create(b, loc, layerc::layer::kGradientReadyFunction, type);
  callee.setPrivate();
  return callee;
}

} // namespace

LogicalResult layerc::layer::insertGradientReadyCalls(func::FuncOp fn,
                                                      unsigned first,
                                                      unsigned count) {
  auto module = fn->getParentOfType<ModuleOp>();
  FailureOr<func::FuncOp> callee = declareCallee(module, fn.getLoc());
  if (failed(callee))
    return failure();
  Block &entry = fn.getBody().front();
  Operation *terminator = entry.getTerminator();
  OpBuilder b(fn.getContext());
  Type i64 = b.getI64Type();
  // Several gradients can come from one op (a multi-result gradient rule):
  // their calls follow each other in index order.
  DenseMap<Operation *, Operation *> lastCall;
  for (unsigned i = 0; i < count; ++i) {
    Value grad = terminator->getOperand(first + i);
    auto type = dyn_cast<RankedTensorType>(grad.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return fn.emitError() << "layer-autodiff: gradient-ready needs static "
                               "float32 gradients; gradient "
                            << i << " is " << grad.getType();
    // The op of the entry block that makes the value (null: an argument,
    // announced at the start).
    Operation *def = grad.getDefiningOp();
    if (def)
      def = entry.findAncestorOpInBlock(*def);
    Operation *after = lastCall.lookup(def);
    if (!after)
      after = def;
    if (after)
      b.setInsertionPointAfter(after);
    else
      b.setInsertionPointToStart(&entry);
    Location loc = grad.getLoc();
    Value buffer = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), grad,
        /*read_only=*/true);
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    Value asInteger = arith::IndexCastOp::create(b, loc, i64, address);
    Value data = LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInteger,
        LLVM::DereferenceableAttr());
    Value index = arith::ConstantIntOp::create(b, loc, i64, i);
    Value elements =
        arith::ConstantIntOp::create(b, loc, i64, type.getNumElements());
    lastCall[def] = func::CallOp::create(b, loc, *callee,
                                         ValueRange{index, data, elements});
  }
  return success();
}
