//===- FrontendTest.cpp - The functional API, end to end ------------------===//
//
// Graph building and its errors (before anything compiles), Keras's summary,
// compiled predict/fit against independent hand-written references, and
// BatchNormalization's moving statistics in fit. Checkpoints, save/load and
// the fit callbacks are in FrontendSaveLoadTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestModels.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace layerc;

namespace {

using test::checkpointModel;
using test::errorOf;
using test::summaryOf;

Model mlp() {
  auto inputs = Input({784});
  auto x = layers::Dense(64, {.activation = "relu"})(inputs);
  x = layers::Dense(64, {.activation = "relu"})(x);
  auto outputs = layers::Dense(10)(x);
  return Model(inputs, outputs, "mnist_model");
}

TEST(FrontendTest, InputShapeAndDtype) {
  auto inputs = Input({784});
  EXPECT_EQ(inputs.shapeString(), "(None, 784)");
  EXPECT_EQ(inputs.dtype(), DType::Float32);
  EXPECT_EQ(inputs.shape(), (std::vector<int64_t>{-1, 784}));
}

TEST(FrontendTest, SummaryOfTheGuidesMLP) {
  Model model = mlp();
  std::ostringstream os;
  model.summary(os);
  std::string text = os.str();
  EXPECT_NE(text.find("Model: \"mnist_model\""), std::string::npos) << text;
  EXPECT_NE(text.find(" Total params: 55,050 (215.04 KB)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find(" Trainable params: 55,050 (215.04 KB)\n"),
            std::string::npos);
  EXPECT_NE(text.find(" Non-trainable params: 0 (0.00 B)\n"),
            std::string::npos);
  EXPECT_NE(text.find("(None, 64)" + std::string(13, ' ') + "\u2502" +
                      std::string(8, ' ') + "50,240 \u2502"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(None, 10)" + std::string(13, ' ') + "\u2502" +
                      std::string(11, ' ') + "650 \u2502"),
            std::string::npos);
  EXPECT_EQ(model.countParams(), 55050);
  EXPECT_EQ(model.layers().size(), 4u);
}

TEST(FrontendTest, AutomaticNamesAreUniquePerClass) {
  layers::Dense a(3), b(3);
  EXPECT_EQ(a->name().rfind("dense", 0), 0u);
  EXPECT_NE(a->name(), b->name());
  layers::Dense named(3, {.name = "head"});
  EXPECT_EQ(named->name(), "head");
}

TEST(FrontendTest, DenseOnTheWrongWidthNamesLayerAndShapes) {
  layers::Dense d(4, {.name = "classifier"});
  d(Input({5})); // builds a (5, 4) kernel
  std::string msg = errorOf([&] { d(Input({6})); });
  EXPECT_NE(msg.find("\"classifier\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected axis -1 of input shape to have value 5"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("(None, 6)"), std::string::npos) << msg;
}

TEST(FrontendTest, DenseOnARank1InputIsRefused) {
  auto labels = Input({}); // (None,): one scalar per sample
  EXPECT_EQ(labels.shapeString(), "(None,)");
  std::string msg =
      errorOf([&] { layers::Dense(2, {.name = "head"})(labels); });
  EXPECT_NE(msg.find("\"head\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected min_ndim=2, found ndim=1"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("(None,)"), std::string::npos) << msg;
  msg = errorOf([] { layers::Dense(0, {.name = "zero_units"}); });
  EXPECT_NE(msg.find("units must be a positive integer"), std::string::npos)
      << msg;
}

TEST(FrontendTest, UnknownActivationIsRefused) {
  std::string msg =
      errorOf([] { layers::Dense(2, {.activation = "relu6", .name = "d"}); });
  EXPECT_NE(msg.find("unknown activation 'relu6'"), std::string::npos) << msg;
}

TEST(FrontendTest, AddRejectsMismatchedShapes) {
  auto a = Input({4}), b = Input({5});
  std::string msg = errorOf([&] { layers::add({a, b}); });
  EXPECT_NE(msg.find("(None, 4) and (None, 5)"), std::string::npos) << msg;
}

TEST(FrontendTest, FitBeforeCompileAndWrongLabelCount) {
  Model model = mlp();
  Tensor x({8, 784}), y({7}, DType::Int32);
  EXPECT_NE(errorOf([&] { model.fit(x, y); }).find("compile()"),
            std::string::npos);
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::RMSprop()});
  std::string msg = errorOf([&] { model.fit(x, y, {.verbose = 0}); });
  EXPECT_NE(msg.find("7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("8"), std::string::npos) << msg;
  Tensor wrongWidth({8, 783});
  msg = errorOf([&] { model.fit(wrongWidth, Tensor({8}, DType::Int32)); });
  EXPECT_NE(msg.find("(None, 784)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(8, 783)"), std::string::npos) << msg;
}

TEST(FrontendTest, MissingDatasetSaysWhichPackage) {
  std::string msg = errorOf(
      [] { datasets::fashion_mnist::loadData("/nonexistent/fashion"); });
  EXPECT_NE(msg.find("dataset-fashion-mnist"), std::string::npos) << msg;
}

/// predict() of a compiled model equals a hand-written forward pass.
TEST(FrontendTest, PredictMatchesReference) {
  auto inputs = Input({3});
  auto h = layers::Dense(4, {.activation = "tanh"})(inputs);
  auto outputs = layers::Dense(2, {.activation = "softmax"})(h);
  Model model(inputs, outputs, "tiny");
  model.compile({.loss = "categorical_crossentropy", .optimizer = "sgd"});

  std::vector<Tensor> w = model.getWeights();
  ASSERT_EQ(w.size(), 4u);
  std::mt19937 gen(7);
  std::normal_distribution<float> dist;
  for (Tensor &t : w)
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data<float>()[i] = dist(gen);
  model.setWeights(w);

  Tensor x({5, 3});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = dist(gen);
  Tensor y = model.predict(x);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{5, 2}));

  const float *k0 = w[0].data<float>(), *b0 = w[1].data<float>();
  const float *k1 = w[2].data<float>(), *b1 = w[3].data<float>();
  for (int n = 0; n < 5; ++n) {
    double hidden[4], logits[2];
    for (int j = 0; j < 4; ++j) {
      double s = b0[j];
      for (int i = 0; i < 3; ++i)
        s += x.data<float>()[n * 3 + i] * k0[i * 4 + j];
      hidden[j] = std::tanh(s);
    }
    for (int j = 0; j < 2; ++j) {
      logits[j] = b1[j];
      for (int i = 0; i < 4; ++i)
        logits[j] += hidden[i] * k1[i * 2 + j];
    }
    double m = std::max(logits[0], logits[1]);
    double z = std::exp(logits[0] - m) + std::exp(logits[1] - m);
    for (int j = 0; j < 2; ++j)
      EXPECT_NEAR(y.data<float>()[n * 2 + j], std::exp(logits[j] - m) / z,
                  1e-5);
  }
}

/// fit() learns a linearly separable problem and updates the layers'
/// weights in place.
TEST(FrontendTest, FitLearnsAndUpdatesWeights) {
  auto inputs = Input({2});
  auto outputs = layers::Dense(2)(inputs);
  Model model(inputs, outputs, "separable");
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::Adam({.learning_rate = 0.05}),
       .metrics = {"accuracy"}});
  std::vector<Tensor> before = model.getWeights();
  const int n = 256;
  Tensor x({n, 2}), y({n}, DType::Int32);
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int i = 0; i < n; ++i) {
    float a = dist(gen), b = dist(gen);
    x.data<float>()[2 * i] = a;
    x.data<float>()[2 * i + 1] = b;
    y.data<int32_t>()[i] = a + b > 0 ? 1 : 0;
  }
  History h = model.fit(x, y, {.batch_size = 32, .epochs = 20, .verbose = 0});
  ASSERT_EQ(h.history["loss"].size(), 20u);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  std::vector<double> scores = model.evaluate(x, y, {.verbose = 0});
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_GT(scores[1], 0.95);
  std::vector<Tensor> after = model.getWeights();
  EXPECT_NE(before[0].data<float>()[0], after[0].data<float>()[0]);
}

} // namespace

