//===- Pipeline.cpp - The layerc compilation pipeline
//----------------------===//
//
// The whole compiler, top to bottom. Every entry point (Model::compile,
// layerc-run, layerc-opt --pass-pipeline) runs these same strings.
//
//   1. layer level: infer shapes (every later stage needs static sample
//      shapes), check at run time what they could not prove (a size that
//      is dynamic: cf.assert), then lower each layer op to linalg on
//      tensors, fuse
//      element-wise producers into consumers and order matmul loops so
//      that LLVM vectorizes the innermost one.
//   2. ABI: public functions become destination-passing C entry points
//      that return a status.
//   3. Bufferize the whole module at once (identity layouts, so no
//      runtime-library copies are needed; no two results share an initial
//      tensor), then insert deallocations.
//   4. Loops: linalg -> scf -> cf; (4b) failed checks and failed
//      allocations of an exported function return its status.
//   5. LLVM dialect: vectors (the register-blocked matmul and convolution
//      kernels are written with vector ops), memref descriptors, math
//      (libm for tanh), arith, func.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialect/LayerOps.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include <mutex>

using namespace mlir;

std::string layerc::layerToLinalgPipeline() {
  return "func.func(layer-shape-inference,layer-shape-checks)," // 1
         "layer-to-linalg,canonicalize,cse,"                    // 1
         "func.func(linalg-fuse-elementwise-ops),canonicalize,"
         "func.func(layer-contraction-loop-order)";
}

std::string layerc::linalgToLLVMPipeline() {
  return "layer-export-functions," // 2
         "func.func(layer-split-shared-inits),"
         "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
         "one-shot-bufferize{bufferize-function-boundaries " // 3
         "allow-return-allocs-from-loops "
         "function-boundary-type-conversion=identity-layout-map},"
         "canonicalize,buffer-deallocation-pipeline,"
         "convert-bufferization-to-memref,"
         "func.func(layer-copy-to-linalg,convert-linalg-to-loops)," // 4
         "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
         "layer-lower-checks,"     // 4b
         "convert-vector-to-llvm," // 5
         "convert-math-to-llvm,convert-math-to-libm,"
         "convert-to-llvm,reconcile-unrealized-casts";
}

std::string layerc::layerToLLVMPipeline() {
  return layerToLinalgPipeline() + "," + linalgToLLVMPipeline();
}

void layerc::registerLayercPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    registerLayerPasses();        // passes/Passes.td
    registerLayerCodegenPasses(); // codegen/Passes.td
    PassPipelineRegistration<>(
        "layer-to-llvm",
        "The full layerc pipeline: layer dialect to the LLVM dialect",
        [](OpPassManager &pm) {
          if (failed(parsePassPipeline(layerToLLVMPipeline(), pm)))
            llvm::report_fatal_error("invalid built-in pipeline");
        });
  });
}

void layerc::registerCompilerDialects(DialectRegistry &registry) {
  registry.insert<layer::LayerDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registerGradientInterfaces(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}
