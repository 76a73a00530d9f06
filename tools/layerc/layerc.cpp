//===- layerc.cpp - The layerc ahead-of-time compiler driver
//---------------===//
//
// Compiles a module of the layer dialect into an object file or static
// library plus a C header, through the same pipeline as the JIT, and can
// stop after any stage (like Toy's toyc):
//
// The input is a model file (.lcm, .keras, .onnx) or a layer-dialect .mlir
// file.
//
//   model  -> the input as layer dialect (MLIR, accepted by layerc-opt)
//   layer  -> shapes inferred            (MLIR, accepted by layerc-opt)
//   linalg -> lowered to linalg/tensor   (MLIR, accepted by layerc-opt)
//   llvm-dialect -> the LLVM dialect     (MLIR, accepted by layerc-opt)
//   ptx    -> the kernels' PTX           (CUDA targets)
//   llvm   -> optimized LLVM IR
//   asm    -> assembly
//   obj    -> relocatable object + header
//   lib    -> static library (.a) + header
//
// Every public function is exported as <name>_<function> in the header.
//
//===----------------------------------------------------------------------===//

#include "codegen/GpuBundle.h"
#include "codegen/Header.h"
#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "codegen/Signature.h"
#include "codegen/Target.h"
#ifdef LAYERC_HAVE_HALIDE
#endif
#include "frontend/Compile.h"
#include "frontend/MLIRGen.h"
#include "frontend/Model.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

// kCudaDriverObject: runtime/cuda/CudaDriver.c's object (tools/CMakeLists.txt).
#include "tools/layerc/HalideLibrary.h"

#include "CudaDriverObject.inc"

#include <algorithm>
#include <chrono>
#include <functional>

using namespace layerc;
using namespace layerc::tool;
namespace cl = llvm::cl;

int tool::fail(const llvm::Twine &message) {
  llvm::errs() << "layerc: error: " << message << "\n";
  return 1;
}

int tool::writeFile(const std::string &path, llvm::StringRef contents) {
  std::string error;
  auto out = mlir::openOutputFile(path, &error);
  if (!out)
    return fail(error);
  out->os() << contents;
  out->keep();
  return 0;
}

namespace {

enum class Emit {
  Model,
  Layer,
  Linalg,
  LLVMDialect,
  Ptx,
  LLVM,
  Asm,
  Obj,
  Lib,
  Auto
};

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.lcm|.keras|.onnx|.mlir>"),
                               cl::Required);
cl::opt<std::string> outputFile("o", cl::desc("Output file (- for stdout)"),
                                cl::value_desc("file"), cl::init("-"));
cl::opt<Emit> emit(
    "emit", cl::desc("Stage to stop after (default: from the -o extension)"),
    cl::init(Emit::Auto),
    cl::values(
        clEnumValN(Emit::Model, "model",
                   "the input as layer dialect, before any pass"),
        clEnumValN(Emit::Layer, "layer", "layer dialect with inferred shapes"),
        clEnumValN(Emit::Linalg, "linalg", "linalg/tensor level MLIR"),
        clEnumValN(Emit::LLVMDialect, "llvm-dialect",
                   "the LLVM dialect, before LLVM optimizes it"),
        clEnumValN(Emit::Ptx, "ptx", "the kernels' PTX (a CUDA --target)"),
        clEnumValN(Emit::LLVM, "llvm", "optimized LLVM IR"),
        clEnumValN(Emit::Asm, "asm", "assembly"),
        clEnumValN(Emit::Obj, "obj", "object file and C header"),
        clEnumValN(Emit::Lib, "lib",
                   "static (.a) or shared (.so) library and C header")));
cl::opt<std::string> target("target",
                            cl::desc("host, x86-64, x86-64-v3 (AVX2), "
                                     "x86-64-v4 (AVX-512), cuda (sm_90) or "
                                     "cuda:sm_80; default host"),
                            cl::init("host"));
cl::opt<std::string> name("name",
                          cl::desc("Prefix of exported symbols and the "
                                   "header (default: the input's stem)"));
