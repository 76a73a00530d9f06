//===- InitializersTest.cpp - Keras's initializers, by name and as objects ===//
//
// The distributions of Keras 3's formulas (bounds, means and standard
// deviations over tens of thousands of draws), seeds (a seeded initializer
// repeats itself; an unseeded one follows setRandomSeed), the layers'
// options, and the config round trip in Keras's serialized form.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "StatsTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"
#include <gmock/gmock.h>

#include <cmath>
#include <random>

using namespace layerc;
using test::errorOf;
using test::SampleStats;
using ::testing::HasSubstr;

namespace {

Tensor filled(const Initializer &init, std::vector<int64_t> shape) {
  static std::mt19937_64 gen(99);
  return init.fill(shape, gen, "test");
}

// fan_in 200, fan_out 300 (a 200 x 300 kernel): 60,000 draws.
constexpr double kIn = 200, kOut = 300;

TEST(InitializersTest, VarianceScalingFamilies) {
  struct Case {
    const char *name;
    double variance; // Keras: scale / n
  };
  for (Case c :
       {Case{"glorot_uniform", 2 / (kIn + kOut)},
        Case{"glorot_normal", 2 / (kIn + kOut)}, Case{"he_uniform", 2 / kIn},
        Case{"he_normal", 2 / kIn}, Case{"lecun_uniform", 1 / kIn},
        Case{"lecun_normal", 1 / kIn}}) {
    SCOPED_TRACE(c.name);
    SampleStats s =
        test::sampleStats(filled(c.name, {int64_t(kIn), int64_t(kOut)}));
    double want = std::sqrt(c.variance);
    EXPECT_NEAR(s.mean, 0.0, 0.02 * want);
    EXPECT_NEAR(s.stddev, want, 0.02 * want);
    bool uniform = std::string(c.name).find("uniform") != std::string::npos;
    // Uniform: within sqrt(3) stddev; truncated normal: within two of the
    // untruncated distribution's stddevs (want / 0.8796...).
    double bound = uniform ? std::sqrt(3.0) * want : 2 * want / 0.87962566;
    EXPECT_LE(s.maxAbs, bound);
    EXPECT_GT(s.maxAbs, 0.95 * bound);
  }
  // A convolution kernel (3, 3, 16, 32): the fans count the receptive field.
  SampleStats conv = test::sampleStats(filled("he_uniform", {3, 3, 16, 32}));
  EXPECT_NEAR(conv.stddev, std::sqrt(2.0 / (9 * 16)),
              0.03 * std::sqrt(2.0 / (9 * 16)));
}

TEST(InitializersTest, PlainDistributionsAndConstants) {
  SampleStats normal = test::sampleStats(filled(
      initializers::RandomNormal({.mean = 1.0, .stddev = 0.5}), {300, 200}));
  EXPECT_NEAR(normal.mean, 1.0, 0.01);
  EXPECT_NEAR(normal.stddev, 0.5, 0.01);
  SampleStats uniform = test::sampleStats(filled(
      initializers::RandomUniform({.minval = -2, .maxval = 2}), {300, 200}));
  EXPECT_NEAR(uniform.stddev, 4 / std::sqrt(12.0), 0.02);
  EXPECT_LE(uniform.maxAbs, 2.0);
  SampleStats truncated = test::sampleStats(
      filled(initializers::TruncatedNormal({.stddev = 0.1}), {300, 200}));
  EXPECT_LE(truncated.maxAbs, 0.2);
  SampleStats keras =
      test::sampleStats(filled("uniform", {300, 200})); // Keras's alias
  EXPECT_LE(keras.maxAbs, 0.05);
  EXPECT_GT(keras.maxAbs, 0.049);
  Tensor c = filled(initializers::Constant(0.25), {3, 4});
  Tensor ones = filled("ones", {5}), zeros = filled("zeros", {5});
  for (int64_t i = 0; i < 12; ++i)
    EXPECT_EQ(c.data<float>()[i], 0.25f);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ones.data<float>()[i], 1.0f);
    EXPECT_EQ(zeros.data<float>()[i], 0.0f);
  }
}

TEST(InitializersTest, OrthogonalWithGain) {
  Tensor w = filled(initializers::Orthogonal({.gain = 2.0}), {16, 16});
  const float *p = w.data<float>();
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      double dot = 0;
      for (int k = 0; k < 16; ++k)
        dot += double(p[k * 16 + i]) * p[k * 16 + j];
      EXPECT_NEAR(dot, i == j ? 4.0 : 0.0, 1e-4);
    }
}

