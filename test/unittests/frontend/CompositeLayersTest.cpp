//===- CompositeLayersTest.cpp - Keras layers built from ops:: ------------===//
//
// The layers of frontend/layers/Composite.h beyond their numbers (which
// KerasParityTests checks against Keras): shapes and summary parameter
// counts, Keras's errors, the config round trip through save/load, and
// training through every one of them (the loss falls).
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"
#include <gmock/gmock.h>

#include <filesystem>
#include <random>
#include <sstream>

using namespace layerc;
using test::errorOf;
using ::testing::HasSubstr;

namespace {

/// A model through every composite layer: (None, 6, 4) -> (None, 3).
Model everyCompositeLayer() {
  auto in = Input({6, 4}, {.name = "seq"});
  auto x = layers::Cropping1D({1, 1})(in); // (4, 4)
  x = layers::ZeroPadding1D({1, 0})(x);    // (5, 4)
  x = layers::Cropping1D({1, 0})(x);       // (4, 4)
  x = layers::Rescaling(0.5, {.offset = 0.1})(x);
  x = layers::PReLU({.name = "prelu"})(layers::Dense(5)(x)); // (4, 5)
  x = layers::Flatten()(x);                                  // (20)
  auto a = layers::LeakyReLU({.negative_slope = 0.2})(layers::Dense(8)(x));
  auto b = layers::ELU({.alpha = 0.5})(layers::Dense(8)(x));
  auto c = layers::ReLU({.max_value = 1.5, .negative_slope = 0.1})(
      layers::Dense(8)(x));
  x = layers::concatenate({layers::minimum({a, b, c}), layers::dot({a, b})});
  x = layers::RepeatVector(2)(x);    // (2, 9)
  x = layers::Cropping1D({0, 1})(x); // (1, 9)
  x = layers::Flatten()(x);
  auto out = layers::Softmax()(layers::Dense(3)(x));
  return Model(in, out, "composites");
}

TEST(CompositeLayersTest, ShapesAndParameterCounts) {
  Model model = everyCompositeLayer();
  EXPECT_EQ(model.outputs()[0].shape(), (std::vector<int64_t>{-1, 3}));
  // PReLU's alpha has the input's shape without the batch: 4 x 5.
  std::ostringstream summary;
  model.summary(summary);
  EXPECT_THAT(summary.str(), HasSubstr("prelu (PReLU)"));
  EXPECT_THAT(summary.str(), HasSubstr("(None, 4, 5)"));
  int64_t dense = (4 * 5 + 5) + 3 * (20 * 8 + 8) + (9 * 3 + 3);
  EXPECT_EQ(model.countParams(), dense + 4 * 5);

  auto img = Input({5, 6, 3});
  auto cropped = layers::Cropping2D({{1, 0}, {2, 1}})(img);
  EXPECT_EQ(cropped.shape(), (std::vector<int64_t>{-1, 4, 3, 3}));
  auto vol = Input({4, 5, 3, 2});
  EXPECT_EQ(layers::Cropping3D()(vol).shape(),
            (std::vector<int64_t>{-1, 2, 3, 1, 2}));
  EXPECT_EQ(layers::ZeroPadding2D({{1, 0}, {2, 1}})(img).shape(),
            (std::vector<int64_t>{-1, 6, 9, 3}));
  EXPECT_EQ(layers::ZeroPadding3D()(vol).shape(),
            (std::vector<int64_t>{-1, 6, 7, 5, 2}));
}

TEST(CompositeLayersTest, KerasErrors) {
  EXPECT_THAT(errorOf([] {
                layers::RepeatVector(3)(Input({2, 5}));
              }),
              HasSubstr("expected ndim=2, found ndim=3. Full shape "
                        "received: (None, 2, 5)"));
  EXPECT_THAT(errorOf([] {
                layers::Cropping1D({3, 3})(Input({6, 2}));
              }),
              HasSubstr("cropping (3, 3) leaves nothing of axis 1 (size 6)"));
  EXPECT_THAT(
      errorOf([] {
        layers::minimum({Input({3}), Input({4})});
      }),
      HasSubstr("all inputs of Minimum must have one shape, the first is "
                "(None, 3)"));
  EXPECT_THAT(errorOf([] {
                layers::dot({Input({3}), Input({4})});
              }),
              HasSubstr("Incompatible input shapes: axis values 3 (at axis 1) "
                        "!= 4 (at axis 1). Full input shapes: (None, 3), "
                        "(None, 4)"));
  EXPECT_THAT(errorOf([] {
                layers::dot({Input({3, 2, 2}), Input({3, 2, 2})});
              }),
              HasSubstr("Dot supports inputs of rank 2 or 3 only"));
  EXPECT_THAT(errorOf([] {
                layers::Cropping1D({1, 1})(Input({-1, 2}));
              }),
              HasSubstr("Cropping1D needs the size of axis 1 to be known"));
  EXPECT_THAT(errorOf([] {
                layers::ZeroPadding2D()(Input({4, 2}));
              }),
              HasSubstr("expected ndim=4, found ndim=3"));
  EXPECT_THAT(
      errorOf([] { layers::LeakyReLU()(Input({3}, {.dtype = DType::Int32})); }),
      HasSubstr("LeakyReLU needs a float input"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("Cropping2D")(Json::parse(
                    R"({"name": "c", "cropping": [1, 2, 3]})", "test"));
              }),
              HasSubstr("'cropping' must be an int, 2 ints or pairs of ints"));
  EXPECT_THAT(errorOf([] { ops::full({}, 1e39); }),
              HasSubstr("is not a finite float32"));
  EXPECT_THAT(
      errorOf([] {
        OpLayer::fromConfig(Json::parse(
            R"({"name": "f", "op": "full", "shape": [], "value": -1e300})",
            "test"));
      }),
      HasSubstr("is not a finite float32"));
  EXPECT_THAT(errorOf([] { layers::ReLU({.threshold = -0.5}); }),
              HasSubstr("threshold of a ReLU layer cannot be None or a "
                        "negative value. Received: threshold=-0.500000"));
  EXPECT_THAT(errorOf([] { layers::ReLU({.max_value = -1.0}); }),
              HasSubstr("max_value must be >= 0"));
  EXPECT_THAT(errorOf([] {
                layers::Softmax({.axis = 3})(Input({4, 2}));
              }),
              HasSubstr("axis 3 is out of range for an input of rank 3"));
  EXPECT_THAT(errorOf([] { layers::PReLU({.shared_axes = {0}}); }),
              HasSubstr("config of PReLU layer: 'shared_axes' must hold axes "
                        ">= 1"));
  EXPECT_THAT(errorOf([] {
                layers::PReLU({.shared_axes = {3}, .name = "p"})(Input({4, 2}));
              }),
              HasSubstr("layer \"p\" is incompatible with the layer: "
                        "shared_axes [3] name axis 3, but the input has "
                        "ndim=3"));
  EXPECT_THAT(errorOf([] {
                layers::PReLU({.shared_axes = {1}})(Input({4, -1}));
              }),
              HasSubstr("PReLU needs the size of every axis that is not "
                        "shared to be known (axis 2 is not)"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("RepeatVector")(
                    Json::object({{"name", "r"}, {"n", Json(0)}}));
              }),
              HasSubstr("config of RepeatVector layer: field 'n' must be a "
                        "positive integer"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("Cropping2D")(Json::object(
                    {{"name", "c"}, {"data_format", "channels_first"}}));
              }),
              HasSubstr("only data_format=\"channels_last\""));
}

