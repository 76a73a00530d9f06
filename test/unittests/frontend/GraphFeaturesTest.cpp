//===- GraphFeaturesTest.cpp - The functional API's graph features --------===//
//
// Keras's functional-API guide beyond single models: several models over
// one graph, models called like layers (nesting, ensembling), shared
// layers, layer.input / layer.output, custom layers traced from ops::
// primitives, config round trips, and the checks made while a graph is
// defined. Numbers are checked against plain C++ loops over the weights.
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"
#include "guide/CustomLayers.h"
#include "guide/GuideModels.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

using namespace layerc;
using test::errorOf;
using test::summaryOf;

namespace {

Tensor randomTensor(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(rng);
  return t;
}

void expectNear(const Tensor &a, const Tensor &b, float tol) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], tol) << "at " << i;
}

Model makeEncoder() { return guide::encoderModel(); }
Model makeDecoder() { return guide::decoderModel(); }

TEST(GraphFeaturesTest, NestedModelsShareWeightsAndShowAsFunctional) {
  Model encoder = makeEncoder();
  Model decoder = makeDecoder();
  auto input = Input({28, 28, 1}, {.name = "img"});
  Model autoencoder(input, decoder(encoder(input)), "autoencoder");
  std::string text = summaryOf(autoencoder);
  EXPECT_CONTAINS(text, "│ encoder (Functional)            │ (None, 16)"
                        "             │        18,672 │\n");
  EXPECT_CONTAINS(text, "│ decoder (Functional)            │ (None, 28, 28, 1)"
                        "      │         9,569 │\n");
  EXPECT_CONTAINS(text, " Total params: 28,241 (110.32 KB)\n");
  EXPECT_EQ(autoencoder.layers().size(), 3u);
  EXPECT_EQ(autoencoder.getWeights().size(), 16u);

  // The nested model is the composition, and shares the weights.
  Tensor x = randomTensor({2, 28, 28, 1}, 3);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = std::fabs(x.data<float>()[i]);
  Tensor direct = decoder.predict(encoder.predict(x));
  Tensor nested = autoencoder.predict(x);
  expectNear(nested, direct, 1e-5f);
  // Changing the decoder's last layer changes the autoencoder.
  auto last = decoder.layers().back();
  std::vector<Tensor> w = last->getWeights();
  for (int64_t i = 0; i < w[1].numel(); ++i)
    w[1].data<float>()[i] += 0.5f;
  last->setWeights(w);
  Model again(input, decoder(encoder(input)), "autoencoder_2");
  expectNear(again.predict(x), decoder.predict(encoder.predict(x)), 1e-5f);

  // get_config -> from_config keeps the nesting; copied weights give the
  // same predictions.
  Model rebuilt = Model::fromConfig(autoencoder.getConfig());
  EXPECT_EQ(summaryOf(rebuilt), summaryOf(autoencoder));
  EXPECT_EQ(rebuilt.getConfig().dump(), autoencoder.getConfig().dump());
  rebuilt.setWeights(again.getWeights());
  expectNear(rebuilt.predict(x), again.predict(x), 0.0f);
}

TEST(GraphFeaturesTest, EnsembleAveragesThreeModels) {
  auto makeModel = [] {
    auto in = Input({128});
    return Model(in, layers::Dense(1)(in));
  };
  Model m1 = makeModel(), m2 = makeModel(), m3 = makeModel();
  auto in = Input({128});
  Model ensemble(in, layers::average({m1(in), m2(in), m3(in)}), "ensemble");
  EXPECT_EQ(ensemble.countParams(), 3 * 129);
  Tensor x = randomTensor({4, 128}, 9);
  Tensor a = m1.predict(x), b = m2.predict(x), c = m3.predict(x);
  Tensor want({4, 1});
  for (int64_t i = 0; i < 4; ++i)
    want.data<float>()[i] =
        (a.data<float>()[i] + b.data<float>()[i] + c.data<float>()[i]) / 3;
  expectNear(ensemble.predict(x), want, 1e-5f);
}

