//===- TrainingCallbacksTest.cpp - Learning rates and fault tolerance -----===//
//
// What OptimizerParityTests cannot take from Keras: TerminateOnNaN stopping
// mid-epoch, BackupAndRestore resuming a crashed fit() where it stopped
// (checked against the same fit() uninterrupted), and the errors of
// learning rates and schedules.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "frontend/Compile.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace layerc;
using layerc::test::errorOf;

namespace {

/// Input(3) -> Dense(2), the same weights every time.
Model smallModel(const Optimizer &opt) {
  auto x = Input({3});
  Model model(x, layers::Dense(2, {.name = "dense"})(x), "small");
  model.setWeights(
      {Tensor::fromFloats({0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f}, {3, 2}),
       Tensor::fromFloats({0.05f, -0.05f}, {2})});
  model.compile({.loss = "mse", .optimizer = opt});
  return model;
}

Tensor inputs() {
  std::vector<float> v;
  for (int i = 0; i < 24; ++i)
    v.push_back(std::sin(0.7f * float(i)));
  return Tensor::fromFloats(v, {8, 3});
}

Tensor targets() {
  std::vector<float> v;
  for (int i = 0; i < 16; ++i)
    v.push_back(std::cos(0.3f * float(i)));
  return Tensor::fromFloats(v, {8, 2});
}

/// Throws from onEpochEnd of epoch `at`: a crash after that epoch's
/// callbacks before it.
class CrashAt : public Callback {
public:
  explicit CrashAt(int at) : at(at) {}
  void onEpochEnd(int epoch, const LogValues &) override {
    if (epoch == at)
      throw Error("simulated crash");
  }
  int at;
};

/// Records the epochs fit() runs.
class EpochLog : public Callback {
public:
  void onEpochBegin(int epoch) override { epochs.push_back(epoch); }
  std::vector<int> epochs;
};

TEST(TrainingCallbacksTest, TerminateOnNaNStopsAfterTheFirstBadBatch) {
  // A learning rate this large overflows the weights within a few steps.
  Model model = smallModel(optimizers::SGD({.learning_rate = 1e18}));
  auto log = std::make_shared<EpochLog>();
  testing::internal::CaptureStdout();
  History h = model.fit(
      inputs(), targets(),
      {.batch_size = 1,
       .epochs = 5,
       .verbose = 0,
       .shuffle = false,
       .callbacks = {std::make_shared<callbacks::TerminateOnNaN>(), log}});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find(": Invalid loss, terminating training"), std::string::npos)
      << out;
  ASSERT_EQ(h.epoch.size(), 1u) << "fit() went on after a NaN loss";
  EXPECT_FALSE(std::isfinite(h.history.at("loss")[0]));
  // The epoch ended early: fewer steps than its 8 batches.
  int batch = std::stoi(out.substr(out.find("Batch ") + 6));
  EXPECT_LT(batch, 7);

  Model strict = smallModel(optimizers::SGD({.learning_rate = 1e18}));
  std::string msg = errorOf([&] {
    strict.fit(inputs(), targets(),
               {.batch_size = 1,
                .epochs = 5,
                .verbose = 0,
                .callbacks = {std::make_shared<callbacks::TerminateOnNaN>(
                    /*raiseError=*/true)}});
  });
  EXPECT_NE(msg.find("NaN or Inf loss encountered at batch"), std::string::npos)
      << msg;
}

TEST(TrainingCallbacksTest, BackupAndRestoreResumesACrashedFit) {
  const Optimizer opt = optimizers::Adam({.learning_rate = 0.05});
  FitOptions fit{.batch_size = 4, .epochs = 5, .verbose = 0, .shuffle = true};

  Model reference = smallModel(opt);
  reference.fit(inputs(), targets(), fit);

  std::string dir = ::testing::TempDir() + "layerc_backup_test";
  std::filesystem::remove_all(dir);
  auto backup = std::make_shared<callbacks::BackupAndRestore>(dir);
  {
    Model crashed = smallModel(opt);
    FitOptions first = fit;
    first.callbacks = {backup, std::make_shared<CrashAt>(2)};
    EXPECT_EQ(errorOf([&] { crashed.fit(inputs(), targets(), first); }),
              "simulated crash");
  }
  ASSERT_TRUE(std::filesystem::exists(backup->weightsPath()));

  // A new process: fresh weights, the same fit() call with the callback.
  Model resumed = smallModel(opt);
  auto log = std::make_shared<EpochLog>();
  FitOptions again = fit;
  again.callbacks = {backup, log};
  History h = resumed.fit(inputs(), targets(), again);
  // The crash came in epoch 2's callbacks after the backup of epoch 2:
  // training resumes at epoch 3.
  EXPECT_EQ(log->epochs, (std::vector<int>{3, 4}));
  EXPECT_EQ(h.epoch, (std::vector<int>{3, 4}));
  std::vector<Tensor> want = reference.getWeights(), got = resumed.getWeights();
  for (size_t i = 0; i < want.size(); ++i)
    for (int64_t k = 0; k < want[i].numel(); ++k)
      EXPECT_NEAR(got[i].data<float>()[k], want[i].data<float>()[k], 1e-6)
          << "weight " << i << " element " << k;
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the backup outlived fit()";
}

