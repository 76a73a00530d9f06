//===- CompiledModel.h - What Model::compile() produces ---------*- C++ -*-===//
//
// Internal to the frontend: the compiled program, the training state that
// shares the layers' weight storage, and the options it was compiled with.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_COMPILEDMODEL_H
#define LAYERC_FRONTEND_COMPILEDMODEL_H

#include "frontend/Model.h"

namespace layerc {

class CompiledModel {
public:
  TrainingProgram program;
  TrainingState state;
  CompileOptions options;
  /// The input sample shapes it was compiled for, when the model's inputs
  /// have unknown sizes besides the batch.
  std::optional<std::vector<std::vector<int64_t>>> samples;
  /// The same program built with layer-autodiff's sample-weights, for
  /// fit() and evaluate() with sample_weight or class_weight (compiled on
  /// first use; it runs on this model's `state`).
  std::shared_ptr<TrainingProgram> weighted;
  /// The code generator of program.predict, and why (PredictBackend.cpp).
  std::string backend = "llvm", backendReason;

  /// The train_step arguments that hold optimizer state.
  std::vector<BufferSpec> stateSpecs() const {
    auto begin = program.trainStep.inputs.begin() + program.numInputs +
                 program.numTargets + program.numParams;
    return {begin, begin + program.numStates};
  }
};

/// Puts `compiled.options.backend`'s predict into `compiled.program`
/// (PredictBackend.cpp); throws layerc::Error naming `model` when "halide"
/// cannot run it.
void selectPredictBackend(const Model &model, CompiledModel &compiled);

} // namespace layerc

#endif // LAYERC_FRONTEND_COMPILEDMODEL_H
