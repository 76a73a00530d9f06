//===- NoiseLayersTest.cpp - Noise layers and activity regularizers -------===//
//
// Beyond their numbers (NoiseTest checks each noise's statistics,
// KerasParityTests the configs and inference outputs against Keras 3,
// OptimizerParityTests an activity-regularized fit(), LayerGradientTests
// the penalty's gradient): predict() is the identity, fit() trains through
// the noise, evaluate() reports the activity penalty, Keras's errors, and
// save/load round trips.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"
#include <gmock/gmock.h>

#include <cmath>

using namespace layerc;
using test::errorOf;
using ::testing::HasSubstr;

namespace {

/// A small image model through every noise layer that takes images.
Model noisyConvNet() {
  auto in = Input({6, 6, 3});
  auto x = layers::Conv2D(4, 3, {.activation = "selu"})(in);
  x = layers::SpatialDropout2D(0.2, {.seed = 1})(x);
  x = layers::GaussianNoise(0.1, {.seed = 2})(x);
  x = layers::GaussianDropout(0.2, {.seed = 3})(x);
  x = layers::AlphaDropout(0.1, {.seed = 4})(x);
  x = layers::Flatten()(x);
  x = layers::Dropout(0.2, {.seed = 5, .noise_shape = {-1, 1, -1}})(
      layers::Reshape({4, 16})(x));
  x = layers::Flatten()(x);
  return Model(in, layers::Dense(2)(x));
}

TEST(NoiseLayersTest, PredictIsTheIdentityAndFitTrains) {
  setRandomSeed(3);
  Model model = noisyConvNet();
  EXPECT_EQ(model.countParams(), 4 * 27 + 4 + 64 * 2 + 2);
  Tensor x = test::uniformTensor({16, 6, 6, 3}, 1);
  Tensor y = test::uniformTensor({16, 2}, 2);
  // Without the noise layers, the same weights predict the same values.
  setRandomSeed(3);
  auto in = Input({6, 6, 3});
  auto h = layers::Flatten()(layers::Conv2D(4, 3, {.activation = "selu"})(in));
  Model plain(in, layers::Dense(2)(h));
  plain.setWeights(model.getWeights());
  Tensor a = model.predict(x), b = plain.predict(x);
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << i;
  model.compile({.loss = losses::MeanSquaredError(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.02})});
  History h1 = model.fit(x, y, {.batch_size = 8, .epochs = 12, .verbose = 0});
  test::expectLossFalls(h1, 0.8);
  test::expectSaveLoadRoundTrip(model, x, "layerc_noise_layers.lcm");
}

