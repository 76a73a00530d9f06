//===- DatasetTest.cpp - fit / evaluate / predict on a data::Dataset ------===//
//
// The batches a Dataset is asked for (order, the last partial one, the
// shuffle of each epoch from the seed), results equal bit for bit to the
// same calls on tensors, the prefetch thread's errors and early ends, and
// the "learning_rate" that Keras's learning-rate callbacks log.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>

using namespace layerc;
using layerc::test::errorOf;

namespace {

/// Input(3) -> Dense(2), the same weights every time.
Model smallModel(
    const Optimizer &opt = optimizers::SGD({.learning_rate = 0.1})) {
  auto x = Input({3});
  Model model(x, layers::Dense(2, {.name = "dense"})(x), "small");
  model.setWeights(
      {Tensor::fromFloats({0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f}, {3, 2}),
       Tensor::fromFloats({0.05f, -0.05f}, {2})});
  model.compile({.loss = "mse", .optimizer = opt, .metrics = {"mae"}});
  return model;
}

Tensor inputs(int n = 8) {
  std::vector<float> v;
  for (int i = 0; i < 3 * n; ++i)
    v.push_back(std::sin(0.7f * float(i)));
  return Tensor::fromFloats(v, {n, 3});
}

Tensor targets(int n = 8) {
  std::vector<float> v;
  for (int i = 0; i < 2 * n; ++i)
    v.push_back(std::cos(0.3f * float(i)));
  return Tensor::fromFloats(v, {n, 2});
}

/// A TensorDataset that records the indices of every get(), throws at
/// call `failAt` (counting from 0) when set, and counts the calls running.
class RecordingDataset : public data::Dataset {
public:
  RecordingDataset(Tensor x, Tensor y, int failAt = -1)
      : inner(std::move(x), std::move(y)), failAt(failAt) {}
  int64_t size() const override { return inner.size(); }
  data::Batch get(const std::vector<int64_t> &indices) const override {
    ++running;
    struct Leave {
      std::atomic<int> &count;
      ~Leave() { --count; }
    } leave{running};
    size_t call;
    {
      std::lock_guard<std::mutex> lock(mutex);
      calls.push_back(indices);
      call = calls.size() - 1;
    }
    if (int(call) == failAt)
      throw Error("bad sample file");
    return inner.get(indices);
  }
  std::vector<std::vector<int64_t>> recorded() const {
    std::lock_guard<std::mutex> lock(mutex);
    return calls;
  }
  mutable std::atomic<int> running{0};

private:
  data::TensorDataset inner;
  int failAt;
  mutable std::mutex mutex;
  mutable std::vector<std::vector<int64_t>> calls;
};

void expectSameWeights(const Model &a, const Model &b) {
  std::vector<Tensor> wa = a.getWeights(), wb = b.getWeights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i)
    for (int64_t j = 0; j < wa[i].numel(); ++j)
      ASSERT_EQ(wa[i].data<float>()[j], wb[i].data<float>()[j])
          << i << "," << j;
}

/// Sets stopTraining after batch `at` of the first epoch.
class StopAtBatch : public Callback {
public:
  explicit StopAtBatch(int at) : at(at) {}
  void onTrainBatchEnd(int batch, const LogValues &) override {
    stopTraining = batch == at;
  }
  int at;
};

} // namespace

TEST(DatasetTest, BatchesInOrderWithThePartialLastOne) {
  Model model = smallModel();
  RecordingDataset ds(inputs(), targets());
  model.fit(ds, {.batch_size = 3, .epochs = 2, .verbose = 0, .shuffle = false});
  using Idx = std::vector<int64_t>;
  std::vector<Idx> epoch = {{0, 1, 2}, {3, 4, 5}, {6, 7}};
  std::vector<Idx> want = epoch;
  want.insert(want.end(), epoch.begin(), epoch.end());
  EXPECT_EQ(ds.recorded(), want);
}

TEST(DatasetTest, ShuffleFromTheSeedReshuffledEachEpoch) {
  auto orders = [](uint64_t seed) {
    Model model = smallModel();
    RecordingDataset ds(inputs(16), targets(16));
    model.fit(ds, {.batch_size = 16, .epochs = 3, .verbose = 0, .seed = seed});
    return ds.recorded();
  };
  std::vector<std::vector<int64_t>> a = orders(7), b = orders(7);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a[0], a[1]);
  EXPECT_NE(a[1], a[2]);
  EXPECT_NE(orders(8), a);
  for (std::vector<int64_t> order : a) {
    std::sort(order.begin(), order.end());
    std::vector<int64_t> all(16);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(order, all);
  }
}

