//===- OptimizerSlots.h - The optimizers' state slots -----------*- C++ -*-===//
//
// The per-parameter state each optimizer layer-autodiff knows keeps, named
// as Keras names its variables: the extra arguments and results of
// train_step and apply_step.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_PASSES_AUTODIFF_OPTIMIZERSLOTS_H
#define LAYERC_PASSES_AUTODIFF_OPTIMIZERSLOTS_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace layerc::layer {

/// The state slots of each parameter, named as Keras names them; empty for
/// an unknown optimizer.
llvm::SmallVector<llvm::StringRef> optimizerSlots(llvm::StringRef optimizer,
                                                  bool centered, bool amsgrad);

} // namespace layerc::layer

#endif // LAYERC_PASSES_AUTODIFF_OPTIMIZERSLOTS_H
