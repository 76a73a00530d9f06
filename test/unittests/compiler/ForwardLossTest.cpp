//===- ForwardLossTest.cpp - Forward numerics of the compiled losses ------===//
//
// The Keras losses (sparse and dense categorical cross-entropy from logits
// or probabilities, binary cross-entropy, mean squared and mean absolute
// error), JIT-compiled in float64 and compared with naive references
// written here; the error of a call whose arguments disagree on the batch
// size; and the gradient of a cross-entropy at a zero probability.
//
//===----------------------------------------------------------------------===//

#include "ForwardTestUtil.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cmath>

using namespace layerc;
using namespace layerc::test;
using ::testing::HasSubstr;

namespace {

//===----------------------------------------------------------------------===//
// Reference implementations
//===----------------------------------------------------------------------===//

/// Keras cross-entropy of one row: `t` against predictions `p` (logits when
/// `fromLogits`, else probabilities normalised by their sum and clipped).
double refCrossEntropyRow(const double *p, const double *t, int64_t n,
                          bool fromLogits) {
  double loss = 0;
  if (fromLogits) {
    double m = -INFINITY;
    for (int64_t j = 0; j < n; ++j)
      m = std::max(m, p[j]);
    double s = 0;
    for (int64_t j = 0; j < n; ++j)
      s += std::exp(p[j] - m);
    double logSum = m + std::log(s);
    for (int64_t j = 0; j < n; ++j)
      loss -= t[j] * (p[j] - logSum);
    return loss;
  }
  double sum = 0;
  for (int64_t j = 0; j < n; ++j)
    sum += p[j];
  for (int64_t j = 0; j < n; ++j) {
    double q = std::clamp(p[j] / sum, 1e-7, 1 - 1e-7);
    loss -= t[j] * std::log(q);
  }
  return loss;
}

/// Mean cross-entropy over `batch` rows of `n` classes.
double refCategorical(const std::vector<double> &p,
                      const std::vector<double> &t, int64_t batch, int64_t n,
                      bool fromLogits) {
  double total = 0;
  for (int64_t b = 0; b < batch; ++b)
    total += refCrossEntropyRow(&p[b * n], &t[b * n], n, fromLogits);
  return total / batch;
}

std::vector<double> oneHot(const std::vector<int32_t> &labels, int64_t n) {
  std::vector<double> t(labels.size() * n, 0.0);
  for (size_t b = 0; b < labels.size(); ++b)
    t[b * n + labels[b]] = 1.0;
  return t;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

constexpr const char *kLossModule = R"mlir(
func.func @sparse_logits(%p: tensor<?x5xf64>, %t: tensor<?xi32>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x5xf64>, tensor<?xi32>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @sparse_probs(%p: tensor<?x5xf64>, %t: tensor<?xi32>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x5xf64>, tensor<?xi32>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @cce_logits(%p: tensor<?x5xf64>, %t: tensor<?x5xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<categorical_crossentropy>, from_logits} : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @cce_probs(%p: tensor<?x5xf64>, %t: tensor<?x5xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<categorical_crossentropy>} : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @sparse_logits_i64(%p: tensor<?x5xf64>, %t: tensor<?xi64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x5xf64>, tensor<?xi64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @mse3(%p: tensor<?x3x4xf64>, %t: tensor<?x3x4xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<mean_squared_error>} : (tensor<?x3x4xf64>, tensor<?x3x4xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @bce_logits(%p: tensor<?x5xf64>, %t: tensor<?x5xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<binary_crossentropy>, from_logits} : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @bce(%p: tensor<?x5xf64>, %t: tensor<?x5xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<binary_crossentropy>} : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @mae(%p: tensor<?x5xf64>, %t: tensor<?x5xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<mean_absolute_error>} : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @mse(%p: tensor<?x5xf64>, %t: tensor<?x5xf64>) -> tensor<*xf64> {
  %0 = layer.loss %p, %t {loss = #layer.loss<mean_squared_error>} : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir";

class LossTest : public ForwardTest {
protected:
  void SetUp() override {
    jit = build(kLossModule);
    ASSERT_TRUE(jit);
  }
  double run(const std::string &name, const Tensor &p, const Tensor &t) {
    std::vector<Tensor> out = call(lookup(*jit, name), {p, t});
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].rank(), 0);
    return out[0].data<double>()[0];
  }
  std::vector<int32_t> randomLabels(int64_t batch, int n) {
    std::uniform_int_distribution<int32_t> dist(0, n - 1);
    std::vector<int32_t> labels(batch);
    for (int32_t &l : labels)
      l = dist(rng);
    return labels;
  }
  std::shared_ptr<JitModule> jit;
};

TEST_F(LossTest, SparseCategoricalFromLogits) {
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<double> p = uniform(rng, batch * 5, -3, 3);
    std::vector<int32_t> labels = randomLabels(batch, 5);
    double ref = refCategorical(p, oneHot(labels, 5), batch, 5, true);
    EXPECT_NEAR(run("sparse_logits", Tensor::fromDoubles(p, {batch, 5}),
                    Tensor::fromInts(labels, {batch})),
                ref, kRtol * std::fabs(ref));
  }
}

TEST_F(LossTest, SparseCategoricalTakesInt64Labels) {
  std::vector<double> p = uniform(rng, 3 * 5, -3, 3);
  std::vector<int32_t> labels = {4, 0, 2};
  double ref = refCategorical(p, oneHot(labels, 5), 3, 5, true);
  EXPECT_NEAR(run("sparse_logits_i64", Tensor::fromDoubles(p, {3, 5}),
                  Tensor::fromInts(labels, {3}).astype(DType::Int64)),
              ref, kRtol * std::fabs(ref));
}

TEST_F(LossTest, SparseCategoricalFromLogitsIsStable) {
  std::vector<double> p = {1000,  0,    -1000, 500,   999,
                           -1000, -990, -1010, -1000, -995};
  std::vector<int32_t> labels = {4, 0};
  double ref = refCategorical(p, oneHot(labels, 5), 2, 5, true);
  double got = run("sparse_logits", Tensor::fromDoubles(p, {2, 5}),
                   Tensor::fromInts(labels, {2}));
  EXPECT_TRUE(std::isfinite(got));
  EXPECT_NEAR(got, ref, kRtol * std::fabs(ref));
}

TEST_F(LossTest, SparseCategoricalFromProbabilities) {
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    // Unnormalised, positive "probabilities": Keras divides by the row sum.
    std::vector<double> p = uniform(rng, batch * 5, 0.05, 2.0);
    std::vector<int32_t> labels = randomLabels(batch, 5);
    double ref = refCategorical(p, oneHot(labels, 5), batch, 5, false);
    EXPECT_NEAR(run("sparse_probs", Tensor::fromDoubles(p, {batch, 5}),
                    Tensor::fromInts(labels, {batch})),
                ref, kRtol * std::fabs(ref));
  }
}

TEST_F(LossTest, CategoricalFromLogitsWithSoftTargets) {
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<double> p = uniform(rng, batch * 5, -3, 3);
    std::vector<double> t = uniform(rng, batch * 5, 0, 1);
    double ref = refCategorical(p, t, batch, 5, true);
    EXPECT_NEAR(run("cce_logits", Tensor::fromDoubles(p, {batch, 5}),
                    Tensor::fromDoubles(t, {batch, 5})),
                ref, kRtol * std::fabs(ref));
  }
}

TEST_F(LossTest, CategoricalFromProbabilities) {
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<double> p = uniform(rng, batch * 5, 0.05, 2.0);
    std::vector<double> t = uniform(rng, batch * 5, 0, 1);
    double ref = refCategorical(p, t, batch, 5, false);
    EXPECT_NEAR(run("cce_probs", Tensor::fromDoubles(p, {batch, 5}),
                    Tensor::fromDoubles(t, {batch, 5})),
                ref, kRtol * std::fabs(ref));
  }
}

TEST_F(LossTest, CategoricalFromProbabilitiesClips) {
  // Row 0: a certain prediction (clipped to 1 - 1e-7) on the right class.
  // Row 1: zero probability (clipped to 1e-7) on the target class.
  std::vector<double> p = {0, 0, 3, 0, 0, 0.5, 0.5, 0, 0, 0};
  std::vector<double> t = {0, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  double ref = (-std::log(1 - 1e-7) - std::log(1e-7)) / 2;
  ASSERT_NEAR(refCategorical(p, t, 2, 5, false), ref, 1e-12);
  EXPECT_NEAR(run("cce_probs", Tensor::fromDoubles(p, {2, 5}),
                  Tensor::fromDoubles(t, {2, 5})),
              ref, kRtol * ref);
  std::vector<int32_t> labels = {2, 2};
  EXPECT_NEAR(run("sparse_probs", Tensor::fromDoubles(p, {2, 5}),
                  Tensor::fromInts(labels, {2})),
              (-std::log(1 - 1e-7) - std::log(1e-7)) / 2, kRtol * ref);
}

TEST_F(LossTest, MeanSquaredErrorAveragesAllElements) {
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<double> p = uniform(rng, batch * 5, -2, 2);
    std::vector<double> t = uniform(rng, batch * 5, -2, 2);
    double ref = 0;
    for (size_t i = 0; i < p.size(); ++i)
      ref += (p[i] - t[i]) * (p[i] - t[i]);
    ref /= p.size();
    EXPECT_NEAR(run("mse", Tensor::fromDoubles(p, {batch, 5}),
                    Tensor::fromDoubles(t, {batch, 5})),
                ref, kRtol * ref);
  }
}

TEST_F(LossTest, BinaryCrossentropyAndMeanAbsoluteError) {
  // Keras: the mean over every element of -(t log(p + eps) + (1 - t)
  // log(1 - p + eps)) with p clipped to [eps, 1 - eps]; from logits,
  // log(1 + exp(-z)) + (1 - t) z written stably; and |p - t|.
  const double eps = 1e-7;
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<double> z = uniform(rng, batch * 5, -30, 30);
    std::vector<double> t = uniform(rng, batch * 5, 0, 1);
    std::vector<double> p(z.size());
    double fromLogits = 0, fromProbs = 0, mae = 0;
    for (size_t i = 0; i < z.size(); ++i) {
      fromLogits += std::log1p(std::exp(-std::fabs(z[i]))) +
                    std::max(z[i], 0.0) - z[i] * t[i];
      p[i] = 1 / (1 + std::exp(-z[i]));
      double q = std::min(std::max(p[i], eps), 1 - eps);
      fromProbs -=
          t[i] * std::log(q + eps) + (1 - t[i]) * std::log(1 - q + eps);
      mae += std::fabs(p[i] - t[i]);
    }
    double n = static_cast<double>(z.size());
    Tensor tt = Tensor::fromDoubles(t, {batch, 5});
    EXPECT_NEAR(run("bce_logits", Tensor::fromDoubles(z, {batch, 5}), tt),
                fromLogits / n, 1e-12 * fromLogits);
    EXPECT_NEAR(run("bce", Tensor::fromDoubles(p, {batch, 5}), tt),
                fromProbs / n, 1e-12 * fromProbs);
    EXPECT_NEAR(run("mae", Tensor::fromDoubles(p, {batch, 5}), tt), mae / n,
                1e-12 * mae);
  }
}

TEST_F(LossTest, MeanSquaredErrorOnRank3AveragesAllElements) {
  std::vector<double> p = uniform(rng, 2 * 12, -2, 2);
  std::vector<double> t = uniform(rng, 2 * 12, -2, 2);
  double ref = 0;
  for (size_t i = 0; i < p.size(); ++i)
    ref += (p[i] - t[i]) * (p[i] - t[i]);
  ref /= p.size();
  EXPECT_NEAR(run("mse3", Tensor::fromDoubles(p, {2, 3, 4}),
                  Tensor::fromDoubles(t, {2, 3, 4})),
              ref, kRtol * ref);
}

// A call whose arguments disagree on the batch size.
TEST_F(ForwardTest, CallWithMismatchedBatchesThrows) {
  auto jit = build(kLossModule);
  ASSERT_TRUE(jit);
  std::string message = errorOf([&] {
    call(lookup(*jit, "cce_logits"),
         {randomTensor(rng, {3, 5}), randomTensor(rng, {2, 5})});
  });
  EXPECT_THAT(message, HasSubstr("batch size"));
}

/// Cross-entropy from probabilities where a probability is exactly 0 (a
/// relu output): the clip is active there and the gradient is finite.
TEST_F(ForwardTest, CrossentropyGradientIsFiniteAtZeroProbability) {
  auto jit = build(R"mlir(
func.func @predict(%x: tensor<?x3xf32>, %k: tensor<3x3xf32> {layer.param, layer.name = "k"}) -> tensor<*xf32> {
  %0 = layer.dense %x, %k {activation = #layer.activation<relu>} : (tensor<?x3xf32>, tensor<3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
)mlir",
                   "func.func(layer-shape-inference),"
                   "layer-autodiff{loss=categorical_crossentropy "
                   "optimizer=none}");
  ASSERT_TRUE(jit);
  Tensor x = Tensor::fromFloats({0, 0.5f, 0.5f}, {1, 3});
  Tensor y = Tensor::fromFloats({0, 1, 0}, {1, 3});
  Tensor k = Tensor::fromFloats({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3});
  auto out = call(lookup(*jit, "grad"), {x, y, k});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(std::isfinite(out[0].data<float>()[0]));
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(std::isfinite(out[2].data<float>()[i])) << "dk[" << i << "]";
  // p = (0, .5, .5): dL/dp = -t/p + 1/S = (1, -1, 1); rows of x scale it.
  EXPECT_FLOAT_EQ(out[2].data<float>()[4], 0.5f * -1.0f);
  EXPECT_FLOAT_EQ(out[2].data<float>()[5], 0.5f * 1.0f);
}

} // namespace
