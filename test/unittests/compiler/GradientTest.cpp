//===- GradientTest.cpp - Gradients of whole models, executed -------------===//
//
// The functions layer-autodiff builds, JIT-compiled in float64:
//   - every element of every parameter gradient from `grad` is compared with
//     a central finite difference of the loss from `evaluate`, for MLPs,
//     each output activation with each loss, a residual with a shared kernel
//     (values and parameters used twice), reshape and dropout in the middle,
//     a model with two outputs, an embedding with the merges, and every
//     loss with sample weights (layer-autodiff's sample-weights);
//     shapes are random, from logged seeds;
//   - the same models in float32: the gradient along a random direction
//     against a central difference (eps 1e-3, tolerance 2e-3).
// The fixture is in GradientTestUtil.h; convolutions are in
// GradientConvTest.cpp, recurrent layers in GradientRecurrentTest.cpp and
// optimizer steps in GradientOptimizerTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "GradientTestUtil.h"

#include <gmock/gmock.h>

using namespace layerc;
using namespace layerc::test;

namespace {

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

TEST_F(GradientTest, MlpReluReluLinearSparseFromLogits) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H1}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${H1}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${H1}x${H2}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${H2}xf64> {layer.param, layer.name = "b1"},
                   %k2: tensor<${H2}x${C}xf64> {layer.param, layer.name = "k2"},
                   %b2: tensor<${C}xf64> {layer.param, layer.name = "b2"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x${I}xf64>, tensor<${I}x${H1}xf64>, tensor<${H1}xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1, %b1 {activation = #layer.activation<relu>} : (tensor<*xf64>, tensor<${H1}x${H2}xf64>, tensor<${H2}xf64>) -> tensor<*xf64>
  %2 = layer.dense %1, %k2, %b2 : (tensor<*xf64>, tensor<${H2}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %2 : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 6), h1 = randInt(2, 6),
            h2 = randInt(2, 6), c = randInt(2, 5);
    std::string ir =
        fill(tmpl,
             {{"I", str(in)}, {"H1", str(h1)}, {"H2", str(h2)}, {"C", str(c)}});
    std::vector<Tensor> params = {
        randomTensor(rng, {in, h1}), randomTensor(rng, {h1}, -0.5, 0.5),
        randomTensor(rng, {h1, h2}), randomTensor(rng, {h2}, -0.5, 0.5),
        randomTensor(rng, {h2, c}),  randomTensor(rng, {c}, -0.5, 0.5)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                labels(b, c)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

TEST_F(GradientTest, OutputActivationsWithCategoricalCrossentropy) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${H}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${H}x${C}xf64> {layer.param, layer.name = "k1"}
                   ${BIAS_ARG}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<tanh>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>, tensor<${H}xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1 ${BIAS_USE} {activation = #layer.activation<${ACT}>} : (tensor<*xf64>, tensor<${H}x${C}xf64> ${BIAS_TYPE}) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *act;
    const char *loss;
    bool fromLogits;
  };
  const Case cases[] = {
      {"sigmoid", "categorical_crossentropy", false},
      {"softmax", "categorical_crossentropy", false},
      {"sigmoid", "categorical_crossentropy", true},
      {"tanh", "categorical_crossentropy", true},
      {"softmax", "categorical_crossentropy", true},
      {"softmax", "sparse_categorical_crossentropy", false},
      {"sigmoid", "sparse_categorical_crossentropy", false},
  };
  unsigned config = 0;
  for (const Case &k : cases)
    for (bool withBias : {true, false}) {
      unsigned s = seed(config++);
      SCOPED_TRACE(std::string(k.act) + " " + k.loss +
                   (k.fromLogits ? " from logits" : " from probabilities") +
                   (withBias ? " with bias" : " without bias") + ", seed " +
                   std::to_string(s));
      int64_t b = randInt(1, 4), in = randInt(2, 5), h = randInt(2, 5),
              c = randInt(2, 5);
      std::string biasType = "tensor<" + str(c) + "xf64>";
      std::string ir = fill(
          tmpl,
          {{"I", str(in)},
           {"H", str(h)},
           {"C", str(c)},
           {"ACT", k.act},
           {"BIAS_ARG", withBias ? ", %b1: " + biasType +
                                       " {layer.param, layer.name = \"b1\"}"
                                 : ""},
           {"BIAS_USE", withBias ? ", %b1" : ""},
           {"BIAS_TYPE", withBias ? ", " + biasType : ""}});
      std::vector<Tensor> params = {randomTensor(rng, {in, h}),
                                    randomTensor(rng, {h}, -0.5, 0.5),
                                    randomTensor(rng, {h, c})};
      if (withBias)
        params.push_back(randomTensor(rng, {c}, -0.5, 0.5));
      bool sparse = std::string(k.loss) == "sparse_categorical_crossentropy";
      // Soft, unnormalised targets: Keras's formula does not assume one-hot.
      std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                  sparse ? labels(b, c)
                                         : randomTensor(rng, {b, c}, 0, 1)};
      checkGradients(ir,
                     std::string("loss=") + k.loss +
                         " from-logits=" + (k.fromLogits ? "true" : "false"),
                     data, params);
    }
}

TEST_F(GradientTest, MeanSquaredError) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${H}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${H}x${C}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${C}xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<${ACT}>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>, tensor<${H}xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1, %b1 : (tensor<*xf64>, tensor<${H}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir";
  const char *acts[] = {"tanh", "sigmoid", "relu",  "gelu",
                        "elu",  "selu",    "swish", "hard_sigmoid"};
  for (unsigned config = 0; config < std::size(acts); ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(acts[config]) + ", seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), h = randInt(2, 5),
            c = randInt(1, 4);
    std::string ir = fill(
        tmpl,
        {{"I", str(in)}, {"H", str(h)}, {"C", str(c)}, {"ACT", acts[config]}});
    std::vector<Tensor> params = {
        randomTensor(rng, {in, h}), randomTensor(rng, {h}, -0.5, 0.5),
        randomTensor(rng, {h, c}), randomTensor(rng, {c}, -0.5, 0.5)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                randomTensor(rng, {b, c}, -1, 1)};
    checkGradients(ir, "loss=mean_squared_error", data, params);
  }
}

// Binary cross-entropy from logits and from sigmoid probabilities, and the
// mean absolute error, each averaged over every element as Keras does.
TEST_F(GradientTest, BinaryCrossentropyAndMeanAbsoluteError) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${H}x${C}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${C}xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0 {activation = #layer.activation<tanh>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1, %b1 {activation = #layer.activation<${ACT}>} : (tensor<*xf64>, tensor<${H}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *act, *options;
  };
  const Case cases[] = {{"linear", "loss=binary_crossentropy from-logits=true"},
                        {"sigmoid", "loss=binary_crossentropy"},
                        {"linear", "loss=mean_absolute_error"},
                        {"tanh", "loss=mean_absolute_error"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(cases[config].options) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), h = randInt(2, 5),
            c = randInt(1, 4);
    std::string ir = fill(tmpl, {{"I", str(in)},
                                 {"H", str(h)},
                                 {"C", str(c)},
                                 {"ACT", cases[config].act}});
    std::vector<Tensor> params = {randomTensor(rng, {in, h}),
                                  randomTensor(rng, {h, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5)};
    // Binary targets in [0, 1] (soft labels too).
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                randomTensor(rng, {b, c}, 0, 1)};
    checkGradients(ir, cases[config].options, data, params);
  }
}

