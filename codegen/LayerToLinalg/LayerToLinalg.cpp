//===- LayerToLinalg.cpp - The layer-to-linalg pass
//------------------------===//
//
// Collects the lowering patterns of every layer family and runs them as a
// partial conversion in which the whole layer dialect is illegal, so any op
// left behind (for instance one whose shapes were not inferred) is reported
// as a failed legalization at its location.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "llvm/ADT/ScopeExit.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERTOLINALG
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;

namespace {
struct LayerToLinalgPass : layerc::impl::LayerToLinalgBase<LayerToLinalgPass> {
  // concatenate writes its inputs into one buffer (Merging.cpp): memref.alloc,
  // memref.subview and bufferization ops on top of Passes.td's dialects.
  void getDependentDialects(DialectRegistry &registry) const override {
    LayerToLinalgBase::getDependentDialects(registry);
    registry
        .insert<bufferization::BufferizationDialect, memref::MemRefDialect>();
  }

  using LayerToLinalgBase::LayerToLinalgBase;

  void runOnOperation() override {
    if (failed(codegen::checkVectorBits(getOperation(), vectorBits,
                                        "layer-to-linalg")))
      return signalPassFailure();
    // The kernels read the width from the module (codegen::vectorBitsAt).
    ModuleOp module = getOperation();
    module->setAttr(
        codegen::kVectorBitsAttr,
        IntegerAttr::get(IntegerType::get(&getContext(), 64), vectorBits));
    auto clear = llvm::make_scope_exit(
        [&] { module->removeAttr(codegen::kVectorBitsAttr); });
    ConversionTarget target(getContext());
    target.addIllegalDialect<layer::LayerDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect, vector::VectorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(&getContext());
    codegen::populateCoreLoweringPatterns(patterns);
    codegen::populateMergingLoweringPatterns(patterns);
    codegen::populateNormalizationLoweringPatterns(patterns);
    codegen::populateConvLoweringPatterns(patterns);
    codegen::populatePoolingLoweringPatterns(patterns);
    codegen::populateRecurrentLoweringPatterns(patterns);
    codegen::populateRecurrentGradLoweringPatterns(patterns);
    codegen::populateLossLoweringPatterns(patterns);
    codegen::populateOptimizerLoweringPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
