//===- Applications.cpp - Reference architectures -------------------------===//

#include "frontend/Applications.h"
#include "frontend/layers/Convolution.h"
#include "frontend/layers/Core.h"

using namespace layerc;

Model applications::VGG19(const VGG19Options &o) {
  if (o.weights && *o.weights == "imagenet")
    throw Error("VGG19: the ImageNet weights cannot be downloaded here; pass "
                "weights = std::nullopt for random weights, or the path of a "
                "weights file written by Model::saveWeights");
  if (o.input_shape.size() != 3)
    throw Error("VGG19: input_shape must be (height, width, channels), got " +
                formatShape(o.input_shape));
  if (o.include_top && o.input_shape != std::vector<int64_t>{224, 224, 3})
    throw Error("VGG19: with include_top the input shape must be (224, 224, "
                "3), got " +
                formatShape(o.input_shape));
  if (o.input_shape[0] < 32 || o.input_shape[1] < 32)
    throw Error("VGG19: the input must be at least 32x32, got " +
                formatShape(o.input_shape));
  if (!o.pooling.empty() && o.pooling != "avg" && o.pooling != "max")
    throw Error("VGG19: pooling must be \"\", \"avg\" or \"max\", got \"" +
                o.pooling + "\"");

  SymbolicTensor input = Input(o.input_shape);
  SymbolicTensor x = input;
  const int64_t filters[] = {64, 128, 256, 512, 512};
  const int convs[] = {2, 2, 4, 4, 4};
  for (int block = 0; block < 5; ++block) {
    std::string prefix = "block" + std::to_string(block + 1);
    for (int c = 0; c < convs[block]; ++c)
      x = layers::Conv2D(filters[block], 3,
                         {.padding = "same",
                          .activation = "relu",
                          .name = prefix + "_conv" + std::to_string(c + 1)})(x);
    x = layers::MaxPooling2D(2, {.strides = 2, .name = prefix + "_pool"})(x);
  }
  if (o.include_top) {
    x = layers::Flatten({.name = "flatten"})(x);
    x = layers::Dense(4096, {.activation = "relu", .name = "fc1"})(x);
    x = layers::Dense(4096, {.activation = "relu", .name = "fc2"})(x);
    x = layers::Dense(o.classes, {.activation = o.classifier_activation,
                                  .name = "predictions"})(x);
  } else if (o.pooling == "avg") {
    x = layers::GlobalAveragePooling2D()(x);
  } else if (o.pooling == "max") {
    x = layers::GlobalMaxPooling2D()(x);
  }
  Model model(input, x, "vgg19");
  if (o.weights)
    model.loadWeights(*o.weights);
  return model;
}