TEST(GraphFeaturesTest, SharedLayerHasOneWeightAndTwoNodes) {
  auto embedding = layers::Embedding(1000, 128);
  auto textA = Input({-1}, {.dtype = DType::Int32});
  auto textB = Input({-1}, {.dtype = DType::Int32});
  auto a = embedding(textA), b = embedding(textB);
  EXPECT_EQ(embedding->numNodes(), 2u);
  EXPECT_EQ(embedding->weights().size(), 1u);
  Model model({textA, textB}, {a, b}, "shared");
  EXPECT_EQ(model.countParams(), 128000);
  std::string text = summaryOf(model);
  EXPECT_CONTAINS(text, "Connected to");
  // Both calls' inbound tensors in the row of the one layer.
  EXPECT_CONTAINS(text, "│ " + textA.node()->layer->name() + "[0");
  EXPECT_CONTAINS(text, "│ " + textB.node()->layer->name() + "[0");
  // layer.output is ambiguous for a layer called twice, as in Keras.
  EXPECT_CONTAINS(errorOf([&] { embedding->output(); }),
                  "has multiple inbound nodes");
  EXPECT_EQ(embedding->outputAt(1)[0].node(), b.node());
  EXPECT_EQ(embedding->inputAt(0)[0].node(), textA.node());

  // Both calls read the one table.
  Tensor ids({1, 3}, DType::Int32);
  ids.data<int32_t>()[0] = 5, ids.data<int32_t>()[1] = 7,
  ids.data<int32_t>()[2] = 5;
  std::vector<Tensor> out = model.predict({ids, ids});
  expectNear(out[0], out[1], 0.0f);
  const float *table = embedding->weights()[0].value.data<float>();
  for (int j = 0; j < 128; ++j)
    ASSERT_EQ(out[0].data<float>()[128 + j], table[7 * 128 + j]);
}

TEST(GraphFeaturesTest, FeatureExtractionFromLayerOutputs) {
  auto in = Input({8});
  auto h = layers::Dense(6, {.activation = "relu"})(in);
  auto h2 = layers::Dense(4, {.activation = "tanh"})(h);
  Model base(in, layers::Dense(2)(h2), "base");
  std::vector<SymbolicTensor> features;
  for (const auto &layer : base.layers())
    features.push_back(layer->output());
  Model extractor({base.input()}, features, "extractor");
  Tensor x = randomTensor({3, 8}, 4);
  std::vector<Tensor> all = extractor.predict(std::vector<Tensor>{x});
  ASSERT_EQ(all.size(), 4u);
  expectNear(all[0], x, 0.0f);
  expectNear(all[3], base.predict(x), 1e-6f);
  EXPECT_EQ(all[1].shape(), (std::vector<int64_t>{3, 6}));
  EXPECT_CONTAINS(errorOf([] { layers::Dense(3)->output(); }),
                  "has never been called");
}

/// x @ w + b with plain loops.
Tensor denseReference(const Tensor &x, const Tensor &w, const Tensor &b) {
  int64_t n = x.shape()[0], k = x.shape()[1], m = w.shape()[1];
  Tensor y({n, m});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double s = b.data<float>()[j];
      for (int64_t p = 0; p < k; ++p)
        s += double(x.data<float>()[i * k + p]) * w.data<float>()[p * m + j];
      y.data<float>()[i * m + j] = static_cast<float>(s);
    }
  return y;
}

TEST(GraphFeaturesTest, CustomDenseTracesOpsAndRoundTrips) {
  auto inputs = Input({4});
  auto layer = std::make_shared<guide::CustomDense>(10);
  Model model(inputs, (*layer)(inputs), "custom");
  EXPECT_EQ(model.countParams(), 4 * 10 + 10);
  EXPECT_CONTAINS(summaryOf(model), " (CustomDense)");
  Tensor x = randomTensor({5, 4}, 12);
  std::vector<Tensor> w = layer->getWeights();
  expectNear(model.predict(x), denseReference(x, w[0], w[1]), 1e-5f);

  Model rebuilt = Model::fromConfig(
      model.getConfig(), {{"CustomDense", guide::CustomDense::fromConfig}});
  EXPECT_EQ(summaryOf(rebuilt), summaryOf(model));
  rebuilt.setWeights(model.getWeights());
  expectNear(rebuilt.predict(x), model.predict(x), 0.0f);
  EXPECT_CONTAINS(errorOf([&] { Model::fromConfig(model.getConfig()); }),
                  "unknown layer class 'CustomDense'");
}

