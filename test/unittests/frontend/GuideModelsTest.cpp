//===- GuideModelsTest.cpp - The functional-API guide's models ------------===//
//
// The encoder, decoder, autoencoder and toy ResNet of Keras's functional-API
// guide, built with layerc's API: their summaries give the guide's
// parameter counts and output shapes, they compile and predict, their
// configs round-trip exactly, and misuse is refused at call time with the
// layer's name and both shapes (Keras's input-spec checks).
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

using namespace layerc;
using test::errorOf;
using test::summaryOf;

namespace {

struct Autoencoder {
  SymbolicTensor input, encoded, decoded;
};

/// The guide's first autoencoder: one graph, two models.
Autoencoder buildAutoencoder() {
  auto img = Input({28, 28, 1}, {.name = "img"});
  auto x = layers::Conv2D(16, 3, {.activation = "relu"})(img);
  x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
  x = layers::MaxPooling2D(3)(x);
  x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
  x = layers::Conv2D(16, 3, {.activation = "relu"})(x);
  auto encoded = layers::GlobalMaxPooling2D()(x);
  x = layers::Reshape({4, 4, 1})(encoded);
  x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
  x = layers::Conv2DTranspose(32, 3, {.activation = "relu"})(x);
  x = layers::UpSampling2D(3)(x);
  x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
  auto decoded = layers::Conv2DTranspose(1, 3, {.activation = "relu"})(x);
  return {img, encoded, decoded};
}

Model toyResNet() { return guide::toyResNet(); }

Tensor randomTensor(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(rng);
  return t;
}

TEST(GuideModelsTest, EncoderDecoderAndAutoencoderSummaries) {
  Autoencoder ae = buildAutoencoder();
  Model encoder(ae.input, ae.encoded, "encoder");
  Model autoencoder(ae.input, ae.decoded, "autoencoder");
  std::string enc = summaryOf(encoder);
  EXPECT_CONTAINS(enc, "Model: \"encoder\"");
  // Keras 3's table (76 columns where stdout is not a terminal).
  EXPECT_CONTAINS(enc, "│ (None, 26, 26, 16)     │           160 │\n");
  EXPECT_CONTAINS(enc, "│ (None, 24, 24, 32)     │         4,640 │\n");
  EXPECT_CONTAINS(enc, "│ max_pooling2d (MaxPooling2D)    │ (None, 8, 8, 32)"
                       "       │             0 │\n");
  EXPECT_CONTAINS(enc, "│ (None, 4, 4, 16)       │         4,624 │\n");
  // A cell too long for its column wraps at the space, as rich wraps it.
  EXPECT_CONTAINS(enc, "│ global_max_pooling2d            │ (None, 16)"
                       "             │             0 │\n"
                       "│ (GlobalMaxPooling2D)            │"
                       "                        │               │\n");
  EXPECT_CONTAINS(enc, " Total params: 18,672 (72.94 KB)\n");
  std::string all = summaryOf(autoencoder);
  EXPECT_CONTAINS(all, "│ conv2d_transpose                │ (None, 6, 6, 16)"
                       "       │           160 │\n"
                       "│ (Conv2DTranspose)               │");
  EXPECT_CONTAINS(all, "│ up_sampling2d (UpSampling2D)    │ "
                       "(None, 24, 24, 32)     │             0 │\n");
  EXPECT_CONTAINS(all, "│ (None, 28, 28, 1)      │           145 │\n");
  EXPECT_CONTAINS(all, " Total params: 28,241 (110.32 KB)\n");
  // The encoder's layers are the autoencoder's: one set of weights.
  EXPECT_EQ(encoder.layers()[1].get(), autoencoder.layers()[1].get());

  Tensor images = randomTensor({2, 28, 28, 1}, 7);
  Tensor codes = encoder.predict(images);
  EXPECT_EQ(codes.shape(), (std::vector<int64_t>{2, 16}));
  Tensor rebuilt = autoencoder.predict(images);
  EXPECT_EQ(rebuilt.shape(), (std::vector<int64_t>{2, 28, 28, 1}));
  for (int64_t i = 0; i < rebuilt.numel(); ++i)
    ASSERT_TRUE(std::isfinite(rebuilt.data<float>()[i]) &&
                rebuilt.data<float>()[i] >= 0.0f); // relu output
}

TEST(GuideModelsTest, StandaloneDecoderSummary) {
  auto decoderInput = Input({16}, {.name = "encoded_img"});
  auto x = layers::Reshape({4, 4, 1})(decoderInput);
  x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
  x = layers::Conv2DTranspose(32, 3, {.activation = "relu"})(x);
  x = layers::UpSampling2D(3)(x);
  x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
  auto out = layers::Conv2DTranspose(1, 3, {.activation = "relu"})(x);
  Model decoder(decoderInput, out, "decoder");
  std::string text = summaryOf(decoder);
  EXPECT_CONTAINS(text, "│ (None, 4, 4, 1)        │             0 │\n");
  EXPECT_CONTAINS(text, "│ (None, 8, 8, 32)       │         4,640 │\n");
  EXPECT_CONTAINS(text, "│ (None, 26, 26, 16)     │         4,624 │\n");
  EXPECT_CONTAINS(text, " Total params: 9,569 (37.38 KB)\n");
}

TEST(GuideModelsTest, ToyResNetSummaryPredictAndConfig) {
  Model model = toyResNet();
  std::string text = summaryOf(model);
  // Not a chain: the "Connected to" column; a cell wraps at its spaces and
  // a word longer than its column ends in "…".
  EXPECT_CONTAINS(text,
                  "┃ Layer (type)        ┃ Output Shape      ┃    Param # "
                  "┃ Connected to      ┃\n");
  EXPECT_CONTAINS(text,
                  "│ img (InputLayer)    │ (None, 32, 32, 3) │          0 "
                  "│ -                 │\n");
  EXPECT_CONTAINS(text, "│ (None, 30, 30,    │        896 │");
  // Names depend on the layers made before (Keras's global counters).
  auto name = [&](size_t i) { return model.layers()[i]->name(); };
  auto cell = [](std::string text, size_t width) {
    text.resize(std::max(text.size(), width), ' ');
    return text;
  };
  std::string addName = name(6);
  ASSERT_EQ(addName.rfind("add", 0), 0u);
  EXPECT_CONTAINS(text, "│ " + cell(addName + " (Add)", 19) +
                            " │ (None, 9, 9, 64)  │          0 │ " +
                            cell(name(5) + "[0][0],", 17) + " │\n");
  EXPECT_CONTAINS(text,
                  "│ (None, 256)       │     16,640 │ global_average_p… │\n");
  EXPECT_CONTAINS(text, " Total params: 223,242 (872.04 KB)\n");
  Tensor y = model.predict(randomTensor({3, 32, 32, 3}, 11));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{3, 10}));

  // get_config -> from_config -> the same model; with copied weights, the
  // same predictions bit for bit.
  Model rebuilt = Model::fromConfig(model.getConfig());
  EXPECT_EQ(rebuilt.getConfig().dump(), model.getConfig().dump());
  EXPECT_EQ(summaryOf(rebuilt), text);
  rebuilt.setWeights(model.getWeights());
  Tensor x = randomTensor({2, 32, 32, 3}, 5);
  Tensor a = model.predict(x), b = rebuilt.predict(x);
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]);
}