TEST(InitializersTest, SeedsRepeatAndGlobalSeedReproduces) {
  auto seeded = initializers::GlorotNormal({.seed = 7});
  Tensor a = filled(seeded, {8, 8}), b = filled(seeded, {8, 8});
  Tensor c = filled(initializers::GlorotNormal({.seed = 8}), {8, 8});
  bool differs = false;
  for (int64_t i = 0; i < 64; ++i) {
    EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);
    differs |= a.data<float>()[i] != c.data<float>()[i];
  }
  EXPECT_TRUE(differs);

  auto kernelOf = [] {
    auto in = Input({6});
    layers::Dense dense(4, {.kernel_initializer = "lecun_normal"});
    dense(in);
    return dense->getWeights()[0];
  };
  setRandomSeed(5);
  Tensor x = kernelOf();
  setRandomSeed(5);
  Tensor y = kernelOf();
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_EQ(x.data<float>()[i], y.data<float>()[i]);
}

TEST(InitializersTest, LayersTakeThemAndConfigsRoundTrip) {
  auto in = Input({8, 8, 3});
  layers::Conv2D conv(
      4, 3,
      {.kernel_initializer = initializers::HeNormal({.seed = 3}),
       .bias_initializer = initializers::Constant(0.5)});
  layers::Dense dense(2, {.bias_initializer = "ones"});
  layers::Embedding embedding(10, 3,
                              {.embeddings_initializer = "random_normal"});
  Model model(in, dense(layers::Flatten()(conv(in))));
  Tensor bias = conv->getWeights()[1];
  for (int64_t i = 0; i < bias.numel(); ++i)
    EXPECT_EQ(bias.data<float>()[i], 0.5f);
  EXPECT_EQ(dense->getWeights()[1].data<float>()[0], 1.0f);

  Json config = conv->getConfig();
  EXPECT_EQ(config.get("kernel_initializer")->dump(),
            R"({"module":"keras.initializers","class_name":"HeNormal",)"
            R"("config":{"seed":3},"registered_name":null})");
  EXPECT_EQ(config.get("bias_initializer")->get("config")->dump(),
            R"({"value":0.5})");
  // Rebuilt from its config, the seeded layer draws the same kernel.
  auto again = builtinLayerFactories().at("Conv2D")(config);
  again->apply({Input({8, 8, 3})});
  Tensor k0 = conv->getWeights()[0], k1 = again->getWeights()[0];
  for (int64_t i = 0; i < k0.numel(); ++i)
    ASSERT_EQ(k0.data<float>()[i], k1.data<float>()[i]);
  EXPECT_EQ(again->getConfig().dump(), config.dump());

  // Keras's own serialized form, and bare names, are read.
  Json keras = Json::parse(
      R"({"name": "d", "units": 3, "activation": "linear", "use_bias": true,
          "kernel_initializer": {"module": "keras.initializers",
            "class_name": "RandomUniform",
            "config": {"minval": 2.0, "maxval": 3.0, "seed": null}},
          "bias_initializer": "Ones"})",
      "test");
  auto d = builtinLayerFactories().at("Dense")(keras);
  d->apply({Input({4})});
  SampleStats s = test::sampleStats(d->getWeights()[0]);
  EXPECT_GE(s.mean, 2.0);
  EXPECT_LE(s.maxAbs, 3.0);
  EXPECT_EQ(d->getWeights()[1].data<float>()[0], 1.0f);
  EXPECT_EQ(embedding->getConfig()
                .get("embeddings_initializer")
                ->get("class_name")
                ->asString(),
            "RandomNormal");
}

TEST(InitializersTest, ErrorsNameTheProblem) {
  EXPECT_THAT(errorOf([] { Initializer("glorot_fancy"); }),
              HasSubstr("unknown initializer 'glorot_fancy' (expected one of "
                        "glorot_uniform, glorot_normal"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("Dense")(Json::parse(
                    R"({"name": "d", "units": 3, "activation": "linear",
                        "use_bias": true, "kernel_initializer":
                        {"class_name": "HeNormal", "config": {"seed": -1}}})",
                    "test"));
              }),
              HasSubstr("config of Dense layer: field 'kernel_initializer': "
                        "initializer HeNormal's seed must be a non-negative "
                        "integer"));
}

} // namespace
