//===- TrainingTest.cpp - Tests of fit / evaluate / predict ---------------===//
//
// The loops run against fake TrainingPrograms whose functions are C++
// lambdas with the packed ABI: linear regression trained by SGD with
// momentum (so parameters and optimizer slots both round-trip through the
// double buffers), and a fixed "classifier" whose accuracy is known exactly.
// The lambdas also record which samples they saw, which pins down batching,
// shuffling and the validation split. The progress bar is checked against
// Keras's format with an injected clock.
//
//===----------------------------------------------------------------------===//

#include "runtime/Training.h"
#include "RuntimeTestUtil.h"
#include "runtime/ProgressBar.h"
#include "runtime/TrainingLoop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

using namespace layerc;
using layerc::test::errorOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

//===----------------------------------------------------------------------===//
// Reading packed arguments
//===----------------------------------------------------------------------===//

const int64_t *descriptor(void **args, int i) {
  return *static_cast<int64_t **>(args[i]);
}

template <typename T> T *bufferOf(void **args, int i) {
  return reinterpret_cast<T *>(descriptor(args, i)[1]);
}

int64_t batchOf(void **args, int i) { return descriptor(args, i)[3]; }

//===----------------------------------------------------------------------===//
// Linear regression: pred = x * w + b, loss = mean((pred - y)^2)
//===----------------------------------------------------------------------===//

/// What the fake functions observed.
struct Trace {
  std::vector<float> trainX, evalX;
  std::vector<float> steps;
  bool aliased = false;
};

constexpr float kLearningRate = 0.2f, kMomentum = 0.5f;

/// Writes predictions and returns the mean squared error; with `grads`,
/// also the gradients of w and b.
float forward(void **args, int64_t n, float w, float b, float *pred,
              float grads[2] = nullptr) {
  const float *x = bufferOf<float>(args, 0), *y = bufferOf<float>(args, 1);
  float loss = 0, gw = 0, gb = 0;
  for (int64_t i = 0; i < n; ++i) {
    pred[i] = x[i] * w + b;
    float e = pred[i] - y[i];
    loss += e * e / n;
    gw += 2 * e * x[i] / n;
    gb += 2 * e / n;
  }
  if (grads) {
    grads[0] = gw;
    grads[1] = gb;
  }
  return loss;
}

// train_step(x, y, w, b, vw, vb, step) -> (loss, pred, w', b', vw', vb')
void linearTrainStep(Trace &trace, void **args) {
  int64_t n = batchOf(args, 0);
  const float *x = bufferOf<float>(args, 0);
  trace.trainX.insert(trace.trainX.end(), x, x + n);
  trace.steps.push_back(*bufferOf<float>(args, 6));
  float w = *bufferOf<float>(args, 2), b = *bufferOf<float>(args, 3);
  float grads[2];
  *bufferOf<float>(args, 7) =
      forward(args, n, w, b, bufferOf<float>(args, 8), grads);
  for (int p = 0; p < 2; ++p) {
    float v = kMomentum * *bufferOf<float>(args, 4 + p) + grads[p];
    float old = *bufferOf<float>(args, 2 + p);
    *bufferOf<float>(args, 11 + p) = v;
    *bufferOf<float>(args, 9 + p) = old - kLearningRate * v;
    trace.aliased |=
        bufferOf<float>(args, 2 + p) == bufferOf<float>(args, 9 + p);
  }
}

// evaluate(x, y, w, b) -> (loss, pred)
void linearEvaluate(Trace &trace, void **args) {
  int64_t n = batchOf(args, 0);
  const float *x = bufferOf<float>(args, 0);
  trace.evalX.insert(trace.evalX.end(), x, x + n);
  *bufferOf<float>(args, 4) =
      forward(args, n, *bufferOf<float>(args, 2), *bufferOf<float>(args, 3),
              bufferOf<float>(args, 5));
}