TEST(GuideModelsTest, MisuseNamesTheLayerAndTheShapes) {
  std::string msg =
      errorOf([] { layers::Conv2D(8, 3, {.name = "conv"})(Input({784})); });
  EXPECT_EQ(msg, "Input 0 of layer \"conv\" is incompatible with the layer: "
                 "expected ndim=4, found ndim=2. Full shape received: "
                 "(None, 784)");

  msg = errorOf([] {
    auto a = Input({9, 9, 64});
    auto b = Input({9, 9, 32});
    layers::add({a, b}, "add_blocks");
  });
  EXPECT_CONTAINS(msg, "add_blocks");
  EXPECT_CONTAINS(msg, "(None, 9, 9, 64)");
  EXPECT_CONTAINS(msg, "(None, 9, 9, 32)");

  msg = errorOf([] {
    layers::Conv2D(8, 5, {.name = "big"})(Input({3, 3, 1}));
  });
  EXPECT_CONTAINS(msg, "Input 0 of layer \"big\"");
  EXPECT_CONTAINS(msg, "larger than the input");
  EXPECT_CONTAINS(msg, "(None, 3, 3, 1)");

  msg = errorOf([] {
    layers::concatenate({Input({4, 8}), Input({5, 8})}, -1, "cat");
  });
  EXPECT_CONTAINS(msg, "cat");
  EXPECT_CONTAINS(msg, "(None, 4, 8)");
  EXPECT_CONTAINS(msg, "(None, 5, 8)");

  msg = errorOf([] { layers::Embedding(10, 4, {.name = "emb"})(Input({5})); });
  EXPECT_CONTAINS(msg, "\"emb\" has dtype float32");

  msg =
      errorOf([] { layers::Conv2D(8, 3, {.strides = 2, .dilation_rate = 2}); });
  EXPECT_CONTAINS(msg, "strides > 1 are not supported together with "
                       "dilation_rate > 1");
  msg = errorOf([] { layers::Conv2D(8, {3, 3, 3}); });
  EXPECT_CONTAINS(msg, "kernel_size must be an integer or a tuple of 2");
  msg = errorOf([] {
    layers::Conv2DTranspose(8, 3, {.strides = 2, .output_padding = 2});
  });
  EXPECT_CONTAINS(msg, "must be smaller than the strides");
  msg = errorOf([] { layers::LSTM(8, {.name = "lstm"})(Input({16})); });
  EXPECT_EQ(msg, "Input 0 of layer \"lstm\" is incompatible with the layer: "
                 "expected ndim=3, found ndim=2. Full shape received: "
                 "(None, 16)");
  msg = errorOf([] {
    layers::ConvLSTM2D(4, 3, {.name = "clstm"})(Input({5, 8, 8}));
  });
  EXPECT_CONTAINS(msg, "\"clstm\"");
  EXPECT_CONTAINS(msg, "expected ndim=5, found ndim=4");
  msg = errorOf([] { layers::subtract({Input({3}), Input({3}), Input({3})}); });
  EXPECT_CONTAINS(msg, "exactly 2 inputs");
}

