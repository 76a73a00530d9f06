//===- Jit.cpp - In-process compilation of layer modules
//-------------------===//
//
// compile() = shape inference, read every public function's signature (the
// runtime needs dtypes and shapes to check and allocate buffers), the full
// pipeline to the LLVM dialect, then ExecutionEngine with LLVM -O3 tuned
// for the host. Diagnostics of any stage are collected and returned as the
// error, never printed half-way or turned into a crash.
//
//===----------------------------------------------------------------------===//

#include "codegen/Jit.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <mutex>

using namespace mlir;
using namespace layerc;

void layerc::initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

namespace {

llvm::Error makeError(const std::string &message) {
  return llvm::make_error<llvm::StringError>(message,
                                             llvm::inconvertibleErrorCode());
}

std::optional<DType> dtypeOf(Type t) {
  if (t.isF32())
    return DType::Float32;
  if (t.isF64())
    return DType::Float64;
  if (t.isSignlessInteger(32))
    return DType::Int32;
  if (t.isSignlessInteger(64))
    return DType::Int64;
  return std::nullopt;
}

FailureOr<BufferSpec> specOf(Type type, std::string name) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return failure();
  std::optional<DType> dtype = dtypeOf(tensor.getElementType());
  if (!dtype)
    return failure();
  BufferSpec spec;
  spec.name = std::move(name);
  spec.dtype = *dtype;
  for (int64_t d : tensor.getShape())
    spec.shape.push_back(ShapedType::isDynamic(d) ? kDynamic : d);
  return spec;
}

/// The name of argument/result i: its `layer.name` attribute or a default.
std::string slotName(DictionaryAttr attrs, const char *prefix, unsigned i) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>("layer.name"))
      return name.str();
  return prefix + std::to_string(i);
}

LogicalResult readSignature(func::FuncOp fn, CompiledFunction &out) {
  out.name = fn.getName().str();
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto spec = specOf(fn.getArgumentTypes()[i],
                       slotName(fn.getArgAttrDict(i), "arg", i));
    if (failed(spec))
      return fn.emitError()
             << "argument #" << i << " of '" << fn.getName()
             << "' has an unsupported type " << fn.getArgumentTypes()[i];
    out.inputs.push_back(*spec);
  }
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    auto spec = specOf(fn.getResultTypes()[i],
                       slotName(fn.getResultAttrDict(i), "result", i));
    if (failed(spec))
      return fn.emitError()
             << "result #" << i << " of '" << fn.getName()
             << "' has an unsupported type " << fn.getResultTypes()[i];
    out.outputs.push_back(*spec);
  }
  return success();
}

/// LLVM's default -O<level> pipeline for `tm` with loop and SLP
/// vectorization on. (MLIR's makeOptimizingTransformer leaves the loop
/// vectorizer off, which left every loop scalar: 4.2 s per MLP epoch.)
std::function<llvm::Error(llvm::Module *)>
makeLLVMOptimizer(unsigned optLevel, llvm::TargetMachine *tm) {
  return [optLevel, tm](llvm::Module *module) -> llvm::Error {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions tuning;
    tuning.LoopUnrolling = true;
    tuning.LoopInterleaving = true;
    tuning.LoopVectorization = optLevel > 1;
    tuning.SLPVectorization = optLevel > 1;
    llvm::PassBuilder builder(tm, tuning);
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::OptimizationLevel level =
        optLevel >= 3   ? llvm::OptimizationLevel::O3
        : optLevel == 2 ? llvm::OptimizationLevel::O2
        : optLevel == 1 ? llvm::OptimizationLevel::O1
                        : llvm::OptimizationLevel::O0;
    llvm::ModulePassManager mpm =
        level == llvm::OptimizationLevel::O0
            ? builder.buildO0DefaultPipeline(level)
            : builder.buildPerModuleDefaultPipeline(level);
    mpm.run(*module, mam);
    return llvm::Error::success();
  };
}

} // namespace

JitModule::~JitModule() = default;

