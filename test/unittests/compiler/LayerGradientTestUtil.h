//===- LayerGradientTestUtil.h - Gradients of frontend models ---*- C++ -*-===//
//
// The fixture of LayerGradientTest.cpp and NormalizationGradientTest.cpp:
// a frontend Model's IR (Model::toMLIR()) in float64, its gradient from
// layer-autodiff checked element by element against central finite
// differences of its loss (GradientTestUtil.h).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_LAYERGRADIENTTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_COMPILER_LAYERGRADIENTTESTUTIL_H

#include "GradientTestUtil.h"

#include "layerc/layerc.h"

#include <regex>

namespace layerc::test {

class LayerGradientTest : public GradientTest {
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

  /// Input(shape) -> Dense(units, tanh) -> `layer`: the gradient reaches a
  /// weight through a layer that has none.
  template <typename L>
  void checkAfterDense(std::vector<int64_t> shape, int64_t units, L layer) {
    auto in = Input(shape);
    auto h = layers::Dense(units, {.activation = "tanh"})(in);
    checkModel(Model(in, layer(h)), randInt(1, 3));
  }
};

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_COMPILER_LAYERGRADIENTTESTUTIL_H
