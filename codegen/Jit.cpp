//===- Jit.cpp - In-process compilation of layer modules
//-------------------===//
//
// compile() = the pipeline's layer stage (shapes, training functions), read
// every public function's signature (the runtime needs dtypes and shapes
// to check and allocate buffers), the rest of the pipeline to the LLVM
// dialect, then ExecutionEngine with LLVM -O3 tuned for the host. Diagnostics
// of any stage are collected and returned as the error, never printed half-way
// or turned into a crash.
//
//===----------------------------------------------------------------------===//

#include "codegen/Jit.h"
#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "codegen/Signature.h"
#include "codegen/Target.h"
#include "runtime/GradientReady.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace layerc;

JitModule::~JitModule() {
  // The arenas of layer-plan-buffers outlive calls; not the module.
  if (engine)
    if (auto release = engine->lookup("layerc_release_memory"))
      reinterpret_cast<void (*)()> (*release)();
    else
      llvm::consumeError(release.takeError());
}

namespace {
llvm::Error makeError(const std::string &message) {
  return llvm::make_error<llvm::StringError>(message,
                                             llvm::inconvertibleErrorCode());
}

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

} // namespace

llvm::Expected<std::shared_ptr<JitModule>>
JitModule::compile(ModuleOp module, const JitOptions &options) {
  registerLayercPasses();

  DiagnosticCollector diagnostics(module.getContext());
  std::shared_ptr<JitModule> jit(new JitModule());
  // The JIT compiles for this machine, whatever the options say.
  llvm::Expected<TargetDescription> host = TargetDescription::get("host");
  if (!host)
    return host.takeError();
  PipelineOptions pipeline = options.pipeline;
  pipeline.target = std::move(*host);
  // Functions are looked up by their own names.
  pipeline.exportPrefix.clear();
  PassManagerSettings settings;
  settings.printIRAfterAll = options.printIRAfterAll;
  if (failed(
          runPipeline(module, pipeline, Stage::Layer, Stage::Layer, settings)))
    return diagnostics.error(
        "the layer stage (input shapes, shape inference, training "
        "functions) failed");
  auto signatures = readSignatures(module);
  if (failed(signatures))
    return diagnostics.error("unsupported function signature");
  for (CompiledFunction &f : *signatures)
    jit->functions.emplace(f.name, std::move(f));
  if (failed(
          runPipeline(module, pipeline, Stage::Linalg, Stage::LLVM, settings)))
    return diagnostics.error("lowering to LLVM failed");
  auto messages =
      std::make_shared<std::vector<std::string>>(takeCheckMessages(module));
  for (auto &entry : jit->functions)
    entry.second.checkMessages = messages;

  auto tm = createTargetMachine(pipeline.target, /*forJit=*/true);
  if (!tm)
    return tm.takeError();
  // `transformer` is a function_ref: the optimizer must outlive create().
  std::function<llvm::Error(llvm::Module *)> optimizer =
      makeLLVMOptimizer(options.optLevel, tm->get(), options.outline);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimizer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // The same target machine optimizes and generates the code.
  auto engine = ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!engine)
    return llvm::joinErrors(diagnostics.error("JIT compilation failed"),
                            engine.takeError());
  jit->engine = std::move(*engine);
  // grad_step compiled with gradient-ready calls back into the runtime
  // (runtime/GradientReady.h). Registered by address: the runtime is
  // linked statically, so its symbols are not in the process's dynamic
  // symbol table, where the JIT looks for libm and libomp.
  jit->engine->registerSymbols([](llvm::orc::MangleAndInterner mangle) {
    llvm::orc::SymbolMap symbols;
    symbols[mangle("layerc_gradient_ready")] = {
        llvm::orc::ExecutorAddr::fromPtr(&layerc_gradient_ready),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
    return symbols;
  });

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