TEST(GraphFeaturesTest, CustomRNNWithAFunctionalClassifier) {
  auto in = Input({-1, 32});
  auto pooled = layers::GlobalAveragePooling1D()(in);
  Model classifier(in, layers::Dense(1)(pooled), "classifier");
  auto rnn = std::make_shared<guide::CustomRNN>(32, classifier.asLayer());
  std::vector<int64_t> seen;
  rnn->onFeatures = [&](const std::vector<int64_t> &s) { seen = s; };
  Tensor x = randomTensor({1, 10, 5}, 2);
  Tensor y = (*rnn)(x);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 10, 32}));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(rnn->numNodes(), 0u); // an eager call leaves no node

  // The recurrence by hand from the weights.
  auto weightsOf = [](const std::shared_ptr<Layer> &l) {
    return l->getWeights();
  };
  std::vector<std::shared_ptr<Layer>> owners = rnn->weightLayers();
  ASSERT_EQ(owners.size(), 3u); // projection_1, projection_2, classifier dense
  auto p1 = weightsOf(owners[0]), p2 = weightsOf(owners[1]),
       cls = weightsOf(owners[2]);
  Tensor state({1, 32});
  std::vector<float> mean(32, 0.0f);
  for (int t = 0; t < 10; ++t) {
    Tensor xt({1, 5});
    for (int i = 0; i < 5; ++i)
      xt.data<float>()[i] = x.data<float>()[t * 5 + i];
    Tensor h = denseReference(xt, p1[0], p1[1]);
    Tensor s = denseReference(state, p2[0], p2[1]);
    for (int j = 0; j < 32; ++j) {
      float v = std::tanh(h.data<float>()[j]) + std::tanh(s.data<float>()[j]);
      state.data<float>()[j] = v;
      mean[j] += v / 10;
    }
  }
  double want = cls[1].data<float>()[0];
  for (int j = 0; j < 32; ++j)
    want += mean[j] * cls[0].data<float>()[j];
  EXPECT_NEAR(y.data<float>()[0], want, 1e-4);
}

TEST(GraphFeaturesTest, CustomRNNInAModelWithStaticBatchShape) {
  auto inputs = Input({10, 5}, {.batch_size = 16});
  auto x = layers::Conv1D(32, 3)(inputs);
  auto rnn = std::make_shared<guide::CustomRNN>(32, layers::Dense(1).get());
  Model model(inputs, (*rnn)(x), "static_batch");
  EXPECT_EQ(model.output().shape(), (std::vector<int64_t>{16, 8, 1}));
  EXPECT_CONTAINS(summaryOf(model), "│ (16, 10, 5) ");
  Tensor y = model.predict(randomTensor({16, 10, 5}, 8), {.batch_size = 16});
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{16, 8, 1}));
  // The state's zeros need the batch size: an unknown one is refused.
  auto dynamic = Input({10, 5});
  EXPECT_CONTAINS(errorOf([&] {
                    std::make_shared<guide::CustomRNN>(32,
                                                       layers::Dense(1).get())
                        ->apply({dynamic});
                  }),
                  "ops.zeros: the shape (None, 32) is not static");
}

TEST(GraphFeaturesTest, DefinitionErrorsNameTheLayers) {
  // Graph disconnected: the missing input is named.
  auto a = Input({4}, {.name = "a"});
  auto b = Input({4}, {.name = "b"});
  auto sum = layers::add({a, layers::Dense(4, {.name = "proj"})(b)});
  EXPECT_EQ(errorOf([&] { Model(a, sum, "m"); }),
            "Model m: graph disconnected: cannot obtain value for tensor b of "
            "shape (None, 4) at layer \"proj\"; it is not among the inputs");
  // Wrong number of inputs.
  EXPECT_EQ(
      errorOf([&] {
        layers::Dense(3, {.name = "d2"})(std::vector<SymbolicTensor>{a, b});
      }),
      "Layer \"d2\" (Dense) expects 1 input, but it received 2 inputs");
  Model two({a, b}, {sum}, "two");
  EXPECT_CONTAINS(errorOf([&] { two(a); }),
                  "Layer \"two\" (Functional) expects 2 inputs, but it "
                  "received 1 input");
  // Two layers with one name.
  auto x = Input({4});
  auto y = layers::Dense(4, {.name = "same"})(x);
  auto z = layers::Dense(4, {.name = "same"})(y);
  EXPECT_CONTAINS(errorOf([&] { Model(x, z); }),
                  "the layer name \"same\" is used by more than one layer");
  // A layer calling itself from call() would be a cycle.
  struct SelfCalling : Layer {
    SelfCalling() : Layer("SelfCalling", "loop") {}
    std::string className() const override { return "SelfCalling"; }
    std::vector<SymbolicTensor>
    call(const std::vector<SymbolicTensor> &in) override {
      return apply(in);
    }
  };
  auto loop = std::make_shared<SelfCalling>();
  EXPECT_CONTAINS(errorOf([&] { loop->apply({x}); }),
                  "Layer \"loop\" is called inside its own call()");
  // Nested model with an incompatible input.
  Model enc = makeEncoder();
  EXPECT_CONTAINS(errorOf([&] {
                    enc(Input({32, 32, 3}));
                  }),
                  "Input 0 of model \"encoder\" is incompatible with the "
                  "model: expected shape (None, 28, 28, 1), found shape "
                  "(None, 32, 32, 3)");
  // ops:: shape errors name the op.
  EXPECT_CONTAINS(errorOf([&] { ops::add(x, Input({5})); }),
                  "cannot broadcast (None, 5) to (None, 4)");
  EXPECT_CONTAINS(errorOf([&] {
                    ops::matmul(x, Input({3, 5}));
                  }),
                  "expects a of rank >= 2 and b of rank 2, got (None, 4) and "
                  "(None, 3, 5)");
}

