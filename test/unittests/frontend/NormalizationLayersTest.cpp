//===- NormalizationLayersTest.cpp - Per-sample normalization, Permute ----===//
//
// LayerNormalization, GroupNormalization, UnitNormalization and Permute
// beyond their numbers (which KerasParityTests checks against Keras):
// shapes and summary parameter counts, Keras's errors (naming the layer and
// the shapes), the config round trip through save/load, and training
// through all of them (the loss falls).
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
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

/// (None, 6, 4) -> (None, 3) through every layer of this file.
Model everyNormalizationLayer() {
  auto in = Input({6, 4}, {.name = "seq"});
  auto x = layers::Dense(8, {.activation = "tanh"})(in); // (6, 8)
  x = layers::LayerNormalization({.name = "ln"})(x);
  x = layers::GroupNormalization({.groups = 4, .name = "gn"})(x);
  x = layers::Permute({2, 1}, {.name = "perm"})(x); // (8, 6)
  x = layers::LayerNormalization({.axis = {-2, -1}, .name = "ln2"})(x);
  x = layers::UnitNormalization({.name = "un"})(x);
  x = layers::Flatten()(x);
  auto out = layers::Dense(3, {.activation = "softmax"})(x);
  return Model(in, out, "normalizations");
}

TEST(NormalizationLayersTest, ShapesAndParameterCounts) {
  Model model = everyNormalizationLayer();
  EXPECT_EQ(model.outputs()[0].shape(), (std::vector<int64_t>{-1, 3}));
  std::ostringstream summary;
  model.summary(summary);
  EXPECT_THAT(summary.str(),
              AllOf(HasSubstr("ln (LayerNormalization)"),
                    HasSubstr("gn (GroupNormalization)"),
                    HasSubstr("perm (Permute)"), HasSubstr("(None, 8, 6)"),
                    HasSubstr("un (UnitNormalization)")));
  // ln: gamma, beta (8,); gn: (8,) each; ln2: (8, 6) each.
  int64_t dense = (4 * 8 + 8) + (48 * 3 + 3);
  EXPECT_EQ(model.countParams(), dense + 2 * 8 + 2 * 8 + 2 * 48);

  auto img = Input({3, 4, 5});
  EXPECT_EQ(layers::Permute({3, 1, 2})(img).shape(),
            (std::vector<int64_t>{-1, 5, 3, 4}));
  auto plain = layers::LayerNormalization({.center = false, .scale = false});
  plain(img);
  EXPECT_TRUE(plain->weights().empty());
  auto rms = layers::LayerNormalization({.axis = {2, 3}, .rms_scaling = true});
  rms(img);
  ASSERT_EQ(rms->weights().size(), 1u); // gamma only, as Keras
  EXPECT_EQ(rms->weights()[0].value.shape(), (std::vector<int64_t>{4, 5}));
  auto instance = layers::GroupNormalization({.groups = -1, .scale = false});
  instance(img);
  ASSERT_EQ(instance->weights().size(), 1u); // beta only
  EXPECT_EQ(instance->weights()[0].value.shape(), (std::vector<int64_t>{5}));
  // Normalization keeps unknown sizes outside the normalized axes.
  auto seq = Input({-1, 6});
  EXPECT_EQ(layers::LayerNormalization()(seq).shape(),
            (std::vector<int64_t>{-1, -1, 6}));
  EXPECT_EQ(layers::GroupNormalization({.groups = 3})(seq).shape(),
            (std::vector<int64_t>{-1, -1, 6}));
}

