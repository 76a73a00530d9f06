//===- Target.h - LLVM target machines, optimization, code emission -*- C++
//-*-===//
//
// The LLVM half of the compiler, shared by the JIT and the AOT driver so
// both generate the same code: one target machine (FMA contraction on),
// LLVM's -O2 pipeline with the loop and SLP vectorizers, and object or
// assembly emission.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_TARGET_H
#define LAYERC_CODEGEN_TARGET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class Module;
class TargetMachine;
namespace cl {
class OptionCategory;
} // namespace cl
} // namespace llvm

namespace layerc {

/// The data caches assumed when the target does not say (typical x86-64
/// cores); layer-tile's defaults too.
inline constexpr int64_t kDefaultL1Bytes = 32 * 1024;
inline constexpr int64_t kDefaultL2Bytes = 1024 * 1024;

/// What the compiler may assume about the machine the code runs on: one
/// struct, parsed from --target or read from the host. LLVM's target
/// machine is built from it (triple, CPU, features); PipelineOptions
/// carries it for the MLIR stages: layer-tile chooses every kernel's
/// vectors, register blocks and cache tiles from vectorBits and the cache
/// sizes, and layer-to-linalg builds them. Threads are not a compile-time
/// choice: a compiled library asks at run time (layer-thread-count).
struct TargetDescription {
  /// As given: "host", "x86-64", "x86-64-v3" (AVX2), "x86-64-v4"
  /// (AVX-512), or an NVIDIA GPU: "cuda" (= "cuda:sm_90", H100/H200) or
  /// "cuda:sm_80" (A100).
  std::string name = "host";
  /// The GPU's compute capability ("sm_90") for a CUDA target, where
  /// kernels run; empty for a CPU target. The triple, CPU and features
  /// below are then the host code's.
  std::string gpuChip;
  /// LLVM's view: triple, CPU and feature string ("" for the CPU's own).
  std::string triple, cpu, features;
  /// The widest SIMD register the code may use, in bits (128 for SSE2,
  /// 256 for AVX2, 512 for AVX-512; 0 for a GPU: no vector kernels).
  unsigned vectorBits = 256;
  /// Data cache sizes in bytes (the host's, or typical ones).
  int64_t l1Bytes = kDefaultL1Bytes, l2Bytes = kDefaultL2Bytes;

  bool isGpu() const { return !gpuChip.empty(); }
  /// The PTX ISA version the kernels are written in (LLVM's feature).
  static constexpr const char *kPtxFeatures = "+ptx80";

  /// The description of `name` (see above); an error names the known ones.
  static llvm::Expected<TargetDescription> get(llvm::StringRef name);
  /// One line for logs: "x86-64-v3: 256-bit vectors, L1 32 KiB, ...".
  std::string str() const;
};

/// A target machine for `target`. With `forJit` (host only) it has ORC's
/// settings for this process; otherwise it emits position-independent
/// objects for libraries.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetDescription &target, bool forJit);

/// Which functions outlineRegions splits before LLVM optimizes them.
struct OutlineOptions {
  /// Functions with more instructions than this are split (0: every
  /// function). Below it, ordinary models compile as one function each:
  /// splitting costs run time (the toy ResNet's train_step, 15,000
  /// instructions, ran 1.4 times slower split into parts of 2,000 and 1.7
  /// times split into parts of 1,000), so only functions whose compile time
  /// would run to minutes are split.
  size_t above = 50000;
  /// About this many instructions per part.
  size_t chunk = 2000;
};

/// The LLVM optimization level of the JIT and of `layerc` without -O.
/// -O2, not -O3: on the guide's models and the Fashion-MNIST CNN, -O3's
/// extra unrolling and inlining bought no inference speed (within 2% either
/// way), made training steps slower (the toy ResNet's train_step 53 ms
/// against 48 at -O2, the CNN's epoch 1.65 s against 1.47), and took a
/// quarter longer to compile (the CNN's train_step, evaluate and predict:
/// 2.3 s against 1.75 s in the JIT). Kernels are vectorized and
/// register-blocked before LLVM sees them; what -O3 adds is mostly more of
/// the same unrolling on top.
inline constexpr unsigned kDefaultOptLevel = 2;

/// Registers the command-line options --outline-above and --outline-chunk
/// (for the tools; call before parsing the command line).
void registerOutlineOptions();
/// The values of those options, or the defaults when they were never
/// registered.
OutlineOptions outlineOptionsFromCommandLine();

/// Makes --help list only the options named in `shown` (under `category`)
/// besides --help and --version; every other registered option (LLVM's
/// and MLIR's, several hundred) is listed by --help-hidden only. Call after
/// every option is registered, before parsing the command line.
void showOnlyInHelp(llvm::cl::OptionCategory &category,
                    llvm::ArrayRef<llvm::StringRef> shown);

/// LLVM's default -O<optLevel> pipeline for `tm` with loop and SLP
/// vectorization on (MLIR's makeOptimizingTransformer leaves the loop
/// vectorizer off), after outlineRegions with `outline` (from -O1 on).
std::function<llvm::Error(llvm::Module *)>
makeLLVMOptimizer(unsigned optLevel, llvm::TargetMachine *tm,
                  OutlineOptions outline = {});

/// Splits every function of `module` with more than `maxInstructions`
/// instructions into consecutive regions of about `chunkInstructions`
/// instructions, each moved into its own internal, never-inlined function,
/// and returns how many regions it moved. LLVM's optimizer and code
/// generator cost more than linearly in a function's size; this keeps the
/// compile time of deep models linear in their number of layers.
unsigned outlineRegions(llvm::Module &module, size_t maxInstructions,
                        size_t chunkInstructions);

/// LLVM's default -O<optLevel> pipeline, as makeLLVMOptimizer, without
/// outlineRegions.
void optimizeModule(llvm::Module &module, unsigned optLevel,
                    llvm::TargetMachine *tm);

/// How many threads emitObjects may use: LAYERC_COMPILE_THREADS if set,
/// else every core.
unsigned compileThreads();

/// Optimizes `module` as makeLLVMOptimizer does and emits it for `target`
/// (a target machine made with `forJit`) as object files, on up to
/// `threads` threads. A module of fewer than 8,000 instructions is one
/// object; a larger one is split into parts of about 4,000, at most 8,
/// each optimized and emitted on its own (SplitCodegen.cpp): its local
/// functions and constants that several parts share become symbols named
/// `__layerc_<symbolPrefix>_<name>`, hidden unless `forJit`. The objects
/// are the same whatever the number of threads. Modifies `module`.
llvm::Expected<std::vector<std::string>>
emitObjects(llvm::Module &module, const TargetDescription &target, bool forJit,
            unsigned optLevel, OutlineOptions outline,
            llvm::StringRef symbolPrefix, unsigned threads);

/// Machine code of `module` (already optimized) as an object file or, with
/// `assembly`, as assembly text.
llvm::Expected<std::string>
emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm, bool assembly);

} // namespace layerc

#endif // LAYERC_CODEGEN_TARGET_H