cl::opt<std::string>
    headerFile("header",
               cl::desc("Where to write the C header "
                        "(default: <name>.h next to the output)"),
               cl::value_desc("file"));
cl::opt<unsigned> optLevel("O",
                           cl::desc("LLVM optimization level (0-3, default 2)"),
                           cl::Prefix, cl::init(kDefaultOptLevel));

cl::opt<bool> embedWeights(
    "embed-weights",
    cl::desc("Make the weights of a model file constants of the "
             "code: a self-contained library whose functions take only the "
             "model's inputs"));

cl::opt<int64_t> batch("batch",
                       cl::desc("Specialize every function for this batch "
                                "size (default: any batch, given at run "
                                "time)"),
                       cl::init(0));

cl::opt<bool> train(
    "train",
    cl::desc("Also export train_step and evaluate, built from the compile "
             "config of a saved model (loss and optimizer)"));
cl::opt<std::string> backend(
    "backend",
    cl::desc("Code generator: llvm, halide (inference of a model file, CPU "
             "or CUDA) or auto (the faster here; docs/Backends.md)"),
    cl::init("llvm"));
cl::opt<std::string> backendCache(
    "backend-cache",
    cl::desc("--backend=auto: a file of measurements, read before timing and "
             "written after (LAYERC_BACKEND_CACHE; shippable with a model)"),
    cl::value_desc("file"));
cl::opt<std::string>
    lossName("loss", cl::desc("--train for an .onnx file: Keras's loss name, "
                              "':from_logits' added for logits (no default)"));
cl::opt<std::string>
    optimizerName("optimizer",
                  cl::desc("--train for an .onnx file: sgd, rmsprop, adam, "
                           "adamw, adagrad (Keras's defaults)"));

cl::opt<bool> distributed(
    "distributed",
    cl::desc("With --train, also export grad_step and apply_step, the two "
             "halves of train_step, so that the application sums the "
             "gradients of several processes in between (MPI, NCCL, ...)"));

enum class Api { Raw, Context, Auto };
cl::opt<Api> api(
    "api", cl::desc("The header's API (default: context for a saved model)"),
    cl::init(Api::Auto),
    cl::values(clEnumValN(Api::Raw, "raw",
                          "one checked entry point per function, taking "
                          "every buffer"),
               clEnumValN(Api::Context, "context",
                          "a context that holds the weights (by name) and "
                          "the optimizer state, over the raw entry points")));

cl::opt<bool> printPipeline(
    "print-pipeline",
    cl::desc("Print the layerc-opt command that runs the MLIR passes of "
             "this compilation (up to --emit's stage), then stop"));

const char *kOverview =
    R"(layerc: ahead-of-time compiler for layer-dialect models

Examples:
  layerc mnist.lcm --embed-weights -o libmnist.a  # self-contained library + mnist.h
  layerc mnist.lcm -o libmnist.a                  # weights set or loaded at run time
  layerc mnist.lcm --train -o libmnist_t.a        # + train_step and evaluate
  layerc mnist.mlir -o libmnist.so                # shared library (links with cc)
  layerc model.onnx --embed-weights -o libm.a     # ONNX or .keras (docs/Import.md)
  layerc mnist.mlir --emit=asm --target=x86-64-v3 -o mnist.s
  layerc mnist.lcm --target=cuda:sm_90 -o libmnist.a  # NVIDIA GPU: PTX, + cubin if ptxas (docs/GPU.md)

A saved model's header (or a .mlir's, --api=context) has mnist_create, mnist_predict
(ctx, batch, inputs..., outputs...), _set_weight / _get_weight, _train_step, _evaluate,
_predict_raw (all buffers), and (liblayerc_runtime) _load_weights / _save_weights.

Training: --train (a saved model's compile config; for .mlir, layerc-opt
--layer-autodiff), --distributed. --mlir-* flags apply to every stage.
)";