TEST(TrainingCallbacksTest, LearningRateErrors) {
  Model scheduled = smallModel(
      optimizers::SGD({.learning_rate = schedules::CosineDecay{
                           .initial_learning_rate = 0.1, .decay_steps = 10}}));
  EXPECT_DOUBLE_EQ(scheduled.learningRate(), 0.1);
  std::string msg = errorOf([&] { scheduled.setLearningRate(0.01); });
  EXPECT_NE(msg.find("CosineDecay schedule, which cannot be set"),
            std::string::npos)
      << msg;

  auto compileWith = [](LearningRate rate) {
    smallModel(optimizers::SGD({.learning_rate = rate}));
  };
  msg = errorOf([&] {
    compileWith(schedules::PiecewiseConstantDecay{.boundaries = {10, 5},
                                                  .values = {1, 2, 3}});
  });
  EXPECT_NE(msg.find("sgd: learning_rate: PiecewiseConstantDecay: boundaries "
                     "must be finite and increasing"),
            std::string::npos)
      << msg;
  msg = errorOf([&] {
    compileWith(
        schedules::PiecewiseConstantDecay{.boundaries = {10}, .values = {1}});
  });
  EXPECT_NE(msg.find("needs one value more than boundaries"), std::string::npos)
      << msg;
  msg = errorOf(
      [&] { compileWith(schedules::ExponentialDecay{.decay_steps = 0}); });
  EXPECT_NE(msg.find("ExponentialDecay: decay_steps must be > 0"),
            std::string::npos)
      << msg;
  msg = errorOf([&] { compileWith(-0.5); });
  EXPECT_NE(msg.find("the learning rate must be finite and >= 0"),
            std::string::npos)
      << msg;

  msg = errorOf([&] { callbacks::ReduceLROnPlateau({.factor = 1.5}); });
  EXPECT_NE(msg.find("factor must be in [0, 1)"), std::string::npos) << msg;

  // A schedule read from a config names what is wrong with it.
  msg = errorOf([] {
    LearningRate::fromConfig(
        Json::parse(R"({"class_name": "CosineDecay", "config": )"
                    R"({"decay_steps": "ten"}})",
                    "test"),
        "config");
  });
  EXPECT_NE(msg.find("config: CosineDecay's decay_steps must be a number"),
            std::string::npos)
      << msg;
  msg = errorOf([] {
    LearningRate::fromConfig(
        Json::parse(R"({"class_name": "CyclicDecay", "config": {}})", "test"),
        "config");
  });
  EXPECT_NE(msg.find("unknown learning-rate schedule 'CyclicDecay'"),
            std::string::npos)
      << msg;
}