TEST(NormalizationLayersTest, KerasErrors) {
  EXPECT_THAT(
      errorOf([] {
        layers::LayerNormalization({.axis = {3}, .name = "ln"})(Input({4, 5}));
      }),
      HasSubstr("Layer ln: Axis 3 is out of bounds for input shape "
                "(None, 4, 5). Received: axis=3"));
  EXPECT_THAT(
      errorOf([] {
        layers::LayerNormalization({.axis = {1}, .name = "ln"})(Input({4, 5}));
      }),
      HasSubstr("Layer ln: axis=1 is not supported for input shape "
                "(None, 4, 5); layerc normalizes a trailing run"));
  EXPECT_THAT(
      errorOf([] {
        layers::LayerNormalization({.axis = {0, 1}, .name = "ln"})(Input({4}));
      }),
      HasSubstr("includes the batch axis of input shape (None, 4)"));
  EXPECT_THAT(errorOf([] {
                layers::LayerNormalization({.name = "ln"})(Input({4, -1}));
              }),
              HasSubstr("Input 0 of layer \"ln\" is incompatible with the "
                        "layer: the normalized axes must have known sizes"));
  EXPECT_THAT(
      errorOf([] {
        layers::GroupNormalization({.groups = 3, .name = "gn"})(Input({5, 8}));
      }),
      HasSubstr("Layer gn: Number of groups (3) must be a multiple of the "
                "number of channels (8). Input shape: (None, 5, 8)"));
  EXPECT_THAT(
      errorOf([] {
        layers::GroupNormalization({.name = "gn"})(Input({5, 8}));
      }),
      HasSubstr("Layer gn: Number of groups (32) cannot be more than the "
                "number of channels (8)"));
  EXPECT_THAT(
      errorOf([] { layers::GroupNormalization({.groups = 0, .name = "gn"}); }),
      HasSubstr("Layer gn: Received an invalid value for argument "
                "`groups`, expected a positive integer (or `-1` for "
                "instance normalization). Received: groups=0"));
  EXPECT_THAT(
      errorOf([] {
        layers::GroupNormalization({.groups = 2, .name = "gn"})(Input({5, -1}));
      }),
      HasSubstr("Layer gn: Axis -1 of input tensor should have a defined "
                "dimension but the layer received an input with shape "
                "(None, 5, None)."));
  EXPECT_THAT(
      errorOf([] {
        layers::GroupNormalization({.axis = 1, .name = "gn"})(Input({5, 8}));
      }),
      HasSubstr("Layer gn: axis 1 is not supported for input shape (None, "
                "5, 8); layerc is channels-last (axis=-1)"));
  EXPECT_THAT(errorOf([] {
                layers::UnitNormalization({.axis = {-3}, .name = "un"})(
                    Input({4}));
              }),
              HasSubstr("Layer un: Axis -3 is out of bounds for input shape "
                        "(None, 4)."));
  EXPECT_THAT(errorOf([] {
                layers::Permute({1, 3}, {.name = "perm"});
              }),
              HasSubstr("Layer perm: Invalid permutation argument `dims` for "
                        "Permute Layer. The set of indices in `dims` must be "
                        "consecutive and start from 1. Received dims=(1, 3)"));
  EXPECT_THAT(errorOf([] {
                layers::Permute({2, 1}, {.name = "perm"})(Input({4}));
              }),
              HasSubstr("Input 0 of layer \"perm\" is incompatible with the "
                        "layer: expected ndim=3, found ndim=2. Full shape "
                        "received: (None, 4)"));
  // A built layer refuses other normalized sizes.
  EXPECT_THAT(errorOf([] {
                auto ln = layers::LayerNormalization({.name = "ln"});
                ln(Input({4, 5}));
                ln(Input({4, 6}));
              }),
              HasSubstr("expected the normalized axes to have shape (5,), "
                        "but received input with shape (None, 4, 6)"));
}

/// Unknown sizes outside the normalized axes (a sequence length) compile
/// and give what the same layers give at a known length.
TEST(NormalizationLayersTest, UnknownSequenceLength) {
  setRandomSeed(7);
  auto dense = layers::Dense(6, {.activation = "tanh"});
  auto ln = layers::LayerNormalization();
  auto gn = layers::GroupNormalization({.groups = 3});
  auto un = layers::UnitNormalization();
  auto through = [&](const SymbolicTensor &in) {
    return un(gn(ln(dense(in))));
  };
  auto open = Input({-1, 4});
  auto fixed = Input({5, 4});
  Model a(open, through(open)), b(fixed, through(fixed));
  std::mt19937 gen(17);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor x({3, 5, 4});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = u(gen);
  Tensor got = a.predict(x), want = b.predict(x);
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i)
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-6) << i;
}

TEST(NormalizationLayersTest, TrainsSavesAndLoads) {
  setRandomSeed(5);
  Model model = everyNormalizationLayer();
  Tensor x = test::uniformTensor({64, 6, 4}, 13);
  Tensor y({64}, DType::Int32);
  for (int64_t i = 0; i < 64; ++i)
    y.data<int32_t>()[i] = x.data<float>()[i * 24 + 5] > 0 ? 1 : 2;
  model.compile({.loss = losses::SparseCategoricalCrossentropy(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.02})});
  test::expectLossFalls(
      model.fit(x, y, {.batch_size = 16, .epochs = 8, .verbose = 0}), 0.7);

  test::expectSaveLoadRoundTrip(model, x, "normalizations_test.lcm");
}

} // namespace