TEST_F(GradientTest, ResidualAddAndSharedKernelAccumulate) {
  // %h feeds both a dense and the add; %k1 is used by two denses.
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${H}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${H}x${H}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${H}xf64> {layer.param, layer.name = "b1"},
                   %k2: tensor<${H}x${C}xf64> {layer.param, layer.name = "k2"},
                   %b2: tensor<${C}xf64> {layer.param, layer.name = "b2"}) -> tensor<*xf64> {
  %h = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>, tensor<${H}xf64>) -> tensor<*xf64>
  %a = layer.dense %h, %k1 {activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<${H}x${H}xf64>) -> tensor<*xf64>
  %r = layer.add %h, %a : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %s = layer.dense %r, %k1, %b1 {activation = #layer.activation<sigmoid>} : (tensor<*xf64>, tensor<${H}x${H}xf64>, tensor<${H}xf64>) -> tensor<*xf64>
  %o = layer.dense %s, %k2, %b2 : (tensor<*xf64>, tensor<${H}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %o : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), h = randInt(2, 5),
            c = randInt(2, 4);
    std::string ir = fill(tmpl, {{"I", str(in)}, {"H", str(h)}, {"C", str(c)}});
    std::vector<Tensor> params = {
        randomTensor(rng, {in, h}), randomTensor(rng, {h}, -0.5, 0.5),
        randomTensor(rng, {h, h}),  randomTensor(rng, {h}, -0.5, 0.5),
        randomTensor(rng, {h, c}),  randomTensor(rng, {c}, -0.5, 0.5)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                labels(b, c)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

TEST_F(GradientTest, TwoDensesAddedOnOneInput) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${C}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${C}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${I}x${C}xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x${I}xf64>, tensor<${I}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %1 = layer.dense %x, %k1 : (tensor<?x${I}xf64>, tensor<${I}x${C}xf64>) -> tensor<*xf64>
  %2 = layer.add %0, %1 : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.activation %2 {activation = #layer.activation<softmax>} : (tensor<*xf64>) -> tensor<*xf64>
  return %3 : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), c = randInt(2, 5);
    std::string ir = fill(tmpl, {{"I", str(in)}, {"C", str(c)}});
    std::vector<Tensor> params = {randomTensor(rng, {in, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5),
                                  randomTensor(rng, {in, c})};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                labels(b, c)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy", data, params);
  }
}

/// layer.multiply: both operands get a gradient, and %h, used by the
/// product and by the dense, accumulates two.
TEST_F(GradientTest, MultiplyOfTwoBranches) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${C}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${C}x${C}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${C}xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %h = layer.dense %x, %k0 {activation = #layer.activation<tanh>} : (tensor<?x${I}xf64>, tensor<${I}x${C}xf64>) -> tensor<*xf64>
  %g = layer.dense %h, %k1, %b1 {activation = #layer.activation<sigmoid>} : (tensor<*xf64>, tensor<${C}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %m = layer.multiply %h, %g : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  return %m : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), c = randInt(2, 5);
    std::string ir = fill(tmpl, {{"I", str(in)}, {"C", str(c)}});
    std::vector<Tensor> params = {randomTensor(rng, {in, c}),
                                  randomTensor(rng, {c, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                randomTensor(rng, {b, c})};
    checkGradients(ir, "loss=mean_squared_error", data, params);
  }
}

TEST_F(GradientTest, ReshapeAndRank3ActivationInTheMiddle) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${PQ}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${PQ}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${PQ}x${C}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${C}xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x${I}xf64>, tensor<${I}x${PQ}xf64>, tensor<${PQ}xf64>) -> tensor<*xf64>
  %1 = layer.reshape %0 {target_shape = array<i64: ${P}, ${Q}>} : (tensor<*xf64>) -> tensor<*xf64>
  %2 = layer.activation %1 {activation = #layer.activation<${ACT}>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.reshape %2 {target_shape = array<i64: ${PQ}>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k1, %b1 : (tensor<*xf64>, tensor<${PQ}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  const char *acts[] = {"softmax", "tanh", "sigmoid"};
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(acts[config]) + ", seed " + std::to_string(s));
    int64_t b = randInt(1, 3), in = randInt(2, 4), p = randInt(2, 3),
            q = randInt(2, 4), c = randInt(2, 4);
    std::string ir = fill(tmpl, {{"I", str(in)},
                                 {"P", str(p)},
                                 {"Q", str(q)},
                                 {"PQ", str(p * q)},
                                 {"C", str(c)},
                                 {"ACT", acts[config]}});
    std::vector<Tensor> params = {
        randomTensor(rng, {in, p * q}), randomTensor(rng, {p * q}, -0.5, 0.5),
        randomTensor(rng, {p * q, c}), randomTensor(rng, {c}, -0.5, 0.5)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                labels(b, c)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

TEST_F(GradientTest, DropoutAndAnUnusedParameter) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${H}xf64> {layer.param, layer.name = "b0"},
                   %unused: tensor<3xf64> {layer.param, layer.name = "unused"},
                   %k1: tensor<${H}x${C}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${C}xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>, tensor<${H}xf64>) -> tensor<*xf64>
  %1 = layer.dropout %0 {rate = 0.5 : f64} : (tensor<*xf64>) -> tensor<*xf64>
  %2 = layer.dense %1, %k1, %b1 : (tensor<*xf64>, tensor<${H}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %2 : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), h = randInt(2, 5),
            c = randInt(2, 4);
    std::string ir = fill(tmpl, {{"I", str(in)}, {"H", str(h)}, {"C", str(c)}});
    std::vector<Tensor> params = {
        randomTensor(rng, {in, h}), randomTensor(rng, {h}, -0.5, 0.5),
        randomTensor(rng, {3}), randomTensor(rng, {h, c}),
        randomTensor(rng, {c}, -0.5, 0.5)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                labels(b, c)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

/// Two outputs on one hidden layer (the gradients of summed losses).
constexpr const char *kTwoOutputs = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${H}x${C}xf64> {layer.param, layer.name = "k1"},
                   %k2: tensor<${H}x${C}xf64> {layer.param, layer.name = "k2"})
    -> (tensor<*xf64>, tensor<*xf64>) {
  %0 = layer.dense %x, %k0 {activation = #layer.activation<tanh>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1 : (tensor<*xf64>, tensor<${H}x${C}xf64>) -> tensor<*xf64>
  %2 = layer.dense %0, %k2 {activation = #layer.activation<sigmoid>} : (tensor<*xf64>, tensor<${H}x${C}xf64>) -> tensor<*xf64>
  return %1, %2 : tensor<*xf64>, tensor<*xf64>
}
)mlir";

TEST_F(GradientTest, TwoOutputsSumTheirLosses) {
  const char *tmpl = kTwoOutputs;
  unsigned s = seed(0);
  SCOPED_TRACE("seed " + std::to_string(s));
  int64_t b = randInt(1, 4), in = randInt(2, 5), h = randInt(2, 5),
          c = randInt(1, 4);
  std::string ir = fill(tmpl, {{"I", str(in)}, {"H", str(h)}, {"C", str(c)}});
  std::vector<Tensor> params = {randomTensor(rng, {in, h}),
                                randomTensor(rng, {h, c}),
                                randomTensor(rng, {h, c})};
  std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                              randomTensor(rng, {b, c}),
                              randomTensor(rng, {b, c})};
  checkGradients(ir, "loss=mean_squared_error", data, params);
}

// What custom layers compose: a bias broadcast by add, multiply and
// subtract (its gradient summed over the batch), scale, and two outputs
// whose losses differ and are weighted (Keras's losses and loss_weights).
TEST_F(GradientTest, BroadcastMergesScaleAndWeightedOutputLosses) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${C}xf64> {layer.param, layer.name = "k0"},
                   %b: tensor<${C}xf64> {layer.param, layer.name = "b"},
                   %s: tensor<${C}xf64> {layer.param, layer.name = "s"})
    -> (tensor<*xf64>, tensor<*xf64>) {
  %h = layer.matmul %x, %k0 : (tensor<?x${I}xf64>, tensor<${I}x${C}xf64>) -> tensor<*xf64>
  %a = layer.add %h, %b : (tensor<*xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %m = layer.multiply %a, %s : (tensor<*xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %d = layer.subtract %m, %b : (tensor<*xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %t = layer.scale %d {factor = -0.5 : f64} : (tensor<*xf64>) -> tensor<*xf64>
  %o = layer.activation %t {activation = #layer.activation<tanh>} : (tensor<*xf64>) -> tensor<*xf64>
  return %t, %o : tensor<*xf64>, tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), c = randInt(2, 5);
    std::string ir = fill(tmpl, {{"I", str(in)}, {"C", str(c)}});
    std::vector<Tensor> params = {randomTensor(rng, {in, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5),
                                  randomTensor(rng, {c}, -1, 1)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                randomTensor(rng, {b, c}),
                                randomTensor(rng, {b, c})};
    checkGradients(ir,
                   "loss=mean_squared_error,mean_absolute_error "
                   "loss-weights=1.5,0.25",
                   data, params);
  }
}

// What the composite layers (frontend/layers/Composite.cpp) emit: PReLU
// (relu(h) - relu(-h) * alpha, alpha broadcast over the batch), ReLU's
// max_value (y - relu(y - m), with m a rank-0 constant broadcast by
// layer.add) and LeakyReLU (relu(h) - s * relu(-h)).
TEST_F(GradientTest, CompositeLayersPReLUClippedAndLeakyRelu) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k: tensor<${I}x${C}xf64> {layer.param, layer.name = "k"},
                   %b: tensor<${C}xf64> {layer.param, layer.name = "b"},
                   %alpha: tensor<${C}xf64> {layer.param, layer.name = "alpha"}) -> tensor<*xf64> {
  %h = layer.dense %x, %k, %b : (tensor<?x${I}xf64>, tensor<${I}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %r = layer.activation %h {activation = #layer.activation<relu>} : (tensor<*xf64>) -> tensor<*xf64>
  %n = layer.scale %h {factor = -1.0 : f64} : (tensor<*xf64>) -> tensor<*xf64>
  %rn = layer.activation %n {activation = #layer.activation<relu>} : (tensor<*xf64>) -> tensor<*xf64>
  %p = layer.multiply %rn, %alpha : (tensor<*xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %y = layer.subtract %r, %p : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %m = arith.constant dense<-0.4> : tensor<f64>
  %s = layer.add %y, %m : (tensor<*xf64>, tensor<f64>) -> tensor<*xf64>
  %t = layer.activation %s {activation = #layer.activation<relu>} : (tensor<*xf64>) -> tensor<*xf64>
  %clipped = layer.subtract %y, %t : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %leak = layer.scale %rn {factor = 0.3 : f64} : (tensor<*xf64>) -> tensor<*xf64>
  %out = layer.subtract %clipped, %leak : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  return %out : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 4), in = randInt(2, 5), c = randInt(2, 5);
    std::string ir = fill(tmpl, {{"I", str(in)}, {"C", str(c)}});
    std::vector<Tensor> params = {randomTensor(rng, {in, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5),
                                  randomTensor(rng, {c}, -1, 1)};
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                randomTensor(rng, {b, c})};
    checkGradients(ir, "loss=mean_squared_error", data, params);
  }
}

// Dense on a rank-3 input (the kernel gradient contracts every leading
// axis, the bias gradient sums them), slices of it (their gradient is dy
// in place, zeros around), and a reshape, as custom layers compose them.
TEST_F(GradientTest, DenseOnRank3InputAndSlices) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${T}x${I}xf64>,
                   %k0: tensor<${I}x${C}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${C}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${C}x${C}xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %h = layer.dense %x, %k0, %b0 {activation = #layer.activation<tanh>} : (tensor<?x${T}x${I}xf64>, tensor<${I}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  %s0 = layer.slice %h {axis = 1 : i64, offset = 0 : i64, size = 1 : i64} : (tensor<*xf64>) -> tensor<*xf64>
  %s1 = layer.slice %h {axis = 1 : i64, offset = ${O} : i64, size = 2 : i64} : (tensor<*xf64>) -> tensor<*xf64>
  %j = layer.concatenate %s0, %s1 {axis = 1 : i64} : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %d = layer.dense %j, %k1 : (tensor<*xf64>, tensor<${C}x${C}xf64>) -> tensor<*xf64>
  %f = layer.reshape %d {target_shape = array<i64: ${F}>} : (tensor<*xf64>) -> tensor<*xf64>
  return %f : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 3), t = randInt(3, 5), in = randInt(2, 4),
            c = randInt(2, 4), o = randInt(1, t - 2);
    std::string ir = fill(tmpl, {{"T", str(t)},
                                 {"I", str(in)},
                                 {"C", str(c)},
                                 {"O", str(o)},
                                 {"F", str(3 * c)}});
    std::vector<Tensor> params = {randomTensor(rng, {in, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5),
                                  randomTensor(rng, {c, c})};
    std::vector<Tensor> data = {randomTensor(rng, {b, t, in}, -2, 2),
                                randomTensor(rng, {b, 3 * c})};
    checkGradients(ir, "loss=mean_squared_error", data, params);
  }
}

// Embedding (repeated indices accumulate into one row), reshape, and the
// merges subtract, maximum, average and concatenate, all between
// parameters.
TEST_F(GradientTest, EmbeddingAndMerges) {
  const char *tmpl = R"mlir(
func.func @predict(%ids: tensor<?x${T}xi32>, %x: tensor<?x${F}xf64>,
                   %table: tensor<${V}x${E}xf64> {layer.param, layer.name = "table"},
                   %k0: tensor<${F}x${TE}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${TE2}x${K}xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %e = layer.embedding %ids, %table : (tensor<?x${T}xi32>, tensor<${V}x${E}xf64>) -> tensor<*xf64>
  %flat = layer.reshape %e {target_shape = array<i64: ${TE}>} : (tensor<*xf64>) -> tensor<*xf64>
  %d = layer.dense %x, %k0 {activation = #layer.activation<tanh>} : (tensor<?x${F}xf64>, tensor<${F}x${TE}xf64>) -> tensor<*xf64>
  %s = layer.subtract %flat, %d : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %m = layer.maximum %flat, %d : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %a = layer.average %s, %m, %d : (tensor<*xf64>, tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %c = layer.concatenate %a, %m {axis = 1 : i64} : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %o = layer.dense %c, %k1 : (tensor<*xf64>, tensor<${TE2}x${K}xf64>) -> tensor<*xf64>
  return %o : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 3), t = randInt(2, 5), v = randInt(3, 5),
            e = randInt(2, 3), f = randInt(2, 4), k = randInt(2, 4);
    std::string ir = fill(tmpl, {{"T", str(t)},
                                 {"F", str(f)},
                                 {"V", str(v)},
                                 {"E", str(e)},
                                 {"TE", str(t * e)},
                                 {"TE2", str(2 * t * e)},
                                 {"K", str(k)}});
    // More tokens than rows: some index repeats; one is out of range and
    // gets (and gives) nothing.
    std::vector<int32_t> ids(b * t);
    for (int32_t &id : ids)
      id = static_cast<int32_t>(randInt(0, v - 1));
    ids.back() = static_cast<int32_t>(v);
    std::vector<Tensor> params = {randomTensor(rng, {v, e}),
                                  randomTensor(rng, {f, t * e}),
                                  randomTensor(rng, {2 * t * e, k})};
    std::vector<Tensor> data = {Tensor::fromInts(ids, {b, t}),
                                randomTensor(rng, {b, f}, -1, 1), labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

} // namespace

// layer-autodiff's sample-weights: each loss with one weight per sample
// (some negative, as Keras accepts them), the loss and its gradient both
// weighted; two outputs take one weight vector each.
TEST_F(GradientTest, SampleWeightsEveryLoss) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${I}xf64>,
                   %k0: tensor<${I}x${H}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${H}x${C}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${C}xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0 {activation = #layer.activation<tanh>} : (tensor<?x${I}xf64>, tensor<${I}x${H}xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1, %b1 {activation = #layer.activation<${ACT}>} : (tensor<*xf64>, tensor<${H}x${C}xf64>, tensor<${C}xf64>) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *act, *loss;
  };
  const Case cases[] = {
      {"linear", "sparse_categorical_crossentropy from-logits=true"},
      {"softmax", "sparse_categorical_crossentropy"},
      {"linear", "categorical_crossentropy from-logits=true"},
      {"softmax", "categorical_crossentropy"},
      {"linear", "binary_crossentropy from-logits=true"},
      {"sigmoid", "binary_crossentropy"},
      {"linear", "mean_squared_error"},
      {"tanh", "mean_absolute_error"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(cases[config].loss) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(2, 5), in = randInt(2, 5), h = randInt(2, 5),
            c = randInt(2, 4);
    std::string ir = fill(tmpl, {{"I", str(in)},
                                 {"H", str(h)},
                                 {"C", str(c)},
                                 {"ACT", cases[config].act}});
    std::vector<Tensor> params = {randomTensor(rng, {in, h}),
                                  randomTensor(rng, {h, c}),
                                  randomTensor(rng, {c}, -0.5, 0.5)};
    bool sparse = std::string(cases[config].loss).rfind("sparse", 0) == 0;
    std::vector<Tensor> data = {randomTensor(rng, {b, in}, -2, 2),
                                sparse ? labels(b, c)
                                       : randomTensor(rng, {b, c}, 0, 1),
                                randomTensor(rng, {b}, -0.5, 2)};
    checkGradients(
        ir, std::string("loss=") + cases[config].loss + " sample-weights=true",
        data, params);
  }
}

TEST_F(GradientTest, SampleWeightsOfTwoOutputs) {
  const char *tmpl = kTwoOutputs;
  unsigned s = seed(0);
  SCOPED_TRACE("seed " + std::to_string(s));
  int64_t b = randInt(2, 5), in = randInt(2, 5), h = randInt(2, 5),
          c = randInt(1, 4);
  std::string ir = fill(tmpl, {{"I", str(in)}, {"H", str(h)}, {"C", str(c)}});
  std::vector<Tensor> params = {randomTensor(rng, {in, h}),
                                randomTensor(rng, {h, c}),
                                randomTensor(rng, {h, c})};
  // Inputs, the two targets, then the two outputs' weights.
  std::vector<Tensor> data = {
      randomTensor(rng, {b, in}, -2, 2), randomTensor(rng, {b, c}),
      randomTensor(rng, {b, c}, 0, 1), randomTensor(rng, {b}, 0, 2),
      randomTensor(rng, {b}, -0.5, 1)};
  checkGradients(ir,
                 "loss=mean_squared_error,binary_crossentropy "
                 "loss-weights=1.5,0.5 sample-weights=true",
                 data, params);
}