TEST(GuideModelsTest, EmbeddingOutOfRangeGivesZeros) {
  auto ids = Input({4}, {.dtype = DType::Int32});
  auto emb = layers::Embedding(3, 2);
  Model model(ids, emb(ids), "lookup");
  Tensor table = Tensor::fromFloats({1, 2, 3, 4, 5, 6}, {3, 2});
  emb->setWeights({table});
  Tensor y = model.predict(Tensor::fromInts({0, 2, 3, -1}, {1, 4}));
  std::vector<float> got(y.data<float>(), y.data<float>() + y.numel());
  EXPECT_EQ(got, (std::vector<float>{1, 2, 5, 6, 0, 0, 0, 0}));
}

TEST(GuideModelsTest, SequencesOfAnyLength) {
  // Keras's Input(shape=(None,)) for variable-length token sequences:
  // predict() compiles one program per sequence length it is given.
  auto tokens = Input({-1}, {.name = "tokens", .dtype = DType::Int32});
  auto emb = layers::Embedding(50, 4);
  auto x = emb(tokens);
  auto pooled = layers::GlobalAveragePooling1D()(x);
  auto seq = layers::LSTM(3, {.return_sequences = true})(x);
  Model model({tokens}, {pooled, seq}, "bag_of_words");
  EXPECT_EQ(x.shapeString(), "(None, None, 4)");
  EXPECT_EQ(pooled.shapeString(), "(None, 4)");
  EXPECT_EQ(seq.shapeString(), "(None, None, 3)");
  Tensor table = emb->getWeights()[0];
  for (int64_t len : {3, 7, 3}) {
    std::vector<int32_t> ids(2 * len);
    for (int64_t i = 0; i < 2 * len; ++i)
      ids[i] = static_cast<int32_t>((7 * i) % 50);
    std::vector<Tensor> ys =
        model.predict(std::vector<Tensor>{Tensor::fromInts(ids, {2, len})});
    ASSERT_EQ(ys[0].shape(), (std::vector<int64_t>{2, 4}));
    ASSERT_EQ(ys[1].shape(), (std::vector<int64_t>{2, len, 3}));
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t f = 0; f < 4; ++f) {
        double mean = 0;
        for (int64_t t = 0; t < len; ++t)
          mean += table.data<float>()[ids[b * len + t] * 4 + f];
        EXPECT_NEAR(ys[0].data<float>()[b * 4 + f], mean / len, 1e-6);
      }
  }
  // Such a model trains too, one program per sequence length; predict
  // then still takes any length.
  model.compile({.loss = "mean_squared_error"});
  std::vector<int32_t> ids(8 * 5);
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<int32_t>((3 * i) % 50);
  History h = model.fit({Tensor::fromInts(ids, {8, 5})},
                        {randomTensor({8, 4}, 1), randomTensor({8, 5, 3}, 2)},
                        {.batch_size = 4, .epochs = 1, .verbose = 0});
  EXPECT_TRUE(std::isfinite(h.history.at("loss")[0]));
  EXPECT_EQ(model
                .predict(std::vector<Tensor>{Tensor::fromInts(
                    std::vector<int32_t>(2 * 9, 1), {2, 9})})[1]
                .shape(),
            (std::vector<int64_t>{2, 9, 3}));
}

