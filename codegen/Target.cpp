//===- Target.cpp - LLVM target machines, optimization, code emission -----===//
//
// See Target.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/Target.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ManagedStatic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>
#include <optional>

#include <unistd.h>

using namespace layerc;

static void initializeTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

/// The host's data cache of `level` (1 or 2) in bytes, if the C library
/// knows it.
static std::optional<int64_t> hostCache(int level) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  long bytes =
      sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE : _SC_LEVEL2_CACHE_SIZE);
  if (bytes > 0)
    return bytes;
#endif
  return std::nullopt;
}

llvm::Expected<TargetDescription> TargetDescription::get(llvm::StringRef name) {
  TargetDescription t;
  t.name = name.str();
  t.triple = "x86_64-pc-linux-gnu";
  bool avx2 = false, avx512 = false;
  if (name == "host") {
    t.triple = llvm::sys::getProcessTriple();
    t.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures subtarget;
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    for (const auto &feature : host)
      subtarget.AddFeature(feature.first(), feature.second);
    t.features = subtarget.getString();
    avx2 = host.lookup("avx2");
    avx512 = host.lookup("avx512f");
    t.l1Bytes = hostCache(1).value_or(t.l1Bytes);
    t.l2Bytes = hostCache(2).value_or(t.l2Bytes);
  } else if (name == "x86-64" || name == "x86-64-v3" || name == "x86-64-v4") {
    t.cpu = name.str();
    avx2 = name != "x86-64";
    avx512 = name == "x86-64-v4";
  } else if (name == "cuda" || name == "cuda:sm_80" || name == "cuda:sm_90") {
    // Kernels for the GPU; the host code around them (copies and launches)
    // runs on any x86-64 CPU.
    t.gpuChip = name == "cuda:sm_80" ? "sm_80" : "sm_90";
    t.cpu = "x86-64";
    t.vectorBits = 0;
    return t;
  } else {
    return llvm::createStringError(
        "unknown target '" + name.str() +
        "' (expected host, x86-64, x86-64-v3, x86-64-v4, cuda, "
        "cuda:sm_80 or cuda:sm_90)");
  }
  t.vectorBits = avx512 ? 512 : avx2 ? 256 : 128;
  return t;
}

std::string TargetDescription::str() const {
  if (isGpu())
    return name + ": NVIDIA " + gpuChip + " kernels (PTX), x86-64 host code";
  return name + (cpu.empty() || cpu == name ? "" : " (" + cpu + ")") + ": " +
         std::to_string(vectorBits) + "-bit vectors, L1 " +
         std::to_string(l1Bytes / 1024) + " KiB, L2 " +
         std::to_string(l2Bytes / 1024) + " KiB";
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
layerc::createTargetMachine(const TargetDescription &target, bool forJit) {
  initializeTargets();
  std::unique_ptr<llvm::TargetMachine> tm;
  if (forJit) {
    // ORC's defaults for this process (code model, relocation model).
    if (target.name != "host")
      return llvm::createStringError("the JIT only targets the host");
    auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!builder)
      return builder.takeError();
    // Position-independent: a module compiled in parts (emitObjects) is
    // several objects, which the JIT may load far apart; their references
    // to each other go through its GOT and PLT entries.
    builder->setRelocationModel(llvm::Reloc::PIC_);
    auto created = builder->createTargetMachine();
    if (!created)
      return created.takeError();
    tm = std::move(*created);
  } else {
    // Objects for libraries: position-independent, small code model.
    llvm::Triple triple(target.triple);
    const std::string &cpu = target.cpu, &features = target.features;
    std::string error;
    const llvm::Target *t = llvm::TargetRegistry::lookupTarget(triple, error);
    if (!t)
      return llvm::createStringError(error);
    tm.reset(t->createTargetMachine(triple, cpu, features, {},
                                    llvm::Reloc::PIC_, std::nullopt,
                                    llvm::CodeGenOptLevel::Aggressive));
  }
  // The generated code is written for FMA contraction.
  tm->Options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  return tm;
}

namespace {
struct OutlineCommandLine {
  llvm::cl::opt<unsigned> above{
      "outline-above",
      llvm::cl::desc("Split functions of more than this many LLVM "
                     "instructions into parts before optimizing them, so "
                     "that the compile time of deep models stays linear "
                     "(0: split every function)"),
      llvm::cl::init(unsigned(OutlineOptions().above))};
  llvm::cl::opt<unsigned> chunk{
      "outline-chunk",
      llvm::cl::desc("Instructions per part of a split function"),
      llvm::cl::init(unsigned(OutlineOptions().chunk))};
};
} // namespace

static llvm::ManagedStatic<OutlineCommandLine> outlineCommandLine;

void layerc::registerOutlineOptions() { *outlineCommandLine; }

OutlineOptions layerc::outlineOptionsFromCommandLine() {
  if (!outlineCommandLine.isConstructed())
    return {};
  return {outlineCommandLine->above, outlineCommandLine->chunk};
}

void layerc::showOnlyInHelp(llvm::cl::OptionCategory &category,
                            llvm::ArrayRef<llvm::StringRef> shown) {
  for (auto &[name, option] : llvm::cl::getRegisteredOptions()) {
    if (llvm::is_contained(shown, name)) {
      option->addCategory(category);
      option->setHiddenFlag(llvm::cl::NotHidden);
    } else if (name != "help" && name != "version" &&
               option->getOptionHiddenFlag() == llvm::cl::NotHidden) {
      option->setHiddenFlag(llvm::cl::Hidden);
    }
  }
}

void layerc::optimizeModule(llvm::Module &module, unsigned optLevel,
                            llvm::TargetMachine *tm) {
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
  llvm::OptimizationLevel level = optLevel >= 3   ? llvm::OptimizationLevel::O3
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                                  : llvm::OptimizationLevel::O0;
  llvm::ModulePassManager mpm =
      level == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(level)
          : builder.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
}

std::function<llvm::Error(llvm::Module *)>
layerc::makeLLVMOptimizer(unsigned optLevel, llvm::TargetMachine *tm,
                          OutlineOptions outline) {
  return [optLevel, tm, outline](llvm::Module *module) -> llvm::Error {
    if (optLevel > 0)
      outlineRegions(*module, outline.above, outline.chunk);
    optimizeModule(*module, optLevel, tm);
    return llvm::Error::success();
  };
}

llvm::Expected<std::string> layerc::emitMachineCode(llvm::Module &module,
                                                    llvm::TargetMachine &tm,
                                                    bool assembly) {
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr,
                             assembly ? llvm::CodeGenFileType::AssemblyFile
                                      : llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit this file type");
  pm.run(module);
  return std::string(buffer.str());
}
