//===- Signature.h - Signatures of exported functions -----------*- C++ -*-===//
//
// What a caller of a compiled function needs to know -- argument and result
// names, dtypes and shapes, read from the tensor-level function -- shared by
// the JIT (runtime checks) and the AOT driver (the generated C header).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_SIGNATURE_H
#define LAYERC_CODEGEN_SIGNATURE_H

#include "runtime/Abi.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <vector>

namespace layerc {

/// The signature of every public function with a body, in module order
/// (CompiledFunction::fn left empty). Emits a diagnostic and fails on a
/// type the ABI cannot carry.
mlir::FailureOr<std::vector<CompiledFunction>>
readSignatures(mlir::ModuleOp module);

/// Fills CompiledFunction::arenaBytes and arenaBytesPerSample from the
/// function `symbol(f.name)` of the lowered `module` (layer-plan-buffers'
/// attributes on it; zero when it has none).
void readArenaSizes(
    mlir::ModuleOp module, std::vector<CompiledFunction> &functions,
    llvm::function_ref<std::string(const std::string &)> symbol);

} // namespace layerc

#endif // LAYERC_CODEGEN_SIGNATURE_H
