//===- Compile.h - From CompileOptions to the pipeline's options -*- C++
//-*-===//
//
// Internal to the frontend and the layerc driver (it names MLIR types, so
// it is not part of the public API in include/).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_COMPILE_H
#define LAYERC_FRONTEND_COMPILE_H

#include "frontend/Model.h"
#include "passes/Passes.h"
#include "runtime/Training.h"

#include "mlir/IR/DialectRegistry.h"

#include <string>
#include <vector>

namespace layerc {

/// Every dialect, interface and translation the compiler needs, registered
/// once per process.
mlir::DialectRegistry &compilerRegistry();

/// Keras's choice of accuracy for the loss and output shape.
MetricKind accuracyFor(const Loss &loss,
                       const std::vector<int64_t> &outputShape);

/// The optimizers compile() knows, by Keras name, and the same as a list
/// for messages: "sgd, rmsprop, ...".
const std::vector<std::string> &optimizerNames();
std::string knownOptimizers();

/// The options of layer-autodiff that build train_step/evaluate for
/// `options` and a model with these outputs: what compile() runs.
/// `outputLosses` makes the functions also return each output's loss
/// (compile() asks for it with several outputs). With `learningRateInput`
/// (compile() for fit()), train_step takes each step's learning rate, which
/// fit() computes from the schedule; without it (ahead-of-time training)
/// the compiled code computes it, for a constant or ExponentialDecay.
/// Throws layerc::Error on an unknown optimizer or loss, or values Keras
/// would refuse.
LayerAutodiffOptions
autodiffOptions(const CompileOptions &options,
                const std::vector<std::string> &outputNames,
                bool outputLosses = false, bool learningRateInput = false);

/// The processes fit() trains across for `options` (its `distribute`, else
/// the environment's LAYERC_DISTRIBUTE: "mpi" or "none"); null for one
/// process. Throws layerc::Error on an unknown value, or for MPI in a build
/// without it.
std::shared_ptr<Communicator> communicatorFor(const CompileOptions &options);

/// Sample shapes (the batch left out, -1 for an unknown size) as
/// layer-specialize-shapes's input-shapes: {{28, 28}} -> {"?x28x28"}.
std::vector<std::string>
shapeOptions(const std::vector<std::vector<int64_t>> &samples);

} // namespace layerc

#endif // LAYERC_FRONTEND_COMPILE_H
