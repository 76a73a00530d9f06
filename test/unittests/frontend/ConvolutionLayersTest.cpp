//===- ConvolutionLayersTest.cpp - Depthwise, separable, causal -----------===//
//
// DepthwiseConv1D/2D, SeparableConv1D/2D and Conv1D padding="causal" beyond
// their numbers (which KerasParityTests checks against Keras, and
// LayerGradientTests against finite differences): shapes and summary
// parameter counts, Keras's errors, the config round trip through
// save/load, and training through each of them (the loss falls).
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

using Shape = std::vector<int64_t>;

TEST(ConvolutionLayersTest, ShapesAndParameterCounts) {
  auto img = Input({7, 6, 3});
  auto dw = layers::DepthwiseConv2D(
      3, {.padding = "same", .depth_multiplier = 2, .name = "dw"})(img);
  EXPECT_EQ(dw.shape(), (Shape{-1, 7, 6, 6}));
  auto sep = layers::SeparableConv2D(
      4, {3, 2}, {.strides = 2, .depth_multiplier = 1, .name = "sep"})(img);
  EXPECT_EQ(sep.shape(), (Shape{-1, 3, 3, 4}));
  Model model({img}, {dw, sep});
  // Keras: the depthwise kernel (3, 3, 3, 2) and 6 biases; the separable
  // depthwise kernel (3, 2, 3, 1), pointwise kernel (1, 1, 3, 4), 4 biases.
  EXPECT_EQ(model.getLayer("dw")->countParams(), 3 * 3 * 3 * 2 + 6);
  EXPECT_EQ(model.getLayer("sep")->countParams(), 3 * 2 * 3 + 3 * 4 + 4);
  std::ostringstream summary;
  model.summary(summary);
  // Keras 3's table: "dw (DepthwiseConv2D)" wraps in its 19 columns.
  EXPECT_THAT(summary.str(),
              HasSubstr("│ dw                  │ (None, 7, 6, 6) "));
  EXPECT_THAT(summary.str(), HasSubstr("│ (DepthwiseConv2D)   │"));
  EXPECT_THAT(summary.str(),
              HasSubstr("│ sep                 │ (None, 3, 3, 4) "));
  EXPECT_THAT(summary.str(), HasSubstr("│ (SeparableConv2D)   │"));

  // Causal: the output keeps the steps (strides 1) or takes ceil(steps /
  // strides); the sequence length may be unknown.
  auto seq = Input({-1, 2});
  EXPECT_EQ(layers::Conv1D(4, 3, {.padding = "causal", .dilation_rate = 2})(seq)
                .shape(),
            (Shape{-1, -1, 4}));
  auto fixed = Input({7, 2});
  EXPECT_EQ(
      layers::Conv1D(4, 3, {.strides = 2, .padding = "causal"})(fixed).shape(),
      (Shape{-1, 4, 4}));
  EXPECT_EQ(layers::DepthwiseConv1D(3, {.depth_multiplier = 3})(fixed).shape(),
            (Shape{-1, 5, 6}));
}

TEST(ConvolutionLayersTest, KerasErrors) {
  EXPECT_THAT(
      errorOf([] { layers::DepthwiseConv2D(3, {.depth_multiplier = 0}); }),
      HasSubstr("Expected a strictly positive value. Received "
                "depth_multiplier=0."));
  EXPECT_THAT(errorOf([] { layers::SeparableConv1D(0, 3); }),
              HasSubstr("filters must be a positive integer, got 0"));
  EXPECT_THAT(errorOf([] { layers::Conv2D(2, 3, {.padding = "causal"}); }),
              HasSubstr("padding must be \"valid\" or \"same\", got "
                        "\"causal\""));
  EXPECT_THAT(
      errorOf([] { layers::Conv1DTranspose(2, 3, {.padding = "causal"}); }),
      HasSubstr("padding must be \"valid\" or \"same\", got "
                "\"causal\""));
  EXPECT_THAT(
      errorOf([] { layers::DepthwiseConv2D(3, {.padding = "causal"}); }),
      HasSubstr("padding must be \"valid\" or \"same\""));
  EXPECT_THAT(errorOf([] { layers::Conv1D(2, 3, {.padding = "full"}); }),
              HasSubstr("padding must be \"valid\", \"same\" or \"causal\", "
                        "got \"full\""));
  EXPECT_THAT(errorOf([] {
                layers::DepthwiseConv2D(3, {.strides = 2, .dilation_rate = 2});
              }),
              HasSubstr("strides > 1 are not supported together with "
                        "dilation_rate > 1"));
  EXPECT_THAT(errorOf([] {
                layers::DepthwiseConv2D(3)(Input({5, 3}));
              }),
              HasSubstr("expected ndim=4, found ndim=3. Full shape received: "
                        "(None, 5, 3)"));
  EXPECT_THAT(errorOf([] {
                layers::SeparableConv2D(2, 4)(Input({3, 5, 2}));
              }),
              HasSubstr("is larger than the input with padding=\"valid\""));
  EXPECT_THAT(errorOf([] {
                layers::DepthwiseConv1D dw(2);
                dw(Input({6, 3}));
                dw(Input({6, 4}));
              }),
              HasSubstr("expected axis -1 of input shape to have value 3, but "
                        "received input with shape (None, 6, 4)"));
}

/// Causal Conv1D -> DepthwiseConv1D -> SeparableConv1D -> pooling -> Dense.
Model everyNewConvolution() {
  auto in = Input({8, 2}, {.name = "seq"});
  auto x = layers::Conv1D(4, 3,
                          {.padding = "causal",
                           .dilation_rate = 2,
                           .activation = "relu",
                           .name = "causal"})(in);
  x = layers::DepthwiseConv1D(
      3, {.depth_multiplier = 2, .activation = "tanh", .name = "dw"})(x);
  x = layers::SeparableConv1D(6, 2, {.padding = "same", .name = "sep"})(x);
  auto img = layers::Reshape({6, 6, 1})(layers::Flatten()(x));
  img = layers::DepthwiseConv2D(2, {.depth_multiplier = 2})(img);
  img = layers::SeparableConv2D(3, 2, {.activation = "relu"})(img);
  auto pooled = layers::GlobalAveragePooling2D()(img);
  return Model(in, layers::Dense(2, {.activation = "softmax"})(pooled),
               "convolutions");
}

TEST(ConvolutionLayersTest, TrainsSavesAndLoads) {
  setRandomSeed(5);
  Model model = everyNewConvolution();
  Tensor x = test::uniformTensor({64, 8, 2}, 13);
  Tensor y({64}, DType::Int32);
  // The class is the sign of the sum of the first feature over the steps.
  for (int64_t i = 0; i < 64; ++i) {
    float sum = 0;
    for (int64_t t = 0; t < 8; ++t)
      sum += x.data<float>()[i * 16 + t * 2];
    y.data<int32_t>()[i] = sum > 0 ? 1 : 0;
  }
  model.compile({.loss = losses::SparseCategoricalCrossentropy(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.01})});
  test::expectLossFalls(
      model.fit(x, y, {.batch_size = 16, .epochs = 15, .verbose = 0}), 0.8);

  test::expectSaveLoadRoundTrip(model, x, "convolutions_test.lcm");
}

} // namespace