TEST(CompositeLayersTest, PReLUSharedAxes) {
  // Keras: alpha is 1 on the shared axes, which may have unknown sizes.
  auto in = Input({-1, -1, 3});
  auto shared = layers::PReLU({.shared_axes = {1, 2}, .name = "per_channel"});
  auto y = shared(in);
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{-1, -1, -1, 3}));
  EXPECT_EQ(shared->weights()[0].value.shape(),
            (std::vector<int64_t>{1, 1, 3}));
  auto img = Input({4, 5, 3});
  for (auto [axes, alpha] :
       std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{
           {{1}, {1, 5, 3}},
           {{2}, {4, 1, 3}},
           {{3}, {4, 5, 1}},
           {{1, 3}, {1, 5, 1}},
           {{1, 2, 3}, {1, 1, 1}}}) {
    auto p = layers::PReLU({.shared_axes = axes});
    EXPECT_EQ(p(img).shape(), (std::vector<int64_t>{-1, 4, 5, 3}));
    EXPECT_EQ(p->weights()[0].value.shape(), alpha);
  }

  // The slopes broadcast over the shared axes; save/load keeps them.
  auto x = layers::PReLU({.shared_axes = {2}, .name = "rows"})(img);
  Model model(img, layers::PReLU({.shared_axes = {1, 2, 3}})(x), "prelus");
  std::vector<float> slopes(12);
  for (size_t i = 0; i < slopes.size(); ++i)
    slopes[i] = 0.1f * static_cast<float>(i);
  model.layers()[1]->setWeights({Tensor::fromFloats(slopes, {4, 1, 3})});
  model.layers()[2]->setWeights({Tensor::fromFloats({0.5f}, {1, 1, 1})});
  Tensor in4 = test::uniformTensor({2, 4, 5, 3}, 5);
  Tensor out = model.predict(in4);
  for (int64_t i = 0; i < in4.numel(); ++i) {
    int64_t h = (i / 15) % 4, c = i % 3;
    float v = in4.data<float>()[i];
    float want = v >= 0 ? v : slopes[h * 3 + c] * v * 0.5f;
    EXPECT_NEAR(out.data<float>()[i], want, 1e-6) << i;
  }
  EXPECT_THAT(model.getConfig().dump(), HasSubstr("\"shared_axes\":[2]"));
  test::expectSaveLoadRoundTrip(model, in4, "prelu_shared_axes.lcm");
}

TEST(CompositeLayersTest, TrainsSavesAndLoads) {
  setRandomSeed(3);
  Model model = everyCompositeLayer();
  // PReLU's alpha starts at zero (a ReLU); give it a slope so that its
  // gradient path is not dead.
  for (const auto &layer : model.layers())
    if (layer->className() == "PReLU")
      layer->setWeights(
          {Tensor::fromFloats(std::vector<float>(20, 0.25f), {4, 5})});
  Tensor x = test::uniformTensor({64, 6, 4}, 11);
  Tensor y({64}, DType::Int32);
  for (int64_t i = 0; i < 64; ++i)
    y.data<int32_t>()[i] = x.data<float>()[i * 24 + 5] > 0 ? 1 : 2;
  model.compile({.loss = losses::SparseCategoricalCrossentropy(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.02})});
  test::expectLossFalls(
      model.fit(x, y, {.batch_size = 16, .epochs = 8, .verbose = 0}), 0.7);

  test::expectSaveLoadRoundTrip(model, x, "composites_test.lcm");
}

} // namespace
