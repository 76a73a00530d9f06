//===- OptimizerSlots.cpp - The optimizers' state slots -------------------===//

#include "passes/autodiff/OptimizerSlots.h"

using namespace llvm;

SmallVector<StringRef> layerc::layer::optimizerSlots(StringRef optimizer,
                                                     bool centered,
                                                     bool amsgrad) {
  if (optimizer == "sgd")
    return {"momentum"};
  if (optimizer == "rmsprop") {
    if (centered)
      return {"velocity", "average_gradient"};
    return {"velocity"};
  }
  if (optimizer == "adam" || optimizer == "adamw") {
    if (amsgrad)
      return {"momentum", "velocity", "velocity_hat"};
    return {"momentum", "velocity"};
  }
  if (optimizer == "adagrad")
    return {"accumulator"};
  if (optimizer == "adadelta")
    return {"accumulated_grad", "accumulated_delta_var"};
  if (optimizer == "adamax")
    return {"momentum", "norm"};
  if (optimizer == "nadam")
    return {"momentum", "velocity"};
  if (optimizer == "lion")
    return {"momentum"};
  return {};
}