// predict(x, w, b) -> (pred)
void linearPredict(void **args) {
  int64_t n = batchOf(args, 0);
  const float *x = bufferOf<float>(args, 0);
  float w = *bufferOf<float>(args, 1), b = *bufferOf<float>(args, 2);
  float *pred = bufferOf<float>(args, 3);
  for (int64_t i = 0; i < n; ++i)
    pred[i] = x[i] * w + b;
}

TrainingProgram linearProgram(Trace &trace) {
  BufferSpec x{"x", DType::Float32, {kDynamic, 1}};
  BufferSpec y{"y", DType::Float32, {kDynamic, 1}};
  BufferSpec w{"w", DType::Float32, {1, 1}}, b{"b", DType::Float32, {1}};
  BufferSpec vw{"vw", DType::Float32, {1, 1}}, vb{"vb", DType::Float32, {1}};
  BufferSpec step{"step", DType::Float32, {}};
  BufferSpec loss{"loss", DType::Float32, {}};
  BufferSpec pred{"pred", DType::Float32, {kDynamic, 1}};
  TrainingProgram p;
  p.numParams = 2;
  p.numStates = 2;
  p.trainStep = {"train_step",
                 {x, y, w, b, vw, vb, step},
                 {loss, pred, w, b, vw, vb},
                 [&trace](void **a) { linearTrainStep(trace, a); }};
  p.evaluate = {"evaluate", {x, y, w, b}, {loss, pred}, [&trace](void **a) {
                  linearEvaluate(trace, a);
                }};
  p.predict = {"predict", {x, w, b}, {pred}, linearPredict};
  return p;
}

/// Samples of y = 2x + 1 with x = 0, 0.1, 0.2, ...
void makeLine(int64_t n, Tensor &x, Tensor &y) {
  x = Tensor({n, 1});
  y = Tensor({n, 1});
  for (int64_t i = 0; i < n; ++i) {
    x.data<float>()[i] = 0.1f * i;
    y.data<float>()[i] = 0.2f * i + 1;
  }
}

TrainingState linearState() {
  TrainingState s;
  s.params = {Tensor({1, 1}), Tensor({1})};
  return s;
}

class TrainingTest : public ::testing::Test {
protected:
  void SetUp() override { makeLine(10, x, y); }

  Trace trace;
  TrainingProgram program = linearProgram(trace);
  TrainingState state = linearState();
  Tensor x, y;
};

TEST_F(TrainingTest, LossDecreasesAndParamsKeepTheirStorage) {
  const void *wStorage = state.params[0].rawData();
  FitOptions options;
  options.batch_size = 4; // 3 steps per epoch: an odd number of swaps
  options.epochs = 25;
  options.verbose = 0;
  History h = fit(program, state, {x}, {y}, options);
  ASSERT_EQ(h.history["loss"].size(), 25u);
  EXPECT_LT(h.history["loss"].back(), 0.05 * h.history["loss"].front());
  EXPECT_EQ(state.params[0].rawData(), wStorage);
  EXPECT_NEAR(state.params[0].data<float>()[0], 2.0, 0.3);
  EXPECT_NEAR(state.params[1].data<float>()[0], 1.0, 0.2);
  EXPECT_NE(state.states[0].data<float>()[0], 0.0f);
  EXPECT_EQ(state.iterations, 75);
  ASSERT_EQ(trace.steps.size(), 75u);
  EXPECT_EQ(trace.steps.front(), 1.0f);
  EXPECT_EQ(trace.steps.back(), 75.0f);
  EXPECT_FALSE(trace.aliased);
  // A second fit continues the step count and the same storage.
  options.epochs = 1;
  fit(program, state, {x}, {y}, options);
  EXPECT_EQ(trace.steps.back(), 78.0f);
  EXPECT_EQ(state.params[0].rawData(), wStorage);
}

