//===- layerc-run.cpp - Run a function of a layer-dialect module
//-----------===//
//
// Compiles a `.mlir` file of the layer dialect with the same pipeline and
// JIT as Model::compile, runs one function on NumPy `.npy` inputs and writes
// (or prints) its outputs, so anyone can check layerc's numbers from outside:
//
//   layerc-run model.mlir --function=predict --input=x.npy --input=w.npy \
//       --output=out.npy
//
// Inputs are given in the function's argument order; their dtype and shape
// are checked against the signature before anything runs.
//
//===----------------------------------------------------------------------===//

#include "codegen/Jit.h"
#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace layerc;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<module.mlir>"),
                                      cl::Required);
static cl::opt<std::string>
    functionName("function",
                 cl::desc("The function to run (default: "
                          "predict)"),
                 cl::init("predict"));
static cl::list<std::string>
    inputs("input", cl::desc("A .npy file for the next argument, in order"));
static cl::list<std::string>
    outputs("output", cl::desc("A .npy file for the next result, in order; "
                               "results without one are printed"));
static cl::opt<bool> printIR("print-ir-after-all",
                             cl::desc("Print the IR after every pass"));
static cl::opt<bool> printPipelineOption(
    "print-pipeline",
    cl::desc("Print the layerc-opt command that runs the MLIR passes of "
             "the compilation, then stop"));

static const char *kOverview =
    R"(layerc-run: compile a layer-dialect module and run one function

Example:
  layerc-run model.mlir --function=predict --input=x.npy --input=w.npy \
      --output=logits.npy

Every public function is exported in the order of its arguments; give one
--input per argument. Each result goes to the --output at its position, or
is printed when there is none. Dtypes and shapes are checked against the
signature (the batch dimension may be any size, the same for all inputs).
)";

/// Prints a tensor as "name (shape) dtype: values" (at most 64 values).
static void printTensor(const std::string &name, const Tensor &t) {
  llvm::outs() << name << " " << t.shapeString() << " " << dtypeName(t.dtype())
               << ":";
  Tensor f = t.astype(DType::Float64);
  const double *v = f.data<double>();
  int64_t n = std::min<int64_t>(f.numel(), 64);
  for (int64_t i = 0; i < n; ++i)
    llvm::outs() << " " << llvm::format("%.6g", v[i]);
  if (f.numel() > n)
    llvm::outs() << " ... (" << f.numel() << " values)";
  llvm::outs() << "\n";
}

static int run() {
  if (printPipelineOption) {
    // The JIT's pipeline: every stage, default options, the host.
    llvm::outs() << "# the MLIR passes of layerc-run (LLVM -O"
                 << kDefaultOptLevel
                 << " for the host "
                    "follows, outside MLIR)\n"
                 << replayCommand(inputFile, PipelineOptions(), Stage::LLVM)
                 << "\n";
    return 0;
  }
  mlir::DialectRegistry registry;
  registerCompilerDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!file) {
    llvm::errs() << "layerc-run: error: cannot read '" << inputFile
                 << "': " << file.getError().message() << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  JitOptions options;
  options.printIRAfterAll = printIR;
  options.outline = outlineOptionsFromCommandLine();
  auto jit = JitModule::compile(*module, options);
  if (!jit) {
    llvm::errs() << "layerc-run: error: compiling '" << inputFile
                 << "' failed:\n"
                 << llvm::toString(jit.takeError()) << "\n";
    return 1;
  }
  std::optional<CompiledFunction> fn = (*jit)->lookup(functionName);
  if (!fn) {
    llvm::errs() << "layerc-run: error: no public function '" << functionName
                 << "' in '" << inputFile << "'; it has:";
    for (const std::string &name : (*jit)->functionNames())
      llvm::errs() << " " << name;
    llvm::errs() << "\n";
    return 1;
  }
  if (inputs.size() != fn->inputs.size()) {
    llvm::errs() << "layerc-run: error: '" << functionName << "' takes "
                 << fn->inputs.size() << " inputs but " << inputs.size()
                 << " --input files were given; it expects:\n";
    for (const BufferSpec &spec : fn->inputs)
      llvm::errs() << "  " << spec.name << ": " << spec.str() << "\n";
    return 1;
  }
  if (outputs.size() > fn->outputs.size()) {
    llvm::errs() << "layerc-run: error: '" << functionName << "' has "
                 << fn->outputs.size() << " results but " << outputs.size()
                 << " --output files were given\n";
    return 1;
  }

  std::vector<Tensor> args;
  for (const std::string &path : inputs)
    args.push_back(Tensor::loadNpy(path));
  std::vector<const Tensor *> argPtrs;
  for (const Tensor &t : args)
    argPtrs.push_back(&t);
  std::vector<Tensor> results = (*fn)(argPtrs);
  for (size_t i = 0; i < results.size(); ++i) {
    if (i < outputs.size())
      results[i].saveNpy(outputs[i]);
    else
      printTensor(fn->outputs[i].name, results[i]);
  }
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerLayercPasses();
  registerOutlineOptions();
  // Every option of layerc-run's own; LLVM's and MLIR's stay in
  // --help-hidden.
  static cl::OptionCategory category("layerc-run options");
  showOnlyInHelp(category,
                 {"function", "input", "output", "print-ir-after-all",
                  "print-pipeline", "outline-above", "outline-chunk"});
  cl::ParseCommandLineOptions(argc, argv, kOverview);
  try {
    return run();
  } catch (const Error &e) {
    llvm::errs() << "layerc-run: error: " << e.what() << "\n";
    return 1;
  }
}