Emit emitFromExtension(llvm::StringRef path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  if (ext == ".a" || ext == ".so")
    return Emit::Lib;
  if (ext == ".o")
    return Emit::Obj;
  if (ext == ".s")
    return Emit::Asm;
  if (ext == ".ll")
    return Emit::LLVM;
  if (ext == ".ptx")
    return Emit::Ptx;
  if (ext == ".mlir")
    return Emit::Linalg;
  return Emit::Obj;
}

/// The GPU runtime (runtime/cuda/CudaDriver.c) that a CUDA target's
/// library carries: the library then needs only libc, -ldl and -lpthread.
llvm::StringRef cudaDriverObject() {
  return {reinterpret_cast<const char *>(kCudaDriverObject),
          sizeof kCudaDriverObject};
}

/// Links `objects` into the shared library `path` with the system's C
/// compiler driver: a CPU target's code calls libomp and libm, a CUDA
/// target's (with cudaDriverObject) libc, -ldl and -lpthread only, which
/// --no-undefined checks.
int linkShared(llvm::ArrayRef<llvm::StringRef> objects, const std::string &path,
               bool gpu) {
  std::vector<llvm::SmallString<128>> tmps(objects.size());
  llvm::scope_exit cleanup([&] {
    for (const auto &tmp : tmps)
      llvm::sys::fs::remove(tmp);
  });
  std::vector<std::string> args = {"-shared", "-o", path};
  for (auto [object, tmp] : llvm::zip(objects, tmps)) {
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("layerc", "o", tmp))
      return fail("cannot create a temporary object: " + ec.message());
    if (int rc = writeFile(tmp.str().str(), object))
      return rc;
    args.push_back(tmp.str().str());
  }
  if (gpu)
    args.insert(args.end(), {"-Wl,--no-undefined", "-ldl", "-lpthread"});
  else
    args.insert(args.end(), {"-lomp", "-lm"});
  return runCc(args, "linking '" + path + "'", "linking a shared library",
               "write a static library (-o lib.a) instead");
}

/// Writes `module` as layerc-opt would. With `locations` (--emit=model,
/// an input for layerc-opt), every op keeps its location, the layer name
/// that run-time check messages quote.
int writeMLIR(mlir::ModuleOp module, bool locations = false) {
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags flags;
  if (locations)
    flags.enableDebugInfo();
  module.print(os, flags);
  // As layerc-opt writes it, so the two compare equal.
  os << "\n";
  return writeFile(outputFile, text);
}

/// A model file (saved by layerc or Keras, or ONNX) rather than .mlir.
bool isModelFile() {
  llvm::StringRef ext = llvm::sys::path::extension(inputFile);
  return ext == ".lcm" || ext == ".keras" || ext == ".onnx";
}

/// --loss and --optimizer as compile options (--train of an ONNX file).
llvm::Expected<CompileOptions> onnxCompileOptions() {
  if (lossName.empty() || optimizerName.empty())
    return llvm::createStringError(
        "--train of an ONNX file needs --loss and --optimizer: the file says "
        "neither");
  llvm::StringRef loss = lossName;
  bool logits = loss.consume_back(":from_logits");
  static const std::map<std::string, Optimizer (*)()> optimizers = {
      {"sgd", [] { return optimizers::SGD(); }},
      {"rmsprop", [] { return optimizers::RMSprop(); }},
      {"adam", [] { return optimizers::Adam(); }},
      {"adamw", [] { return optimizers::AdamW(); }},
      {"adagrad", [] { return optimizers::Adagrad(); }}};
  auto optimizer = optimizers.find(optimizerName);
  if (optimizer == optimizers.end())
    return llvm::createStringError("--optimizer=" + optimizerName +
                                   " is not one of sgd, rmsprop, adam, "
                                   "adamw, adagrad");
  return CompileOptions{.loss = Loss(loss.str(), logits),
                        .optimizer = optimizer->second()};
}

std::string defaultName() {
  return cIdentifier(llvm::sys::path::stem(inputFile).str());
}

