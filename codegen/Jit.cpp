//===- Jit.cpp - In-process compilation of layer modules
//-------------------===//
//
// compile() = the pipeline's layer stage (shapes, training functions), read
// every public function's signature (the runtime needs dtypes and shapes
// to check and allocate buffers), the rest of the pipeline to the LLVM
// dialect, LLVM -O2 tuned for the host in parts on every core
// (emitObjects), and the objects linked into this process by ORC's LLJIT.
// Diagnostics of any stage are collected and returned as the error, never
// printed half-way or turned into a crash.
//
//===----------------------------------------------------------------------===//

#include "codegen/Jit.h"
#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "codegen/Signature.h"
#include "codegen/Target.h"
#include "runtime/GradientReady.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace layerc;

JitModule::~JitModule() {
  // The arenas of layer-plan-buffers outlive calls; not the module.
  if (!linker)
    return;
  if (auto release = linker->lookup("layerc_release_memory"))
    release->toPtr<void (*)()>()();
  else
    llvm::consumeError(release.takeError());
}

namespace {
/// `_mlir_<callee>(void **args)`: calls `callee` with *args[i] as its i-th
/// argument and stores its result, if any, at *args[n] (MLIR's packed
/// calling convention, CompiledFunction::fn's).
void addPackedWrapper(llvm::Module &module, llvm::Function &callee) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *wrapper = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false),
      llvm::GlobalValue::ExternalLinkage, "_mlir_" + callee.getName(), module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
  llvm::Value *args = wrapper->getArg(0);
  auto slot = [&](unsigned i) {
    return b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, args, i));
  };
  llvm::SmallVector<llvm::Value *> values;
  for (llvm::Argument &arg : callee.args())
    values.push_back(b.CreateLoad(arg.getType(), slot(arg.getArgNo())));
  llvm::Value *result = b.CreateCall(&callee, values);
  if (!callee.getReturnType()->isVoidTy())
    b.CreateStore(result, slot(callee.arg_size()));
  b.CreateRetVoid();
}

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

  // To LLVM IR, with MLIR's packed entry points (`_mlir_<name>(void **)`)
  // for the functions the runtime calls.
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return diagnostics.error("translation to LLVM IR failed");
  auto tm = createTargetMachine(pipeline.target, /*forJit=*/true);
  if (!tm)
    return tm.takeError();
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  llvmModule->setDataLayout((*tm)->createDataLayout());
  for (auto &entry : jit->functions) {
    llvm::Function *callee =
        llvmModule->getFunction("_mlir_ciface_" + entry.first);
    if (!callee)
      return makeError("no C interface for function " + entry.first);
    addPackedWrapper(*llvmModule, *callee);
  }
  auto objects =
      emitObjects(*llvmModule, pipeline.target, /*forJit=*/true,
                  options.optLevel, options.outline, "", compileThreads());
  if (!objects)
    return llvm::joinErrors(diagnostics.error("JIT compilation failed"),
                            objects.takeError());

  // Linked in this process: libm's and libomp's symbols from it, and the
  // runtime's gradient-ready callback (runtime/GradientReady.h, which
  // grad_step calls) by address: the runtime is linked statically, so its
  // symbols are not in the process's dynamic symbol table.
  auto thisMachine = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!thisMachine)
    return thisMachine.takeError();
  auto linker = llvm::orc::LLJITBuilder()
                    .setJITTargetMachineBuilder(std::move(*thisMachine))
                    .create();
  if (!linker)
    return linker.takeError();
  jit->linker = std::move(*linker);
  llvm::orc::JITDylib &dylib = jit->linker->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit->linker->getDataLayout().getGlobalPrefix());
  if (!process)
    return process.takeError();
  dylib.addGenerator(std::move(*process));
  llvm::orc::SymbolMap runtime;
  runtime[jit->linker->mangleAndIntern("layerc_gradient_ready")] = {
      llvm::orc::ExecutorAddr::fromPtr(&layerc_gradient_ready),
      llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  if (llvm::Error err = dylib.define(llvm::orc::absoluteSymbols(runtime)))
    return err;
  for (size_t i = 0; i < objects->size(); ++i)
    if (llvm::Error err =
            jit->linker->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(
                (*objects)[i], "layerc-part" + std::to_string(i) + ".o")))
      return err;

  for (auto &[name, f] : jit->functions) {
    auto packed = jit->linker->lookup("_mlir__mlir_ciface_" + name);
    if (!packed)
      return packed.takeError();
    f.fn = packed->toPtr<void (*)(void **)>();
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
