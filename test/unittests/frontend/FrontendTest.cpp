//===- FrontendTest.cpp - The functional API, end to end
//-------------------===//
//
// Graph building and its errors (before anything compiles), Keras's summary,
// and compiled predict/fit against independent hand-written references.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
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

using test::errorOf;

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
  EXPECT_NE(text.find("Total params: 55,050\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Trainable params: 55,050\n"), std::string::npos);
  EXPECT_NE(text.find("Non-trainable params: 0\n"), std::string::npos);
  EXPECT_NE(text.find("(None, 64)                50240"), std::string::npos)
      << text;
  EXPECT_NE(text.find("(None, 10)                650"), std::string::npos);
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

namespace {

/// The model of the checkpoint tests: explicit names, so that separately
/// built copies share tensor names.
Model checkpointModel(int64_t hidden = 8, int64_t classes = 3) {
  auto inputs = Input({4}, {.name = "features"});
  auto h =
      layers::Dense(hidden, {.activation = "tanh", .name = "hidden"})(inputs);
  auto outputs = layers::Dense(classes, {.name = "logits"})(h);
  return Model(inputs, outputs, "ckpt");
}

CompileOptions adam() {
  return {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
          .optimizer = optimizers::Adam({.learning_rate = 0.01})};
}

std::pair<Tensor, Tensor> checkpointData() {
  Tensor x({96, 4}), y({96}, DType::Int32);
  std::mt19937 gen(5);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = dist(gen);
  for (int i = 0; i < 96; ++i)
    y.data<int32_t>()[i] =
        (x.data<float>()[4 * i] > 0) + (x.data<float>()[4 * i + 1] > 0);
  return {x, y};
}

std::string tempPath(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("layerc-frontend-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

} // namespace

/// Two epochs in one go and one epoch, save, load into a fresh model, one
/// more epoch give the same weights bit for bit (optimizer state included).
TEST(CheckpointTest, ResumedTrainingMatchesAnUninterruptedRun) {
  auto [x, y] = checkpointData();
  setRandomSeed(42);
  Model straight = checkpointModel();
  straight.compile(adam());
  straight.fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0});

  setRandomSeed(42);
  Model first = checkpointModel();
  first.compile(adam());
  first.fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0});
  std::string path = tempPath("resume.safetensors");
  first.saveWeights(path);

  setRandomSeed(7); // different initial weights: all are overwritten
  Model resumed = checkpointModel();
  resumed.compile(adam());
  resumed.loadWeights(path);
  resumed.fit(
      x, y, {.batch_size = 16, .epochs = 2, .verbose = 0, .initial_epoch = 1});
  std::remove(path.c_str());

  std::vector<Tensor> a = straight.getWeights(), b = resumed.getWeights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(0, std::memcmp(a[i].rawData(), b[i].rawData(), a[i].nbytes()))
        << "weight " << i;
}

TEST(CheckpointTest, MismatchesAreRefusedAndChangeNothing) {
  setRandomSeed(1);
  Model saved = checkpointModel();
  std::string path = tempPath("mismatch.safetensors");
  saved.saveWeights(path);

  Model wider = checkpointModel(/*hidden=*/9);
  std::vector<Tensor> before = wider.getWeights();
  std::string msg = errorOf([&] { wider.loadWeights(path); });
  EXPECT_NE(msg.find("'hidden/kernel'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4, 8)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4, 9)"), std::string::npos) << msg;
  std::vector<Tensor> after = wider.getWeights();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(0, std::memcmp(before[i].rawData(), after[i].rawData(),
                             before[i].nbytes()));

  auto inputs = Input({4}, {.name = "features"});
  Model other(inputs, layers::Dense(3, {.name = "other"})(inputs), "other");
  msg = errorOf([&] { other.loadWeights(path); });
  EXPECT_NE(msg.find("no tensor 'other/kernel'"), std::string::npos) << msg;

  // Optimizer state of another optimizer.
  auto [x, y] = checkpointData();
  Model trained = checkpointModel();
  trained.compile(adam());
  trained.fit(x, y, {.batch_size = 32, .epochs = 1, .verbose = 0});
  trained.saveWeights(path);
  Model sgd = checkpointModel();
  sgd.compile({.loss = adam().loss, .optimizer = optimizers::SGD()});
  msg = errorOf([&] { sgd.loadWeights(path); });
  EXPECT_NE(msg.find("optimizer 'adam'"), std::string::npos) << msg;
  // Not compiled: the weights alone load.
  Model plain = checkpointModel();
  plain.loadWeights(path);
  EXPECT_EQ(0, std::memcmp(plain.getWeights()[0].rawData(),
                           trained.getWeights()[0].rawData(),
                           trained.getWeights()[0].nbytes()));
  std::remove(path.c_str());

  msg = errorOf([&] { plain.loadWeights(tempPath("missing.safetensors")); });
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
}

