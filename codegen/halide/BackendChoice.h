//===- BackendChoice.h - auto: the faster backend, measured and kept -*- C++
//-*-===//
//
// `layerc --backend=auto` and CompileOptions::backend = "auto" time a
// function through both code generators on the machine that compiles it and
// keep the faster. The measurement can be kept in a plain text file (a
// "backend cache") that is read before timing and shipped with a model, so
// that the choice is made once per machine kind, not once per build:
//
//   # layerc backend measurements: key, backend, halide ms, llvm ms
//   0.5.0+1a2b3c4-znver5-b64-9f0e...	halide	11.3	24.7
//
// A key names the layerc version, the CPU, the batch (and, for layerc
// --backend=auto, which times 1 thread and every core, the threads) and a
// hash of the function's ops and shapes (not of its weights' values).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_HALIDE_BACKENDCHOICE_H
#define LAYERC_CODEGEN_HALIDE_BACKENDCHOICE_H

#include "runtime/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <optional>
#include <string>

namespace layerc::halide {

/// What auto chose, and what it measured (median ms per call).
struct BackendChoice {
  std::string backend; // "llvm" or "halide"
  double halideMs = 0, llvmMs = 0;
  /// Read from the cache file rather than measured now.
  bool cached = false;
  /// One line for a log: "predict at batch 64 takes 11.300 ms with
  /// Halide, 24.700 ms with LLVM (measured here): halide"; with `threads`
  /// (0: the default count, not said), "at batch 64 on 2 threads".
  std::string describe(int64_t batch, int threads = 0) const;
};

/// The cache key of `fn` called at `batch` on `threads` threads (0: the
/// default count) on this machine by this layerc.
std::string backendCacheKey(mlir::func::FuncOp fn, int64_t batch,
                            int threads = 0);
/// The same from functionHash(fn), for a function since lowered.
std::string backendCacheKey(const std::string &functionHash, int64_t batch,
                            int threads);
/// A hash of `fn`'s ops, attributes and shapes (its constants elided).
std::string functionHash(mlir::func::FuncOp fn);

/// `key`'s measurement in the cache file `path`, if it has one. A missing
/// file is no measurement; a line that does not parse (a hostile or
/// damaged file) is skipped, and a file over 1 MiB is not read, each with a
/// warning on stderr: a cache can make a choice slower, never wrong.
std::optional<BackendChoice> readBackendCache(const std::string &path,
                                              const std::string &key);

/// Records `choice` as `key`'s line in `path` (replacing an older one),
/// atomically: the file is written beside and renamed. Returns an error
/// message on failure, empty on success.
std::string writeBackendCache(const std::string &path, const std::string &key,
                              const BackendChoice &choice);

/// A deterministic input of `shape` (values in [0, 1)) to time a function
/// on.
Tensor timingInput(const std::vector<int64_t> &shape);

/// auto's choice for `key`: from the cache file `cachePath` (when empty,
/// $LAYERC_BACKEND_CACHE; none when both are) when it has one, else timed
/// by the two calls (each returns the median ms of a few calls) and written
/// to that file. A cache that cannot be written is a warning.
BackendChoice chooseBackend(const std::string &key,
                            const std::string &cachePath,
                            const std::function<double()> &timeHalide,
                            const std::function<double()> &timeLlvm);

} // namespace layerc::halide

#endif // LAYERC_CODEGEN_HALIDE_BACKENDCHOICE_H