TEST(GraphFeaturesTest, VGG19FeatureExtraction) {
  Model vgg19 = applications::VGG19({.weights = std::nullopt});
  EXPECT_EQ(vgg19.countParams(), 143667240);
  EXPECT_EQ(vgg19.layers().size(), 26u);
  EXPECT_CONTAINS(summaryOf(vgg19),
                  "│ block5_conv4 (Conv2D)           │ "
                  "(None, 14, 14, 512)    │     2,359,808 │\n");
  EXPECT_CONTAINS(errorOf([] { applications::VGG19({.weights = "imagenet"}); }),
                  "cannot be downloaded");

  // The guide's extractor, on the convolutional base of a small input:
  // every layer's output at once, each equal to the base model's.
  Model base =
      applications::VGG19({.include_top = false, .input_shape = {32, 32, 3}});
  EXPECT_EQ(base.countParams(), 20024384);
  std::vector<SymbolicTensor> features;
  for (const auto &layer : base.layers())
    features.push_back(layer->output());
  Model extractor({base.input()}, features, "feature_extractor");
  Tensor img = randomTensor({1, 32, 32, 3}, 21);
  for (int64_t i = 0; i < img.numel(); ++i)
    img.data<float>()[i] = std::fabs(img.data<float>()[i]);
  std::vector<Tensor> all = extractor.predict(std::vector<Tensor>{img});
  ASSERT_EQ(all.size(), 22u);
  EXPECT_EQ(all[1].shape(), (std::vector<int64_t>{1, 32, 32, 64}));
  EXPECT_EQ(all.back().shape(), (std::vector<int64_t>{1, 1, 1, 512}));
  expectNear(all.back(), base.predict(img), 1e-5f);
  // block1_conv1 by hand at one pixel: relu(sum of 3x3x3 taps + bias).
  std::vector<Tensor> w = base.getLayer("block1_conv1")->getWeights();
  for (int64_t f : {0, 17, 63}) {
    double z = w[1].data<float>()[f];
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        for (int c = 0; c < 3; ++c)
          z += img.data<float>()[((5 + dy) * 32 + (7 + dx)) * 3 + c] *
               w[0].data<float>()[(((dy + 1) * 3 + dx + 1) * 3 + c) * 64 + f];
    EXPECT_NEAR(all[1].data<float>()[(5 * 32 + 7) * 64 + f], std::max(z, 0.0),
                1e-5);
  }
}

/// True if `path` starts with the PNG signature and an IHDR of nonzero size.
bool isPng(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  unsigned char head[24] = {};
  if (!file.read(reinterpret_cast<char *>(head), sizeof head))
    return false;
  const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                      '\r', '\n', 0x1a, '\n'};
  auto be32 = [&](int at) {
    return (uint32_t(head[at]) << 24) | (uint32_t(head[at + 1]) << 16) |
           (uint32_t(head[at + 2]) << 8) | uint32_t(head[at + 3]);
  };
  return std::equal(signature, signature + 8, head) &&
         std::string(reinterpret_cast<char *>(head + 12), 4) == "IHDR" &&
         be32(16) > 0 && be32(20) > 0;
}