TEST_F(TrainingTest, ValidationSplitTakesTheLastSamples) {
  FitOptions options;
  options.batch_size = 3;
  options.epochs = 3;
  options.verbose = 0;
  options.validation_split = 0.25; // floor(10 * 0.25) = 2 samples
  History h = fit(program, state, {x}, {y}, options);
  EXPECT_THAT(h.epoch, ElementsAre(0, 1, 2));
  ASSERT_EQ(h.history.size(), 2u);
  EXPECT_EQ(h.history["loss"].size(), 3u);
  EXPECT_EQ(h.history["val_loss"].size(), 3u);
  ASSERT_EQ(trace.trainX.size(), 24u);
  for (float v : trace.trainX)
    EXPECT_LT(v, 0.75f);
  float x8 = x.data<float>()[8], x9 = x.data<float>()[9];
  EXPECT_THAT(trace.evalX, ElementsAre(x8, x9, x8, x9, x8, x9));
  // 3 steps per epoch leave the latest weights in the second buffer set;
  // validation must still see them.
  EvaluateOptions eval;
  eval.verbose = 0;
  std::vector<double> after =
      evaluate(program, state, {x.slice(8, 10)}, {y.slice(8, 10)}, eval);
  EXPECT_DOUBLE_EQ(after[0], h.history["val_loss"].back());
}

TEST_F(TrainingTest, ShufflingIsSeededAndPerEpoch) {
  FitOptions options;
  options.batch_size = 4;
  options.verbose = 0;
  options.shuffle = false;
  fit(program, state, {x}, {y}, options);
  std::vector<float> ordered(x.data<float>(), x.data<float>() + 10);
  EXPECT_EQ(trace.trainX, ordered);

  options.shuffle = true;
  options.epochs = 2;
  trace.trainX.clear();
  fit(program, state, {x}, {y}, options);
  std::vector<float> first = trace.trainX;
  trace.trainX.clear();
  fit(program, state, {x}, {y}, options);
  EXPECT_EQ(trace.trainX, first);
  std::vector<float> epoch0(first.begin(), first.begin() + 10);
  std::vector<float> epoch1(first.begin() + 10, first.end());
  EXPECT_NE(epoch0, ordered);
  EXPECT_NE(epoch0, epoch1);
  std::sort(epoch1.begin(), epoch1.end());
  EXPECT_EQ(epoch1, ordered);
}

TEST_F(TrainingTest, EvaluateWeightsByBatchSize) {
  EvaluateOptions options;
  options.batch_size = 4;
  options.verbose = 0;
  state.params[1].data<float>()[0] = 1; // pred = 1, error = -0.2 * i
  std::vector<double> r = evaluate(program, state, {x}, {y}, options);
  ASSERT_EQ(r.size(), 1u);
  double expected = 0;
  for (int i = 0; i < 10; ++i)
    expected += 0.04 * i * i / 10;
  EXPECT_NEAR(r[0], expected, 1e-5);
}

TEST_F(TrainingTest, PredictConcatenatesBatches) {
  state.params[0].data<float>()[0] = 3;
  state.params[1].data<float>()[0] = -1;
  PredictOptions options;
  options.batch_size = 3;
  std::vector<Tensor> out = predict(program, state, {x}, options);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{10, 1}));
  for (int i = 0; i < 10; ++i)
    EXPECT_NEAR(out[0].data<float>()[i], 3 * x.data<float>()[i] - 1, 1e-6);
}

