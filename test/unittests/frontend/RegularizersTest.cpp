//===- RegularizersTest.cpp - Regularizers and constraints ----------------===//
//
// Beyond their numbers in fit() (OptimizerParityTests checks them against
// Keras 3, LayerGradientTests the penalty's gradient against finite
// differences): evaluate() reports the loss with the penalty, a
// constraint holds after fit(), Keras's errors, and the configs round trip
// through save/load in Keras's serialized form.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"
#include <gmock/gmock.h>

#include <cmath>
#include <filesystem>
#include <random>

using namespace layerc;
using test::errorOf;
using ::testing::HasSubstr;

namespace {

TEST(RegularizersTest, EvaluateReportsThePenalty) {
  Tensor x = test::uniformTensor({8, 5}, 1), y = test::uniformTensor({8, 3}, 2);
  auto build = [](DenseOptions o) {
    auto in = Input({5});
    return Model(in, layers::Dense(3, o)(in));
  };
  setRandomSeed(4);
  Model plain = build({});
  setRandomSeed(4);
  Model regularized =
      build({.kernel_regularizer = regularizers::L1L2(0.05, 0.2),
             .bias_regularizer = regularizers::L2(0.3)});
  regularized.setWeights(plain.getWeights());
  std::vector<Tensor> w = plain.getWeights();
  w[1].data<float>()[0] = 0.5f; // a non-zero bias
  plain.setWeights(w);
  regularized.setWeights(w);
  double penalty = 0;
  for (int64_t i = 0; i < w[0].numel(); ++i) {
    double v = w[0].data<float>()[i];
    penalty += 0.05 * std::fabs(v) + 0.2 * v * v;
  }
  for (int64_t i = 0; i < w[1].numel(); ++i)
    penalty += 0.3 * double(w[1].data<float>()[i]) * w[1].data<float>()[i];
  for (Model *m : {&plain, &regularized})
    m->compile(
        {.loss = losses::MeanSquaredError(), .optimizer = optimizers::SGD()});
  double without = plain.evaluate(x, y, {.verbose = 0})[0];
  double with = regularized.evaluate(x, y, {.verbose = 0})[0];
  EXPECT_NEAR(with - without, penalty, 1e-4 * penalty);
}

TEST(RegularizersTest, ConstraintsHoldAfterFit) {
  setRandomSeed(6);
  auto in = Input({5});
  auto h = layers::Dense(
      4, {.kernel_constraint = constraints::MaxNorm({.max_value = 0.3}),
          .bias_constraint = constraints::NonNeg()})(in);
  Model model(in, layers::Dense(3)(h));
  model.compile({.loss = losses::MeanSquaredError(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.1})});
  model.fit(test::uniformTensor({16, 5}, 3), test::uniformTensor({16, 3}, 4),
            {.batch_size = 4, .epochs = 2, .verbose = 0});
  std::vector<Tensor> w = model.getWeights();
  // Each output unit's incoming weights (axis 0 of the kernel).
  for (int64_t j = 0; j < 4; ++j) {
    double norm = 0;
    for (int64_t i = 0; i < 5; ++i)
      norm += std::pow(w[0].data<float>()[i * 4 + j], 2);
    EXPECT_LE(std::sqrt(norm), 0.3 + 1e-5) << "unit " << j;
  }
  for (int64_t j = 0; j < 4; ++j)
    EXPECT_GE(w[1].data<float>()[j], 0.0f);
}

TEST(RegularizersTest, KerasErrors) {
  EXPECT_THAT(errorOf([] { regularizers::L2(-0.1); }),
              HasSubstr("Invalid value for argument l2: expected a "
                        "non-negative float"));
  EXPECT_THAT(errorOf([] { Regularizer("l3"); }),
              HasSubstr("Unknown regularizer 'l3'"));
  EXPECT_THAT(errorOf([] { Constraint("clip"); }),
              HasSubstr("Unknown constraint 'clip'"));
  EXPECT_THAT(errorOf([] {
                constraints::MinMaxNorm({.min_value = 2.0, .max_value = 1.0});
              }),
              HasSubstr("max_value (1.000000) must be at least min_value"));
  EXPECT_THAT(
      errorOf([] {
        layers::Dense(3, {.name = "d",
                          .kernel_constraint =
                              constraints::MaxNorm({.axis = {2}})})(Input({4}));
      }),
      HasSubstr("Layer d weight 'kernel': the MaxNorm constraint's axis 2 is "
                "out of range for a weight of rank 2"));
  EXPECT_THAT(errorOf([] { constraints::MinMaxNorm({.rate = 1.5}); }),
              HasSubstr("MinMaxNorm: rate must be in [0, 1], got 1.5"));
  EXPECT_THAT(errorOf([] {
                layers::Dense(3, {.name = "twice",
                                  .kernel_constraint = constraints::UnitNorm(
                                      {.axis = {0, -2}})})(Input({4}));
              }),
              HasSubstr("the UnitNorm constraint names axis -2 twice"));
  Json axis =
      Json::object({{"class_name", Json("MaxNorm")},
                    {"config", Json::object({{"axis", Json("rows")}})}});
  EXPECT_THAT(errorOf([&] { Constraint::fromConfig(axis, "config"); }),
              HasSubstr("'axis' must be an integer or a list"));
  EXPECT_THAT(errorOf([] { metrics::MeanIoU({.num_classes = 2, .name = ""}); }),
              HasSubstr("MeanIoU: the name must not be empty"));
  Json bad = Json::object({{"class_name", Json("L3")}});
  EXPECT_THAT(errorOf([&] { Regularizer::fromConfig(bad, "config"); }),
              HasSubstr("unknown regularizer 'L3'"));
}

TEST(RegularizersTest, ConfigsRoundTrip) {
  auto in = Input({6, 6, 2});
  auto x = layers::Conv2D(
      3, 3,
      {.kernel_regularizer = regularizers::L2(1e-3),
       .kernel_constraint = constraints::UnitNorm({.axis = {0, 1, 2}})})(in);
  x = layers::Flatten()(x);
  auto out = layers::Dense(
      2, {.bias_regularizer = regularizers::L1(0.5),
          .kernel_constraint = constraints::MinMaxNorm(
              {.min_value = 0.1, .max_value = 0.9, .rate = 0.5})})(x);
  Model model(in, out, "regularized");
  std::string config = model.getConfig().dump();
  EXPECT_THAT(config, HasSubstr("\"kernel_regularizer\":{\"module\":\"keras."
                                "regularizers\",\"class_name\":\"L2\""));
  EXPECT_THAT(config, HasSubstr("\"class_name\":\"UnitNorm\",\"config\":{"
                                "\"axis\":[0,1,2]}"));
  test::expectSaveLoadRoundTrip(model, test::uniformTensor({2, 6, 6, 2}, 8),
                                "regularized_test.lcm");
}

} // namespace
