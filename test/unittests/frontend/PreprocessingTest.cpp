//===- PreprocessingTest.cpp - keras.layers.Normalization -----------------===//
//
// Normalization beyond its numbers against Keras (KerasParityTests): its
// weights and parameter counts, adapt() on Keras's documented examples,
// given statistics, Keras's errors naming the layer, training that leaves
// the statistics alone, and the save/load round trip.
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

Tensor floats(std::vector<float> values, std::vector<int64_t> shape) {
  return Tensor::fromFloats(values, std::move(shape));
}

void expectValues(const Tensor &got, const std::vector<float> &want,
                  double tol = 1e-5) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data<float>()[i], want[i], tol) << i;
}

TEST(PreprocessingTest, WeightsAndParameterCounts) {
  // Keras: mean and variance of the kept axes' shape and an int32 count,
  // all non-trainable: 4 + 4 + 1 parameters.
  auto in = Input({3, 4});
  layers::Normalization norm({.name = "norm"});
  Model model(in, norm(in), "normalized");
  const std::vector<Weight> &w = norm->weights();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].name, "mean");
  EXPECT_EQ(w[1].name, "variance");
  EXPECT_EQ(w[2].name, "count");
  EXPECT_EQ(w[0].value.shape(), (std::vector<int64_t>{4}));
  EXPECT_EQ(w[2].value.shape(), (std::vector<int64_t>{}));
  EXPECT_EQ(w[2].value.dtype(), DType::Int32);
  for (const Weight &weight : w)
    EXPECT_FALSE(weight.trainable);
  EXPECT_EQ(model.countParams(), 9);
  EXPECT_EQ(norm->countTrainableParams(), 0);
  std::string summary = test::summaryOf(model);
  EXPECT_CONTAINS(summary, "norm (Normalization)");
  EXPECT_CONTAINS(summary, "(None, 3, 4)");
  EXPECT_CONTAINS(summary, "Non-trainable params: 9");

  // Two kept axes: (3, 4); axis=None: scalars.
  auto rank4 = Input({3, 5, 4});
  layers::Normalization both({.axis = {1, -1}});
  EXPECT_EQ(both(rank4).shape(), (std::vector<int64_t>{-1, 3, 5, 4}));
  EXPECT_EQ(both->weights()[0].value.shape(), (std::vector<int64_t>{3, 4}));
  layers::Normalization none({.axis = {}});
  none(rank4);
  EXPECT_EQ(none->weights()[1].value.shape(), (std::vector<int64_t>{}));
  // Given statistics are constants: no weights.
  layers::Normalization given(
      {.mean = std::vector<double>{1}, .variance = std::vector<double>{2}});
  given(in);
  EXPECT_TRUE(given->weights().empty());
}

TEST(PreprocessingTest, AdaptAsKerasDocuments) {
  // keras.layers.Normalization's docstring examples.
  Tensor data = floats({0, 7, 4, 2, 9, 6, 0, 7, 4, 2, 9, 6}, {4, 3});
  auto in = Input({3});
  layers::Normalization norm;
  Model model(in, norm(in));
  norm->adapt(data);
  expectValues(norm->getWeights()[0], {1, 8, 5});
  expectValues(norm->getWeights()[1], {1, 1, 1});
  EXPECT_EQ(norm->getWeights()[2].data<int32_t>()[0], 0);
  expectValues(model.predict(floats({0, 7, 4}, {1, 3})), {-1, -1, -1});

  layers::Normalization inverse({.invert = true});
  Model back(in, inverse(in));
  inverse->adapt(data);
  expectValues(back.predict(floats({1, 2, 3}, {1, 3})), {2, 10, 8});

  // axis=None: one mean (3) and variance (2) over every element.
  auto scalar = Input({1});
  layers::Normalization all({.axis = {}});
  all->adapt(floats({1, 2, 3, 4, 5}, {5, 1}));
  Model global(scalar, all(scalar));
  expectValues(global.predict(floats({1, 2, 3}, {3, 1})),
               {-1.4142135f, -0.70710677f, 0});

  // Given: mean=3, variance=2.
  layers::Normalization given(
      {.mean = std::vector<double>{3}, .variance = std::vector<double>{2}});
  Model fixed(scalar, given(scalar));
  expectValues(fixed.predict(floats({1, 2, 3}, {3, 1})),
               {-1.4142135f, -0.70710677f, 0});

  // Before adapt(): Keras's initial mean 0 and variance 1, the identity.
  layers::Normalization fresh;
  Model identity(in, fresh(in));
  expectValues(identity.predict(floats({0.5f, -2, 3}, {1, 3})), {0.5f, -2, 3});
}

TEST(PreprocessingTest, AdaptOverAxes) {
  // axis 1 of (batch, 2, 3): per row, over the batch and the columns.
  Tensor data = test::uniformTensor({5, 2, 3}, 7);
  auto in = Input({2, 3});
  layers::Normalization norm({.axis = {1}});
  Model model(in, norm(in));
  norm->adapt(data);
  std::vector<double> mean(2, 0), var(2, 0);
  for (int64_t i = 0; i < data.numel(); ++i)
    mean[i / 3 % 2] += data.data<float>()[i] / 15.0;
  for (int64_t i = 0; i < data.numel(); ++i)
    var[i / 3 % 2] += std::pow(data.data<float>()[i] - mean[i / 3 % 2], 2) / 15;
  expectValues(norm->getWeights()[0], {float(mean[0]), float(mean[1])}, 1e-6);
  expectValues(norm->getWeights()[1], {float(var[0]), float(var[1])}, 1e-6);
  Tensor y = model.predict(data);
  for (int64_t i = 0; i < data.numel(); ++i) {
    int64_t r = i / 3 % 2;
    EXPECT_NEAR(y.data<float>()[i],
                (data.data<float>()[i] - mean[r]) / std::sqrt(var[r]), 1e-5);
  }
  // A variance below 1e-14 divides by 1e-7, as Keras's epsilon floor.
  layers::Normalization flat;
  auto in2 = Input({2});
  Model tiny(in2, flat(in2));
  flat->adapt(floats({1, 5, 1, 7}, {2, 2}));
  expectValues(tiny.predict(floats({1, 6}, {1, 2})), {0, 0});
  expectValues(tiny.predict(floats({1.0000001f, 6}, {1, 2})),
               {(1.0000001f - 1.0f) / 1e-7f, 0}, 1e-3);
}