TEST(GuideModelsTest, AutoencoderTrainsOnFashionMnist) {
  // The guide's autoencoder reconstructs Fashion-MNIST images: a few steps
  // of Adam on MSE bring the loss below the loss of predicting the mean
  // image (the first-order baseline).
  auto data = datasets::fashion_mnist::loadData();
  const int64_t n = 256;
  Tensor x =
      data.xTrain.slice(0, n).reshape({n, 28, 28, 1}).astype(DType::Float32) /
      255.0;
  setRandomSeed(3);
  Autoencoder ae = buildAutoencoder();
  Model model(ae.input, ae.decoded, "autoencoder");
  CompileOptions options;
  options.loss = "mean_squared_error";
  options.optimizer = "adam";
  options.optimizer.learning_rate = 3e-3;
  model.compile(options);
  double before = model.evaluate(x, x, {.verbose = 0})[0];
  History h = model.fit(x, x, {.batch_size = 32, .epochs = 6, .verbose = 0});
  double after = model.evaluate(x, x, {.verbose = 0})[0];
  // The baseline: the MSE of predicting every pixel's mean.
  std::vector<double> mean(784, 0.0);
  const float *px = x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 784; ++j)
      mean[j] += px[i * 784 + j] / n;
  double baseline = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 784; ++j)
      baseline += (px[i * 784 + j] - mean[j]) * (px[i * 784 + j] - mean[j]);
  baseline /= n * 784.0;
  EXPECT_LT(after, before);
  EXPECT_LT(after, baseline)
      << "before " << before << ", baseline " << baseline;
  EXPECT_EQ(h.history.at("loss").size(), 6u);
}

/// Fashion-MNIST images [first, first + n) as the toy ResNet's 32x32 RGB
/// input: each 28x28 image padded by 2 pixels and repeated in 3 channels.
Tensor fashionAs32x32x3(const Tensor &images, int64_t first, int64_t n) {
  Tensor out({n, 32, 32, 3});
  const uint8_t *src = images.data<uint8_t>() + first * 28 * 28;
  float *dst = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c)
        for (int ch = 0; ch < 3; ++ch)
          dst[((i * 32 + r + 2) * 32 + c + 2) * 3 + ch] =
              src[(i * 28 + r) * 28 + c] / 255.0f;
  return out;
}

TEST(GuideModelsTest, ToyResNetBeatsChanceOnFashionMnist) {
  // The guide trains the toy ResNet on CIFAR-10, which Debian does not
  // ship; Fashion-MNIST (padded to 32x32, grey in 3 channels) stands in.
  // Two epochs on 4,096 images, with dropout active: every op (same
  // padding, max pooling, residual adds, global average pooling, dropout)
  // backpropagates, and held-out accuracy is far above the 10% of chance.
  setRandomSeed(21);
  Model model = toyResNet();
  CompileOptions options;
  options.loss = Loss("sparse_categorical_crossentropy", true);
  options.optimizer = "rmsprop";
  options.metrics = {"accuracy"};
  model.compile(options);
  auto data = datasets::fashion_mnist::loadData();
  const int64_t n = 4096, held = 1000;
  Tensor x = fashionAs32x32x3(data.xTrain, 0, n);
  Tensor y = data.yTrain.slice(0, n);
  History h = model.fit(x, y, {.batch_size = 32, .epochs = 2, .verbose = 0});
  for (double l : h.history.at("loss"))
    EXPECT_TRUE(std::isfinite(l));
  EXPECT_LT(h.history.at("loss")[1], h.history.at("loss")[0]);
  std::vector<double> scores =
      model.evaluate(fashionAs32x32x3(data.xTest, 0, held),
                     data.yTest.slice(0, held), {.verbose = 0});
  std::printf("toy ResNet on Fashion-MNIST: loss %.4f -> %.4f, held-out "
              "accuracy %.3f\n",
              h.history.at("loss")[0], h.history.at("loss")[1], scores[1]);
  // 0.65 here; 0.5 (five times chance) leaves room for other CPUs.
  EXPECT_GT(scores[1], 0.5) << "held-out accuracy " << scores[1];
}

