//===- models_as_layers.cpp - "All models are callable, just like layers" -===//
//
// Sections of Keras's functional-API guide:
//  - "Use the same graph of layers to define multiple models": an encoder
//    and an autoencoder from one graph, sharing their layers.
//  - "All models are callable, just like layers": the autoencoder built by
//    calling an encoder model and a decoder model (shown as Functional
//    rows, 28,241 parameters), and an ensemble of three models averaged.
// Each model runs forward on random data.
//
//   guide_models_as_layers [--plot-dir=DIR]
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"

#include <iostream>

using namespace layerc;

int main(int argc, char **argv) {
  guide::ExampleArgs args =
      guide::parseExampleArgs(argc, argv, "guide_models_as_layers");
  try {
    setRandomSeed(1);
    // One graph, several models: the autoencoder continues the encoder's
    // graph, so both models hold the same layer objects.
    auto encoderInput = Input({28, 28, 1}, {.name = "img"});
    auto x = layers::Conv2D(16, 3, {.activation = "relu"})(encoderInput);
    x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
    x = layers::MaxPooling2D(3)(x);
    x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
    x = layers::Conv2D(16, 3, {.activation = "relu"})(x);
    auto encoderOutput = layers::GlobalMaxPooling2D()(x);
    Model encoder(encoderInput, encoderOutput, "encoder");
    encoder.summary();
    x = layers::Reshape({4, 4, 1})(encoderOutput);
    x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
    x = layers::Conv2DTranspose(32, 3, {.activation = "relu"})(x);
    x = layers::UpSampling2D(3)(x);
    x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
    auto decoderOutput =
        layers::Conv2DTranspose(1, 3, {.activation = "relu"})(x);
    Model autoencoder(encoderInput, decoderOutput, "autoencoder");
    autoencoder.summary();
    std::cout << "shared layer objects: "
              << (encoder.layers()[1] == autoencoder.layers()[1] ? "yes" : "no")
              << "\n\n";

    // Models are callable: encoder(img) and decoder(code) nest the models
    // (their weights are shared, not copied).
    Model nestedEncoder = guide::encoderModel("encoder");
    nestedEncoder.summary();
    Model decoder = guide::decoderModel("decoder");
    decoder.summary();
    auto autoencoderInput = Input({28, 28, 1}, {.name = "img"});
    Model nested(autoencoderInput, decoder(nestedEncoder(autoencoderInput)),
                 "autoencoder");
    nested.summary();
    Tensor images = guide::randomUniform({4, 28, 28, 1}, 2);
    Tensor decoded = nested.predict(images);
    Tensor twoStep = decoder.predict(nestedEncoder.predict(images));
    float diff = 0;
    for (int64_t i = 0; i < decoded.numel(); ++i)
      diff = std::max(
          diff, std::abs(decoded.data<float>()[i] - twoStep.data<float>()[i]));
    std::cout << "autoencoder on " << images.shapeString() << " -> "
              << decoded.shapeString()
              << "; max difference from decoder(encoder(x)): " << diff
              << "\n\n";

    // Ensembling: three models with one input, their outputs averaged.
    auto getModel = [] {
      auto inputs = Input({128});
      return Model(inputs, layers::Dense(1)(inputs));
    };
    Model model1 = getModel(), model2 = getModel(), model3 = getModel();
    auto inputs = Input({128});
    Model ensemble(
        inputs,
        layers::average({model1(inputs), model2(inputs), model3(inputs)}),
        "ensemble");
    ensemble.summary();
    Tensor y = ensemble.predict(guide::randomUniform({3, 128}, 3));
    std::cout << "ensemble on (3, 128) -> " << y.shapeString() << "\n";

    if (!args.plotDir.empty()) {
      utils::plotModel(nested, args.plotDir + "/nested_autoencoder.png",
                       {.show_shapes = true, .expand_nested = true});
      utils::plotModel(ensemble, args.plotDir + "/ensemble.png",
                       {.show_shapes = true});
      std::cout << "wrote " << args.plotDir << "/nested_autoencoder.png and "
                << args.plotDir << "/ensemble.png\n";
    }
  } catch (const Error &e) {
    std::cerr << "guide_models_as_layers: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