namespace {

/// Every layer class with a config, in a non-sequential graph.
Model everyLayerModel() {
  auto inputs = Input({6}, {.name = "pixels"});
  auto a = layers::Dense(6, {.activation = "relu", .name = "a"})(inputs);
  auto b = layers::Dropout(0.25, {.name = "drop"})(a);
  auto c = layers::add({b, inputs}, "residual");
  auto g = layers::multiply({c, a}, "gate");
  auto d = layers::Reshape({2, 3}, {.name = "grid"})(g);
  auto e = layers::Flatten({.name = "flat"})(d);
  e = layers::BatchNormalization({.momentum = 0.5, .name = "norm"})(e);
  auto f = layers::Dense(3, {.use_bias = false, .name = "head"})(e);
  auto out = layers::Activation("softmax", {.name = "probs"})(f);
  return Model(inputs, out, "every_layer");
}

std::string summaryOf(const Model &m) {
  std::ostringstream os;
  m.summary(os);
  return os.str();
}

} // namespace

TEST(SaveLoadTest, ConfigRoundTripIsExact) {
  Model model = everyLayerModel();
  Json config = model.getConfig();
  Model rebuilt = Model::fromConfig(config);
  EXPECT_EQ(rebuilt.getConfig().dump(), config.dump());
  EXPECT_EQ(summaryOf(rebuilt), summaryOf(model));
  EXPECT_EQ(rebuilt.countParams(), 6 * 6 + 6 + 4 * 6 + 6 * 3);
}

/// save -> loadModel -> the same summary, bit-identical predictions, and
/// training resumes exactly as the original model's does.
TEST(SaveLoadTest, SavedModelPredictsAndTrainsIdentically) {
  setRandomSeed(3);
  Model model = everyLayerModel();
  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = optimizers::RMSprop({.learning_rate = 0.01}),
                 .metrics = {"accuracy"}});
  Tensor x({32, 6}), y({32, 3});
  std::mt19937 gen(9);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = dist(gen);
  for (int i = 0; i < 32; ++i)
    y.data<float>()[3 * i + (i % 3)] = 1.0f;
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  std::string path = tempPath("model.lcm");
  model.save(path);

  Model loaded = loadModel(path);
  EXPECT_EQ(summaryOf(loaded), summaryOf(model));
  Tensor p0 = model.predict(x), p1 = loaded.predict(x);
  EXPECT_EQ(0, std::memcmp(p0.rawData(), p1.rawData(), p0.nbytes()));

  model.fit(x, y,
            {.batch_size = 8, .epochs = 2, .verbose = 0, .initial_epoch = 1});
  loaded.fit(x, y,
             {.batch_size = 8, .epochs = 2, .verbose = 0, .initial_epoch = 1});
  std::vector<Tensor> a = model.getWeights(), b = loaded.getWeights();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(0, std::memcmp(a[i].rawData(), b[i].rawData(), a[i].nbytes()))
        << "weight " << i;
  std::remove(path.c_str());
}

