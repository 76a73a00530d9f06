//===- HalideLibrary.h - layerc's libraries through the Halide backend ----===//
//
// The parts of the layerc driver that build static libraries with the
// Halide backend (codegen/halide): --backend=halide, a library of the
// Halide pipeline alone; and --backend=auto, a library holding both
// backends' predict, each call running the one that was faster, when the
// library was built, at the call's batch and thread count (docs/Backends.md).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TOOLS_LAYERC_HALIDELIBRARY_H
#define LAYERC_TOOLS_LAYERC_HALIDELIBRARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <memory>
#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace layerc::tool {

/// Prints "layerc: error: `message`" and returns 1 (layerc.cpp).
int fail(const llvm::Twine &message);
/// Writes `contents` to `path`; 0 on success, else fail()'s 1 (layerc.cpp).
int writeFile(const std::string &path, llvm::StringRef contents);
/// Runs the system's C compiler driver (cc) with `args`; fail()'s 1, naming
/// the step `what`, when it fails, or, when there is none, saying that
/// `needs` needs it (and what to do `otherwise`).
int runCc(llvm::ArrayRef<std::string> args, llvm::StringRef what,
          llvm::StringRef needs, llvm::StringRef otherwise = "");

/// --backend=halide: `predict` of `module` (after the layer stage) as a
/// Halide pipeline in the static library `outputFile`, beside C glue
/// (compiled by cc) that gives it the entry points the header calls; then
/// `headerText` to `headerPath`. `cudaCapability` as
/// HalideFunction::lower's.
int emitHalideLibrary(mlir::ModuleOp module, const std::string &prefix,
                      const std::string &headerText,
                      const std::string &headerPath, int cudaCapability,
                      const std::string &outputFile);

/// --backend=auto. prepare() lowers `predict` to Halide while the module is
/// at the layer stage; the driver then compiles the module with the LLVM
/// backend as usual, renaming its entry points (renameLlvmEntryPoints)
/// before it emits the object; emit() times both backends in that object
/// and the Halide pipeline at batch 1 and at 64 (or at the header's samples
/// per call when fewer; at `batch` alone when it is positive, the batch the
/// LLVM backend was compiled for), on 1 thread and on every core (or reads
/// the times from the backend cache), and writes the library: both backends
/// with a per-call choice, or the one that won everywhere.
class AutoLibrary {
public:
  ~AutoLibrary();
  /// Null, having said why on stderr, when the Halide backend cannot lower
  /// `module`'s predict (then the library is the LLVM backend's alone).
  static std::unique_ptr<AutoLibrary> prepare(mlir::ModuleOp module,
                                              const std::string &prefix,
                                              int64_t batch,
                                              const std::string &cachePath);
  /// Renames the LLVM backend's predict, set_num_threads and
  /// release_memory in `m` (halide::GlueDispatch's names).
  void renameLlvmEntryPoints(llvm::Module &m) const;
  /// Writes the static library `outputFile` from the LLVM backend's object
  /// code `llvmObject` (renamed) and the Halide pipeline. `samplesPerCall`:
  /// the header's (predictSamplesPerCall; 0 for none), which caps the
  /// larger batch timed.
  int emit(llvm::StringRef llvmObject, const std::string &outputFile,
           int64_t samplesPerCall);

  struct Impl;

private:
  explicit AutoLibrary(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace layerc::tool

#endif // LAYERC_TOOLS_LAYERC_HALIDELIBRARY_H