TEST_F(TrainingTest, MismatchedInputsAreReported) {
  FitOptions options;
  options.verbose = 0;
  Tensor shortY({9, 1});
  EXPECT_EQ(errorOf([&] { fit(program, state, {x}, {shortY}, options); }),
            "fit: y[0] has 9 samples but x[0] has 10");
  EXPECT_EQ(errorOf([&] { fit(program, state, {x}, {}, options); }),
            "fit: expected 1 target tensors (y) but got 0");
  Tensor wide({10, 2});
  EXPECT_EQ(errorOf([&] { fit(program, state, {wide}, {y}, options); }),
            "train_step: argument 'x' expects (None, 1) float32 but got "
            "(10, 2) float32");
  options.validation_split = 1.0;
  EXPECT_THAT(errorOf([&] { fit(program, state, {x}, {y}, options); }),
              HasSubstr("validation_split must be in [0, 1)"));
  options.validation_split = 0;
  options.batch_size = 0;
  EXPECT_THAT(errorOf([&] { fit(program, state, {x}, {y}, options); }),
              HasSubstr("batch_size must be positive"));
  state.params.pop_back();
  EXPECT_EQ(errorOf([&] { predict(program, state, {x}, {}); }),
            "predict: expected 2 parameter tensors but got 1");
}

//===----------------------------------------------------------------------===//
// A fixed classifier: logits are one-hot of round(x); loss is 1 - accuracy
//===----------------------------------------------------------------------===//

void classify(void **args, int outArg) {
  int64_t n = batchOf(args, 0);
  const float *x = bufferOf<float>(args, 0);
  float *logits = bufferOf<float>(args, outArg);
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      logits[3 * i + c] = c == static_cast<int>(x[i]) ? 1.0f : 0.0f;
}

float labelLoss(void **args, int64_t n) {
  const float *x = bufferOf<float>(args, 0);
  const int32_t *y = bufferOf<int32_t>(args, 1);
  float wrong = 0;
  for (int64_t i = 0; i < n; ++i)
    wrong += static_cast<int>(x[i]) != y[i];
  return wrong / n;
}

TrainingProgram classifierProgram() {
  BufferSpec x{"x", DType::Float32, {kDynamic, 1}};
  BufferSpec y{"y", DType::Int32, {kDynamic}};
  BufferSpec step{"step", DType::Float32, {}};
  BufferSpec loss{"loss", DType::Float32, {}};
  BufferSpec logits{"logits", DType::Float32, {kDynamic, 3}};
  TrainingProgram p;
  p.metrics = {{"accuracy", MetricKind::SparseCategoricalAccuracy}};
  p.trainStep = {"train_step", {x, y, step}, {loss, logits}, [](void **a) {
                   *bufferOf<float>(a, 3) = labelLoss(a, batchOf(a, 0));
                   classify(a, 4);
                 }};
  p.evaluate = {"evaluate", {x, y}, {loss, logits}, [](void **a) {
                  *bufferOf<float>(a, 2) = labelLoss(a, batchOf(a, 0));
                  classify(a, 3);
                }};
  p.predict = {"predict", {x}, {logits}, [](void **a) { classify(a, 1); }};
  return p;
}

class ClassifierTest : public ::testing::Test {
protected:
  TrainingProgram program = classifierProgram();
  TrainingState state;
  // Inputs 0 1 2 0 1 2 0 1; labels wrong at samples 1 and 7.
  Tensor x = Tensor::fromFloats({0, 1, 2, 0, 1, 2, 0, 1}, {8, 1});
  Tensor labels =
      Tensor::fromInts({0, 2, 2, 0, 1, 2, 0, 0}, {8}).astype(DType::UInt8);
};

TEST_F(ClassifierTest, AccuracyAndLabelConversion) {
  FitOptions options;
  options.batch_size = 3;
  options.epochs = 2;
  options.verbose = 0;
  options.validation_split = 0.25; // samples 6 and 7: one right, one wrong
  History h = fit(program, state, {x}, {labels}, options);
  EXPECT_EQ(h.history.size(), 4u);
  EXPECT_THAT(h.history["accuracy"], ElementsAre(5.0 / 6, 5.0 / 6));
  EXPECT_THAT(h.history["val_accuracy"], ElementsAre(0.5, 0.5));
  EXPECT_NEAR(h.history["loss"][0], 1.0 / 6, 1e-6);
  EXPECT_NEAR(h.history["val_loss"][0], 0.5, 1e-6);

  EvaluateOptions eval;
  eval.verbose = 0;
  eval.batch_size = 5;
  std::vector<double> r =
      evaluate(program, state, {x}, {labels.astype(DType::Int64)}, eval);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NEAR(r[0], 0.25, 1e-6);
  EXPECT_DOUBLE_EQ(r[1], 0.75);
}