/// Where the header of an object or library goes: --header, or <prefix>.h
/// next to the output.
std::string headerPath(const std::string &prefix) {
  if (!headerFile.empty())
    return headerFile;
  llvm::SmallString<128> path(llvm::sys::path::parent_path(outputFile));
  llvm::sys::path::append(path, prefix + ".h");
  return path.str().str();
}

/// True when `a` and `b` are one file: the same device and inode when both
/// exist (which sees through links and other spellings), else the same
/// absolute path once "." and ".." are removed.
bool sameFile(llvm::StringRef a, llvm::StringRef b) {
  bool equivalent = false;
  if (!llvm::sys::fs::equivalent(a, b, equivalent))
    return equivalent;
  llvm::SmallString<256> x(a), y(b);
  if (llvm::sys::fs::make_absolute(x) || llvm::sys::fs::make_absolute(y))
    return a == b;
  llvm::sys::path::remove_dots(x, /*remove_dot_dot=*/true);
  llvm::sys::path::remove_dots(y, /*remove_dot_dot=*/true);
  return x == y;
}

/// Refuses, before any work, outputs that would overwrite the input (a
/// saved model is often the only copy of the trained weights) or each
/// other.
std::optional<std::string> checkOutputs(bool writesHeader,
                                        const std::string &header) {
  bool toFile = outputFile != "-";
  if (toFile && sameFile(outputFile, inputFile))
    return "the output '" + outputFile + "' (-o) is the input file '" +
           inputFile + "'; compiling would overwrite it: choose another -o";
  if (!writesHeader)
    return std::nullopt;
  if (sameFile(header, inputFile))
    return "the header '" + header + "' is the input file '" + inputFile +
           "'; compiling would overwrite it: choose another path with "
           "--header=FILE (or another --name)";
  if (toFile && sameFile(header, outputFile))
    return "the header '" + header + "' and the output '" + outputFile +
           "' are the same file: choose another path with --header=FILE (or "
           "another --name)";
  return std::nullopt;
}

/// Prints the command that replays the MLIR passes of this compilation:
/// layerc-opt on the input (for a saved model, on the module layerc
/// generates from it) with the pipeline as --pass-pipeline.
int printReplay(const PipelineOptions &pipeline, Stage last, Emit stage) {
  llvm::outs() << "# the MLIR passes of `layerc --emit="
               << (stage == Emit::Layer    ? "layer"
                   : stage == Emit::Linalg ? "linalg"
                                           : "llvm-dialect")
               << "`";
  if (stage > Emit::LLVMDialect)
    llvm::outs() << " (LLVM -O" << optLevel
                 << " and code generation follow, outside MLIR)";
  llvm::outs() << "\n";
  if (isModelFile())
    llvm::outs() << "layerc " << shellQuote(inputFile)
                 << (embedWeights ? " --embed-weights" : "")
                 << " --emit=model | " << replayCommand("-", pipeline, last)
                 << "\n";
  else
    llvm::outs() << replayCommand(inputFile, pipeline, last) << "\n";
  return 0;
}

