//===- GradientTest.cpp - Gradients and optimizer steps, executed ---------===//
//
// The functions layer-autodiff builds, JIT-compiled in float64:
//   - every element of every parameter gradient from `grad` is compared with
//     a central finite difference of the loss from `evaluate`, for MLPs,
//     each output activation with each loss, a residual with a shared kernel
//     (values and parameters used twice), reshape and dropout in the middle
//     and a model with two outputs; shapes are random, from logged seeds;
//   - the same models in float32: the gradient along a random direction
//     against a central difference (eps 1e-3, tolerance 2e-3);
//   - one `train_step` of SGD (momentum), RMSprop and Adam is compared with
//     Keras's update rules applied by hand to the gradients from `grad`,
//     starting from non-zero optimizer states.
//
//===----------------------------------------------------------------------===//

#include "CompilerTestUtil.h"

#include <gmock/gmock.h>

#include <regex>

using namespace layerc;
using namespace layerc::test;

namespace {

constexpr double kEps = 1e-6;
constexpr double kAtol = 1e-5;
constexpr double kRtol = 1e-3;

/// Pass list turning `predict` into evaluate + grad.
std::string gradPipeline(const std::string &options) {
  return "func.func(layer-shape-inference),layer-autodiff{optimizer=none " +
         options + "}";
}

std::string str(int64_t v) { return std::to_string(v); }

class GradientTest : public CompilerTest {
protected:
  /// Seeds the generator for configuration `config` of the current test.
  unsigned seed(unsigned config) {
    unsigned s =
        7919u * (config + 1) +
        std::hash<std::string>{}(
            ::testing::UnitTest::GetInstance()->current_test_info()->name()) %
            100000u;
    rng.seed(s);
    return s;
  }

  int64_t randInt(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }

  Tensor labels(int64_t batch, int64_t classes) {
    std::vector<int32_t> l(batch);
    for (int32_t &v : l)
      v = static_cast<int32_t>(randInt(0, classes - 1));
    return Tensor::fromInts(l, {batch});
  }

  /// Compiles `ir` with layer-autodiff{optimizer=none `options`} and checks
  /// d loss / d param of `grad` against central differences of `evaluate`.
  /// `data` are the inputs then the targets; `params` the parameters.
  void checkGradients(const std::string &ir, const std::string &options,
                      const std::vector<Tensor> &data,
                      const std::vector<Tensor> &params) {
    auto jit = build(ir, gradPipeline(options));
    ASSERT_TRUE(jit);
    CompiledFunction grad = lookup(*jit, "grad");
    CompiledFunction evaluate = lookup(*jit, "evaluate");

    std::vector<Tensor> args = data;
    args.insert(args.end(), params.begin(), params.end());
    std::vector<Tensor> g = call(grad, args);
    std::vector<Tensor> e = call(evaluate, args);
    ASSERT_GE(g.size(), 1 + params.size());
    size_t numOutputs = g.size() - 1 - params.size();
    ASSERT_EQ(e.size(), 1 + numOutputs);
    double loss = e[0].data<double>()[0];
    ASSERT_TRUE(std::isfinite(loss));
    EXPECT_NEAR(g[0].data<double>()[0], loss, 1e-12 * std::fabs(loss) + 1e-14)
        << "grad and evaluate disagree on the loss";
    for (size_t o = 0; o < numOutputs; ++o)
      expectClose(g[1 + o], values(e[1 + o]), e[1 + o].shape(), 1e-12, 1e-14,
                  "output " + std::to_string(o));

    auto lossWith = [&](size_t p, int64_t i, double delta) {
      std::vector<Tensor> a = data;
      for (size_t q = 0; q < params.size(); ++q) {
        if (q != p) {
          a.push_back(params[q]);
          continue;
        }
        Tensor moved = params[q].clone();
        moved.data<double>()[i] += delta;
        a.push_back(moved);
      }
      return call(evaluate, a)[0].data<double>()[0];
    };
    for (size_t p = 0; p < params.size(); ++p) {
      const Tensor &dp = g[1 + numOutputs + p];
      const std::string &name = grad.outputs[1 + numOutputs + p].name;
      ASSERT_EQ(dp.shape(), params[p].shape()) << "gradient of " << name;
      const double *analytic = dp.data<double>();
      for (int64_t i = 0; i < params[p].numel(); ++i) {
        double fd = (lossWith(p, i, kEps) - lossWith(p, i, -kEps)) / (2 * kEps);
        EXPECT_NEAR(analytic[i], fd, kAtol + kRtol * std::fabs(fd))
            << "d loss / d " << name << " at flat index " << i;
      }
    }
    checkDirectionalFloat32(ir, options, data, params);
  }

