//===- GradientOptimizerTest.cpp - Optimizer steps, executed --------------===//
//
// One `train_step` of SGD (momentum, Nesterov), RMSprop (plain and
// centered), Adam, AMSGrad and AdamW, and the exponential-decay schedule,
// compared with Keras's update rules applied by hand to the gradients from
// `grad`, starting from non-zero optimizer states.
//
//===----------------------------------------------------------------------===//

#include "GradientTestUtil.h"

using namespace layerc;
using namespace layerc::test;

namespace {

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

} // namespace
