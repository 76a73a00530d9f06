//===- Passes.h - layerc code generation passes -----------------*- C++ -*-===//
//
// The passes of codegen/; Pipeline.h chains them with the upstream MLIR
// passes.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_PASSES_H
#define LAYERC_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include "codegen/Target.h"

#include <string>
#include <vector>

namespace layerc {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// The message of a run-time check that reports the out-of-memory status
/// (kStatusOutOfMemory) rather than a check of its own.
inline constexpr llvm::StringLiteral kOutOfMemoryMessage = "out of memory";

/// On the `llvm.alloca` of a pointer (layer-plan-buffers): the cell that
/// holds the arena a function took from this slot, null until it is taken.
/// layer-lower-checks' failure exit gives each cell's arena back with
/// `__layerc_arena_give`.
inline constexpr llvm::StringLiteral kArenaCellAttr = "layerc.arena_cell";
inline constexpr llvm::StringLiteral kArenaGive = "__layerc_arena_give";

/// On an exported function (layer-export-functions): how many of its
/// memref arguments are inputs; the others are its outputs.
inline constexpr llvm::StringLiteral kNumInputsAttr = "layer.num_inputs";

/// Removes the module's `layer.check_messages` (layer-lower-checks) and
/// returns them: status kStatusCheckBase + k of a function means that
/// message k's check failed.
std::vector<std::string> takeCheckMessages(mlir::ModuleOp module);

/// Registers every layerc pass and the named pipelines
/// (`layer-to-llvm`) for textual pipelines.
void registerLayercPasses();

/// Registers the dialects, interfaces and translations the compiler uses
/// (layer, the upstream dialects of the pipeline, LLVM IR translation).
void registerCompilerDialects(mlir::DialectRegistry &registry);

} // namespace layerc

#endif // LAYERC_CODEGEN_PASSES_H