TEST_F(ClassifierTest, LabelsOutOfRangeAreReported) {
  FitOptions options;
  options.verbose = 0;
  Tensor bad = Tensor::fromInts({0, 1, 5, 0, 1, 2, 0, 1}, {8});
  EXPECT_EQ(errorOf([&] { fit(program, state, {x}, {bad}, options); }),
            "fit: y[0] holds label 5 at index 2, outside [0, 3) for the 3 "
            "classes of output 'logits'");
  EXPECT_THAT(
      errorOf([&] { fit(program, state, {x}, {x.reshape({8})}, options); }),
      HasSubstr("y[0] is float32 but the model expects int32 labels"));
}

//===----------------------------------------------------------------------===//
// Progress output
//===----------------------------------------------------------------------===//

class ProgressBarTest : public ::testing::Test {
protected:
  ProgressBar bar(int64_t target, int verbose) {
    return ProgressBar(target, verbose, os, [this] { return now; });
  }

  std::ostringstream os;
  double now = 0;
  LogValues values{{"loss", 0.5123}, {"accuracy", 0.8211}};
};

TEST_F(ProgressBarTest, VerboseOneRedrawsOneLine) {
  ProgressBar b = bar(750, 1);
  now = 0.5;
  b.update(375, values);
  now = 0.52; // within 50 ms of the last redraw: skipped
  b.update(400, values);
  now = 1.2;
  b.update(750, values, /*finalize=*/true);
  std::string suffix = " - loss: 0.5123 - accuracy: 0.8211";
  EXPECT_EQ(os.str(), "\r375/750 [" + std::string(14, '=') + ">" +
                          std::string(15, '.') + "] - ETA: 0s" + suffix +
                          "\r750/750 [" + std::string(30, '=') +
                          "] - 1s 2ms/step" + suffix + "\n");
}

TEST_F(ProgressBarTest, ShorterLinesArePaddedAndEtaFormats) {
  ProgressBar b = bar(10000, 1);
  now = 1;
  b.update(1, {{"loss", 0.0005}});
  EXPECT_EQ(os.str(), "\r    1/10000 [" + std::string(30, '.') +
                          "] - ETA: 2:46:39 - loss: 5.0000e-04");
  os.str("");
  now = 2;
  b.update(9000, {});
  std::string line = "\r 9000/10000 [" + std::string(26, '=') + ">" +
                     std::string(3, '.') + "] - ETA: 0s";
  // Padded to the 78 characters of the previous line.
  EXPECT_EQ(os.str(), line + std::string(78 - (line.size() - 1), ' '));
}

TEST_F(ProgressBarTest, VerboseTwoPrintsOneSummaryLine) {
  ProgressBar b = bar(750, 2);
  now = 0.5;
  b.update(375, values);
  EXPECT_EQ(os.str(), "");
  now = 1.2;
  b.update(750, values, /*finalize=*/true);
  EXPECT_EQ(os.str(), "750/750 - 1s - loss: 0.5123 - accuracy: 0.8211 - "
                      "1s/epoch - 2ms/step\n");
}

TEST_F(ProgressBarTest, TimePerUnitFormats) {
  EXPECT_EQ(ProgressBar::formatTimePerUnit(2.4, "epoch"), "2s/epoch");
  EXPECT_EQ(ProgressBar::formatTimePerUnit(0.0132, "step"), "13ms/step");
  EXPECT_EQ(ProgressBar::formatTimePerUnit(0.00064, "step"), "640us/step");
  EXPECT_EQ(ProgressBar::formatTimePerUnit(0, "step"), "0s/step");
}

