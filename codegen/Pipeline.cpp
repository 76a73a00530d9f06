//===- Pipeline.cpp - The layerc compilation pipeline ---------------------===//
//
// The whole compiler, top to bottom (stages of Pipeline.h):
//
//   Layer:  fix input shapes and the batch when asked, infer shapes (every
//           later stage needs static sample shapes), build the training
//           functions.
//   Linalg: rename for export, check at run time what shape inference
//           could not prove (a dynamic size: cf.assert), choose the tiles
//           of every register-blocked kernel from the target
//           (layer-tile), lower each layer op to linalg on tensors, fuse
//           element-wise producers into consumers and order matmul loops so
//           that LLVM vectorizes the innermost one.
//   LLVM:   (a) public functions become destination-passing C entry points
//           that return a status; (b) bufferize the whole module at once
//           (identity layouts, so no runtime-library copies are needed; no
//           two results share an initial tensor), then insert
//           deallocations; (c) loops: linalg -> scf -> cf, and failed
//           checks and failed allocations of an exported function return
//           its status; (d) the LLVM dialect: vectors (the register-blocked
//           matmul and convolution kernels are written with vector ops),
//           memref descriptors, math (libm for tanh), arith, func.
//
//===----------------------------------------------------------------------===//

#include "codegen/Pipeline.h"
#include "codegen/Passes.h"
#include "dialect/LayerOps.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

using namespace mlir;
using namespace layerc;

namespace {

void addLayerStage(OpPassManager &pm, const PipelineOptions &options) {
  if (options.batch != 0 || !options.inputShapes.empty()) {
    LayerSpecializeShapesOptions specialize;
    specialize.batch = options.batch;
    specialize.inputShapes.assign(options.inputShapes.begin(),
                                  options.inputShapes.end());
    pm.addPass(createLayerSpecializeShapes(specialize));
  }
  pm.addNestedPass<func::FuncOp>(createLayerShapeInference());
  if (options.training)
    pm.addPass(createLayerAutodiff(*options.training));
  // After autodiff: the training functions keep the unfused ops their
  // gradients need (layer-fuse only fuses single-use results).
  pm.addNestedPass<func::FuncOp>(createLayerFuse());
}

void addLinalgStage(OpPassManager &pm, const PipelineOptions &options) {
  if (!options.exportPrefix.empty())
    pm.addPass(createLayerPrefixSymbols({options.exportPrefix}));
  pm.addNestedPass<func::FuncOp>(createLayerShapeChecks());
  LayerTileOptions tile;
  tile.vectorBits = static_cast<int64_t>(options.target.vectorBits);
  tile.l1Bytes = options.target.l1Bytes;
  tile.l2Bytes = options.target.l2Bytes;
  pm.addNestedPass<func::FuncOp>(createLayerTile(tile));
  pm.addPass(
      createLayerToLinalg({static_cast<int64_t>(options.target.vectorBits)}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  // The CPU's loop order: the innermost loop over output columns, for
  // vectors. A GPU thread computes one output element instead: every
  // parallel loop outside the reductions.
  pm.addNestedPass<func::FuncOp>(
      createLayerContractionLoopOrder({options.target.isGpu()}));
}

/// The start of both LLVM stages: (a) exported entry points, (b) the whole
/// module bufferized at once (identity layouts, no two results sharing an
/// initial tensor), deallocations inserted.
void addExportAndBufferize(OpPassManager &pm) {
  pm.addPass(createLayerExportFunctions());
  pm.addNestedPass<func::FuncOp>(createLayerSplitSharedInits());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
}

void addLLVMStage(OpPassManager &pm, const std::string &prefix) {
  // The C symbols of the library's own functions (set_num_threads,
  // release_memory): layerc_<prefix>_<name>, as its public functions.
  std::string exportPrefix =
      "layerc_" + (prefix.empty() ? std::string() : prefix + "_");
  addExportAndBufferize(pm); // (a), (b)
  pm.addPass(createLayerPlanBuffers({exportPrefix}));
  pm.addNestedPass<func::FuncOp>(createLayerCopyToLinalg()); // (c)
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addNestedPass<func::FuncOp>(createLayerParallelLoops());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createLayerThreadCount({exportPrefix}));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createLayerLowerChecks());
  pm.addPass(createLayerInternalizePrivate());
  pm.addPass(createConvertVectorToLLVMPass()); // (d)
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

/// The LLVM stage of a CUDA target (`--target=cuda:sm_NN`): the same
/// bufferization as the CPU's, no arena (device buffers come from the
/// driver's pool), then layer-gpu-map puts buffers on the device and loop
/// nests in kernels (GpuMapping.cpp); the kernels are outlined into a
/// gpu.module, lowered to NVVM and serialized to PTX, which the host code
/// embeds (`gpu.binary`) and loads through MLIR's mgpu* API.
void addGpuLLVMStage(OpPassManager &pm, const TargetDescription &target,
                     const std::string &prefix) {
  addExportAndBufferize(pm);
  pm.addNestedPass<func::FuncOp>(createLayerCopyToLinalg());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createLayerGpuMap());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createLayerGpuMergeKernels(
      {"layerc_" + (prefix.empty() ? std::string() : prefix + "_") +
       "kernels"}));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createLayerLowerChecks());
  pm.addPass(createLayerInternalizePrivate());
  GpuNVVMAttachTargetOptions nvvm;
  nvvm.chip = target.gpuChip;
  nvvm.features = TargetDescription::kPtxFeatures;
  nvvm.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(nvvm));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createLayerGpuMath());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  // What is left (floor, sqrt, ...) calls libdevice: LLVM intrinsics.
  kernels.addPass(createLayerGpuLibdevice());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa"; // PTX: the driver compiles it on load
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createLayerGpuHostAlloc());
}