  /// The same model in float32: the gradient along one random unit
  /// direction d of all the parameters, g . d, against the central
  /// difference (L(p + eps d) - L(p - eps d)) / (2 eps) within
  /// 2e-3 (1 + |g . d|). eps is 1e-3: at 1e-4 the float32 rounding of the
  /// loss itself (about 1e-6 of it), divided by 2 eps, reaches 5e-3 on the
  /// convolution models, whatever the gradient.
  void checkDirectionalFloat32(const std::string &ir,
                               const std::string &options,
                               const std::vector<Tensor> &data,
                               const std::vector<Tensor> &params) {
    std::string ir32 = std::regex_replace(ir, std::regex("xf64>"), "xf32>");
    ir32 = std::regex_replace(ir32, std::regex("tensor<f64>"), "tensor<f32>");
    auto jit = build(ir32, gradPipeline(options));
    ASSERT_TRUE(jit);
    CompiledFunction grad = lookup(*jit, "grad");
    CompiledFunction evaluate = lookup(*jit, "evaluate");
    auto to32 = [](const Tensor &t) {
      return t.dtype() == DType::Float64 ? t.astype(DType::Float32) : t;
    };
    std::vector<Tensor> data32, params32;
    for (const Tensor &t : data)
      data32.push_back(to32(t));
    for (const Tensor &t : params)
      params32.push_back(to32(t));
    std::normal_distribution<double> normal;
    std::vector<std::vector<double>> direction;
    double norm = 0;
    for (const Tensor &p : params32) {
      direction.emplace_back(p.numel());
      for (double &v : direction.back()) {
        v = normal(rng);
        norm += v * v;
      }
    }
    norm = std::sqrt(norm);
    std::vector<Tensor> args = data32;
    args.insert(args.end(), params32.begin(), params32.end());
    std::vector<Tensor> g = call(grad, args);
    size_t numOutputs = g.size() - 1 - params32.size();
    double analytic = 0;
    for (size_t p = 0; p < params32.size(); ++p)
      for (int64_t i = 0; i < params32[p].numel(); ++i)
        analytic += double(g[1 + numOutputs + p].data<float>()[i]) *
                    direction[p][i] / norm;
    constexpr double eps = 1e-3;
    auto lossAt = [&](double t) {
      std::vector<Tensor> a = data32;
      for (size_t p = 0; p < params32.size(); ++p) {
        Tensor moved = params32[p].clone();
        for (int64_t i = 0; i < moved.numel(); ++i)
          moved.data<float>()[i] +=
              static_cast<float>(t * direction[p][i] / norm);
        a.push_back(moved);
      }
      return double(call(evaluate, a)[0].data<float>()[0]);
    };
    double fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    EXPECT_NEAR(analytic, fd, 2e-3 * (1 + std::fabs(analytic)))
        << "float32 directional derivative";
  }

