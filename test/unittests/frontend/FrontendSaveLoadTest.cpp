//===- FrontendSaveLoadTest.cpp - Training state across runs --------------===//
//
// Weights checkpoints (resuming training bit for bit, refused mismatches),
// whole-model save/load (config round trip, optimizer state, refused files
// and configs), and fit's validation data and callbacks (EarlyStopping,
// ModelCheckpoint, CSVLogger).
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestModels.h"
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
