//===- NoiseTest.cpp - The training noise of layer.dropout ----------------===//
//
// The masks layer.dropout_mask draws for each noise kind, checked by their
// statistics over many draws (Keras's own random streams differ, so these
// are the oracle): Gaussian noise has the mean and deviation Keras's
// formulas give and is normal; AlphaDropout keeps a standard normal input
// at mean 0 and variance 1, with dropped inputs at Keras's value; shared
// axes broadcast one draw; a shard of a batch draws what the whole batch
// draws; and train_step applies each kind where evaluate does not.
//
//===----------------------------------------------------------------------===//

#include "ForwardTestUtil.h"
#include "StatsTestUtil.h"

#include <cmath>
#include <map>

using namespace layerc;
using namespace layerc::test;

namespace {

constexpr const char *kMasks = R"mlir(
func.func @gaussian_dropout(%x: tensor<?x100xf32>, %step: tensor<f32>) -> tensor<*xf32> {
  %0 = layer.dropout_mask %x, %step {noise = #layer.noise<gaussian_dropout>, rate = 0.2 : f64, seed = 5 : i64} : (tensor<?x100xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @gaussian_noise(%x: tensor<?x100xf32>, %step: tensor<f32>) -> tensor<*xf32> {
  %0 = layer.dropout_mask %x, %step {noise = #layer.noise<gaussian_noise>, stddev = 0.3 : f64, seed = 5 : i64} : (tensor<?x100xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @alpha(%x: tensor<?x100xf32>, %step: tensor<f32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = layer.dropout_mask %x, %step {noise = #layer.noise<alpha_dropout>, rate = 0.2 : f64, seed = 9 : i64} : (tensor<?x100xf32>, tensor<f32>) -> tensor<*xf32>
  %1 = layer.dropout_mask %x, %step {noise = #layer.noise<alpha_dropout>, rate = 0.2 : f64, seed = 9 : i64, shift} : (tensor<?x100xf32>, tensor<f32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}
func.func @spatial(%x: tensor<?x6x5x8xf32>, %step: tensor<f32>) -> tensor<*xf32> {
  %0 = layer.dropout_mask %x, %step {rate = 0.4 : f64, seed = 2 : i64, shared_axes = array<i64: 1, 2>} : (tensor<?x6x5x8xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @spatial_shard(%x: tensor<?x6x5x8xf32>, %step: tensor<f32>, %first: tensor<f32>) -> tensor<*xf32> {
  %0 = layer.dropout_mask %x, %step offset(%first) {rate = 0.4 : f64, seed = 2 : i64, shared_axes = array<i64: 1, 2>} : (tensor<?x6x5x8xf32>, tensor<f32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
)mlir";

class NoiseTest : public ForwardTest {
protected:
  void SetUp() override {
    jit = build(kMasks);
    ASSERT_TRUE(jit);
  }
  std::vector<Tensor> run(const char *name, const Tensor &like, float step,
                          std::vector<Tensor> extra = {}) {
    std::vector<Tensor> args{like, Tensor::fromFloats({step}, {})};
    for (Tensor &t : extra)
      args.push_back(std::move(t));
    return call(lookup(*jit, name), args);
  }
  std::shared_ptr<JitModule> jit;
};

// GaussianDropout multiplies by N(1, rate / (1 - rate)): with rate 0.2 the
// deviation is 0.5. 20,000 draws: the mean is known to +-0.004 (1 sigma)
// and a normal has 68.3% of its mass within one deviation.
TEST_F(NoiseTest, GaussianDropoutIsNormalAroundOne) {
  Tensor m = run("gaussian_dropout", Tensor({200, 100}), 1)[0];
  SampleStats s = sampleStats(m);
  EXPECT_NEAR(s.mean, 1.0, 0.02);
  EXPECT_NEAR(s.stddev, 0.5, 0.015);
  EXPECT_NEAR(s.withinOneStddev, 0.6827, 0.015);
  // Another step draws other noise.
  Tensor other = run("gaussian_dropout", Tensor({200, 100}), 2)[0];
  int64_t same = 0;
  for (int64_t i = 0; i < m.numel(); ++i)
    same += m.data<float>()[i] == other.data<float>()[i];
  EXPECT_LT(same, 100);
}

// GaussianNoise adds N(0, stddev).
TEST_F(NoiseTest, GaussianNoiseHasTheStddev) {
  SampleStats s = sampleStats(run("gaussian_noise", Tensor({200, 100}), 3)[0]);
  EXPECT_NEAR(s.mean, 0.0, 0.01);
  EXPECT_NEAR(s.stddev, 0.3, 0.01);
  EXPECT_NEAR(s.withinOneStddev, 0.6827, 0.015);
}

// AlphaDropout: y = x * scale + shift from one keep mask. Kept inputs are
// scaled by Keras's a, dropped ones become a * alpha' + b; a standard
// normal input keeps mean 0 and variance 1 (what AlphaDropout is for).
TEST_F(NoiseTest, AlphaDropoutKeepsMeanAndVariance) {
  const double alphaP =
      -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;
  const double rate = 0.2;
  const double a = std::pow((1 - rate) * (1 + rate * alphaP * alphaP), -0.5);
  const double b = -a * alphaP * rate;
  auto masks = run("alpha", Tensor({200, 100}), 1);
  Tensor x({200, 100});
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = normal(rng);
  Tensor y({200, 100});
  int64_t dropped = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    float scale = masks[0].data<float>()[i], shift = masks[1].data<float>()[i];
    bool kept = scale != 0.0f;
    dropped += !kept;
    EXPECT_NEAR(scale, kept ? a : 0.0, 1e-6);
    EXPECT_NEAR(shift, kept ? b : a * alphaP + b, 1e-6);
    y.data<float>()[i] = x.data<float>()[i] * scale + shift;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / y.numel(), rate, 0.015);
  SampleStats s = sampleStats(y);
  EXPECT_NEAR(s.mean, 0.0, 0.03);
  EXPECT_NEAR(s.stddev, 1.0, 0.03);
}

// Shared axes 1 and 2 (SpatialDropout2D): one draw per (sample, channel),
// the same at every row and column; about `rate` of the channels dropped.
TEST_F(NoiseTest, SharedAxesBroadcastOneDraw) {
  Tensor m = run("spatial", Tensor({300, 6, 5, 8}), 4)[0];
  int64_t dropped = 0;
  for (int64_t n = 0; n < 300; ++n)
    for (int64_t c = 0; c < 8; ++c) {
      float first = m.data<float>()[n * 240 + c];
      ASSERT_TRUE(first == 0.0f || std::abs(first - 1.0f / 0.6f) < 1e-6f);
      dropped += first == 0.0f;
      for (int64_t hw = 0; hw < 30; ++hw)
        ASSERT_EQ(m.data<float>()[n * 240 + hw * 8 + c], first)
            << "sample " << n << ", channel " << c << ", position " << hw;
    }
  EXPECT_NEAR(static_cast<double>(dropped) / 2400, 0.4, 0.05);
}

// A shard of samples [3, 7) of a batch of 10 draws what those samples draw
// in the whole batch, shared axes included (grad_step on several
// processes).
TEST_F(NoiseTest, ShardDrawsTheGlobalBatchsNoise) {
  Tensor whole = run("spatial", Tensor({10, 6, 5, 8}), 7)[0];
  Tensor shard = run("spatial_shard", Tensor({4, 6, 5, 8}), 7,
                     {Tensor::fromFloats({3}, {})})[0];
  for (int64_t i = 0; i < shard.numel(); ++i)
    ASSERT_EQ(shard.data<float>()[i], whole.data<float>()[3 * 240 + i]) << i;
}

// In train_step each noise kind changes the outputs; evaluate is the
// identity. GaussianNoise adds, the others multiply.
TEST_F(ForwardTest, TrainStepAppliesEachNoise) {
  const std::map<std::string, std::string> kinds{
      {"gaussian_noise", "stddev = 0.5 : f64"},
      {"gaussian_dropout", "rate = 0.5 : f64"},
      {"alpha_dropout", "rate = 0.5 : f64"}};
  for (const auto &[kind, amount] : kinds) {
    SCOPED_TRACE(kind);
    auto jit = build("func.func @predict(%x: tensor<?x8xf32>, %k: "
                     "tensor<8x8xf32> {layer.param}) -> tensor<*xf32> {\n"
                     "  %0 = layer.dropout %x {noise = #layer.noise<" +
                         kind + ">, " + amount +
                         "} : (tensor<?x8xf32>) -> tensor<*xf32>\n"
                         "  %1 = layer.dense %0, %k : (tensor<*xf32>, "
                         "tensor<8x8xf32>) -> tensor<*xf32>\n"
                         "  return %1 : tensor<*xf32>\n}\n",
                     "func.func(layer-shape-inference),"
                     "layer-autodiff{loss=mean_squared_error optimizer=sgd}");
    ASSERT_TRUE(jit);
    Tensor x({16, 8}), y({16, 8}), k({8, 8}), v({8, 8});
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data<float>()[i] = 1.0f;
    for (int i = 0; i < 8; ++i)
      k.data<float>()[i * 8 + i] = 1.0f;
    auto train = call(lookup(*jit, "train_step"),
                      {x, y, k, v, Tensor::fromFloats({1}, {})});
    auto eval = call(lookup(*jit, "evaluate"), {x, y, k});
    int64_t changed = 0;
    for (int64_t i = 0; i < 128; ++i) {
      EXPECT_EQ(eval[1].data<float>()[i], 1.0f);
      changed += train[1].data<float>()[i] != 1.0f;
    }
    EXPECT_GT(changed, 32);
  }
}

} // namespace
