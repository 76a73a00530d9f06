//===- layerc.h - The umbrella header of layerc's C++ API -------*- C++ -*-===//
//
// Everything a user of the functional API needs:
//
//   #include "layerc/layerc.h"
//   using namespace layerc;
//   auto inputs = Input({784});
//   auto x = layers::Dense(64, {.activation = "relu"})(inputs);
//   auto outputs = layers::Dense(10)(x);
//   Model model(inputs, outputs, "mnist_model");
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_LAYERC_H
#define LAYERC_LAYERC_H

#include "frontend/Applications.h"
#include "frontend/Callbacks.h"
#include "frontend/Layer.h"
#include "frontend/Model.h"
#include "frontend/Ops.h"
#include "frontend/Plot.h"
#include "frontend/layers/Attention.h"
#include "frontend/layers/Composite.h"
#include "frontend/layers/Convolution.h"
#include "frontend/layers/Core.h"
#include "frontend/layers/DepthwiseConvolution.h"
#include "frontend/layers/Noise.h"
#include "frontend/layers/Normalization.h"
#include "frontend/layers/Preprocessing.h"
#include "frontend/layers/Recurrent.h"
#include "frontend/layers/Wrappers.h"
#include "runtime/Data.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"
#include "runtime/Training.h"

#endif // LAYERC_LAYERC_H