TEST(GraphFeaturesTest, PlotModelWritesDotAndPng) {
  Model encoder = makeEncoder();
  auto input = Input({28, 28, 1}, {.name = "img"});
  Model autoencoder(input, makeDecoder()(encoder(input)), "autoencoder");
  std::string dot = utils::modelToDot(
      autoencoder, {.show_shapes = true, .expand_nested = true});
  EXPECT_CONTAINS(dot, "subgraph cluster_");
  EXPECT_CONTAINS(dot, "label=\"encoder\"");
  EXPECT_CONTAINS(dot, "(None, 28, 28, 1)");
  EXPECT_CONTAINS(utils::modelToDot(autoencoder), "encoder: Functional");

  std::string dir = ::testing::TempDir();
  std::string png = dir + "/autoencoder.png";
  std::remove(png.c_str());
  utils::plotModel(autoencoder, png,
                   {.show_shapes = true, .expand_nested = true});
  EXPECT_TRUE(isPng(png));
  utils::plotModel(encoder, dir + "/encoder.dot");
  std::ifstream source(dir + "/encoder.dot");
  std::string first;
  std::getline(source, first);
  EXPECT_EQ(first, "digraph G {");

  // Without dot on PATH: a clear error, nothing written.
  const char *path = std::getenv("PATH");
  std::string saved = path ? path : "";
  setenv("PATH", "/nonexistent", 1);
  std::string missing = dir + "/missing.png";
  std::string msg = errorOf([&] { utils::plotModel(encoder, missing); });
  setenv("PATH", saved.c_str(), 1);
  EXPECT_CONTAINS(msg, "the Graphviz program 'dot' was not found");
  EXPECT_CONTAINS(errorOf([&] {
                    utils::plotModel(encoder, dir + "/x.png",
                                     {.rankdir = "XY"});
                  }),
                  "rankdir must be TB, LR, BT or RL");
}

/// get_config -> from_config on every model of the guide's examples: the
/// same config and summary, and with the weights copied, the same
/// predictions bit for bit.
TEST(GraphFeaturesTest, EveryGuideModelRoundTripsThroughItsConfig) {
  std::map<std::string, LayerFactory> custom{
      {"CustomDense", guide::CustomDense::fromConfig},
      {"CustomRNN", guide::CustomRNN::fromConfig}};
  std::vector<std::pair<Model, std::vector<Tensor>>> cases;
  Model encoder = guide::encoderModel(), decoder = guide::decoderModel();
  Tensor img = randomTensor({2, 28, 28, 1}, 1);
  cases.emplace_back(guide::encoderModel(), std::vector<Tensor>{img});
  auto in = Input({28, 28, 1});
  cases.emplace_back(Model(in, decoder(encoder(in)), "nested"),
                     std::vector<Tensor>{img});
  cases.emplace_back(guide::ticketModel(),
                     std::vector<Tensor>{guide::randomTokens(2, 5, 10000, 1),
                                         guide::randomTokens(2, 3, 10000, 2),
                                         randomTensor({2, 12}, 3)});
  cases.emplace_back(guide::toyResNet(),
                     std::vector<Tensor>{randomTensor({2, 32, 32, 3}, 4)});
  auto shared = layers::Embedding(100, 8);
  auto ta = Input({-1}, {.dtype = DType::Int32});
  auto tb = Input({-1}, {.dtype = DType::Int32});
  cases.emplace_back(Model({ta, tb}, {shared(ta), shared(tb)}, "shared"),
                     std::vector<Tensor>{guide::randomTokens(2, 5, 100, 7),
                                         guide::randomTokens(2, 3, 100, 8)});
  auto member = [] {
    auto x = Input({6});
    return Model(x, layers::Dense(1)(x));
  };
  Model m1 = member(), m2 = member();
  auto e = Input({6});
  cases.emplace_back(Model(e, layers::average({m1(e), m2(e)}), "ensemble"),
                     std::vector<Tensor>{randomTensor({3, 6}, 9)});
  auto a = Input({4});
  auto dense = std::make_shared<guide::CustomDense>(3);
  cases.emplace_back(Model(a, (*dense)(a), "custom_dense_model"),
                     std::vector<Tensor>{randomTensor({2, 4}, 5)});
  auto seq = Input({10, 5}, {.batch_size = 4});
  auto classifierIn = Input({-1, 8});
  Model classifier(
      classifierIn,
      layers::Dense(1)(layers::GlobalAveragePooling1D()(classifierIn)),
      "classifier");
  auto rnn = std::make_shared<guide::CustomRNN>(8, classifier.asLayer());
  cases.emplace_back(Model(seq, (*rnn)(layers::Conv1D(8, 3)(seq)), "mixed"),
                     std::vector<Tensor>{randomTensor({4, 10, 5}, 6)});
  for (auto &[model, inputs] : cases) {
    SCOPED_TRACE(model.name());
    Model rebuilt = Model::fromConfig(model.getConfig(), custom);
    EXPECT_EQ(rebuilt.getConfig().dump(), model.getConfig().dump());
    EXPECT_EQ(summaryOf(rebuilt), summaryOf(model));
    rebuilt.setWeights(model.getWeights());
    std::vector<Tensor> want = model.predict(inputs);
    std::vector<Tensor> got = rebuilt.predict(inputs);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      expectNear(got[i], want[i], 0.0f);
  }
}

} // namespace