TEST(DatasetTest, FitEqualsFitOnTensorsBitForBit) {
  Tensor x = inputs(10), y = targets(10), xv = inputs(4), yv = targets(4);
  for (bool shuffle : {false, true})
    for (int prefetch : {0, 1, 3}) {
      SCOPED_TRACE("shuffle " + std::to_string(shuffle) + ", prefetch " +
                   std::to_string(prefetch));
      Model a = smallModel(), b = smallModel();
      FitOptions options{.batch_size = 3,
                         .epochs = 3,
                         .verbose = 0,
                         .shuffle = shuffle,
                         .validation_data = ValidationData{{xv}, {yv}},
                         .prefetch = prefetch};
      History ha = a.fit(x, y, options);
      options.validation_data = ValidationData{
          .dataset = std::make_shared<data::TensorDataset>(xv, yv)};
      History hb = b.fit(data::TensorDataset(x, y), options);
      EXPECT_EQ(ha.epoch, hb.epoch);
      EXPECT_EQ(ha.history, hb.history);
      EXPECT_EQ(hb.history.count("val_mae"), 1u);
      expectSameWeights(a, b);

      data::TensorDataset test(xv, yv);
      EXPECT_EQ(
          a.evaluate(xv, yv, {.batch_size = 3, .verbose = 0}),
          b.evaluate(test,
                     {.batch_size = 3, .verbose = 0, .prefetch = prefetch}));
      Tensor pa = a.predict(xv, {.batch_size = 3});
      Tensor pb =
          b.predict(test, {.batch_size = 3, .prefetch = prefetch}).front();
      ASSERT_EQ(pa.shape(), pb.shape());
      for (int64_t i = 0; i < pa.numel(); ++i)
        EXPECT_EQ(pa.data<float>()[i], pb.data<float>()[i]);
    }
}

TEST(DatasetTest, AnErrorLoadingABatchEndsFitWithIt) {
  for (int prefetch : {0, 2}) {
    Model model = smallModel();
    std::vector<Tensor> before = model.getWeights();
    RecordingDataset ds(inputs(), targets(), /*failAt=*/4);
    FitOptions options{.batch_size = 2,
                       .epochs = 3,
                       .verbose = 0,
                       .shuffle = false,
                       .prefetch = prefetch};
    EXPECT_EQ(errorOf([&] { model.fit(ds, options); }), "bad sample file");
    EXPECT_EQ(ds.running, 0);
    // The 4 batches of epoch 0 trained; the model goes on training.
    EXPECT_NE(model.getWeights()[1].data<float>()[0],
              before[1].data<float>()[0]);
    data::TensorDataset good(inputs(), targets());
    EXPECT_EQ(model.fit(good, options).epoch.size(), 3u);
  }
}

TEST(DatasetTest, StoppingEarlyJoinsTheThread) {
  // A callback stopping after batch 1 of 8 (two were asked for, and at most
  // `prefetch` more).
  Model model = smallModel();
  RecordingDataset ds(inputs(16), targets(16));
  History h = model.fit(ds, {.batch_size = 2,
                             .epochs = 5,
                             .verbose = 0,
                             .shuffle = false,
                             .callbacks = {std::make_shared<StopAtBatch>(1)},
                             .prefetch = 2});
  EXPECT_EQ(h.epoch, std::vector<int>{0});
  size_t asked = ds.recorded().size();
  EXPECT_GE(asked, 2u);
  EXPECT_LE(asked, 5u);
  EXPECT_EQ(ds.running, 0);

  // EarlyStopping at an epoch's end; TerminateOnNaN within one.
  Model other = smallModel();
  RecordingDataset again(inputs(16), targets(16));
  h = other.fit(again,
                {.batch_size = 4,
                 .epochs = 50,
                 .verbose = 0,
                 .callbacks = {std::make_shared<callbacks::EarlyStopping>(
                     callbacks::EarlyStoppingOptions{.monitor = "loss",
                                                     .min_delta = 1e9})}});
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1}));
  Model diverging = smallModel(optimizers::SGD({.learning_rate = 1e30}));
  h = diverging.fit(
      data::TensorDataset(inputs(16), targets(16)),
      {.batch_size = 2,
       .epochs = 3,
       .verbose = 0,
       .callbacks = {std::make_shared<callbacks::TerminateOnNaN>()}});
  EXPECT_EQ(h.epoch, std::vector<int>{0});
}

