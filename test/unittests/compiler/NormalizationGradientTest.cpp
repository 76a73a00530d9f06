//===- NormalizationGradientTest.cpp - Gradients of per-sample norms ------===//
//
// LayerNormalization (with and without gamma and beta, over one or two
// axes, rms_scaling), GroupNormalization (one group, one per channel, in
// between), UnitNormalization and Permute, each after a Dense so that the
// gradient flows through layer.normalize / layer.transpose to a weight:
// each model's IR from Model::toMLIR(), in float64, gets its gradient from
// layer-autodiff, checked element by element against central finite
// differences of its loss (GradientTestUtil.h), then along a random
// direction in float32.
//
//===----------------------------------------------------------------------===//

#include "LayerGradientTestUtil.h"

using namespace layerc;
using namespace layerc::test;

namespace {

using NormalizationGradientTest = LayerGradientTest;

TEST_F(NormalizationGradientTest, LayerNormalization) {
  for (unsigned config = 0; config < 5; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("config " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    LayerNormalizationOptions o;
    std::vector<int64_t> shape{randInt(2, 4)};
    if (config == 1) {
      shape = {randInt(2, 3), randInt(2, 3)};
      o.axis = {-2, -1};
    }
    if (config == 2) {
      shape = {randInt(2, 3), randInt(2, 3)};
      o.center = o.scale = false;
    }
    if (config == 3)
      o.center = false;
    if (config == 4) {
      shape = {randInt(2, 3), randInt(2, 3)};
      o.rms_scaling = true;
    }
    int64_t units = randInt(3, 5);
    checkAfterDense(shape, units, [&](const SymbolicTensor &h) {
      return layers::LayerNormalization(o)(h);
    });
  }
}

TEST_F(NormalizationGradientTest, GroupNormalization) {
  for (unsigned config = 0; config < 4; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("config " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    GroupNormalizationOptions o;
    int64_t groups = config == 0 ? 1 : 2;
    int64_t channels = groups * randInt(2, 3);
    if (config == 2)
      groups = -1; // one per channel
    o.groups = groups;
    std::vector<int64_t> shape{randInt(2, 4), 2};
    if (config == 3) {
      shape = {2, randInt(2, 3), 2};
      o.center = false;
    }
    checkAfterDense(shape, channels, [&](const SymbolicTensor &h) {
      return layers::GroupNormalization(o)(h);
    });
  }
}

TEST_F(NormalizationGradientTest, UnitNormalization) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    UnitNormalizationOptions o;
    std::vector<int64_t> shape{randInt(2, 3), 2};
    if (config == 1)
      o.axis = {1, 2};
    checkAfterDense(shape, randInt(2, 4), [&](const SymbolicTensor &h) {
      return layers::UnitNormalization(o)(h);
    });
  }
}

TEST_F(NormalizationGradientTest, Permute) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    std::vector<int64_t> shape{randInt(2, 3), 2};
    std::vector<int64_t> dims{2, 1};
    if (config == 1) {
      shape = {2, randInt(2, 3), 2};
      dims = {3, 1, 2};
    }
    auto in = Input(shape);
    auto h = layers::Dense(randInt(2, 3), {.activation = "tanh"})(in);
    auto p = layers::Permute(dims)(h);
    // A Dense after the transpose mixes the permuted last axis.
    auto y = layers::Dense(2)(p);
    checkModel(Model(in, y), randInt(1, 3));
  }
}

} // namespace