// The same seed gives the same training run (the masks come from the seed
// and the step); another seed another one.
TEST(NoiseLayersTest, SeedsMakeRunsReproducible) {
  Tensor x = test::uniformTensor({8, 5}, 3), y = test::uniformTensor({8, 5}, 4);
  auto run = [&](int64_t seed) {
    setRandomSeed(1);
    auto in = Input({5});
    auto h = layers::GaussianNoise(0.5, {.seed = seed})(in);
    Model m(in, layers::Dense(5)(h));
    m.compile({.loss = losses::MeanSquaredError(),
               .optimizer = optimizers::SGD({.learning_rate = 0.1})});
    return m.fit(x, y, {.batch_size = 4, .epochs = 2, .verbose = 0})
        .history.at("loss");
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

// evaluate() = the data loss + (l1 sum|h| + l2 sum h^2) / batch of each
// regularized output: Dense's activity_regularizer and the
// ActivityRegularization layer after it.
TEST(NoiseLayersTest, EvaluateReportsTheActivityPenalty) {
  Tensor x = test::uniformTensor({6, 4}, 5), y = test::uniformTensor({6, 3}, 6);
  auto build = [](bool regularized) {
    setRandomSeed(9);
    auto in = Input({4});
    auto h = layers::Dense(
        3, {.activation = "tanh",
            .activity_regularizer = regularized ? regularizers::L1L2(0.1, 0.3)
                                                : Regularizer()})(in);
    if (regularized)
      h = layers::ActivityRegularization({.l1 = 0.05, .l2 = 0.0})(h);
    Model m(in, h);
    m.compile(
        {.loss = losses::MeanSquaredError(), .optimizer = optimizers::SGD()});
    return m;
  };
  Model plain = build(false), regularized = build(true);
  Tensor h = plain.predict(x);
  double penalty = 0;
  for (int64_t i = 0; i < h.numel(); ++i) {
    double v = h.data<float>()[i];
    penalty += (0.1 + 0.05) * std::fabs(v) + 0.3 * v * v;
  }
  penalty /= 6;
  double without = plain.evaluate(x, y, {.verbose = 0})[0];
  double with = regularized.evaluate(x, y, {.verbose = 0})[0];
  EXPECT_NEAR(with - without, penalty, 1e-4 * penalty);
  test::expectSaveLoadRoundTrip(regularized, x, "layerc_activity.lcm");
}

TEST(NoiseLayersTest, KerasErrors) {
  EXPECT_THAT(errorOf([] { layers::Dropout(1.5); }),
              HasSubstr("invalid value received for argument `rate`. "
                        "Expected a float value between 0 and 1 (1 "
                        "excluded). Received: rate=1.5"));
  EXPECT_THAT(errorOf([] { layers::GaussianNoise(-0.1); }),
              HasSubstr("Received: stddev=-0.1"));
  EXPECT_THAT(errorOf([] { layers::GaussianDropout(1.0); }),
              HasSubstr("Received: rate=1"));
  EXPECT_THAT(errorOf([] {
                layers::AlphaDropout(0.1, {.noise_shape = {-1, 0}});
              }),
              HasSubstr("Received negative or zero value at index 1: 0"));
  EXPECT_THAT(errorOf([] {
                layers::SpatialDropout2D(0.1, {.name = "sd"})(Input({4, 4}));
              }),
              HasSubstr("Input 0 of layer \"sd\" is incompatible with the "
                        "layer: expected ndim=4, found ndim=3"));
  EXPECT_THAT(
      errorOf([] { layers::SpatialDropout3D(0.1, {.data_format = "nchw"}); }),
      HasSubstr("Received: nchw"));
  EXPECT_THAT(errorOf([] {
                layers::Dropout(0.1, {.noise_shape = {-1, 2}})(Input({5}));
              }),
              HasSubstr("noise_shape (None, 2) does not broadcast to the "
                        "input (dimension 1)"));
  EXPECT_THAT(errorOf([] {
                layers::Dropout(0.1, {.noise_shape = {-1, 1, 1}})(Input({5}));
              }),
              HasSubstr("has 3 dimensions, the input 2"));
  EXPECT_THAT(errorOf([] {
                layers::Dropout(0.1, {.noise_shape = {1, 5}})(Input({5}));
              }),
              HasSubstr("shares the noise across the batch"));
  EXPECT_THAT(errorOf([] { layers::ActivityRegularization({.l1 = -1.0}); }),
              HasSubstr("l1 and l2 must be finite and >= 0"));
  EXPECT_THAT(errorOf([] { ops::threshold(Input({3}), INFINITY); }),
              HasSubstr("the threshold must be finite, got inf"));
}

// Malformed configs name the class and the field.
TEST(NoiseLayersTest, ConfigErrors) {
  auto load = [](const char *cls, const char *config) {
    return errorOf(
        [&] { builtinLayerFactories().at(cls)(Json::parse(config, "test")); });
  };
  EXPECT_THAT(load("GaussianNoise", R"({"name": "g", "stddev": 0.1,
                                        "seed": "x"})"),
              HasSubstr("config of GaussianNoise layer: field 'seed' must be "
                        "an integer"));
  EXPECT_THAT(load("Dropout", R"({"name": "d", "rate": 0.1,
                                  "noise_shape": 3})"),
              HasSubstr("config of Dropout layer: field 'noise_shape' must be "
                        "a list of integers or None"));
  EXPECT_THAT(load("AlphaDropout", R"({"name": "a", "rate": 0.1,
                                       "noise_shape": [null, "2"]})"),
              HasSubstr("field 'noise_shape' must hold integers or None"));
  EXPECT_THAT(load("GaussianDropout", R"({"name": "g"})"), HasSubstr("rate"));
}

} // namespace
