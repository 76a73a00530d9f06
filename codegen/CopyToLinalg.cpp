//===- CopyToLinalg.cpp - The layer-copy-to-linalg pass -------------------===//
//
// See codegen/Passes.td: every memref.copy becomes a linalg.copy, so no
// generated code calls MLIR's runtime library.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERCOPYTOLINALG
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;

namespace {
struct CopyToLinalgPass
    : layerc::impl::LayerCopyToLinalgBase<CopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) { copies.push_back(op); });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};
} // namespace
