//===- Jit.h - In-process compilation of layer modules ----------*- C++ -*-===//
//
// Compiles a module of the layer dialect through the same pipeline as the
// AOT driver, compiles it at kDefaultOptLevel (-O2) for the host CPU in
// parts on every core (emitObjects) and links the objects into this process
// with LLVM's ORC (LLJIT). The result hands out runtime CompiledFunctions.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_JIT_H
#define LAYERC_CODEGEN_JIT_H

#include "codegen/Pipeline.h"
#include "codegen/Target.h"
#include "runtime/Abi.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace llvm::orc {
class LLJIT;
} // namespace llvm::orc
namespace mlir {
class ModuleOp;
} // namespace mlir

namespace layerc {

struct JitOptions {
  /// LLVM optimisation level of the generated code (0-3).
  unsigned optLevel = kDefaultOptLevel;
  /// Print the IR after every pass (the pass manager's option) to stderr.
  bool printIRAfterAll = false;
  /// Which functions are split into parts before LLVM optimizes them.
  OutlineOptions outline;
  /// What the MLIR pipeline builds (input shapes, batch, training
  /// functions).
  PipelineOptions pipeline;
};

/// Compiled, executable functions of one module.
class JitModule : public std::enable_shared_from_this<JitModule> {
public:
  /// Compiles `module` (modified in place: lowered to the LLVM dialect).
  /// Fails with every diagnostic the pipeline emitted, locations included.
  static llvm::Expected<std::shared_ptr<JitModule>>
  compile(mlir::ModuleOp module, const JitOptions &options = {});

  ~JitModule();

  /// The public function `name`, if any. The returned function keeps this
  /// module (and its code) alive.
  std::optional<CompiledFunction> lookup(llvm::StringRef name) const;
  /// Names of every public function.
  std::vector<std::string> functionNames() const;

private:
  JitModule() = default;
  std::unique_ptr<llvm::orc::LLJIT> linker;
  std::map<std::string, CompiledFunction> functions;
};

} // namespace layerc

#endif // LAYERC_CODEGEN_JIT_H