TEST(GraphErrorsTest, DuplicateNamesFrozenWeightsIntInputsAndSetWeights) {
  auto in = Input({3});
  auto a = layers::Dense(3, {.name = "twin"})(in);
  auto b = layers::Dense(3, {.name = "twin"})(a);
  std::string msg = errorOf([&] { Model(in, b, "dup"); });
  EXPECT_NE(msg.find("\"twin\" is used by more than one layer"),
            std::string::npos)
      << msg;

  auto tokens = Input({5}, {.dtype = DType::Int32});
  msg = errorOf([&] { layers::Dense(2, {.name = "on_ints"})(tokens); });
  EXPECT_NE(msg.find("\"on_ints\" has dtype int32"), std::string::npos) << msg;

  msg = errorOf([&] { layers::Reshape({7, 7905747460161236407})(Input({1})); });
  EXPECT_NE(msg.find("more elements than can be addressed"), std::string::npos)
      << msg;

  Model model = checkpointModel();
  std::vector<Tensor> w = model.getWeights();
  std::vector<Tensor> bad = w;
  bad.back() = Tensor({7}); // the last array is wrong
  for (Tensor &t : bad)
    if (t.shape() != std::vector<int64_t>{7})
      t = t.clone(), t.data<float>()[0] = 123.0f;
  msg = errorOf([&] { model.setWeights(bad); });
  EXPECT_NE(msg.find("(7,)"), std::string::npos) << msg;
  EXPECT_NE(model.getWeights()[0].data<float>()[0], 123.0f)
      << "setWeights changed a weight before refusing";
}