namespace {

/// Two heads on one trunk, as the guide's ticket model.
Model twoHeads() {
  auto tags = Input({12}, {.name = "tags"});
  auto h = layers::Dense(8, {.activation = "relu"})(tags);
  auto priority = layers::Dense(1, {.name = "priority"})(h);
  auto department = layers::Dense(4, {.name = "department"})(h);
  return Model({tags}, {priority, department}, "heads");
}

TEST(GraphFeaturesTest, PerOutputLossesAndWeights) {
  setRandomSeed(5);
  Model model = twoHeads();
  CompileOptions options;
  options.losses = {losses::BinaryCrossentropy({.from_logits = true}),
                    losses::CategoricalCrossentropy({.from_logits = true})};
  options.loss_weights = {1.0, 0.2};
  options.optimizer = optimizers::SGD({.learning_rate = 0.1});
  model.compile(options);

  const int64_t n = 32;
  Tensor x = randomTensor({n, 12}, 1);
  Tensor priority = randomTensor({n, 1}, 2);
  for (int64_t i = 0; i < n; ++i)
    priority.data<float>()[i] = priority.data<float>()[i] > 0 ? 1.0f : 0.0f;
  Tensor department({n, 4});
  for (int64_t i = 0; i < n; ++i)
    department.data<float>()[i * 4 + i % 4] = 1.0f;

  // evaluate: [loss, priority_loss, department_loss], each output's loss
  // equal to Keras's formula on the predictions.
  std::vector<double> eval = model.evaluate({x}, {priority, department},
                                            {.batch_size = n, .verbose = 0});
  ASSERT_EQ(eval.size(), 3u);
  std::vector<Tensor> out = model.predict(std::vector<Tensor>{x});
  double bce = 0, cce = 0;
  for (int64_t i = 0; i < n; ++i) {
    double z = out[0].data<float>()[i], y = priority.data<float>()[i];
    bce += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
    const float *logits = out[1].data<float>() + i * 4;
    double m = *std::max_element(logits, logits + 4), sum = 0;
    for (int c = 0; c < 4; ++c)
      sum += std::exp(logits[c] - m);
    cce += -(logits[i % 4] - m - std::log(sum));
  }
  EXPECT_NEAR(eval[1], bce / n, 1e-5);
  EXPECT_NEAR(eval[2], cce / n, 1e-5);
  EXPECT_NEAR(eval[0], eval[1] + 0.2 * eval[2], 1e-5);

  // fit reports every loss under Keras's names; by name is the same as by
  // position.
  History h = model.fit({x}, {priority, department},
                        {.batch_size = 8, .epochs = 2, .verbose = 0});
  for (const char *key : {"loss", "priority_loss", "department_loss"})
    ASSERT_EQ(h.history.count(key), 1u) << key;
  EXPECT_LT(h.history.at("loss")[1], h.history.at("loss")[0]);

  Model byName = twoHeads();
  CompileOptions named;
  named.losses_by_name = {
      {"department", losses::CategoricalCrossentropy({.from_logits = true})},
      {"priority", losses::BinaryCrossentropy({.from_logits = true})}};
  named.loss_weights_by_name = {{"priority", 1.0}, {"department", 0.2}};
  byName.compile(named);
  byName.setWeights(model.getWeights());
  std::vector<double> again = byName.evaluate({x}, {priority, department},
                                              {.batch_size = n, .verbose = 0});
  std::vector<double> first = model.evaluate({x}, {priority, department},
                                             {.batch_size = n, .verbose = 0});
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(again[i], first[i], 1e-6);

  // Saved and loaded, the compile config keeps every output's loss.
  std::string path = ::testing::TempDir() + "/heads.lcm";
  model.save(path);
  Model loaded = loadModel(path);
  std::vector<double> reloaded = loaded.evaluate(
      {x}, {priority, department}, {.batch_size = n, .verbose = 0});
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(reloaded[i], first[i], 1e-6);

  // Mistakes name the outputs.
  Model bad = twoHeads();
  CompileOptions three;
  three.losses = {"mean_squared_error", "mean_squared_error",
                  "mean_squared_error"};
  EXPECT_CONTAINS(errorOf([&] { bad.compile(three); }),
                  "3 losses for the 2 outputs of the model (priority, "
                  "department)");
  CompileOptions unknown;
  unknown.losses_by_name = {{"priority", "mean_squared_error"},
                            {"dept", "mean_squared_error"}};
  EXPECT_CONTAINS(errorOf([&] { bad.compile(unknown); }),
                  "a loss is given for output 'dept', but the model has no "
                  "such output (its outputs: priority, department)");
  CompileOptions missing;
  missing.losses_by_name = {{"priority", "mean_squared_error"}};
  EXPECT_CONTAINS(errorOf([&] { bad.compile(missing); }),
                  "no loss for output 'department'");
}

} // namespace