  std::mt19937 rng;
};

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

TEST_F(GradientTest, TwoOutputsSumTheirLosses) {
  const char *tmpl = R"mlir(
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

//===----------------------------------------------------------------------===//
// Optimizer steps
//===----------------------------------------------------------------------===//

constexpr const char *kOptimizerModel = R"mlir(
func.func @predict(%x: tensor<?x4xf64> {layer.name = "input"},
                   %k0: tensor<4x3xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<3xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<3x5xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<5xf64> {layer.param, layer.name = "b1"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<tanh>} : (tensor<?x4xf64>, tensor<4x3xf64>, tensor<3xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k1, %b1 : (tensor<*xf64>, tensor<3x5xf64>, tensor<5xf64>) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir";

constexpr const char *kOptimizerLoss =
    "loss=sparse_categorical_crossentropy from-logits=true";

/// One step of an optimizer against Keras's rule applied by hand to the
/// gradients that `grad` returns for the same inputs.
class OptimizerTest : public CompilerTest {
protected:
  void SetUp() override {
    rng.seed(4242u);
    data = {randomTensor(rng, {6, 4}, -2, 2),
            Tensor::fromInts({0, 4, 2, 1, 3, 4}, {6})};
    params = {randomTensor(rng, {4, 3}), randomTensor(rng, {3}, -0.5, 0.5),
              randomTensor(rng, {3, 5}), randomTensor(rng, {5}, -0.5, 0.5)};
    auto jit = build(kOptimizerModel, gradPipeline(kOptimizerLoss));
    ASSERT_TRUE(jit);
    std::vector<Tensor> args = data;
    args.insert(args.end(), params.begin(), params.end());
    std::vector<Tensor> out = call(lookup(*jit, "grad"), args);
    ASSERT_EQ(out.size(), 2 + params.size());
    loss = out[0].data<double>()[0];
    for (size_t p = 0; p < params.size(); ++p)
      grads.push_back(values(out[2 + p]));
  }

  /// Runs train_step built with `options`; `states` are per parameter, in
  /// slot order. Returns loss, output, new params, new states.
  std::vector<Tensor> trainStep(const std::string &options,
                                const std::vector<Tensor> &states,
                                double step) {
    auto jit = build(kOptimizerModel,
                     "func.func(layer-shape-inference),layer-autodiff{" +
                         options + " " + kOptimizerLoss + "}");
    if (!jit)
      return {};
    std::vector<Tensor> args = data;
    args.insert(args.end(), params.begin(), params.end());
    args.insert(args.end(), states.begin(), states.end());
    args.push_back(Tensor::fromDoubles({step}, {}));
    std::vector<Tensor> out = call(lookup(*jit, "train_step"), args);
    EXPECT_EQ(out.size(), 2 + params.size() + states.size());
    if (!out.empty()) {
      EXPECT_NEAR(out[0].data<double>()[0], loss, 1e-12 * loss);
    }
    return out;
  }

  static constexpr double kTol = 1e-10;
  std::mt19937 rng;
  std::vector<Tensor> data, params;
  std::vector<std::vector<double>> grads;
  double loss = 0;
};

TEST_F(OptimizerTest, SgdWithMomentum) {
  const double lr = 0.05, momentum = 0.7;
  std::vector<Tensor> states;
  for (const Tensor &p : params)
    states.push_back(randomTensor(rng, p.shape(), -0.1, 0.1));
  std::vector<Tensor> out =
      trainStep("optimizer=sgd learning-rate=0.05 momentum=0.7", states, 1);
  ASSERT_EQ(out.size(), 2 + 2 * params.size());
  size_t n = params.size();
  for (size_t p = 0; p < n; ++p) {
    SCOPED_TRACE("parameter " + std::to_string(p));
    std::vector<double> w = values(params[p]), v = values(states[p]);
    for (size_t i = 0; i < w.size(); ++i) {
      v[i] = momentum * v[i] - lr * grads[p][i];
      w[i] += v[i];
    }
    expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
    expectClose(out[2 + n + p], v, params[p].shape(), kTol, kTol,
                "new velocity");
  }
}

TEST_F(OptimizerTest, SgdWithNesterovMomentum) {
  // Keras: v = m v - lr g; w += m v - lr g (with the new v).
  const double lr = 0.05, momentum = 0.7;
  std::vector<Tensor> states;
  for (const Tensor &p : params)
    states.push_back(randomTensor(rng, p.shape(), -0.1, 0.1));
  std::vector<Tensor> out = trainStep(
      "optimizer=sgd learning-rate=0.05 momentum=0.7 nesterov=true", states, 1);
  ASSERT_EQ(out.size(), 2 + 2 * params.size());
  size_t n = params.size();
  for (size_t p = 0; p < n; ++p) {
    SCOPED_TRACE("parameter " + std::to_string(p));
    std::vector<double> w = values(params[p]), v = values(states[p]);
    for (size_t i = 0; i < w.size(); ++i) {
      v[i] = momentum * v[i] - lr * grads[p][i];
      w[i] += momentum * v[i] - lr * grads[p][i];
    }
    expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
    expectClose(out[2 + n + p], v, params[p].shape(), kTol, kTol,
                "new velocity");
  }
}

TEST_F(OptimizerTest, SgdDefaultsToPlainStepWithRate001) {
  std::vector<Tensor> states;
  for (const Tensor &p : params)
    states.push_back(Tensor(p.shape(), DType::Float64));
  std::vector<Tensor> out = trainStep("optimizer=sgd", states, 1);
  ASSERT_EQ(out.size(), 2 + 2 * params.size());
  for (size_t p = 0; p < params.size(); ++p) {
    SCOPED_TRACE("parameter " + std::to_string(p));
    std::vector<double> w = values(params[p]);
    for (size_t i = 0; i < w.size(); ++i)
      w[i] -= 0.01 * grads[p][i];
    expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
  }
}

TEST_F(OptimizerTest, RMSpropAddsEpsilonInsideTheRoot) {
  const double lr = 0.03, rho = 0.8, eps = 1e-3;
  std::vector<Tensor> states;
  for (const Tensor &p : params)
    states.push_back(randomTensor(rng, p.shape(), 0.0, 0.01));
  std::vector<Tensor> out = trainStep(
      "optimizer=rmsprop learning-rate=0.03 rho=0.8 epsilon=1e-3", states, 1);
  ASSERT_EQ(out.size(), 2 + 2 * params.size());
  size_t n = params.size();
  for (size_t p = 0; p < n; ++p) {
    SCOPED_TRACE("parameter " + std::to_string(p));
    std::vector<double> w = values(params[p]), a = values(states[p]);
    for (size_t i = 0; i < w.size(); ++i) {
      double g = grads[p][i];
      a[i] = rho * a[i] + (1 - rho) * g * g;
      w[i] -= lr * g / std::sqrt(a[i] + eps);
    }
    expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
    expectClose(out[2 + n + p], a, params[p].shape(), kTol, kTol,
                "new average");
  }
}

TEST_F(OptimizerTest, AdamAtStep3) {
  struct Config {
    std::string options;
    double lr, b1, b2, eps;
  };
  const Config configs[] = {
      {"optimizer=adam learning-rate=0.02 beta-1=0.8 beta-2=0.95 epsilon=1e-3",
       0.02, 0.8, 0.95, 1e-3},
      {"optimizer=adam", 1e-3, 0.9, 0.999, 1e-7},
  };
  const double t = 3;
  for (const Config &c : configs) {
    SCOPED_TRACE(c.options);
    std::vector<Tensor> states;
    for (const Tensor &p : params) {
      states.push_back(randomTensor(rng, p.shape(), -0.1, 0.1)); // m
      states.push_back(randomTensor(rng, p.shape(), 0.0, 0.01)); // v
    }
    std::vector<Tensor> out = trainStep(c.options, states, t);
    ASSERT_EQ(out.size(), 2 + 3 * params.size());
    size_t n = params.size();
    double alpha =
        c.lr * std::sqrt(1 - std::pow(c.b2, t)) / (1 - std::pow(c.b1, t));
    for (size_t p = 0; p < n; ++p) {
      SCOPED_TRACE("parameter " + std::to_string(p));
      std::vector<double> w = values(params[p]), m = values(states[2 * p]),
                          v = values(states[2 * p + 1]);
      for (size_t i = 0; i < w.size(); ++i) {
        double g = grads[p][i];
        m[i] += (g - m[i]) * (1 - c.b1);
        v[i] += (g * g - v[i]) * (1 - c.b2);
        w[i] -= alpha * m[i] / (std::sqrt(v[i]) + c.eps);
      }
      expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
      expectClose(out[2 + n + 2 * p], m, params[p].shape(), kTol, kTol,
                  "new m");
      expectClose(out[2 + n + 2 * p + 1], v, params[p].shape(), kTol, kTol,
                  "new v");
    }
  }
}

TEST_F(OptimizerTest, CenteredRMSprop) {
  // Keras: a = rho a + (1 - rho) g^2; mg = rho mg + (1 - rho) g;
  // w -= lr g / sqrt(a - mg^2 + eps).
  const double lr = 0.03, rho = 0.8, eps = 1e-3;
  std::vector<Tensor> states;
  for (const Tensor &p : params) {
    states.push_back(randomTensor(rng, p.shape(), 0.05, 0.1)); // a
    states.push_back(randomTensor(rng, p.shape(), -0.1, 0.1)); // mg
  }
  std::vector<Tensor> out = trainStep(
      "optimizer=rmsprop learning-rate=0.03 rho=0.8 epsilon=1e-3 centered=true",
      states, 1);
  ASSERT_EQ(out.size(), 2 + 3 * params.size());
  size_t n = params.size();
  for (size_t p = 0; p < n; ++p) {
    SCOPED_TRACE("parameter " + std::to_string(p));
    std::vector<double> w = values(params[p]), a = values(states[2 * p]),
                        mg = values(states[2 * p + 1]);
    for (size_t i = 0; i < w.size(); ++i) {
      double g = grads[p][i];
      a[i] = rho * a[i] + (1 - rho) * g * g;
      mg[i] = rho * mg[i] + (1 - rho) * g;
      w[i] -= lr * g / std::sqrt(a[i] - mg[i] * mg[i] + eps);
    }
    expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
    expectClose(out[2 + n + 2 * p], a, params[p].shape(), kTol, kTol,
                "new velocity");
    expectClose(out[2 + n + 2 * p + 1], mg, params[p].shape(), kTol, kTol,
                "new average_gradient");
  }
}

/// AMSGrad (v_hat = max(v_hat, v) in the step) and AdamW (w -= w wd lr
/// first), separately and together, at step 4.
TEST_F(OptimizerTest, AmsgradAndAdamW) {
  struct Config {
    std::string options;
    bool amsgrad;
    double wd;
  };
  const Config configs[] = {
      {"optimizer=adam amsgrad=true", true, 0.0},
      {"optimizer=adamw weight-decay=0.004", false, 0.004},
      {"optimizer=adamw weight-decay=0.1 amsgrad=true", true, 0.1},
  };
  const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-7, t = 4;
  for (const Config &c : configs) {
    SCOPED_TRACE(c.options);
    size_t slots = c.amsgrad ? 3 : 2;
    std::vector<Tensor> states;
    for (const Tensor &p : params) {
      states.push_back(randomTensor(rng, p.shape(), -0.1, 0.1)); // m
      states.push_back(randomTensor(rng, p.shape(), 0.0, 0.01)); // v
      if (c.amsgrad)
        states.push_back(randomTensor(rng, p.shape(), 0.0, 0.02)); // v_hat
    }
    std::vector<Tensor> out = trainStep(c.options, states, t);
    ASSERT_EQ(out.size(), 2 + (1 + slots) * params.size());
    size_t n = params.size();
    double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t p = 0; p < n; ++p) {
      SCOPED_TRACE("parameter " + std::to_string(p));
      std::vector<double> w = values(params[p]), m = values(states[slots * p]),
                          v = values(states[slots * p + 1]);
      std::vector<double> h =
          c.amsgrad ? values(states[slots * p + 2]) : std::vector<double>();
      for (size_t i = 0; i < w.size(); ++i) {
        double g = grads[p][i];
        w[i] -= w[i] * c.wd * lr;
        m[i] += (g - m[i]) * (1 - b1);
        v[i] += (g * g - v[i]) * (1 - b2);
        double used = v[i];
        if (c.amsgrad)
          used = h[i] = std::max(h[i], v[i]);
        w[i] -= alpha * m[i] / (std::sqrt(used) + eps);
      }
      expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
      expectClose(out[2 + n + slots * p], m, params[p].shape(), kTol, kTol,
                  "new m");
      expectClose(out[2 + n + slots * p + 1], v, params[p].shape(), kTol, kTol,
                  "new v");
      if (c.amsgrad)
        expectClose(out[2 + n + slots * p + 2], h, params[p].shape(), kTol,
                    kTol, "new v_hat");
    }
  }
}

/// Keras's ExponentialDecay: lr * rate ^ (iterations / decay_steps), with
/// iterations = step - 1 (floored with staircase).
TEST_F(OptimizerTest, ExponentialDecaySchedule) {
  struct Config {
    std::string options;
    bool staircase;
  };
  const Config configs[] = {
      {"optimizer=sgd learning-rate=0.1 decay-steps=3 decay-rate=0.5", false},
      {"optimizer=sgd learning-rate=0.1 decay-steps=3 decay-rate=0.5 "
       "staircase=true",
       true},
  };
  const double step = 8;
  for (const Config &c : configs) {
    SCOPED_TRACE(c.options);
    double e = (step - 1) / 3;
    double lr = 0.1 * std::pow(0.5, c.staircase ? std::floor(e) : e);
    std::vector<Tensor> states;
    for (const Tensor &p : params)
      states.push_back(Tensor(p.shape(), DType::Float64));
    std::vector<Tensor> out = trainStep(c.options, states, step);
    ASSERT_EQ(out.size(), 2 + 2 * params.size());
    for (size_t p = 0; p < params.size(); ++p) {
      SCOPED_TRACE("parameter " + std::to_string(p));
      std::vector<double> w = values(params[p]);
      for (size_t i = 0; i < w.size(); ++i)
        w[i] -= lr * grads[p][i];
      expectClose(out[2 + p], w, params[p].shape(), kTol, kTol, "new param");
    }
  }
}

//===----------------------------------------------------------------------===//
// Convolution, pooling and upsampling
//===----------------------------------------------------------------------===//

// Every kernel gradient of a chain conv -> pool -> conv -> global pool ->
// dense depends on the input gradients of the ops after it, so each op's
// data and filter gradients are checked, for strided "same" and dilated
// "valid" convolutions, max and average pools (with "same" padding, which
// the average's counts must respect) and both global pools.
TEST_F(GradientTest, ConvPoolConvGlobalPoolDense) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x${C}xf64>,
                   %k0: tensor<3x3x${C}x${F0}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${F0}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<2x3x${F0}x${F1}xf64> {layer.param, layer.name = "k1"},
                   %k2: tensor<${F1}x${K}xf64> {layer.param, layer.name = "k2"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0, %b0 {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x${C}xf64>, tensor<3x3x${C}x${F0}xf64>, tensor<${F0}xf64>) -> tensor<*xf64>
  %1 = layer.pool %0 {kind = #layer.pool<${POOL}>, pool_size = array<i64: 2, 2>, strides = array<i64: ${PS}, ${PS}>, padding = #layer.padding<${PP}>} : (tensor<*xf64>) -> tensor<*xf64>
  %2 = layer.conv %1, %k1 {strides = array<i64: 1, 1>, padding = #layer.padding<valid>, dilations = array<i64: ${D}, 1>} : (tensor<*xf64>, tensor<2x3x${F0}x${F1}xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<${GPOOL}>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k2 : (tensor<*xf64>, tensor<${F1}x${K}xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t stride, poolStride, dilation;
    const char *pool, *poolPadding, *globalPool;
  };
  const Case cases[] = {{1, 1, 1, "max", "valid", "average"},
                        {2, 1, 1, "average", "same", "max"},
                        {1, 2, 2, "average", "same", "average"},
                        {2, 2, 1, "max", "same", "max"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(9, 12), w = randInt(9, 12),
            ch = randInt(1, 3), f0 = randInt(2, 3), f1 = randInt(2, 3),
            k = randInt(2, 4);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"F0", str(f0)},
                                 {"F1", str(f1)},
                                 {"K", str(k)},
                                 {"S", str(c.stride)},
                                 {"PS", str(c.poolStride)},
                                 {"PP", c.poolPadding},
                                 {"POOL", c.pool},
                                 {"D", str(c.dilation)},
                                 {"GPOOL", c.globalPool}});
    std::vector<Tensor> params = {
        randomTensor(rng, {3, 3, ch, f0}), randomTensor(rng, {f0}, -0.5, 0.5),
        randomTensor(rng, {2, 3, f0, f1}), randomTensor(rng, {f1, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, ch}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// Grouped convolutions: each group's gradient on its slice of the
// channels, joined (groups 2 and 3, strided and "same", with a bias).
TEST_F(GradientTest, GroupedConvolution) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x${C}xf64>,
                   %k0: tensor<3x3x${CG}x${F}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${F}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${F}x${K}xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0, %b0 {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, groups = ${G}, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x${C}xf64>, tensor<3x3x${CG}x${F}xf64>, tensor<${F}xf64>) -> tensor<*xf64>
  %1 = layer.global_pool %0 {kind = #layer.pool<average>} : (tensor<*xf64>) -> tensor<*xf64>
  %2 = layer.dense %1, %k1 : (tensor<*xf64>, tensor<${F}x${K}xf64>) -> tensor<*xf64>
  return %2 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t groups, stride;
    const char *padding;
  };
  const Case cases[] = {{2, 1, "valid"}, {3, 2, "same"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("groups " + std::to_string(c.groups) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(5, 7), w = randInt(5, 7),
            cg = randInt(1, 2), fg = randInt(1, 2), k = randInt(2, 3);
    int64_t ch = cg * c.groups, f = fg * c.groups;
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"CG", str(cg)},
                                 {"F", str(f)},
                                 {"K", str(k)},
                                 {"G", str(c.groups)},
                                 {"S", str(c.stride)},
                                 {"P", c.padding}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, cg, f}),
                                  randomTensor(rng, {f}, -0.5, 0.5),
                                  randomTensor(rng, {f, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, ch}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// BatchNormalization: with batch-stats, evaluate and grad normalize by
// layer.moments of the batch (train_step's behaviour), so the gradient
// flows through the mean and variance too; without, by the moving
// statistics (given here as inputs). Gamma and beta present or not.
TEST_F(GradientTest, BatchNormalization) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x2xf64>, %mm: tensor<${F}xf64>, %mv: tensor<${F}xf64>,
                   %mm2: tensor<3xf64>, %mv2: tensor<3xf64>,
                   %k0: tensor<2x2x2x${F}xf64> {layer.param, layer.name = "k0"},
                   %g: tensor<${F}xf64> {layer.param, layer.name = "gamma"},
                   %b: tensor<${F}xf64> {layer.param, layer.name = "beta"},
                   %k1: tensor<${F}x3xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x${H}x${W}x2xf64>, tensor<2x2x2x${F}xf64>) -> tensor<*xf64>
  %1 = layer.batch_norm %0, %mm, %mv ${AFFINE} {epsilon = 1.0e-3 : f64} : (tensor<*xf64>, tensor<${F}xf64>, tensor<${F}xf64>${AFFINE_TYPES}) -> tensor<*xf64>
  %2 = layer.activation %1 {activation = #layer.activation<tanh>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k1 : (tensor<*xf64>, tensor<${F}x3xf64>) -> tensor<*xf64>
  %5 = layer.batch_norm %4, %mm2, %mv2 {epsilon = 1.0e-2 : f64} : (tensor<*xf64>, tensor<3xf64>, tensor<3xf64>) -> tensor<*xf64>
  return %5 : tensor<*xf64>
}
)mlir";
  struct Case {
    bool batchStats, affine;
  };
  const Case cases[] = {{true, true}, {true, false}, {false, true}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE(std::string("batch-stats ") + (c.batchStats ? "on" : "off") +
                 ", seed " + std::to_string(s));
    int64_t b = randInt(3, 4), h = randInt(3, 4), w = randInt(3, 4),
            f = randInt(2, 3);
    std::string vec = "tensor<" + str(f) + "xf64>";
    std::string ir =
        fill(tmpl, {{"H", str(h)},
                    {"W", str(w)},
                    {"F", str(f)},
                    {"AFFINE", c.affine ? "gamma(%g) beta(%b)" : ""},
                    {"AFFINE_TYPES", c.affine ? ", " + vec + ", " + vec : ""}});
    std::vector<Tensor> params = {
        randomTensor(rng, {2, 2, 2, f}), randomTensor(rng, {f}, 0.5, 1.5),
        randomTensor(rng, {f}, -0.5, 0.5), randomTensor(rng, {f, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, 2}, -1, 1),
                                randomTensor(rng, {f}, -0.2, 0.2),
                                randomTensor(rng, {f}, 0.5, 1.5),
                                randomTensor(rng, {3}, -0.2, 0.2),
                                randomTensor(rng, {3}, 0.5, 1.5),
                                labels(b, 3)};
    checkGradients(ir,
                   std::string("loss=sparse_categorical_crossentropy "
                               "from-logits=true batch-stats=") +
                       (c.batchStats ? "true" : "false"),
                   data, params);
  }
}

// Filters in whole vectors (4 doubles) take the register-blocked kernels:
// the forward convolution, the kernel gradient, and (stride 1) the input
// gradient as a convolution by the flipped kernel. Widths and channel
// counts that leave partial (clamped) blocks, strides and dilations.
TEST_F(GradientTest, RegisterBlockedConvolutions) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x${C}xf64>,
                   %k0: tensor<3x3x${C}x8xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<8xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${K1}x${K1}x8x${F}xf64> {layer.param, layer.name = "k1"},
                   %k2: tensor<${F}x3xf64> {layer.param, layer.name = "k2"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0, %b0 {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x${C}xf64>, tensor<3x3x${C}x8xf64>, tensor<8xf64>) -> tensor<*xf64>
  %1 = layer.conv %0, %k1 {strides = array<i64: 1, 1>, padding = #layer.padding<${P}>, dilations = array<i64: ${D}, ${D}>, activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<${K1}x${K1}x8x${F}xf64>) -> tensor<*xf64>
  %2 = layer.global_pool %1 {kind = #layer.pool<average>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.dense %2, %k2 : (tensor<*xf64>, tensor<${F}x3xf64>) -> tensor<*xf64>
  return %3 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t stride, dilation, filters;
    const char *padding;
  };
  const Case cases[] = {
      {1, 1, 8, "valid"}, {2, 2, 4, "same"}, {1, 2, 12, "same"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(11, 13), w = randInt(13, 15),
            ch = randInt(5, 7), k1 = randInt(2, 3);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"F", str(c.filters)},
                                 {"K1", str(k1)},
                                 {"S", str(c.stride)},
                                 {"D", str(c.dilation)},
                                 {"P", c.padding}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, ch, 8}),
                                  randomTensor(rng, {8}, -0.5, 0.5),
                                  randomTensor(rng, {k1, k1, 8, c.filters}),
                                  randomTensor(rng, {c.filters, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, ch}, -1, 1),
                                labels(b, 3)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// Bilinear upsampling (half-pixel centres, edges clamped): its gradient
// is the transpose of the interpolation, axis by axis.
TEST_F(GradientTest, BilinearUpsampling) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x2xf64>,
                   %k0: tensor<2x2x2x${F}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${F}x3xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.upsample %x {size = array<i64: ${SH}, ${SW}>, interpolation = #layer.interpolation<bilinear>} : (tensor<?x${H}x${W}x2xf64>) -> tensor<*xf64>
  %1 = layer.conv %0, %k0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<2x2x2x${F}xf64>) -> tensor<*xf64>
  %2 = layer.upsample %1 {size = array<i64: 2, 2>, interpolation = #layer.interpolation<bilinear>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k1 : (tensor<*xf64>, tensor<${F}x3xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(2, 4), w = randInt(2, 4),
            sh = randInt(1, 3), sw = randInt(2, 3), f = randInt(2, 3);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"SH", str(sh)},
                                 {"SW", str(sw)},
                                 {"F", str(f)}});
    std::vector<Tensor> params = {randomTensor(rng, {2, 2, 2, f}),
                                  randomTensor(rng, {f, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, 2}, -1, 1),
                                labels(b, 3)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// The decoder's ops: transposed convolutions (strided, "same" and "valid",
// with output_padding) and nearest upsampling, between convolutions whose
// kernels see their input gradients.
TEST_F(GradientTest, ConvTransposeAndUpsampling) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${H}x2xf64>,
                   %k0: tensor<3x3x2x3xf64> {layer.param, layer.name = "k0"},
                   %t: tensor<${T}x${T}x${F}x3xf64> {layer.param, layer.name = "t"},
                   %tb: tensor<${F}xf64> {layer.param, layer.name = "tb"},
                   %k1: tensor<2x2x${F}x2xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0 {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x${H}x${H}x2xf64>, tensor<3x3x2x3xf64>) -> tensor<*xf64>
  %1 = layer.conv_transpose %0, %t, %tb {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, output_padding = array<i64${OP}>, activation = #layer.activation<relu>} : (tensor<*xf64>, tensor<${T}x${T}x${F}x3xf64>, tensor<${F}xf64>) -> tensor<*xf64>
  %2 = layer.upsample %1 {size = array<i64: 2, ${U}>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.conv %2, %k1 {strides = array<i64: 2, 2>, padding = #layer.padding<valid>, dilations = array<i64: 1, 1>} : (tensor<*xf64>, tensor<2x2x${F}x2xf64>) -> tensor<*xf64>
  %4 = layer.reshape %3 {target_shape = array<i64: ${FLAT}>} : (tensor<*xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t stride, kernel, up;
    const char *padding, *outputPadding;
    int64_t (*outSize)(int64_t);
  };
  const Case cases[] = {
      {2, 3, 1, "same", "", [](int64_t h) { return 2 * h; }},
      {2, 3, 3, "valid", ": 1, 1", [](int64_t h) { return 2 * h + 2; }},
      {1, 2, 2, "valid", "", [](int64_t h) { return h + 1; }}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(3, 5), f = randInt(2, 3);
    int64_t t = c.outSize(h);
    int64_t oh = (2 * t - 2) / 2 + 1, ow = (c.up * t - 2) / 2 + 1;
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"T", str(c.kernel)},
                                 {"F", str(f)},
                                 {"S", str(c.stride)},
                                 {"P", c.padding},
                                 {"OP", c.outputPadding},
                                 {"U", str(c.up)},
                                 {"FLAT", str(oh * ow * 2)}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, 2, 3}),
                                  randomTensor(rng, {c.kernel, c.kernel, f, 3}),
                                  randomTensor(rng, {f}, -0.5, 0.5),
                                  randomTensor(rng, {2, 2, f, 2})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, h, 2}, -1, 1),
                                randomTensor(rng, {b, oh * ow * 2}, -1, 1)};
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

// Backpropagation through time: LSTM, GRU (reset_after or not) and
// SimpleRNN, the last output or the
// whole sequence (forwards and backwards), with the final states feeding
// the loss too, so every result gradient reaches the recurrence.
TEST_F(GradientTest, RecurrentBackpropagationThroughTime) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${T}x${F}xf64>,
                   %k: tensor<${F}x${GU}xf64> {layer.param, layer.name = "kernel"},
                   %rk: tensor<${U}x${GU}xf64> {layer.param, layer.name = "recurrent_kernel"},
                   %b: tensor<${BSHAPE}xf64> {layer.param, layer.name = "bias"},
                   %d: tensor<${CAT}x${K}xf64> {layer.param, layer.name = "dense"}) -> tensor<*xf64> {
  %o${STATES} = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<${CELL}>, activation = #layer.activation<${ACT}>${FLAGS}} : (tensor<?x${T}x${F}xf64>, tensor<${F}x${GU}xf64>, tensor<${U}x${GU}xf64>, tensor<${BSHAPE}xf64>) -> (${RESULTS})
  %flat = layer.reshape %o {target_shape = array<i64: ${OUT}>} : (tensor<*xf64>) -> tensor<*xf64>
  %cat = layer.concatenate %flat, %${LAST} {axis = 1 : i64} : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %y = layer.dense %cat, %d : (tensor<*xf64>, tensor<${CAT}x${K}xf64>) -> tensor<*xf64>
  return %y : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *cell, *act;
    bool sequences, backwards, resetAfter;
  };
  const Case cases[] = {{"lstm", "tanh", false, false, false},
                        {"lstm", "tanh", true, true, false},
                        {"simple_rnn", "tanh", true, false, false},
                        {"simple_rnn", "relu", false, true, false},
                        {"gru", "tanh", false, false, true},
                        {"gru", "tanh", true, true, true},
                        {"gru", "tanh", true, false, false},
                        {"gru", "tanh", false, true, false}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(c.cell) + " case " + std::to_string(config) +
                 ", seed " + std::to_string(s));
    bool lstm = std::string(c.cell) == "lstm";
    int64_t b = randInt(1, 3), t = randInt(2, 5), f = randInt(2, 3),
            u = randInt(2, 3), k = randInt(2, 3);
    bool gru = std::string(c.cell) == "gru";
    int64_t gu = (lstm ? 4 : gru ? 3 : 1) * u;
    std::string bshape = c.resetAfter ? "2x" + str(gu) : str(gu);
    int64_t out = c.sequences ? t * u : u;
    std::string flags = std::string(c.sequences ? ", return_sequences" : "") +
                        (c.backwards ? ", go_backwards" : "") +
                        (c.resetAfter ? ", reset_after" : "");
    std::string results = "tensor<*xf64>, tensor<*xf64>";
    if (lstm)
      results += ", tensor<*xf64>";
    std::string ir = fill(tmpl, {{"T", str(t)},
                                 {"F", str(f)},
                                 {"U", str(u)},
                                 {"GU", str(gu)},
                                 {"K", str(k)},
                                 {"CELL", c.cell},
                                 {"ACT", c.act},
                                 {"FLAGS", flags},
                                 {"STATES", lstm ? ", %h, %c" : ", %h"},
                                 {"LAST", lstm ? "c" : "h"},
                                 {"RESULTS", results},
                                 {"OUT", str(out)},
                                 {"CAT", str(out + u)},
                                 {"BSHAPE", bshape}});
    std::vector<Tensor> params = {
        randomTensor(rng, {f, gu}), randomTensor(rng, {u, gu}),
        c.resetAfter ? randomTensor(rng, {2, gu}, -0.5, 0.5)
                     : randomTensor(rng, {gu}, -0.5, 0.5),
        randomTensor(rng, {out + u, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, t, f}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// ConvLSTM2D: differentiated through its decomposition into per-step
// convolutions, gates and products (backpropagation through time by the
// composition of their rules).
TEST_F(GradientTest, ConvLstmBackpropagationThroughTime) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${T}x${H}x${W}x${C}xf64>,
                   %k: tensor<${KS}x${KS}x${C}x${G}xf64> {layer.param, layer.name = "kernel"},
                   %rk: tensor<${KS}x${KS}x${F}x${G}xf64> {layer.param, layer.name = "recurrent_kernel"},
                   %b: tensor<${G}xf64> {layer.param, layer.name = "bias"},
                   %d: tensor<${F2}x${K}xf64> {layer.param, layer.name = "dense"}) -> tensor<*xf64> {
  %o, %h, %c = layer.conv_lstm %x, %k, %rk, %b {strides = array<i64: ${S}, ${S}>, dilations = array<i64: 1, 1>, padding = #layer.padding<${P}>, recurrent_activation = #layer.activation<${RACT}>${FLAGS}} : (tensor<?x${T}x${H}x${W}x${C}xf64>, tensor<${KS}x${KS}x${C}x${G}xf64>, tensor<${KS}x${KS}x${F}x${G}xf64>, tensor<${G}xf64>) -> (tensor<*xf64>, tensor<*xf64>, tensor<*xf64>)
  %g1 = layer.global_pool %o {kind = #layer.pool<average>} : (tensor<*xf64>) -> tensor<*xf64>
  %g2 = layer.global_pool %c {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %cat = layer.concatenate %g1, %g2 {axis = 1 : i64} : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %y = layer.dense %cat, %d : (tensor<*xf64>, tensor<${F2}x${K}xf64>) -> tensor<*xf64>
  return %y : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *padding, *recurrentActivation;
    int64_t stride;
    bool sequences, backwards;
  };
  const Case cases[] = {{"valid", "sigmoid", 1, false, false},
                        {"same", "hard_sigmoid", 1, true, true},
                        {"same", "sigmoid", 2, false, true}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), t = randInt(2, 3), h = randInt(3, 4),
            w = randInt(3, 4), ch = randInt(1, 2), f = randInt(1, 2),
            ks = randInt(2, 3), k = randInt(2, 3);
    std::string flags = std::string(c.sequences ? ", return_sequences" : "") +
                        (c.backwards ? ", go_backwards" : "");
    std::string ir = fill(tmpl, {{"T", str(t)},
                                 {"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"F", str(f)},
                                 {"G", str(4 * f)},
                                 {"F2", str(2 * f)},
                                 {"KS", str(ks)},
                                 {"K", str(k)},
                                 {"S", str(c.stride)},
                                 {"P", c.padding},
                                 {"RACT", c.recurrentActivation},
                                 {"FLAGS", flags}});
    std::vector<Tensor> params = {randomTensor(rng, {ks, ks, ch, 4 * f}),
                                  randomTensor(rng, {ks, ks, f, 4 * f}),
                                  randomTensor(rng, {4 * f}, -0.5, 0.5),
                                  randomTensor(rng, {2 * f, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, t, h, w, ch}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

} // namespace