TEST(GuideModelsTest, TicketModelTrainsOnRandomData) {
  // The guide's multi-input, multi-output model (here with fixed sequence
  // lengths: training needs every size but the batch) trains on the
  // guide's kind of random data: embeddings and LSTMs backpropagate
  // through time, the loss (summed over both outputs) falls.
  setRandomSeed(11);
  const int64_t n = 64, numWords = 1000, numTags = 12;
  auto title = Input({10}, {.name = "title", .dtype = DType::Int32});
  auto body = Input({20}, {.name = "body", .dtype = DType::Int32});
  auto tags = Input({numTags}, {.name = "tags"});
  auto t = layers::LSTM(16)(layers::Embedding(numWords, 8)(title));
  auto bd = layers::GRU(8)(layers::Embedding(numWords, 8)(body));
  auto x = layers::concatenate({t, bd, tags});
  auto priority = layers::Dense(1, {.name = "priority"})(x);
  auto department = layers::Dense(4, {.name = "department"})(x);
  Model model({title, body, tags}, {priority, department}, "ticket");
  CompileOptions options;
  options.loss = "mean_squared_error";
  options.optimizer = "adam";
  options.optimizer.learning_rate = 1e-2;
  model.compile(options);

  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> word(0, numWords - 1);
  std::vector<int32_t> ti(n * 10), bo(n * 20);
  for (int32_t &v : ti)
    v = word(rng);
  for (int32_t &v : bo)
    v = word(rng);
  std::vector<Tensor> xs{Tensor::fromInts(ti, {n, 10}),
                         Tensor::fromInts(bo, {n, 20}),
                         randomTensor({n, numTags}, 2).reshape({n, numTags})};
  // Targets: the guide's random priorities and departments.
  Tensor pr = randomTensor({n, 1}, 3).reshape({n, 1});
  Tensor dep({n, 4});
  for (int64_t i = 0; i < n; ++i)
    dep.data<float>()[i * 4 + i % 4] = 1.0f;
  History h =
      model.fit(xs, {pr, dep}, {.batch_size = 16, .epochs = 4, .verbose = 0});
  const std::vector<double> &loss = h.history.at("loss");
  ASSERT_EQ(loss.size(), 4u);
  for (double l : loss)
    EXPECT_TRUE(std::isfinite(l));
  EXPECT_LT(loss.back(), loss.front());
  std::vector<double> eval = model.evaluate(xs, {pr, dep}, {.verbose = 0});
  EXPECT_TRUE(std::isfinite(eval[0]));
}

} // namespace

namespace {

/// The guide's ticket model as the guide builds it (titles and bodies of
/// any length, shape (None,)) trains with inputs and targets by name; a
/// later fit with other lengths compiles another program that takes over
/// the optimizer state.
TEST(GuideModelsTest, TicketModelTrainsOnSequencesOfAnyLength) {
  setRandomSeed(13);
  Model model = guide::ticketModel({.numWords = 1000});
  CompileOptions options;
  options.losses_by_name = {
      {"priority", losses::BinaryCrossentropy({.from_logits = true})},
      {"department", losses::CategoricalCrossentropy({.from_logits = true})}};
  options.loss_weights = {1.0, 0.2};
  options.optimizer = optimizers::RMSprop({.learning_rate = 1e-3});
  model.compile(options);
  const int64_t n = 64;
  Tensor tags = randomTensor({n, 12}, 1);
  Tensor department({n, 4});
  for (int64_t i = 0; i < n; ++i)
    department.data<float>()[i * 4 + i % 4] = 1.0f;
  NamedTensors targets{{"priority", randomTensor({n, 1}, 2)},
                       {"department", department}};
  History h =
      model.fit(NamedTensors{{"title", guide::randomTokens(n, 10, 1000, 3)},
                             {"body", guide::randomTokens(n, 30, 1000, 4)},
                             {"tags", tags}},
                targets, {.batch_size = 16, .epochs = 2, .verbose = 0});
  const std::vector<double> &loss = h.history.at("loss");
  ASSERT_EQ(loss.size(), 2u);
  EXPECT_LT(loss[1], loss[0]);
  EXPECT_EQ(h.history.count("department_loss"), 1u);

  // Other lengths: another program, the same weights and optimizer state.
  NamedTensors shorter{{"title", guide::randomTokens(n, 4, 1000, 5)},
                       {"body", guide::randomTokens(n, 9, 1000, 6)},
                       {"tags", tags}};
  History again = model.fit(shorter, targets,
                            {.batch_size = 16, .epochs = 1, .verbose = 0});
  EXPECT_TRUE(std::isfinite(again.history.at("loss")[0]));
  std::vector<double> eval = model.evaluate(shorter, targets, {.verbose = 0});
  EXPECT_EQ(eval.size(), 3u);
  // Saved after 12 steps, the optimizer state says so.
  std::string path = ::testing::TempDir() + "/ticket_any_length.lcm";
  model.save(path);
  SafeTensorsFile file = loadSafeTensors(path);
  EXPECT_EQ(file.metadata.at("iterations"), "12");
  std::remove(path.c_str());
}

} // namespace