/// BatchNormalization in fit: train_step normalizes by the batch and moves
/// the moving statistics by Keras's rule; predict and evaluate use the
/// moving ones. A weight marked not trainable stays as it is.
TEST(BatchNormTrainingTest, MovingStatisticsAndFrozenWeights) {
  auto x = Input({3}, {.name = "x"});
  auto h = layers::BatchNormalization({.momentum = 0.9, .name = "bn"})(x);
  Model model(x, layers::Dense(2, {.name = "d"})(h), "bn_model");
  model.getLayer("d")->weights()[1].trainable = false; // d/bias
  std::string summary = summaryOf(model);
  EXPECT_NE(summary.find("Trainable params: 12"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Non-trainable params: 8"), std::string::npos)
      << summary;
  model.compile(
      {.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 0.1})});

  const int n = 16;
  Tensor data({n, 3}), target({n, 2});
  std::mt19937 gen(11);
  std::normal_distribution<float> dist;
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      data.data<float>()[3 * i + c] = 2.0f * c + (c + 1) * dist(gen);
  for (int64_t i = 0; i < target.numel(); ++i)
    target.data<float>()[i] = dist(gen);
  Tensor bias = model.getLayer("d")->weights()[1].value.clone();
  bias.data<float>()[0] = 0.5f;
  model.getLayer("d")->weights()[1].value.data<float>()[0] = 0.5f;
  std::vector<Tensor> before = model.getWeights();

  model.fit(data, target,
            {.batch_size = n, .epochs = 1, .verbose = 0, .shuffle = false});
  std::vector<Tensor> after = model.getWeights(); // gamma beta mm mv k b
  ASSERT_EQ(after.size(), 6u);
  for (int c = 0; c < 3; ++c) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; ++i)
      mean += data.data<float>()[3 * i + c] / double(n);
    for (int i = 0; i < n; ++i) {
      double d = data.data<float>()[3 * i + c] - mean;
      var += d * d / n;
    }
    EXPECT_NEAR(after[2].data<float>()[c], 0.1 * mean, 1e-5) << "channel " << c;
    EXPECT_NEAR(after[3].data<float>()[c], 0.9 + 0.1 * var, 1e-4)
        << "channel " << c;
  }
  EXPECT_NE(after[0].data<float>()[0], before[0].data<float>()[0])
      << "gamma did not train";
  EXPECT_NE(after[4].data<float>()[0], before[4].data<float>()[0])
      << "the kernel did not train";
  EXPECT_EQ(0, std::memcmp(after[5].rawData(), bias.rawData(), bias.nbytes()))
      << "the frozen bias changed";

  // predict: (x - moving_mean) / sqrt(moving_variance + 1e-3) * gamma + beta,
  // then the dense layer.
  Tensor y = model.predict(data);
  double sse = 0;
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < 2; ++o) {
      double want = after[5].data<float>()[o];
      for (int c = 0; c < 3; ++c) {
        double v = (data.data<float>()[3 * i + c] - after[2].data<float>()[c]) /
                       std::sqrt(after[3].data<float>()[c] + 1e-3) *
                       after[0].data<float>()[c] +
                   after[1].data<float>()[c];
        want += v * after[4].data<float>()[2 * c + o];
      }
      EXPECT_NEAR(y.data<float>()[2 * i + o], want, 1e-4);
      double e = y.data<float>()[2 * i + o] - target.data<float>()[2 * i + o];
      sse += e * e;
    }
  std::vector<double> scores = model.evaluate(data, target, {.verbose = 0});
  EXPECT_NEAR(scores[0], sse / (2 * n), 1e-4 * (1 + sse / (2 * n)));
}

TEST(FrontendTest, FlattenAndMultiplyShapes) {
  auto in = Input({2, 3, 4});
  auto flat = layers::Flatten()(in);
  EXPECT_EQ(flat.shapeString(), "(None, 24)");
  auto product = layers::multiply({flat, flat});
  EXPECT_EQ(product.shapeString(), "(None, 24)");
  std::string msg = errorOf([&] { layers::multiply({flat, Input({23})}); });
  EXPECT_NE(msg.find("(None, 24) and (None, 23)"), std::string::npos) << msg;
}

TEST(FrontendTest, NamesMustBeUtf8) {
  std::string msg =
      errorOf([] { layers::Dense(2, {.name = std::string("caf\xe9")}); });
  EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
  layers::Dense ok(2, {.name = "caf\xc3\xa9"});
  EXPECT_EQ(ok->name(), "caf\xc3\xa9");
}