int run() {
  Emit stage = emit == Emit::Auto ? emitFromExtension(outputFile) : emit;
  if ((stage == Emit::Obj || stage == Emit::Lib) && outputFile == "-")
    return fail("--emit=obj and --emit=lib need an output file (-o)");
  if (batch < 0)
    return fail("--batch must be at least 1 (or 0 for any batch), got " +
                std::to_string(batch));
  llvm::Expected<TargetDescription> targetDescription =
      TargetDescription::get(target);
  if (!targetDescription)
    return fail(llvm::toString(targetDescription.takeError()));
  if (stage == Emit::Ptx && !targetDescription->isGpu())
    return fail("--emit=ptx needs a CUDA target (--target=cuda:sm_90)");
  if (backend != "llvm" && backend != "halide" && backend != "auto")
    return fail("--backend=" + backend + " is not llvm, halide or auto");
  bool halide = backend == "halide";
  // The Halide backend builds for the host's CPU, or (--backend=halide
  // only) for a CUDA GPU through Halide's own runtime.
  bool halideBuilds =
      isModelFile() && !train && stage == Emit::Lib &&
      llvm::sys::path::extension(outputFile) == ".a" &&
      (target == "host" || (backend == "halide" && targetDescription->isGpu()));
  if (backend == "auto" && !halideBuilds)
    llvm::errs() << "layerc: --backend=auto: llvm (the Halide backend builds "
                    "only static libraries of a model file's predict, for "
                    "the host)\n";
  if (halide && !halideBuilds)
    return fail("--backend=halide builds a static library (-o lib.a) for "
                "the host's CPU or a CUDA GPU from a model file, predict only "
                "(docs/Backends.md)");
  std::string prefix = name.empty() ? defaultName() : cIdentifier(name);
  std::string header = headerPath(prefix);
  if (std::optional<std::string> why =
          checkOutputs(stage == Emit::Obj || stage == Emit::Lib, header))
    return fail(*why);

  mlir::DialectRegistry registry;
  registerCompilerDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::optional<LayerAutodiffOptions> training;
  std::optional<ModelLayout> layout;
  std::optional<Model> loaded;
  if (distributed && !train)
    return fail("--distributed adds the halves of train_step: it needs "
                "--train");
  bool onnx = llvm::sys::path::extension(inputFile) == ".onnx";
  if (!onnx && (!lossName.empty() || !optimizerName.empty()))
    return fail("--loss and --optimizer are for an .onnx file; a saved "
                "model's compile config names its loss and optimizer");
  if (isModelFile()) {
    std::optional<CompileOptions> options;
    if (train) {
      if (embedWeights)
        return fail("--train and --embed-weights exclude each other: "
                    "training updates the weights");
      if (onnx) {
        llvm::Expected<CompileOptions> given = onnxCompileOptions();
        if (!given)
          return fail(llvm::toString(given.takeError()));
        options = std::move(*given);
      } else if (!(options = readCompileConfig(inputFile))) {
        return fail("'" + inputFile +
                    "' was saved before compile(): it does not say which "
                    "loss and optimizer --train should use");
      }
    }
    loaded.emplace(onnx ? Model::fromOnnx(inputFile)
                        : loadModel(inputFile, {}, /*compile=*/false));
    Model &model = *loaded;
    if (train) {
      training = autodiffOptions(*options, model.outputNames());
      training->splitStep = distributed;
    }
    module = emitModel(model, &context, embedWeights);
    if (embedWeights) {
      // The weights are constants of the code, not arguments: their names
      // come from the model.
      layout.emplace();
      layout->numInputs = static_cast<int>(model.inputs().size());
      layout->numTargets = layout->numOutputs =
          static_cast<int>(model.outputs().size());
      layout->embedded = true;
      for (const auto &layer : model.weightLayers())
        for (const Weight &w : layer->weights()) {
          layout->weightNames.push_back(layer->name() + "/" + w.name);
          layout->weightShapes.push_back(w.value.shape());
        }
    }
  } else {
    if (distributed)
      return fail("--distributed needs a model file (.lcm, .keras, .onnx); "
                  "for a .mlir "
                  "file run layerc-opt --layer-autodiff='... split-step'");
    if (train)
      return fail("--train needs a model file (.lcm, .keras, .onnx); for a "
                  ".mlir file run "
                  "layerc-opt --layer-autodiff=... first");
    if (embedWeights)
      return fail("--embed-weights needs a model file (.lcm, .keras, .onnx); "
                  "the weights "
                  "of a .mlir model are function arguments");
    std::string error;
    auto file = mlir::openInputFile(inputFile, &error);
    if (!file)
      return fail(error);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1;
  }

  if (stage == Emit::Model)
    return writeMLIR(*module, /*locations=*/true);
  PipelineOptions pipeline;
  pipeline.target = std::move(*targetDescription);
  pipeline.batch = batch;
  pipeline.training = std::move(training);
  pipeline.exportPrefix = prefix;
  Stage last = stage == Emit::Layer    ? Stage::Layer
               : stage == Emit::Linalg ? Stage::Linalg
                                       : Stage::LLVM;
  if (printPipeline)
    return printReplay(pipeline, last, stage);
  PassManagerSettings settings;
  settings.fromCommandLine = true;
  if (mlir::failed(
          runPipeline(*module, pipeline, Stage::Layer, Stage::Layer, settings)))
    return fail("the layer stage failed");
  if (stage == Emit::Layer)
    return writeMLIR(*module);

  // The header describes the functions as the layer stage left them.
  auto signatures = readSignatures(*module);
  if (mlir::failed(signatures))
    return 1;
  if (signatures->empty())
    return fail("'" + inputFile + "' has no public function to export");
  if (std::optional<std::string> why = checkCInterface(*signatures))
    return fail(*why);
  bool contextApi = api == Api::Auto ? isModelFile() : api == Api::Context;
  if (contextApi && !layout) {
    // Weights by name, targets and optimizer state, from the roles the IR
    // gives every argument.
    std::string why;
    std::optional<ModelLayout> fromRoles = layoutFromRoles(*signatures, why);
    if (!fromRoles)
      return fail(why + (api == Api::Context ? "" : "; use --api=raw"));
    layout = std::move(*fromRoles);
  }

  // auto: Halide's pipeline lowered now, the LLVM backend's code below,
  // and both timed by the library's emit().
  std::unique_ptr<AutoLibrary> both;
  if (backend == "auto" && halideBuilds)
    both = AutoLibrary::prepare(*module, prefix, batch, backendCache);
  if (halide)
    return emitHalideLibrary(
        *module, prefix,
        emitCHeader(*signatures, prefix,
                    llvm::sys::path::filename(inputFile).str(),
                    layout ? &*layout : nullptr, {}, false),
        header,
        pipeline.target.isGpu()
            ? std::atoi(pipeline.target.gpuChip.c_str() + 3) // "sm_90"
            : 0,
        outputFile);

  if (mlir::failed(runPipeline(*module, pipeline, Stage::Linalg, Stage::Linalg,
                               settings)))
    return fail("the linalg stage failed");
  if (stage == Emit::Linalg)
    return writeMLIR(*module);
  if (mlir::failed(
          runPipeline(*module, pipeline, Stage::LLVM, Stage::LLVM, settings)))
    return fail("the LLVM dialect stage failed");
  if (stage == Emit::LLVMDialect)
    return writeMLIR(*module);
  if (stage == Emit::Ptx) {
    std::string ptx;
    module->walk([&](mlir::gpu::BinaryOp binary) {
      for (mlir::Attribute object : binary.getObjects())
        ptx += llvm::cast<mlir::gpu::ObjectAttr>(object).getObject().str();
    });
    return writeFile(outputFile, ptx);
  }
  // Beside the PTX, a cubin where ptxas is (codegen/GpuBundle.h).
  if (pipeline.target.isGpu())
    if (llvm::Error err = bundleGpuKernels(*module, findPtxas()))
      return fail(llvm::toString(std::move(err)));
  std::vector<std::string> checkMessages = takeCheckMessages(*module);
  readArenaSizes(*module, *signatures, [&](const std::string &name) {
    return exportedSymbol(prefix, name);
  });

  auto tm = createTargetMachine(pipeline.target, /*forJit=*/false);
  if (!tm)
    return fail(llvm::toString(tm.takeError()));
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext, prefix);
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  if (both)
    both->renameLlvmEntryPoints(*llvmModule);
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  llvmModule->setDataLayout((*tm)->createDataLayout());
  // A library may hold several objects: a large module is optimized and
  // emitted in parts on every core. Other outputs are one file.
  std::vector<std::string> objects;
  if (stage == Emit::Lib && !both) {
    auto parts =
        emitObjects(*llvmModule, pipeline.target, /*forJit=*/false, optLevel,
                    outlineOptionsFromCommandLine(), prefix, compileThreads());
    if (!parts)
      return fail(llvm::toString(parts.takeError()));
    objects = std::move(*parts);
  } else {
    if (llvm::Error err = makeLLVMOptimizer(optLevel, tm->get(),
                                            outlineOptionsFromCommandLine())(
            llvmModule.get()))
      return fail(llvm::toString(std::move(err)));
    if (stage == Emit::LLVM) {
      std::string text;
      llvm::raw_string_ostream os(text);
      llvmModule->print(os, nullptr);
      return writeFile(outputFile, text);
    }
    auto code = emitMachineCode(*llvmModule, **tm, stage == Emit::Asm);
    if (!code)
      return fail(llvm::toString(code.takeError()));
    if (stage == Emit::Asm || stage == Emit::Obj)
      if (int rc = writeFile(outputFile, *code))
        return rc;
    if (stage == Emit::Asm)
      return 0;
    objects.push_back(std::move(*code));
  }

  if (stage == Emit::Obj) {
    // Written above.
  } else if (llvm::sys::path::extension(outputFile) == ".so") {
    std::vector<llvm::StringRef> refs(objects.begin(), objects.end());
    if (pipeline.target.isGpu())
      refs.push_back(cudaDriverObject());
    if (int rc = linkShared(refs, outputFile, pipeline.target.isGpu()))
      return rc;
  } else if (both) {
    int64_t samplesPerCall = 0;
    for (const CompiledFunction &f : *signatures)
      if (f.name == "predict" && layout)
        samplesPerCall = predictSamplesPerCall(f);
    if (int rc = both->emit(objects.front(), outputFile, samplesPerCall))
      return rc;
  } else {
    std::vector<std::string> names;
    for (size_t i = 0; i < objects.size(); ++i)
      names.push_back(prefix + (i ? "_part" + std::to_string(i) : "") + ".o");
    std::vector<llvm::NewArchiveMember> members;
    for (size_t i = 0; i < objects.size(); ++i)
      members.emplace_back(llvm::MemoryBufferRef(objects[i], names[i]));
    if (pipeline.target.isGpu())
      members.emplace_back(
          llvm::MemoryBufferRef(cudaDriverObject(), "layerc_cuda_driver.o"));
    if (llvm::Error err = llvm::writeArchive(
            outputFile, members, llvm::SymtabWritingMode::NormalSymtab,
            llvm::object::Archive::K_GNU, /*Deterministic=*/true,
            /*Thin=*/false))
      return fail(llvm::toString(std::move(err)));
  }
  return writeFile(header,
                   emitCHeader(*signatures, prefix,
                               llvm::sys::path::filename(inputFile).str(),
                               layout ? &*layout : nullptr, checkMessages,
                               pipeline.target.isGpu()));
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerLayercPasses();
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  // Short names for the pass-manager flags a user reaches for first.
  auto &registered = cl::getRegisteredOptions();
  static cl::alias printIrAfterAll(
      "print-ir-after-all",
      cl::desc("Alias for --mlir-print-ir-after-all: print the IR after "
               "each pass"),
      cl::aliasopt(*registered["mlir-print-ir-after-all"]));
  static cl::alias crashReproducer(
      "crash-reproducer",
      cl::desc("Alias for --mlir-pass-pipeline-crash-reproducer=FILE: on a "
               "crash or failure, write a .mlir that replays it"),
      cl::aliasopt(*registered["mlir-pass-pipeline-crash-reproducer"]));
  registerOutlineOptions();
  // Every option of layerc's own; LLVM's and MLIR's stay in --help-hidden.
  static cl::OptionCategory category("layerc options");
  showOnlyInHelp(category, {"o", "emit", "target", "name", "header", "api", "O",
                            "embed-weights", "batch", "train", "distributed",
                            "loss", "optimizer", "backend", "print-pipeline",
                            "outline-above", "mlir-timing"});
  cl::ParseCommandLineOptions(argc, argv, kOverview);
  try {
    return run();
  } catch (const layerc::Error &e) {
    return fail(e.what());
  }
}