/// The options of layerc-opt's `layer-to-llvm` pipeline.
struct PipelineCLOptions : PassPipelineOptions<PipelineCLOptions> {
  ListOption<std::string> inputShapes{
      *this, "input-shapes",
      llvm::cl::desc("Shapes of the leading arguments (?x28x28,...)")};
  Option<int64_t> batch{*this, "batch",
                        llvm::cl::desc("Batch size (0: any batch)"),
                        llvm::cl::init(0)};
  Option<std::string> prefix{
      *this, "prefix",
      llvm::cl::desc("Export public functions as layerc_<prefix>_<name>")};
};

} // namespace

void layerc::buildPipeline(OpPassManager &pm, const PipelineOptions &options,
                           Stage first, Stage last) {
  if (first <= Stage::Layer && Stage::Layer <= last)
    addLayerStage(pm, options);
  if (first <= Stage::Linalg && Stage::Linalg <= last)
    addLinalgStage(pm, options);
  if (first <= Stage::LLVM && Stage::LLVM <= last) {
    if (options.target.isGpu())
      addGpuLLVMStage(pm, options.target, options.exportPrefix);
    else
      addLLVMStage(pm, options.exportPrefix);
  }
}

void layerc::printPipeline(llvm::raw_ostream &os,
                           const PipelineOptions &options, Stage first,
                           Stage last) {
  OpPassManager pm(ModuleOp::getOperationName());
  buildPipeline(pm, options, first, last);
  pm.printAsTextualPipeline(os);
}

std::string layerc::shellQuote(llvm::StringRef text) {
  std::string quoted = "'";
  for (char c : text)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string layerc::replayCommand(llvm::StringRef input,
                                  const PipelineOptions &options, Stage last) {
  std::string passes;
  llvm::raw_string_ostream os(passes);
  printPipeline(os, options, Stage::Layer, last);
  return "layerc-opt" +
         (input == "-" ? std::string() : " " + shellQuote(input)) +
         " --pass-pipeline=" + shellQuote(passes);
}

LogicalResult layerc::runPipeline(ModuleOp module,
                                  const PipelineOptions &options, Stage first,
                                  Stage last,
                                  const PassManagerSettings &settings) {
  PassManager pm(module.getContext());
  if (settings.fromCommandLine) {
    // --mlir-timing: one report per run.
    auto timing = std::make_unique<DefaultTimingManager>();
    applyDefaultTimingManagerCLOptions(*timing);
    pm.enableTiming(std::move(timing));
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
  }
  if (settings.printIRAfterAll) {
    module.getContext()->disableMultithreading();
    pm.enableIRPrinting();
  }
  buildPipeline(pm, options, first, last);
  return pm.run(module);
}

void layerc::registerLayercPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    registerLayerPasses();        // passes/Passes.td
    registerLayerCodegenPasses(); // codegen/Passes.td
    PassPipelineRegistration<PipelineCLOptions>(
        "layer-to-llvm",
        "The full layerc pipeline: layer dialect to the LLVM dialect",
        [](OpPassManager &pm, const PipelineCLOptions &cl) {
          PipelineOptions options;
          options.inputShapes.assign(cl.inputShapes.begin(),
                                     cl.inputShapes.end());
          options.batch = cl.batch;
          options.exportPrefix = cl.prefix;
          buildPipeline(pm, options);
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
  registerOpenMPDialectTranslation(registry);
  // The CUDA target: kernels in gpu.modules, serialized by NVVM's target
  // attribute, launched from the host through gpu.binary.
  registerGPUDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}