TEST_F(ProgressBarTest, SilentWhenVerboseIsZero) {
  ProgressBar b = bar(3, 0);
  b.update(3, values, /*finalize=*/true);
  EXPECT_EQ(os.str(), "");
}

/// Captures std::cout, where fit() and evaluate() print.
class CoutCapture {
public:
  CoutCapture() : old(std::cout.rdbuf(buffer.rdbuf())) {}
  ~CoutCapture() { std::cout.rdbuf(old); }
  std::string str() const { return buffer.str(); }

private:
  std::ostringstream buffer;
  std::streambuf *old;
};

TEST_F(TrainingTest, FitPrintsKerasStyleLogs) {
  FitOptions options;
  options.batch_size = 4;
  options.epochs = 2;
  options.verbose = 2;
  options.validation_split = 0.2;
  std::string out;
  {
    CoutCapture capture;
    fit(program, state, {x}, {y}, options);
    out = capture.str();
  }
  std::regex line(
      R"(2/2 - 0s - loss: \d+\.\d{4} - val_loss: \d+\.\d{4}e?-?\d* )"
      R"(- \d+[um]?s/epoch - \d+[um]s/step\n)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("^Epoch 1/2\n"))) << out;
  std::string rest = out.substr(10);
  ASSERT_TRUE(std::regex_search(rest, m, line)) << out;
  EXPECT_EQ(m.position(0), 0);
  EXPECT_THAT(out, HasSubstr("\nEpoch 2/2\n"));

  options.verbose = 1;
  options.epochs = 1;
  {
    CoutCapture capture;
    fit(program, state, {x}, {y}, options);
    out = capture.str();
  }
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(\r2/2 \[={30}\] - 0s \d+[um]s/step - loss: )"
                      R"(\S+ - val_loss: \S+\n$)")))
      << out;

  EvaluateOptions eval;
  eval.verbose = 2;
  {
    CoutCapture capture;
    evaluate(program, state, {x}, {y}, eval);
    out = capture.str();
  }
  EXPECT_TRUE(std::regex_search(
      out,
      std::regex(
          R"(^1/1 - 0s - loss: \S+ - \d+[um]?s/epoch - \d+[um]s/step\n$)")))
      << out;
}

// MeanIoU's confusion matrix: ids outside [0, num_classes) and the ignored
// class are left out; a class with no target and no prediction does not
// count in the mean.
TEST(MeanIoUTest, CountsAndMean) {
  Metric m{"iou", MetricKind::MeanIoU, 0};
  m.numClasses = 3;
  m.ignoreClass = 2;
  detail::MetricState state(m);
  Tensor truth = Tensor::fromInts({0, 1, 2, 1, 0}, {5});
  Tensor pred = Tensor::fromFloats({0.2f, 1.0f, 1.0f, 0.0f, 3.5f}, {5});
  detail::accumulateMetric("evaluate", m, pred, truth, state);
  // Pairs (truth, prediction) kept: (0, 0), (1, 1), (1, 0): class 0 has
  // IoU 1 / 2, class 1 1 / 2, class 2 none.
  EXPECT_NEAR(state.value(m), 0.5, 1e-6);

  m.sparsePred = false; // scores: their argmax per row
  detail::MetricState scores(m);
  Tensor rows =
      Tensor::fromFloats({0.9f, 0.1f, 0.0f, 0.2f, 0.7f, 0.1f}, {2, 3});
  detail::accumulateMetric("evaluate", m, rows, Tensor::fromInts({0, 1}, {2}),
                           scores);
  EXPECT_NEAR(scores.value(m), 1.0, 1e-6);
  EXPECT_THAT(errorOf([&] {
                detail::accumulateMetric("evaluate", m, rows,
                                         Tensor::fromInts({0, 1, 2}, {3}),
                                         scores);
              }),
              HasSubstr("metric 'iou' compares 2 predicted class ids"));
}

} // namespace
