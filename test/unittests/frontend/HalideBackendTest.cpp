//===- HalideBackendTest.cpp - CompileOptions::backend
//---------------------===//
//
// predict() through the Halide backend against the LLVM backend on conv
// models (the guide's autoencoder among them): right after compile(), after
// fit() has changed the weights (the pipeline reads them at every call), and
// with trained BatchNormalization statistics; "auto" and its cache file;
// refusals.
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"
#include "guide/GuideModels.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace layerc;
using test::errorOf;

namespace {

/// The largest difference relative to the largest magnitude of `want`.
double relativeDiff(const Tensor &got, const Tensor &want) {
  EXPECT_EQ(got.shape(), want.shape());
  double diff = 0, scale = 1e-30;
  for (int64_t i = 0; i < want.numel(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(
                              got.data<float>()[i] - want.data<float>()[i])));
    scale =
        std::max(scale, static_cast<double>(std::fabs(want.data<float>()[i])));
  }
  return diff / scale;
}

CompileOptions options(const std::string &backend) {
  return {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
          .optimizer = optimizers::SGD({.learning_rate = 0.01}),
          .backend = backend};
}

/// predict() of `model` through LLVM and through Halide, compiled with
/// `compileOptions` (the backend replaced), within `tolerance`.
void expectBackendsAgree(Model &model, const Tensor &x,
                         CompileOptions compileOptions,
                         double tolerance = 1e-4) {
  compileOptions.backend = "llvm";
  model.compile(compileOptions);
  Tensor want = model.predict(x, {.batch_size = 16});
  compileOptions.backend = "halide";
  model.compile(compileOptions);
  ASSERT_EQ(model.predictBackend(), "halide");
  Tensor got = model.predict(x, {.batch_size = 16});
  EXPECT_LT(relativeDiff(got, want), tolerance) << model.name();
}

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/" + name + std::to_string(::getpid());
}

} // namespace

/// A small CNN with a residual add (the toy ResNet's ops, fewer of them:
/// the guide's models themselves go through halide.test).
Model smallResNet() {
  auto in = Input({12, 12, 3}, {.name = "img"});
  auto x = layers::Conv2D(16, 3, {.activation = "relu"})(in);
  auto block = layers::MaxPooling2D(2)(x);
  x = layers::Conv2D(16, 3, {.padding = "same", .activation = "relu"})(block);
  x = layers::add({x, block});
  x = layers::GlobalAveragePooling2D()(x);
  return Model(in, layers::Dense(10)(x), "small_resnet");
}

TEST(HalideBackendTest, AutoencoderMatchesLlvm) {
  Model encoder = guide::encoderModel();
  Model decoder = guide::decoderModel();
  auto img = Input({28, 28, 1}, {.name = "img"});
  Model autoencoder(img, decoder(encoder(img)), "autoencoder");
  expectBackendsAgree(
      autoencoder, guide::randomUniform({20, 28, 28, 1}, 2),
      {.loss = losses::MeanSquaredError(), .optimizer = optimizers::SGD()});
}