/// The optimizers' extras survive save/load: their slots (AMSGrad's
/// velocity_hat, centered RMSprop's average_gradient) and schedule, so
/// training resumes bit for bit.
TEST(SaveLoadTest, OptimizerVariantsResumeExactly) {
  std::vector<std::pair<std::string, Optimizer>> cases = {
      {"adamw_amsgrad_decay",
       optimizers::AdamW({.learning_rate = schedules::ExponentialDecay(
                              {.initial_learning_rate = 0.01,
                               .decay_steps = 3,
                               .decay_rate = 0.5}),
                          .weight_decay = 0.01,
                          .amsgrad = true})},
      {"rmsprop_centered",
       optimizers::RMSprop({.learning_rate = 0.01, .centered = true})},
      {"sgd_staircase",
       optimizers::SGD({.learning_rate = schedules::ExponentialDecay(
                            {.initial_learning_rate = 0.1,
                             .decay_steps = 2,
                             .decay_rate = 0.9,
                             .staircase = true}),
                        .momentum = 0.5})},
  };
  Tensor x({32, 6}), y({32, 3});
  std::mt19937 gen(19);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = dist(gen);
  for (int i = 0; i < 32; ++i)
    y.data<float>()[3 * i + (i % 3)] = 1.0f;
  for (const auto &[name, optimizer] : cases) {
    SCOPED_TRACE(name);
    setRandomSeed(4);
    Model model = everyLayerModel();
    model.compile({.loss = "categorical_crossentropy", .optimizer = optimizer});
    History h = model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    EXPECT_TRUE(std::isfinite(h.history.at("loss")[1]));
    std::string path = tempPath(name + ".lcm");
    model.save(path);
    Model loaded = loadModel(path);
    model.fit(x, y,
              {.batch_size = 8, .epochs = 3, .verbose = 0, .initial_epoch = 2});
    loaded.fit(
        x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .initial_epoch = 2});
    std::vector<Tensor> a = model.getWeights(), b = loaded.getWeights();
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_EQ(0, std::memcmp(a[i].rawData(), b[i].rawData(), a[i].nbytes()))
          << "weight " << i;
    std::remove(path.c_str());
  }
  Model model = everyLayerModel();
  EXPECT_NE(errorOf([&] {
              model.compile({.loss = "categorical_crossentropy",
                             .optimizer = optimizers::SGD()});
              Optimizer bad = optimizers::SGD();
              bad.amsgrad = true;
              model.compile(
                  {.loss = "categorical_crossentropy", .optimizer = bad});
            }).find("amsgrad applies to adam and adamw, not sgd"),
            std::string::npos);
}