/// What the callbacks and the ahead-of-time path refuse, with messages that
/// say why.
TEST(TrainingCallbacksTest, RefusedRatesAndBackups) {
  Model model = smallModel(optimizers::SGD({.learning_rate = 0.1}));
  auto bad = std::make_shared<callbacks::LearningRateScheduler>(
      [](int, double) { return -1.0; });
  std::string msg = errorOf([&] {
    model.fit(inputs(), targets(), {.verbose = 0, .callbacks = {bad}});
  });
  EXPECT_NE(msg.find("LearningRateScheduler: the schedule returned "
                     "-1.000000 for epoch 0"),
            std::string::npos)
      << msg;

  std::string dir = ::testing::TempDir() + "layerc_corrupt_backup";
  std::filesystem::remove_all(dir);
  auto backup = std::make_shared<callbacks::BackupAndRestore>(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(backup->metadataPath()) << R"({"epoch": -3})";
  msg = errorOf([&] {
    model.fit(inputs(), targets(), {.verbose = 0, .callbacks = {backup}});
  });
  EXPECT_NE(msg.find("training_metadata.json: 'epoch' must be an integer "
                     ">= 0"),
            std::string::npos)
      << msg;
  std::filesystem::remove_all(dir);

  // layerc --train compiles the rate into train_step: a constant or
  // ExponentialDecay only.
  CompileOptions aot{.loss = "mse",
                     .optimizer = optimizers::Adam(
                         {.learning_rate = schedules::InverseTimeDecay{}})};
  msg = errorOf([&] { autodiffOptions(aot, {"dense"}); });
  EXPECT_NE(msg.find("adam: a train_step that computes its own learning "
                     "rate (ahead-of-time training) knows constants and "
                     "ExponentialDecay, not InverseTimeDecay"),
            std::string::npos)
      << msg;
  aot.optimizer = optimizers::Adam(
      {.learning_rate = schedules::ExponentialDecay{.decay_steps = 7}});
  LayerAutodiffOptions compiled = autodiffOptions(aot, {"dense"});
  EXPECT_EQ(compiled.decaySteps.value, 7.0);
  EXPECT_FALSE(compiled.learningRateInput);
}

/// A model saved with a schedule trains on with it after loadModel(), and
/// a learning rate a callback changed survives saveWeights().
TEST(TrainingCallbacksTest, LearningRatesAreSaved) {
  Model model = smallModel(optimizers::SGD(
      {.learning_rate = schedules::PolynomialDecay{
           .initial_learning_rate = 0.2, .decay_steps = 3, .cycle = true}}));
  std::string path = ::testing::TempDir() + "layerc_schedule_model.lcm";
  model.save(path);
  Model loaded = loadModel(path);
  FitOptions fit{.batch_size = 4, .epochs = 2, .verbose = 0};
  model.fit(inputs(), targets(), fit);
  loaded.fit(inputs(), targets(), fit);
  EXPECT_DOUBLE_EQ(loaded.learningRate(), model.learningRate());
  for (size_t i = 0; i < 2; ++i)
    for (int64_t k = 0; k < model.getWeights()[i].numel(); ++k)
      EXPECT_EQ(loaded.getWeights()[i].data<float>()[k],
                model.getWeights()[i].data<float>()[k]);

  Model constant = smallModel(optimizers::SGD({.learning_rate = 0.1}));
  constant.fit(inputs(), targets(), fit);
  constant.setLearningRate(0.025);
  std::string weights = ::testing::TempDir() + "layerc_lr.weights.safetensors";
  constant.saveWeights(weights);
  Model other = smallModel(optimizers::SGD({.learning_rate = 0.1}));
  other.loadWeights(weights);
  EXPECT_DOUBLE_EQ(other.learningRate(), 0.025);
}

// MeanIoU's arguments are checked, logged under its name, and kept
// through save/load (Keras's serialized form in the compile config).
TEST(TrainingCallbacksTest, MeanIoUMetric) {
  EXPECT_NE(errorOf([] {
              metrics::MeanIoU({.num_classes = 0});
            }).find("num_classes must be in [1, 4096], got 0"),
            std::string::npos);
  auto in = Input({4});
  Model model(in, layers::Dense(3, {.activation = "softmax"})(in));
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy(),
       .metrics = {"accuracy", metrics::MeanIoU({.num_classes = 3,
                                                 .ignore_class = 1,
                                                 .sparse_y_pred = false})}});
  Tensor x({6, 4}), y = Tensor::fromInts({0, 1, 2, 0, 1, 2}, {6});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = float(i % 7) / 7.0f - 0.4f;
  History h = model.fit(x, y, {.batch_size = 3, .epochs = 1, .verbose = 0});
  ASSERT_EQ(h.history.count("mean_io_u"), 1u);
  double iou = h.history.at("mean_io_u")[0];
  EXPECT_GE(iou, 0.0);
  EXPECT_LE(iou, 1.0);
  std::string path =
      (std::filesystem::temp_directory_path() / "mean_iou_test.lcm").string();
  model.save(path);
  Model again = loadModel(path);
  std::filesystem::remove(path);
  EXPECT_EQ(again.evaluate(x, y, {.verbose = 0}),
            model.evaluate(x, y, {.verbose = 0}));
}

} // namespace
