//===- SummaryParityTest.cpp - summary() against Keras 3's text ----------===//
//
// The models of test/reference/generate_keras_summary.py, built with the
// C++ API under the same names (every layer, input and model named, so
// auto-naming plays no part, but for the models of unnamed(), which check
// Keras's default model names), and Model::summary() compared byte for
// byte with the text Keras 3 printed
// (test/reference/keras_summary/<name>.txt).
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

#include <fstream>
#include <functional>
#include <sstream>

using namespace layerc;
using test::summaryOf;

namespace {

std::string referenceText(const std::string &name) {
  std::ifstream in(std::string(LAYERC_SUMMARY_REFERENCE_DIR) + "/" + name +
                   ".txt");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Model mnist() {
  auto inputs = Input({784}, {.name = "img"});
  auto x = layers::Dense(64, {.activation = "relu", .name = "dense"})(inputs);
  x = layers::Dense(64, {.activation = "relu", .name = "dense_1"})(x);
  auto outputs = layers::Dense(10, {.name = "dense_2"})(x);
  return Model(inputs, outputs, "mnist_model");
}

Model ticket() {
  auto title = Input({-1}, {.name = "title", .dtype = DType::Int32});
  auto body = Input({-1}, {.name = "body", .dtype = DType::Int32});
  auto tags = Input({12}, {.name = "tags"});
  auto titleFeatures =
      layers::Embedding(10000, 64, {.name = "title_embedding"})(title);
  auto bodyFeatures =
      layers::Embedding(10000, 64, {.name = "body_embedding"})(body);
  titleFeatures = layers::LSTM(128, {.name = "title_lstm"})(titleFeatures);
  bodyFeatures = layers::LSTM(32, {.name = "body_lstm"})(bodyFeatures);
  auto x =
      layers::concatenate({titleFeatures, bodyFeatures, tags}, -1, "concat");
  auto priority = layers::Dense(1, {.name = "priority"})(x);
  auto department = layers::Dense(4, {.name = "department"})(x);
  return Model({title, body, tags}, {priority, department}, "ticket");
}

Model shared() {
  auto a = Input({16}, {.name = "left"});
  auto b = Input({16}, {.name = "right"});
  layers::Dense encode(8, {.activation = "relu", .name = "shared_dense"});
  auto x = layers::concatenate({encode(a), encode(b)}, -1, "merge");
  auto out = layers::Dense(1, {.name = "score"})(x);
  return Model({a, b}, {out}, "siamese");
}

Model nested() {
  auto x = Input({16}, {.name = "encoder_input"});
  auto h = layers::Dense(8, {.activation = "relu", .name = "enc_hidden"})(x);
  auto code = layers::Dense(4, {.name = "enc_code"})(h);
  Model encoder(x, code, "encoder");
  auto y = Input({16}, {.name = "autoencoder_input"});
  auto z = encoder(y);
  z = layers::Dense(16, {.name = "decoder_output"})(z);
  return Model(y, z, "autoencoder");
}

Model nestedMultiOutput() {
  auto x = Input({6}, {.name = "inner_input"});
  Model inner({x},
              {layers::Dense(2, {.name = "head_a"})(x),
               layers::Dense(3, {.name = "head_b"})(x)},
              "two_heads");
  auto y = Input({6}, {.name = "outer_input"});
  std::vector<SymbolicTensor> ab = inner(std::vector<SymbolicTensor>{y});
  auto out = layers::concatenate(ab, -1, "joined");
  return Model(y, out, "outer");
}

Model batchnorm() {
  auto x = Input({10}, {.name = "features"});
  auto h = layers::Dense(32, {.name = "hidden"})(x);
  h = layers::BatchNormalization({.name = "bn"})(h);
  h = layers::Activation("relu", {.name = "relu"})(h);
  auto out = layers::Dense(1, {.name = "out"})(h);
  return Model(x, out, "bn_model");
}

Model convnet() {
  auto x = Input({28, 28, 1}, {.name = "image"});
  auto h = layers::Conv2D(32, 3, {.activation = "relu", .name = "conv1"})(x);
  h = layers::MaxPooling2D(2, {.name = "pool1"})(h);
  h = layers::Conv2D(64, 3, {.activation = "relu", .name = "conv2"})(h);
  h = layers::MaxPooling2D(2, {.name = "pool2"})(h);
  h = layers::Flatten({.name = "flatten"})(h);
  h = layers::Dropout(0.5, {.name = "dropout"})(h);
  auto out = layers::Dense(10, {.activation = "softmax", .name = "classes"})(h);
  return Model(x, out, "convnet");
}

Model rnnState() {
  auto x = Input({7, 5}, {.name = "sequence"});
  std::vector<SymbolicTensor> outs =
      layers::LSTM(16, {.return_state = true, .name = "lstm"})(
          std::vector<SymbolicTensor>{x});
  auto y = layers::Dense(1, {.name = "prediction"})(outs[0]);
  return Model({x}, {y, outs[1], outs[2]}, "rnn_state");
}

Model bidirectional() {
  auto x = Input({10, 8}, {.name = "tokens"});
  auto h = layers::Bidirectional(
      layers::LSTM(16, {.return_sequences = true, .name = "lstm_a"}),
      {.name = "bidi_a"})(x);
  h = layers::Bidirectional(layers::LSTM(8, {.name = "lstm_b"}),
                            {.name = "bidi_b"})(h);
  auto out = layers::Dense(1, {.activation = "sigmoid", .name = "label"})(h);
  return Model(x, out, "bidirectional");
}

Model longNames() {
  auto a = Input({32}, {.name = "a_very_long_input_name_for_wrapping"});
  auto b = Input({32}, {.name = "b"});
  layers::Dense dense(
      8, {.name = "shared_dense_layer_with_a_really_long_name_that_wraps"});
  auto x = layers::concatenate({dense(a), dense(b), a, b}, -1,
                               "concatenate the four tensors");
  auto out = layers::Dense(
      1, {.name = "output dense layer with spaces in its name"})(x);
  return Model({a, b}, {out},
               "a_model_whose_name_is_long_but_fits_on_one_line");
}

/// Models without a name, named as Keras 3 names them: the members
/// "functional" and "functional_1", the ensemble "functional_2". The
/// count is the process's: no other case here builds a model without a
/// name (Keras's generator clears its session before each model).
Model unnamed() {
  auto member = [](const std::string &tag) {
    auto x = Input({6}, {.name = "member_" + tag + "_input"});
    return Model(x, layers::Dense(1, {.name = "member_" + tag + "_dense"})(x));
  };
  Model first = member("a"), second = member("b");
  auto x = Input({6}, {.name = "ensemble_input"});
  return Model(x, layers::average({first(x), second(x)}, "average"));
}

/// The batchnorm model after one Adam step (the data play no part):
/// "Optimizer params" counts the iteration count, the learning rate and a
/// momentum and a velocity per trainable weight.
Model batchnormAfterAStep() {
  Model model = batchnorm();
  model.compile(
      {.loss = "mse", .optimizer = optimizers::Adam({.learning_rate = 0.01})});
  Tensor x({8, 10}), y({8, 1});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = -1.0f + 2.0f * static_cast<float>(i) / 79.0f;
  for (int64_t i = 0; i < y.numel(); ++i)
    y.data<float>()[i] = static_cast<float>(i) / 7.0f;
  model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  return model;
}

struct SummaryCase {
  const char *name;
  std::function<Model()> build;
};

class SummaryParity : public testing::TestWithParam<SummaryCase> {};

TEST_P(SummaryParity, MatchesKerasText) {
  std::string want = referenceText(GetParam().name);
  ASSERT_FALSE(want.empty()) << "no reference text for " << GetParam().name;
  EXPECT_EQ(summaryOf(GetParam().build()), want);
}

INSTANTIATE_TEST_SUITE_P(
    Keras, SummaryParity,
    testing::Values(
        SummaryCase{"mnist", mnist}, SummaryCase{"ticket", ticket},
        SummaryCase{"shared", shared}, SummaryCase{"nested", nested},
        SummaryCase{"nested_multi_output", nestedMultiOutput},
        SummaryCase{"batchnorm", batchnorm}, SummaryCase{"convnet", convnet},
        SummaryCase{"rnn_state", rnnState},
        SummaryCase{"bidirectional", bidirectional},
        SummaryCase{"long_names", longNames}, SummaryCase{"unnamed", unnamed},
        SummaryCase{"batchnorm_after_a_step", batchnormAfterAStep}),
    [](const testing::TestParamInfo<SummaryCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