TEST(DatasetTest, Errors) {
  Model model = smallModel();
  data::TensorDataset ds(inputs(), targets());
  EXPECT_EQ(
      errorOf([&] { model.fit(ds, {.verbose = 0, .validation_split = 0.25}); }),
      "fit: validation_split needs tensors; give a dataset "
      "validation_data instead");
  EXPECT_EQ(errorOf([&] { model.fit(ds, {.verbose = 0, .prefetch = -1}); }),
            "fit: prefetch must be >= 0 (got -1)");
  EXPECT_EQ(errorOf([&] { data::TensorDataset(inputs(8), targets(7)); }),
            "TensorDataset: y[0] has 7 samples but x[0] has 8");
  EXPECT_EQ(errorOf([&] { ds.get({8}); }),
            "TensorDataset: sample 8 is outside [0, 8)");

  /// A dataset that gives one sample too many.
  class Greedy : public data::Dataset {
  public:
    int64_t size() const override { return 8; }
    data::Batch get(const std::vector<int64_t> &) const override {
      return {{inputs(3)}, {targets(3)}};
    }
  };
  EXPECT_EQ(
      errorOf([&] { model.fit(Greedy(), {.batch_size = 2, .verbose = 0}); }),
      "fit: the dataset gave 3 samples for a batch of 2");
  // The inputs are checked as Model::fit checks tensors.
  EXPECT_NE(errorOf([&] {
              model.fit(data::TensorDataset(Tensor({4, 5}), targets(4)),
                        {.verbose = 0});
            }).find("expects shape (None, 3)"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// The "learning_rate" of History
//===----------------------------------------------------------------------===//

namespace {

/// Records the logs every onEpochEnd sees.
class LogRecorder : public Callback {
public:
  void onEpochEnd(int, const LogValues &logs) override { seen.push_back(logs); }
  std::vector<LogValues> seen;
};

} // namespace

TEST(DatasetTest, LearningRateCallbacksLogTheRate) {
  Tensor x = inputs(), y = targets();
  // Keras's History has "learning_rate" only with these callbacks.
  Model plain = smallModel();
  EXPECT_EQ(plain.fit(x, y, {.batch_size = 4, .epochs = 2, .verbose = 0})
                .history.count("learning_rate"),
            0u);

  // LearningRateScheduler: the rate each epoch trained with (Keras's
  // float32 variable), seen by the callbacks after it.
  Model scheduled = smallModel(optimizers::SGD({.learning_rate = 0.2}));
  auto before = std::make_shared<LogRecorder>();
  auto after = std::make_shared<LogRecorder>();
  auto halve = std::make_shared<callbacks::LearningRateScheduler>(
      [](int epoch, double rate) { return epoch > 0 ? rate * 0.5 : rate; });
  History h = scheduled.fit(x, y,
                            {.batch_size = 4,
                             .epochs = 3,
                             .verbose = 0,
                             .callbacks = {before, halve, after}});
  std::vector<double> want = {double(0.2f), double(0.1f), double(0.05f)};
  EXPECT_EQ(h.history.at("learning_rate"), want);
  ASSERT_EQ(after->seen.size(), 3u);
  EXPECT_EQ(after->seen[1].back(),
            (std::pair<std::string, double>{"learning_rate", double(0.1f)}));
  for (const LogValues &logs : before->seen)
    for (const auto &entry : logs)
      EXPECT_NE(entry.first, "learning_rate");

  // ReduceLROnPlateau logs the rate before it reduces it: the loss
  // improves on epoch 0 only (min_delta), so the rate halves after epochs
  // 1 and 2.
  auto reducer = [] {
    return std::make_shared<callbacks::ReduceLROnPlateau>(
        callbacks::ReduceLROnPlateauOptions{
            .monitor = "loss", .factor = 0.5, .patience = 0, .min_delta = 1e9});
  };
  Model plateau = smallModel(optimizers::SGD({.learning_rate = 0.2}));
  FitOptions options{.batch_size = 4, .epochs = 3, .verbose = 0};
  options.callbacks = {reducer()};
  h = plateau.fit(data::TensorDataset(x, y), options);
  want = {double(0.2f), double(0.2f), double(0.1f)};
  EXPECT_EQ(h.history.at("learning_rate"), want);
  EXPECT_DOUBLE_EQ(plateau.learningRate(), 0.05);

  // With both, the key is there once: the latest callback's value.
  Model both = smallModel(optimizers::SGD({.learning_rate = 0.2}));
  auto last = std::make_shared<LogRecorder>();
  options.callbacks = {halve, reducer(), last};
  h = both.fit(x, y, options);
  want = {double(0.2f), double(0.1f), double(0.025f)};
  EXPECT_EQ(h.history.at("learning_rate"), want);
  for (const LogValues &logs : last->seen)
    EXPECT_EQ(std::count_if(logs.begin(), logs.end(),
                            [](const auto &entry) {
                              return entry.first == "learning_rate";
                            }),
              1);
}
