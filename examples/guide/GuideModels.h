//===- GuideModels.h - The functional-API guide's models --------*- C++ -*-===//
//
// The models of Keras's functional-API guide, built once for the example
// programs and the tests: the MNIST MLP, the encoder and decoder, the ticket
// model (multi-input, multi-output) and the toy ResNet, plus random data in the
// guide's shapes.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_EXAMPLES_GUIDE_GUIDEMODELS_H
#define LAYERC_EXAMPLES_GUIDE_GUIDEMODELS_H

#include "layerc/layerc.h"

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace guide {

/// The guide programs' command line: `--plot-dir=DIR` writes the pictures
/// there (Graphviz's dot renders them), `--small` uses smaller inputs
/// where the guide's are slow on naive loops (tests).
struct ExampleArgs {
  std::string plotDir;
  bool small = false;
};

inline ExampleArgs parseExampleArgs(int argc, char **argv,
                                    const char *program) {
  ExampleArgs args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--plot-dir=", 0) == 0) {
      args.plotDir = arg.substr(11);
    } else if (arg == "--small") {
      args.small = true;
    } else {
      std::cerr << "usage: " << program << " [--plot-dir=DIR] [--small]\n"
                << "  --plot-dir=DIR  write the guide's model pictures (PNG) "
                   "to DIR\n"
                << "  --small         smaller inputs where the guide's are "
                   "slow\n";
      std::exit(2);
    }
  }
  return args;
}

/// Uniform floats in [lo, hi).
inline layerc::Tensor randomUniform(std::vector<int64_t> shape, uint32_t seed,
                                    float lo = 0.0f, float hi = 1.0f) {
  layerc::Tensor t(std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(rng);
  return t;
}

/// Token ids in [0, vocabulary).
inline layerc::Tensor randomTokens(int64_t rows, int64_t cols,
                                   int32_t vocabulary, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> word(0, vocabulary - 1);
  std::vector<int32_t> ids(static_cast<size_t>(rows * cols));
  for (int32_t &v : ids)
    v = word(rng);
  return layerc::Tensor::fromInts(ids, {rows, cols});
}

/// The guide's encoder: 28x28 images to 16 numbers.
inline layerc::Model encoderModel(const std::string &name = "encoder") {
  using namespace layerc;
  auto img = Input({28, 28, 1}, {.name = "original_img"});
  auto x = layers::Conv2D(16, 3, {.activation = "relu"})(img);
  x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
  x = layers::MaxPooling2D(3)(x);
  x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
  x = layers::Conv2D(16, 3, {.activation = "relu"})(x);
  return Model(img, layers::GlobalMaxPooling2D()(x), name);
}

/// The guide's decoder: 16 numbers back to a 28x28 image.
inline layerc::Model decoderModel(const std::string &name = "decoder") {
  using namespace layerc;
  auto code = Input({16}, {.name = "encoded_img"});
  auto x = layers::Reshape({4, 4, 1})(code);
  x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
  x = layers::Conv2DTranspose(32, 3, {.activation = "relu"})(x);
  x = layers::UpSampling2D(3)(x);
  x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
  return Model(code, layers::Conv2DTranspose(1, 3, {.activation = "relu"})(x),
               name);
}

struct TicketSizes {
  int64_t numTags = 12;
  int32_t numWords = 10000;
  int64_t numDepartments = 4;
  /// -1: titles and bodies of any length (the guide's shape=(None,)).
  int64_t titleLength = -1, bodyLength = -1;
};

/// The guide's ticket model: title and body (token sequences) and tags
/// give a priority and a department.
inline layerc::Model ticketModel(const TicketSizes &s = {}) {
  using namespace layerc;
  auto title = Input({s.titleLength}, {.name = "title", .dtype = DType::Int32});
  auto body = Input({s.bodyLength}, {.name = "body", .dtype = DType::Int32});
  auto tags = Input({s.numTags}, {.name = "tags"});
  auto titleFeatures = layers::Embedding(s.numWords, 64)(title);
  auto bodyFeatures = layers::Embedding(s.numWords, 64)(body);
  titleFeatures = layers::LSTM(128)(titleFeatures);
  bodyFeatures = layers::LSTM(32)(bodyFeatures);
  auto x = layers::concatenate({titleFeatures, bodyFeatures, tags});
  auto priority = layers::Dense(1, {.name = "priority"})(x);
  auto department = layers::Dense(s.numDepartments, {.name = "department"})(x);
  return Model({title, body, tags}, {priority, department}, "ticket");
}

/// `n` random training samples for the MNIST MLP (x: (n, 784), integer
/// labels) or, with `images`, the toy ResNet (x: (n, 32, 32, 3), one-hot
/// targets); sample i has class (7 i) mod 10.
inline std::pair<layerc::Tensor, layerc::Tensor>
randomClassification(int64_t n, bool images) {
  using namespace layerc;
  Tensor x =
      images ? randomUniform({n, 32, 32, 3}, 11) : randomUniform({n, 784}, 11);
  Tensor y = images ? Tensor({n, 10}) : Tensor({n});
  for (int64_t i = 0; i < n; ++i)
    if (images)
      y.data<float>()[i * 10 + (i * 7) % 10] = 1.0f;
    else
      y.data<float>()[i] = float((i * 7) % 10);
  return {x, images ? y : y.astype(DType::Int32)};
}

/// The guide's MNIST MLP: 784 inputs, two Dense(64, relu), Dense(10)
/// logits (55,050 parameters).
inline layerc::Model mnistMlp() {
  using namespace layerc;
  auto inputs = Input({784}, {.name = "digits"});
  auto x = layers::Dense(64, {.activation = "relu"})(inputs);
  x = layers::Dense(64, {.activation = "relu"})(x);
  return Model(inputs, layers::Dense(10)(x), "mnist_model");
}

/// The guide's toy ResNet for 32x32 RGB images and 10 classes (its
/// Dropout rate is 0.5; a rate of 0 makes a training step deterministic).
inline layerc::Model toyResNet(double dropout = 0.5) {
  using namespace layerc;
  auto inputs = Input({32, 32, 3}, {.name = "img"});
  auto x = layers::Conv2D(32, 3, {.activation = "relu"})(inputs);
  x = layers::Conv2D(64, 3, {.activation = "relu"})(x);
  auto block1 = layers::MaxPooling2D(3)(x);
  x = layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(block1);
  x = layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(x);
  auto block2 = layers::add({x, block1});
  x = layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(block2);
  x = layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(x);
  auto block3 = layers::add({x, block2});
  x = layers::Conv2D(64, 3, {.activation = "relu"})(block3);
  x = layers::GlobalAveragePooling2D()(x);
  x = layers::Dense(256, {.activation = "relu"})(x);
  x = layers::Dropout(dropout)(x);
  return Model(inputs, layers::Dense(10)(x), "toy_resnet");
}

} // namespace guide

#endif // LAYERC_EXAMPLES_GUIDE_GUIDEMODELS_H
