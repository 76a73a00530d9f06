//===- WrappersTest.cpp - Bidirectional and TimeDistributed ---------------===//
//
// The wrappers beyond their numbers (KerasParityTests checks them against
// Keras, LayerGradientTests against finite differences): shapes, weight
// names and order, summary parameter counts, Keras's errors, the config
// round trip through save/load, and training through both.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"
#include <gmock/gmock.h>

#include <filesystem>
#include <random>

using namespace layerc;
using test::errorOf;
using ::testing::HasSubstr;

namespace {

using Shape = std::vector<int64_t>;

TEST(WrappersTest, ShapesWeightsAndParameterCounts) {
  auto seq = Input({5, 3});
  layers::Bidirectional bi(
      layers::LSTM(4, {.return_sequences = true, .name = "lstm"}));
  EXPECT_EQ(bi(seq).shape(), (Shape{-1, 5, 8}));
  EXPECT_EQ(bi->forwardLayer()->name(), "forward_lstm");
  EXPECT_EQ(bi->backwardLayer()->name(), "backward_lstm");
  // Keras's order: forward kernel, recurrent kernel, bias, then backward.
  std::vector<Tensor> w = bi->getWeights();
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0].shape(), (Shape{3, 16}));
  EXPECT_EQ(w[4].shape(), (Shape{4, 16}));
  EXPECT_EQ(bi->countParams(), 2 * (3 * 16 + 4 * 16 + 16));

  auto sum = layers::Bidirectional(layers::GRU(2), {.merge_mode = "sum"})(seq);
  EXPECT_EQ(sum.shape(), (Shape{-1, 2}));
  auto both = layers::Bidirectional(
      layers::SimpleRNN(2, {.return_state = true}),
      {.merge_mode = ""})(std::vector<SymbolicTensor>{seq});
  ASSERT_EQ(both.size(), 4u); // y, y_rev, forward h, backward h
  EXPECT_EQ(both[1].shape(), (Shape{-1, 2}));

  layers::TimeDistributed td(layers::Dense(6));
  EXPECT_EQ(td(seq).shape(), (Shape{-1, 5, 6}));
  EXPECT_EQ(td->countParams(), 3 * 6 + 6);
  auto video = Input({4, 8, 8, 3});
  EXPECT_EQ(layers::TimeDistributed(layers::Conv2D(2, 3))(video).shape(),
            (Shape{-1, 4, 6, 6, 2}));
}

TEST(WrappersTest, KerasErrors) {
  EXPECT_THAT(errorOf([] {
                layers::Bidirectional(layers::LSTM(2), {.merge_mode = "max"});
              }),
              HasSubstr("Invalid merge mode. Received: merge_mode=max"));
  EXPECT_THAT(errorOf([] { layers::Bidirectional(layers::Dense(2)); }),
              HasSubstr("Bidirectional wraps a recurrent layer"));
  EXPECT_THAT(errorOf([] {
                layers::Bidirectional(layers::GRU(2, {.go_backwards = true}));
              }),
              HasSubstr("should have different `go_backwards` value"));
  EXPECT_THAT(errorOf([] {
                layers::Bidirectional(layers::LSTM(
                    2, {.return_sequences = true}))(Input({-1, 3}));
              }),
              HasSubstr("needs the number of time steps to be known"));
  EXPECT_THAT(
      errorOf([] { layers::TimeDistributed(layers::Dense(2))(Input({3})); }),
      HasSubstr("TimeDistributed requires an input of at least rank "
                "3"));
  EXPECT_THAT(errorOf([] {
                layers::TimeDistributed(layers::Dense(2))(Input({-1, 3}));
              }),
              HasSubstr("needs the number of time steps (axis 1) to be known. "
                        "Full shape received: (None, None, 3)"));
  EXPECT_THAT(errorOf([] {
                layers::TimeDistributed(
                    layers::LSTM(2, {.return_state = true}))(Input({3, 4, 2}));
              }),
              HasSubstr("must have one output, it has 3"));
  // From a config: what layerc cannot build is named.
  auto factory = builtinLayerFactories().at("Bidirectional");
  Json lstm = Json::object(
      {{"class_name", Json("LSTM")},
       {"config", Json::object({{"name", Json("l")}, {"units", Json(2)}})}});
  EXPECT_THAT(
      errorOf([&] {
        factory(Json::object(
            {{"name", Json("b")}, {"layer", lstm}, {"backward_layer", lstm}}));
      }),
      HasSubstr("a separate backward_layer is not supported"));
  Json unknown =
      Json::object({{"class_name", Json("Transformer")},
                    {"config", Json::object({{"name", Json("t")}})}});
  EXPECT_THAT(errorOf([&] {
                builtinLayerFactories().at("TimeDistributed")(
                    Json::object({{"name", Json("td")}, {"layer", unknown}}));
              }),
              HasSubstr("unknown layer class 'Transformer'"));
  // The wrapped layer's own errors name it.
  EXPECT_THAT(errorOf([] {
                layers::TimeDistributed(layers::Conv2D(2, 3))(Input({4, 8, 3}));
              }),
              HasSubstr("expected ndim=4, found ndim=3"));
}

TEST(WrappersTest, TrainsSavesAndLoads) {
  setRandomSeed(9);
  auto in = Input({6, 2}, {.name = "seq"});
  auto x =
      layers::TimeDistributed(layers::Dense(4, {.activation = "tanh"}))(in);
  x = layers::Bidirectional(layers::GRU(3, {.return_sequences = true}))(x);
  x = layers::Bidirectional(layers::LSTM(3), {.merge_mode = "ave"})(x);
  Model model(in, layers::Dense(2, {.activation = "softmax"})(x), "wrappers");

  Tensor xs = test::uniformTensor({64, 6, 2}, 17);
  Tensor ys({64}, DType::Int32);
  // The class: whether the first feature of the first step exceeds that of
  // the last (both directions help).
  for (int64_t i = 0; i < 64; ++i)
    ys.data<int32_t>()[i] =
        xs.data<float>()[i * 12] > xs.data<float>()[i * 12 + 10] ? 1 : 0;
  model.compile({.loss = losses::SparseCategoricalCrossentropy(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.02})});
  test::expectLossFalls(
      model.fit(xs, ys, {.batch_size = 16, .epochs = 10, .verbose = 0}), 0.8);

  test::expectSaveLoadRoundTrip(model, xs, "wrappers_test.lcm");
}

} // namespace