TEST(HalideBackendTest, PredictReadsTheWeightsFitWrote) {
  Model model = smallResNet();
  model.compile(options("halide"));
  Tensor x = guide::randomUniform({32, 12, 12, 3}, 3);
  Tensor before = model.predict(x);
  Tensor y({32}, DType::Int32);
  for (int64_t i = 0; i < 32; ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  Tensor after = model.predict(x);
  EXPECT_GT(relativeDiff(after, before), 1e-4); // fit changed the weights
  // The LLVM backend on the same, trained, weights.
  model.compile(options("llvm"));
  EXPECT_LT(relativeDiff(after, model.predict(x)), 1e-4);
}

TEST(HalideBackendTest, TrainedBatchNormalization) {
  auto in = Input({12, 12, 3});
  auto x = layers::Conv2D(16, 3, {.use_bias = false})(in);
  x = layers::BatchNormalization()(x);
  x = layers::Activation("relu")(x);
  x = layers::MaxPooling2D(2)(x);
  x = layers::GlobalAveragePooling2D()(x);
  Model model(in, layers::Dense(10, {.activation = "softmax"})(x), "bn");
  CompileOptions opts{.loss = losses::SparseCategoricalCrossentropy(),
                      .optimizer = optimizers::SGD({.learning_rate = 0.1})};
  model.compile(opts);
  Tensor xs = guide::randomUniform({24, 12, 12, 3}, 4);
  Tensor y({24}, DType::Int32);
  for (int64_t i = 0; i < 24; ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
  // Moving statistics and gamma/beta away from their initial values.
  model.fit(xs, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  expectBackendsAgree(model, xs, opts);
}

TEST(HalideBackendTest, OneAndThreeDimensionalWindows) {
  // Signals: strided and dilated convolutions, "same" pools (cells outside
  // skipped), upsampling, a global pool with and without its axes kept.
  auto sig = Input({20, 3}, {.name = "signal"});
  auto x = layers::Conv1D(
      16, 3, {.strides = 2, .padding = "same", .activation = "relu"})(sig);
  x = layers::AveragePooling1D(3, {.strides = 2, .padding = "same"})(x);
  x = layers::UpSampling1D(2)(x);
  x = layers::Conv1D(5, 2, {.dilation_rate = 2, .activation = "tanh"})(x);
  x = layers::MaxPooling1D(2, {.padding = "same"})(x);
  Model signals(sig, layers::GlobalAveragePooling1D()(x), "signals");
  expectBackendsAgree(signals, guide::randomUniform({6, 20, 3}, 7),
                      options(""));
  // Volumes.
  auto vol = Input({6, 7, 8, 2}, {.name = "volume"});
  auto y =
      layers::Conv3D(16, 3, {.padding = "same", .activation = "relu"})(vol);
  y = layers::MaxPooling3D(2, {.padding = "same"})(y);
  y = layers::UpSampling3D({1, 2, 1})(y);
  y = layers::Conv3D(4, 2, {.strides = {1, 2, 2}})(y);
  y = layers::AveragePooling3D(2)(y);
  Model volumes(vol, layers::GlobalMaxPooling3D({.keepdims = true})(y),
                "volumes");
  expectBackendsAgree(
      volumes, guide::randomUniform({5, 6, 7, 8, 2}, 8),
      {.loss = losses::MeanSquaredError(), .optimizer = optimizers::SGD()});
}

TEST(HalideBackendTest, RefusalsNameTheProblem) {
  auto in = Input({5, 4});
  Model rnn(in, layers::LSTM(3)(in), "rnn");
  std::string why = errorOf([&] { rnn.compile(options("halide")); });
  EXPECT_NE(why.find("Model rnn: backend 'halide': the Halide backend "
                     "cannot lower the model"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("has no Halide lowering yet"), std::string::npos) << why;
  // auto keeps LLVM and says why.
  rnn.compile(options("auto"));
  EXPECT_EQ(rnn.predictBackend(), "llvm");
  EXPECT_NE(rnn.predictBackendReason().find("cannot lower"), std::string::npos);
  EXPECT_EQ(rnn.predict(guide::randomUniform({2, 5, 4}, 5)).shape(),
            (std::vector<int64_t>{2, 3}));
  CompileOptions noBatch = options("auto");
  noBatch.backend_batch = 0;
  why = errorOf([&] { rnn.compile(noBatch); });
  EXPECT_NE(why.find("backend_batch must be at least 1, got 0"),
            std::string::npos)
      << why;
  why = errorOf([&] { rnn.compile(options("tvm")); });
  EXPECT_NE(why.find("backend 'tvm' is not llvm, halide or auto"),
            std::string::npos)
      << why;
  auto seq = Input({-1, 4});
  Model ragged(seq, layers::Dense(2)(seq), "ragged");
  why = errorOf([&] { ragged.compile(options("halide")); });
  EXPECT_NE(why.find("every input size but the batch known"), std::string::npos)
      << why;
}

TEST(HalideBackendTest, AutoKeepsItsMeasurementInTheCache) {
  std::string cache = tempPath("backend-cache");
  std::remove(cache.c_str());
  Model model = guide::encoderModel();
  CompileOptions opts = options("auto");
  opts.backend_cache = cache;
  opts.backend_batch = 8;
  model.compile(opts);
  EXPECT_NE(model.predictBackendReason().find("measured here"),
            std::string::npos)
      << model.predictBackendReason();
  std::string measured = model.predictBackend();
  // The file has one line for the model: key, backend, two times.
  std::ifstream in(cache);
  std::string header, line, rest;
  std::getline(in, header);
  std::getline(in, line);
  EXPECT_FALSE(std::getline(in, rest));
  in.close();
  EXPECT_EQ(header[0], '#');
  std::vector<std::string> fields;
  std::stringstream split(line);
  for (std::string f; std::getline(split, f, '\t');)
    fields.push_back(f);
  ASSERT_EQ(fields.size(), 4u) << line;
  EXPECT_EQ(fields[1], measured);
  // The cache decides, not a new measurement: flip its choice.
  std::string flipped = measured == "halide" ? "llvm" : "halide";
  {
    std::ofstream out(cache);
    out << "# edited\nnot a line of the cache\n"
        << fields[0] << "\t" << flipped << "\t1\t2\n";
  }
  testing::internal::CaptureStderr();
  model.compile(opts);
  std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_NE(warnings.find("line 2: not 'key<TAB>llvm|halide<TAB>ms<TAB>ms'"),
            std::string::npos)
      << warnings;
  EXPECT_EQ(model.predictBackend(), flipped);
  EXPECT_NE(model.predictBackendReason().find("from the backend cache"),
            std::string::npos);
  // Another batch is another key: measured again, and added.
  opts.backend_batch = 4;
  model.compile(opts);
  EXPECT_NE(model.predictBackendReason().find("measured here"),
            std::string::npos);
  std::ifstream again(cache);
  int lines = 0;
  for (std::string l; std::getline(again, l);)
    lines += !l.empty() && l[0] != '#';
  EXPECT_EQ(lines, 2); // the malformed line is dropped on rewrite
  // A file too large to be a cache is not read (nor allocated), and a
  // cache that cannot be written is a warning: both measure instead.
  {
    std::ofstream big(cache);
    big << std::string(2 << 20, '#');
  }
  testing::internal::CaptureStderr();
  model.compile(opts);
  warnings = testing::internal::GetCapturedStderr();
  EXPECT_NE(warnings.find("is not a readable file of at most 1 MiB"),
            std::string::npos)
      << warnings;
  EXPECT_NE(model.predictBackendReason().find("measured here"),
            std::string::npos);
  opts.backend_cache = "/nonexistent-directory/cache.txt";
  testing::internal::CaptureStderr();
  model.compile(opts);
  warnings = testing::internal::GetCapturedStderr();
  EXPECT_NE(warnings.find("backend cache: cannot write"), std::string::npos)
      << warnings;
  std::remove(cache.c_str());
}
