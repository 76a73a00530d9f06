//===- ShapeChecks.cpp - The layer-shape-checks pass ----------------------===//
//
// Shape inference proves what it can; what depends on a dynamic size it
// leaves open, and the op's shape rule records it (DimCheck) when asked
// inside a DimCheckScope. This pass asks every op's rule once more (through
// its verifier, which changes no type), now
// that all types are known, and materializes each open relation before the
// op as
//
//   %a = tensor.dim %x, %c1 ; %ok = arith.cmpi eq, %a, %c4096
//   cf.assert %ok, "layer 'dense_1' (layer.dense): ..."
//
// The pass knows no op: the rules are the one description of what an op
// needs. Canonicalization folds relations that become provable after
// lowering (two batch sizes of one argument); the rest become error codes
// of the exported function in layer-lower-checks.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/Path.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERSHAPECHECKS
#include "passes/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;
using namespace layerc::layer;

namespace {

/// Where an op comes from, for messages: "layer 'dense_1'" (MLIRGen's name
/// location), else "the op at model.mlir:3:8".
std::string origin(Operation *op) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner)) {
        loc = inner;
        break;
      }
  if (auto name = dyn_cast<NameLoc>(loc))
    return "layer '" + name.getName().str() + "'";
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return "the op at " + llvm::sys::path::filename(file.getFilename()).str() +
           ":" + std::to_string(file.getLine()) + ":" +
           std::to_string(file.getColumn());
  return "an op";
}

/// "dimension 1 of operand #0 (None, None)" / "dimensions 1, 2 of ..." /
/// "20".
std::string describe(Operation *op, const DimCheck::Side &side) {
  if (!side.value)
    return std::to_string(side.constant);
  std::string text = side.dims.size() == 1 ? "dimension " : "dimensions ";
  for (size_t i = 0; i < side.dims.size(); ++i)
    text += (i ? " * " : "") + std::to_string(side.dims[i]);
  std::string owner = "a value";
  for (OpOperand &use : op->getOpOperands())
    if (use.get() == side.value) {
      owner = "operand #" + std::to_string(use.getOperandNumber());
      break;
    }
  return text + " of " + owner + " " + formatShape(side.value.getType());
}

/// The product of the side's dimensions (times its constant) as an index;
/// static sizes are folded into the constant.
Value materialize(OpBuilder &b, Location loc, const DimCheck::Side &side) {
  int64_t constant = side.constant;
  Value product;
  for (int64_t d : side.dims) {
    auto type = cast<RankedTensorType>(side.value.getType());
    if (!type.isDynamicDim(d)) {
      constant *= type.getDimSize(d);
      continue;
    }
    Value dim = tensor::DimOp::create(b, loc, side.value, d);
    product = product ? arith::MulIOp::create(b, loc, product, dim) : dim;
  }
  if (constant == 1 && product)
    return product;
  Value c = arith::ConstantIndexOp::create(b, loc, constant);
  return product ? arith::MulIOp::create(b, loc, product, c) : c;
}

struct LayerShapeChecksPass
    : layerc::impl::LayerShapeChecksBase<LayerShapeChecksPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](ShapeInference op) { ops.push_back(op); });
    for (Operation *op : ops) {
      SmallVector<DimCheck> checks;
      {
        DimCheckScope scope(checks);
        // The verifier runs the rule without changing any type.
        if (failed(mlir::verify(op, /*verifyRecursively=*/false)))
          return signalPassFailure();
      }
      OpBuilder b(op);
      for (const DimCheck &check : checks) {
        Location loc = op->getLoc();
        Value lhs = materialize(b, loc, check.lhs);
        Value rhs = materialize(b, loc, check.rhs);
        bool equal = check.relation == DimCheck::Relation::Equal;
        Value ok = arith::CmpIOp::create(b, loc,
                                         equal ? arith::CmpIPredicate::eq
                                               : arith::CmpIPredicate::sge,
                                         lhs, rhs);
        std::string message =
            origin(op) + " (" + op->getName().getStringRef().str() +
            "): " + check.what + ": " + describe(op, check.lhs) +
            (equal ? " must equal " : " must be >= ") + describe(op, check.rhs);
        cf::AssertOp::create(b, loc, ok, message);
      }
    }
  }
};

} // namespace