namespace {
/// Collects every diagnostic emitted in a context while it lives, without
/// op dumps (the location and message name the layer and the shapes).
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *ctx)
      : ctx(ctx), printedOps(ctx->shouldPrintOpOnDiagnostic()), os(text),
        handler(ctx, [this](Diagnostic &d) {
          os << d.getLocation() << ": " << d << "\n";
          for (Diagnostic &note : d.getNotes())
            os << note.getLocation() << ": note: " << note << "\n";
          return success();
        }) {
    ctx->printOpOnDiagnostic(false);
  }
  ~DiagnosticCollector() { ctx->printOpOnDiagnostic(printedOps); }
  llvm::Error error(llvm::StringRef what) {
    return makeError(what.str() + (text.empty() ? "" : ":\n" + text));
  }

private:
  MLIRContext *ctx;
  bool printedOps;
  std::string text;
  llvm::raw_string_ostream os;
  ScopedDiagnosticHandler handler;
};

LogicalResult runPasses(ModuleOp module, llvm::StringRef pipeline,
                        const JitOptions &options) {
  PassManager pm(module.getContext());
  if (options.printIRAfterAll) {
    module.getContext()->disableMultithreading();
    pm.enableIRPrinting();
  }
  // `pipeline` is a pass list nested in the module pass manager.
  if (failed(parsePassPipeline(pipeline, pm)))
    return module.emitError() << "invalid pass pipeline: " << pipeline;
  return pm.run(module);
}
} // namespace

llvm::Error layerc::runPipeline(ModuleOp module, llvm::StringRef pipeline,
                                const JitOptions &options) {
  registerLayercPasses();
  DiagnosticCollector diagnostics(module.getContext());
  if (failed(runPasses(module, pipeline, options)))
    return diagnostics.error("the pass pipeline failed");
  return llvm::Error::success();
}

llvm::Expected<std::shared_ptr<JitModule>>
JitModule::compile(ModuleOp module, const JitOptions &options) {
  registerLayercPasses();
  initializeNativeTarget();

  DiagnosticCollector diagnostics(module.getContext());
  std::shared_ptr<JitModule> jit(new JitModule());
  if (failed(runPasses(module, "func.func(layer-shape-inference)", options)))
    return diagnostics.error("shape inference failed");
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (!fn.isPublic() || fn.isExternal())
      continue;
    CompiledFunction f;
    if (failed(readSignature(fn, f)))
      return diagnostics.error("unsupported function signature");
    jit->functions.emplace(f.name, std::move(f));
  }
  if (failed(runPasses(module, layerToLLVMPipeline(), options)))
    return diagnostics.error("lowering to LLVM failed");

  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return tmBuilder.takeError();
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return tm.takeError();
  // FMA contraction is what the generated code was written for.
  (*tm)->Options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  // `transformer` is a function_ref: the optimizer must outlive create().
  std::function<llvm::Error(llvm::Module *)> optimizer =
      makeLLVMOptimizer(options.optLevel, tm->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimizer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // The same target machine optimizes and generates the code.
  auto engine = ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!engine)
    return llvm::joinErrors(diagnostics.error("JIT compilation failed"),
                            engine.takeError());
  jit->engine = std::move(*engine);

  for (auto &[name, f] : jit->functions) {
    auto packed = jit->engine->lookupPacked("_mlir_ciface_" + name);
    if (!packed)
      return packed.takeError();
    f.fn = *packed;
  }
  return jit;
}

std::optional<CompiledFunction> JitModule::lookup(llvm::StringRef name) const {
  auto it = functions.find(name.str());
  if (it == functions.end())
    return std::nullopt;
  CompiledFunction f = it->second;
  // The copy keeps this module (and its code) alive as long as it exists.
  f.fn = [inner = it->second.fn, keep = shared_from_this()](void **args) {
    inner(args);
  };
  return f;
}

std::vector<std::string> JitModule::functionNames() const {
  std::vector<std::string> names;
  for (const auto &entry : functions)
    names.push_back(entry.first);
  return names;
}
