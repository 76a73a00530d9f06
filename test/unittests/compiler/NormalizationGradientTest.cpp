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

#include "GradientTestUtil.h"

#include "layerc/layerc.h"

#include <regex>

using namespace layerc;
using namespace layerc::test;

namespace {

class NormalizationGradientTest : public GradientTest {
protected:
  /// Checks the MSE gradient of every weight of `model` (one input, one
  /// output) at random weights and a random batch of `batch`.
  void checkModel(const Model &model, int64_t batch) {
    std::string ir = model.toMLIR();
    ir = std::regex_replace(ir, std::regex("xf32>"), "xf64>");
    ir = std::regex_replace(ir, std::regex("tensor<f32>"), "tensor<f64>");
    std::vector<int64_t> in = model.inputs()[0].shape();
    std::vector<int64_t> out = model.outputs()[0].shape();
    in[0] = out[0] = batch;
    std::vector<Tensor> params;
    for (const auto &layer : model.weightLayers())
      for (const Weight &w : layer->weights())
        params.push_back(randomTensor(rng, w.value.shape(), -0.8, 0.8));
    std::vector<Tensor> data = {randomTensor(rng, in, -1, 1),
                                randomTensor(rng, out, -1, 1)};
    checkGradients(ir, "loss=mean_squared_error", data, params);
  }

  /// Input(shape) -> Dense(units, tanh) -> `norm`.
  template <typename L>
  void checkAfterDense(std::vector<int64_t> shape, int64_t units, L norm) {
    auto in = Input(shape);
    auto h = layers::Dense(units, {.activation = "tanh"})(in);
    checkModel(Model(in, norm(h)), randInt(1, 3));
  }
};

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
