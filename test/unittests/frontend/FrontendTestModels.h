//===- FrontendTestModels.h - Models shared by frontend tests ---*- C++ -*-===//
//
// Small models built through the functional API that more than one test file
// of the frontend uses.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTMODELS_H
#define LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTMODELS_H

#include "layerc/layerc.h"

#include <cstdint>

namespace layerc::test {

/// The model of the checkpoint tests: explicit names, so that separately
/// built copies share tensor names.
inline Model checkpointModel(int64_t hidden = 8, int64_t classes = 3) {
  auto inputs = Input({4}, {.name = "features"});
  auto h =
      layers::Dense(hidden, {.activation = "tanh", .name = "hidden"})(inputs);
  auto outputs = layers::Dense(classes, {.name = "logits"})(h);
  return Model(inputs, outputs, "ckpt");
}

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTMODELS_H