namespace {

/// Custom layers train like built-in ones: every ops:: primitive and the
/// layers they call have gradients.
TEST(GraphFeaturesTest, CustomLayersTrain) {
  setRandomSeed(12);
  auto inputs = Input({10, 5}, {.batch_size = 8});
  auto features = layers::Conv1D(8, 3)(inputs);
  auto rnn = std::make_shared<guide::CustomRNN>(8, layers::Dense(1).get());
  auto dense = std::make_shared<guide::CustomDense>(3);
  Model model(inputs, (*dense)(layers::Flatten()((*rnn)(features))),
              "custom_training");
  model.compile({.loss = "mean_squared_error",
                 .optimizer = optimizers::Adam({.learning_rate = 1e-2})});
  Tensor x = randomTensor({64, 10, 5}, 3), y = randomTensor({64, 3}, 4);
  History h = model.fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0});
  const std::vector<double> &loss = h.history.at("loss");
  EXPECT_LT(loss.back(), loss.front());
}

/// ConvLSTM2D and BatchNormalization in one model fit; the sequence
/// length is unknown (None), so each length trains through its own
/// program, sharing the weights and the optimizer state.
TEST(GraphFeaturesTest, ConvLstmAndBatchNormTrain) {
  setRandomSeed(13);
  auto frames = Input({-1, 6, 6, 2}, {.name = "frames"});
  auto h =
      layers::ConvLSTM2D(4, 3, {.padding = "same", .name = "clstm"})(frames);
  h = layers::BatchNormalization({.name = "bn"})(h);
  h = layers::GlobalAveragePooling2D()(h);
  Model model(frames, layers::Dense(2, {.name = "out"})(h), "clstm_bn");
  model.compile(
      {.loss = "mse", .optimizer = optimizers::Adam({.learning_rate = 1e-2})});
  Tensor y = randomTensor({16, 2}, 6);
  for (int64_t steps : {3, 2}) {
    Tensor x = randomTensor({16, steps, 6, 6, 2}, 5 + steps);
    History hist =
        model.fit(x, y, {.batch_size = 8, .epochs = 4, .verbose = 0});
    const std::vector<double> &loss = hist.history.at("loss");
    for (double l : loss)
      EXPECT_TRUE(std::isfinite(l));
    EXPECT_LT(loss.back(), loss.front()) << steps << " steps";
  }
  // Each fit moved the moving mean away from its initial zeros.
  const Tensor &movingMean = model.getLayer("bn")->weights()[2].value;
  EXPECT_NE(movingMean.data<float>()[0], 0.0f);
}

} // namespace