TEST(PreprocessingTest, KerasErrors) {
  EXPECT_THAT(errorOf([] {
                layers::Normalization(
                    {.mean = std::vector<double>{1}, .name = "n"});
              }),
              HasSubstr("Normalization layer \"n\": When setting values "
                        "directly, both `mean` and `variance` must be set. "
                        "Received: mean=1"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization(
                    {.mean = std::vector<double>{1, 2},
                     .variance = std::vector<double>{1, 2, 3}});
              }),
              HasSubstr("`mean` and `variance` must have the same shape. "
                        "Received: mean shape (2,) and variance shape (3,)"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization({.axis = {},
                                       .mean = std::vector<double>{1, 2},
                                       .variance = std::vector<double>{1, 2}});
              }),
              HasSubstr("The rank of `mean` must be less than or equal to the "
                        "number of axes (0). Received: mean shape (2,) for "
                        "axis ()"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization({.axis = {3}, .name = "n"})(Input({4}));
              }),
              HasSubstr("Input 0 of layer \"n\" is incompatible with the "
                        "layer: All `axis` values must be in the range "
                        "[-ndim, ndim). Received inputs with ndim=2, while "
                        "axis=(3,)"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization({.axis = {1}})(Input({-1, 4}));
              }),
              HasSubstr("All `axis` values to be kept must have a known "
                        "shape. Received axis=(1,), inputs.shape=(None, None, "
                        "4), with unknown axis at index 1"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization({.mean = std::vector<double>{1, 2, 3},
                                       .variance = std::vector<double>{1, 2, 3},
                                       .name = "n"})(Input({4}));
              }),
              HasSubstr("mean and variance of shape (3,) cannot be broadcast "
                        "to the kept axes' shape (4,)"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization norm({.name = "n"});
                norm(Input({4}));
                norm->adapt(Tensor({8, 3}));
              }),
              HasSubstr("Normalization layer \"n\": The layer was built with "
                        "input_shape=(None, 4), but adapt() is being called "
                        "with data with an incompatible shape, "
                        "data.shape=(8, 3)"));
  EXPECT_THAT(errorOf([] {
                layers::Normalization norm({.mean = std::vector<double>{1},
                                            .variance = std::vector<double>{1},
                                            .name = "n"});
                norm->adapt(Tensor({8, 3}));
              }),
              HasSubstr("adapt() needs a layer without a given mean"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("Normalization")(
                    Json::object({{"name", "n"}, {"axis", Json("last")}}));
              }),
              HasSubstr("config of Normalization layer: 'axis' must be null, "
                        "an int or a list of ints"));
}

TEST(PreprocessingTest, TrainsWithFixedStatisticsSavesAndLoads) {
  // Features of very different scales, normalized, then a Dense layer.
  Tensor x = test::uniformTensor({64, 3}, 3);
  Tensor y({64, 1});
  for (int64_t i = 0; i < 64; ++i) {
    float *row = x.data<float>() + 3 * i;
    row[0] = row[0] * 100 + 50;
    row[2] = row[2] * 0.01f;
    y.data<float>()[i] = 0.02f * (row[0] - 50) - 100 * row[2] + row[1];
  }
  auto in = Input({3});
  layers::Normalization norm({.name = "norm"});
  norm->adapt(x);
  std::vector<Tensor> adapted = norm->getWeights();
  Model model(in, layers::Dense(1)(norm(in)), "normalized");
  Model normalizer(in, norm(in));
  Tensor before = normalizer.predict(x);
  model.compile({.loss = losses::MeanSquaredError(),
                 .optimizer = optimizers::SGD({.learning_rate = 0.05})});
  test::expectLossFalls(
      model.fit(x, y, {.batch_size = 16, .epochs = 10, .verbose = 0}), 0.2);
  // No batch statistics and no update: the weights and the output stay.
  std::vector<Tensor> after = norm->getWeights();
  for (size_t w = 0; w < 2; ++w)
    for (int64_t i = 0; i < 3; ++i)
      EXPECT_EQ(after[w].data<float>()[i], adapted[w].data<float>()[i]);
  Tensor again = normalizer.predict(x);
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_EQ(again.data<float>()[i], before.data<float>()[i]);

  EXPECT_THAT(model.getConfig().dump(),
              HasSubstr("\"axis\":[-1],\"invert\":false,\"mean\":null"));
  test::expectSaveLoadRoundTrip(model, x, "normalization_test.lcm");

  // Given statistics (a nested list, as Keras writes a 2-D mean) round-trip.
  auto img = Input({2, 3, 2});
  Model fixed(img,
              builtinLayerFactories()
                  .at("Normalization")(Json::parse(
                      R"({"name": "given", "axis": [1, 2], "invert": true,
                      "mean": [[1, 2, 3], [4, 5, 6]],
                      "variance": [[1, 4, 9], [1, 0.25, 2]]})",
                      "config", 8))
                  ->apply({img})[0],
              "given");
  test::expectSaveLoadRoundTrip(fixed, test::uniformTensor({3, 2, 3, 2}, 4),
                                "normalization_given_test.lcm");
}

} // namespace
