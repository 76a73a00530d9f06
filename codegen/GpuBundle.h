//===- GpuBundle.h - PTX and cubin in one kernel bundle ---------*- C++ -*-===//
//
// A library for a CUDA target carries its kernels as PTX, which any newer
// driver compiles for its GPU, and, when NVIDIA's assembler is on the
// machine that builds it, as a cubin for the target's chip too, which the
// driver loads without compiling (runtime/cuda/KernelBundle.h).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_GPUBUNDLE_H
#define LAYERC_CODEGEN_GPUBUNDLE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace layerc {

/// NVIDIA's assembler for cubins: $LAYERC_PTXAS when it is set (empty or
/// "none": no cubin), else `ptxas` on PATH, else /usr/local/cuda/bin/ptxas.
/// Nothing when there is none: the library is then PTX only.
std::optional<std::string> findPtxas();

/// Replaces the PTX object (format `isa`) of each gpu.binary in `module` by
/// a kernel bundle (format `bin`, which the runtime's mgpuModuleLoad
/// reads): the PTX and, with `ptxas`, the cubin that `ptxas -arch=<chip>`
/// makes of it. A ptxas that fails is a warning (the PTX still runs); a
/// `ptxas` path that cannot be run is an error.
llvm::Error bundleGpuKernels(mlir::ModuleOp module,
                             const std::optional<std::string> &ptxas);

} // namespace layerc

#endif // LAYERC_CODEGEN_GPUBUNDLE_H