namespace {

/// Metrics by Keras name, per output: "<output>_<metric>", after the
/// losses, checked against the predictions.
TEST(GraphFeaturesTest, NamedMetricsPerOutput) {
  setRandomSeed(6);
  Model model = twoHeads();
  CompileOptions options;
  options.losses = {losses::BinaryCrossentropy({.from_logits = true}),
                    losses::CategoricalCrossentropy({.from_logits = true})};
  options.metrics = {"mae", "categorical_accuracy"};
  model.compile(options);
  const int64_t n = 16;
  Tensor x = randomTensor({n, 12}, 7), priority = randomTensor({n, 1}, 8);
  Tensor department({n, 4});
  for (int64_t i = 0; i < n; ++i)
    department.data<float>()[i * 4 + (i * 7) % 4] = 1.0f;
  History h = model.fit({x}, {priority, department},
                        {.batch_size = 4, .epochs = 1, .verbose = 0});
  for (const char *key : {"loss", "priority_loss", "department_loss",
                          "priority_mae", "priority_categorical_accuracy",
                          "department_mae", "department_categorical_accuracy"})
    EXPECT_EQ(h.history.count(key), 1u) << key;
  std::vector<double> eval = model.evaluate({x}, {priority, department},
                                            {.batch_size = n, .verbose = 0});
  ASSERT_EQ(eval.size(), 7u);
  std::vector<Tensor> out = model.predict(std::vector<Tensor>{x});
  double mae = 0, hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    mae += std::fabs(out[0].data<float>()[i] - priority.data<float>()[i]);
    const float *row = out[1].data<float>() + i * 4;
    hits += (std::max_element(row, row + 4) - row) == (i * 7) % 4;
  }
  EXPECT_NEAR(eval[3], mae / n, 1e-5);  // priority_mae
  EXPECT_NEAR(eval[6], hits / n, 1e-9); // department accuracy
  EXPECT_CONTAINS(errorOf([&] {
                    Model other = twoHeads();
                    CompileOptions bad;
                    bad.metrics = {"f1"};
                    other.compile(bad);
                  }),
                  "unknown metric 'f1'");
}

} // namespace

namespace {

/// The remaining misuses of the graph API, each with its message.
TEST(GraphFeaturesTest, MoreMisuseIsExplained) {
  // A custom layer reading a weight it never created.
  struct Reader : Layer {
    Reader() : Layer("Reader", "reader") {}
    std::string className() const override { return "Reader"; }
    std::vector<SymbolicTensor>
    call(const std::vector<SymbolicTensor> &in) override {
      return {in[0] + weight("bias")};
    }
  };
  auto x = Input({4});
  EXPECT_CONTAINS(errorOf([&] { std::make_shared<Reader>()->apply({x}); }),
                  "Layer reader has no weight 'bias' (its weights: none); "
                  "create it with addWeight() in build()");
  // A layer with neither a shape rule nor call().
  struct Empty : Layer {
    Empty() : Layer("Empty", "empty") {}
    std::string className() const override { return "Empty"; }
  };
  EXPECT_CONTAINS(errorOf([&] { std::make_shared<Empty>()->apply({x}); }),
                  "defines neither an output shape rule nor call()");
  // ops:: shapes.
  EXPECT_CONTAINS(errorOf([&] {
                    ops::stack({x, Input({5})}, 1);
                  }),
                  "ops.stack: every tensor must have one shape, got (None, 4) "
                  "and (None, 5)");
  EXPECT_CONTAINS(errorOf([&] { ops::reshape(x, {3}); }),
                  "cannot reshape (None, 4)");
  EXPECT_CONTAINS(errorOf([&] { ops::slice(x, 1, 3, 2); }),
                  "elements [3, 5) along axis 1 are outside (None, 4)");
  EXPECT_CONTAINS(errorOf([&] { Input({4}, {.batch_size = 0}); }),
                  "Input: batch_size must be positive or -1");
  // Nodes that do not exist.
  auto dense = layers::Dense(2);
  dense(x);
  EXPECT_CONTAINS(errorOf([&] { dense->outputAt(3); }),
                  "has 1 call node(s); there is no node 3");
  // Inputs by name.
  Model model = twoHeads();
  EXPECT_CONTAINS(errorOf([&] { model.predict(NamedTensors{}); }),
                  "predict: no input named 'tags' was given (model heads's "
                  "inputs: tags)");
  EXPECT_CONTAINS(errorOf([&] {
                    model.predict(
                        NamedTensors{{"tags", randomTensor({1, 12}, 1)},
                                     {"title", randomTensor({1, 3}, 2)}});
                  }),
                  "predict: model heads has no input named 'title'");
  // A picture format dot cannot be named safely.
  EXPECT_CONTAINS(errorOf([&] {
                    utils::plotModel(model,
                                     ::testing::TempDir() + "/heads.p;ng");
                  }),
                  "plotModel: unsupported file extension '.p;ng'");
}

} // namespace