TEST(SaveLoadTest, UnknownClassesAndForeignFilesAreRefused) {
  Model model = everyLayerModel();
  std::string path = tempPath("custom.lcm");
  // Rename the Activation class: the file now needs a custom object.
  SafeTensorsFile file;
  file.metadata["format"] = "layerc-model";
  std::string config = model.getConfig().dump();
  size_t at = config.find("\"Activation\"");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 12, "\"MyActivation\"");
  file.metadata["model_config"] = config;
  for (const auto &layer : model.layers())
    for (const Weight &w : layer->weights())
      file.tensors.emplace_back(layer->name() + "/" + w.name, w.value);
  saveSafeTensors(path, file);

  std::string msg = errorOf([&] { loadModel(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown layer class 'MyActivation'"), std::string::npos)
      << msg;
  Model custom = loadModel(
      path, {{"MyActivation", builtinLayerFactories().at("Activation")}});
  EXPECT_EQ(custom.countParams(), model.countParams());

  // Malformed config JSON.
  file.metadata["model_config"] = "{\"class_name\": ";
  saveSafeTensors(path, file);
  msg = errorOf([&] { loadModel(path); });
  EXPECT_NE(msg.find("model_config: malformed JSON"), std::string::npos) << msg;
  // A config whose field has the wrong type.
  file.metadata["model_config"] =
      R"({"class_name":"Functional","config":{"name":"m","layers":3}})";
  saveSafeTensors(path, file);
  msg = errorOf([&] { loadModel(path); });
  EXPECT_NE(msg.find("'layers'"), std::string::npos) << msg;

  // A weights-only file is not a model.
  model.saveWeights(path);
  msg = errorOf([&] { loadModel(path); });
  EXPECT_NE(msg.find("not a saved layerc model"), std::string::npos) << msg;
  std::remove(path.c_str());
}

/// A mismatch in the last layer is found before the first is overwritten.
TEST(CheckpointTest, LateMismatchChangesNothing) {
  setRandomSeed(11);
  Model saved = checkpointModel();
  std::string path = tempPath("late.safetensors");
  saved.saveWeights(path);
  setRandomSeed(12);
  Model moreClasses = checkpointModel(8, 4); // hidden/* match, logits/* not
  std::vector<Tensor> before = moreClasses.getWeights();
  std::string msg = errorOf([&] { moreClasses.loadWeights(path); });
  EXPECT_NE(msg.find("'logits/kernel'"), std::string::npos) << msg;
  std::vector<Tensor> after = moreClasses.getWeights();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(0, std::memcmp(before[i].rawData(), after[i].rawData(),
                             before[i].nbytes()))
        << "weight " << i << " changed";
  std::remove(path.c_str());
}

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

TEST(SaveLoadTest, HugeOrDuplicatedConfigsAreRefused) {
  std::vector<Json> layers;
  for (int i = 0; i <= 10000; ++i)
    layers.push_back(Json::object({{"class_name", "Activation"}}));
  Json config = Json::object(
      {{"class_name", "Functional"},
       {"config", Json::object({{"name", "deep"},
                                {"layers", Json::array(std::move(layers))}})}});
  std::string msg = errorOf([&] { Model::fromConfig(config); });
  EXPECT_NE(msg.find("at most 10000"), std::string::npos) << msg;

  Json dup = everyLayerModel().getConfig();
  std::string text = dup.dump();
  size_t at = text.find("\"name\":\"drop\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 13, "\"name\":\"a\"");
  msg = errorOf([&] { Model::fromConfig(Json::parse(text, "t")); });
  EXPECT_NE(msg.find("two layers are named \"a\""), std::string::npos) << msg;
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

//===----------------------------------------------------------------------===//
// validation_data and callbacks
//===----------------------------------------------------------------------===//

namespace {

struct Dataset {
  Tensor x, y;
};

Dataset randomDataset(int64_t n, uint32_t seed) {
  Dataset d{Tensor({n, 6}), Tensor({n, 3})};
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < d.x.numel(); ++i)
    d.x.data<float>()[i] = dist(gen);
  for (int64_t i = 0; i < n; ++i)
    d.y.data<float>()[3 * i + (i % 3)] = 1.0f;
  return d;
}

Model compiledModel() {
  setRandomSeed(8);
  Model model = everyLayerModel();
  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = optimizers::SGD({.learning_rate = 0.05}),
                 .metrics = {"accuracy"}});
  return model;
}

std::vector<std::string> readLines(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

} // namespace

TEST(CallbacksTest, ValidationDataIsEvaluatedEveryEpoch) {
  Dataset train = randomDataset(48, 1), val = randomDataset(20, 2);
  Model model = compiledModel();
  History h = model.fit(train.x, train.y,
                        {.batch_size = 8,
                         .epochs = 2,
                         .verbose = 0,
                         .validation_data = ValidationData{{val.x}, {val.y}}});
  ASSERT_EQ(h.history.at("val_loss").size(), 2u);
  std::vector<double> eval = model.evaluate(val.x, val.y, {.verbose = 0});
  EXPECT_NEAR(h.history.at("val_loss")[1], eval[0], 1e-6);
  EXPECT_NEAR(h.history.at("val_accuracy")[1], eval[1], 1e-6);
  EXPECT_NE(errorOf([&] {
              model.fit(train.x, train.y,
                        {.verbose = 0,
                         .validation_split = 0.2,
                         .validation_data = ValidationData{{val.x}, {val.y}}});
            }).find("give validation_data or validation_split, not both"),
            std::string::npos);
}

TEST(CallbacksTest, EarlyStoppingStopsAndRestoresTheBestWeights) {
  Dataset train = randomDataset(48, 3);
  // min_delta so large that only the first epoch counts as an improvement:
  // with patience 1, training stops after the second epoch.
  auto stopper = std::make_shared<callbacks::EarlyStopping>(
      callbacks::EarlyStoppingOptions{.monitor = "loss",
                                      .min_delta = 1e9,
                                      .patience = 1,
                                      .restore_best_weights = true});
  Model model = compiledModel();
  History h = model.fit(
      train.x, train.y,
      {.batch_size = 8, .epochs = 10, .verbose = 0, .callbacks = {stopper}});
  EXPECT_EQ(h.epoch.size(), 2u);
  EXPECT_EQ(stopper->stoppedEpoch(), 1);
  EXPECT_EQ(stopper->bestEpoch(), 0);
  // The restored weights are those after epoch 1 of an identical run.
  Model once = compiledModel();
  once.fit(train.x, train.y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  std::vector<Tensor> a = model.getWeights(), b = once.getWeights();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(0, std::memcmp(a[i].rawData(), b[i].rawData(), a[i].nbytes()))
        << "weight " << i;

  auto missing = std::make_shared<callbacks::EarlyStopping>();
  EXPECT_NE(errorOf([&] {
              model.fit(train.x, train.y,
                        {.verbose = 0, .callbacks = {missing}});
            })
                .find("the monitored value 'val_loss' is not among this fit's "
                      "logs (loss, accuracy)"),
            std::string::npos);
}

TEST(CallbacksTest, ModelCheckpointAndCSVLogger) {
  Dataset train = randomDataset(48, 4);
  std::string pattern = tempPath("ckpt_{epoch:02d}.lcm");
  std::string best = tempPath("best.weights");
  std::string csv = tempPath("log.csv");
  auto every = std::make_shared<callbacks::ModelCheckpoint>(pattern);
  auto bestOnly = std::make_shared<callbacks::ModelCheckpoint>(
      best, callbacks::ModelCheckpointOptions{.monitor = "loss",
                                              .save_best_only = true,
                                              .save_weights_only = true});
  auto logger = std::make_shared<callbacks::CSVLogger>(csv);
  Model model = compiledModel();
  History h = model.fit(train.x, train.y,
                        {.batch_size = 8,
                         .epochs = 3,
                         .verbose = 0,
                         .validation_split = 0.25,
                         .callbacks = {every, bestOnly, logger}});
  EXPECT_EQ(every->pathFor(2), tempPath("ckpt_03.lcm"));
  // The last checkpoint is the trained model, bit for bit.
  Model loaded = loadModel(tempPath("ckpt_03.lcm"));
  Tensor p0 = model.predict(train.x), p1 = loaded.predict(train.x);
  EXPECT_EQ(0, std::memcmp(p0.rawData(), p1.rawData(), p0.nbytes()));
  EXPECT_TRUE(std::filesystem::exists(tempPath("ckpt_01.lcm")));
  EXPECT_TRUE(std::filesystem::exists(best));
  const std::vector<double> &loss = h.history.at("loss");
  EXPECT_EQ(bestOnly->best(), *std::min_element(loss.begin(), loss.end()));

  std::vector<std::string> lines = readLines(csv);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,loss,accuracy,val_loss,val_accuracy");
  EXPECT_EQ(lines[3].substr(0, 2), "2,");
  EXPECT_NEAR(std::stod(lines[3].substr(2)), loss[2], 1e-12);
  for (int e = 1; e <= 3; ++e)
    std::remove(every->pathFor(e - 1).c_str());
  std::remove(best.c_str());
  std::remove(csv.c_str());
}

TEST(CallbacksTest, MisconfiguredCallbacksAreRefused) {
  EXPECT_NE(errorOf([] { callbacks::EarlyStopping({.mode = "largest"}); })
                .find("EarlyStopping: mode must be auto, min or max, got "
                      "'largest'"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              callbacks::ModelCheckpoint("");
            }).find("ModelCheckpoint: filepath is empty"),
            std::string::npos);
  Dataset train = randomDataset(8, 5);
  Model model = compiledModel();
  auto logger =
      std::make_shared<callbacks::CSVLogger>("/nonexistent/dir/log.csv");
  EXPECT_NE(errorOf([&] {
              model.fit(train.x, train.y,
                        {.verbose = 0, .callbacks = {logger}});
            }).find("CSVLogger: cannot open /nonexistent/dir/log.csv"),
            std::string::npos);
}
