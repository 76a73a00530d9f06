//===- GpuReductions.h - Reductions inside GPU threads ----------*- C++ -*-===//
//
// Used by layer-gpu-map (GpuMapping.cpp). convert-linalg-to-parallel-loops
// writes a reduction as a nest of scf.for inside the op's scf.parallel
// that loads the output element, adds to it and stores it back on every
// iteration:
//
//   scf.parallel (i, j, c, f) {                  // one GPU thread each
//     scf.for n { scf.for h { scf.for w {
//       %acc = memref.load %out[i, j, c, f]
//       ... %sum = arith.addf %acc, %product
//       memref.store %sum, %out[i, j, c, f] } } } }
//
// On a GPU that is a round trip to memory per iteration (LLVM cannot keep
// the element in a register: it cannot prove that %out aliases no input),
// and a thread per output is too few threads when the outputs are few and
// the reduction long (a convolution's kernel gradient: 3 x 3 x 32 x 64
// outputs, each a sum over batch x rows x columns). So:
//   * the element lives in a register (the loops carry it) and is stored
//     once;
//   * a thread computes 4 neighbouring outputs along the last parallel
//     index when its extent allows (a convolution's filters): the loads
//     that do not depend on it (the input window) are shared;
//   * a sum is also split: its outermost loop is cut into `slices` ranges,
//     one thread per (output, slice), each adding its partial sum to the
//     output with one atomic add. The number of slices is chosen at run
//     time from the number of outputs (enough threads to fill the GPU).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_GPUREDUCTIONS_H
#define LAYERC_CODEGEN_GPUREDUCTIONS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include <optional>

namespace layerc::gpumap {

/// A parallel loop whose body is one perfect nest of scf.for accumulating
/// into one element (see the file comment).
struct Accumulation {
  /// Outermost first; the innermost holds the load and the store.
  llvm::SmallVector<mlir::scf::ForOp> nest;
  mlir::memref::LoadOp load;
  mlir::memref::StoreOp store;
  /// Whether the update is `load + x` (an arith.addf): then it can be split.
  bool sum = false;
};

/// The accumulation of `loop`'s body, if it has that shape.
std::optional<Accumulation> findAccumulation(mlir::scf::ParallelOp loop);

/// Whether `loop` has a static trip count too small to be worth splitting
/// (a convolution's window rows: a split would only turn stores into
/// atomic adds).
bool shortLoop(mlir::scf::ForOp loop);

/// The number of iterations of `loop` (host code at `b`).
mlir::Value tripCount(mlir::OpBuilder &b, mlir::scf::ForOp loop);

/// Emits `acc`'s nest at `b` inside a GPU thread that computes one output
/// per mapping in `maps` (they map the parallel loop's indices to each
/// output's), with the elements in registers and the loops shared. With
/// `slice` (a sum), the outermost loop runs only over [slice * chunk,
/// (slice + 1) * chunk) and each partial sum is added atomically;
/// otherwise each element is loaded before the nest and stored after it.
void emitAccumulation(mlir::OpBuilder &b, Accumulation a,
                      mlir::MutableArrayRef<mlir::IRMapping> maps,
                      mlir::Value slice, mlir::Value chunk);

} // namespace layerc::gpumap

#endif // LAYERC_CODEGEN_GPUREDUCTIONS_H
