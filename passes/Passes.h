//===- Passes.h - layerc passes on the layer dialect ------------*- C++ -*-===//
//
// Declarations of the passes in Passes.td and the registration of the
// gradient rules (external models of GradientOpInterface).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_PASSES_PASSES_H
#define LAYERC_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "passes/OptionTypes.h"

namespace mlir {
class DialectRegistry;
namespace cf {
class ControlFlowDialect;
} // namespace cf
namespace tensor {
class TensorDialect;
} // namespace tensor
} // namespace mlir

namespace layerc {
namespace layer {
class LayerDialect;
} // namespace layer

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Attaches every op's gradient rule (passes/autodiff/*.cpp) to the layer
/// dialect; call it on any registry that will run layer-autodiff.
void registerGradientInterfaces(mlir::DialectRegistry &registry);

} // namespace layerc

#endif // LAYERC_PASSES_PASSES_H
