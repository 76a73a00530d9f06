//===- shared_layers.cpp - Shared layers and feature extraction -----------===//
//
// Sections of Keras's functional-API guide:
//  - "Shared layers": one Embedding(1000, 128) called on two text inputs,
//    one weight tensor and two call nodes.
//  - "Extract and reuse nodes in the graph of layers": VGG19 (random
//    weights: nothing can be downloaded here), then a model whose outputs
//    are every layer's output, run on a random image.
//
//   guide_shared_layers [--plot-dir=DIR] [--small]
//
// --small extracts from VGG19's convolutional base on a 32x32 image
// instead of the whole network on 224x224.
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"

#include <iostream>

using namespace layerc;

int main(int argc, char **argv) {
  guide::ExampleArgs args =
      guide::parseExampleArgs(argc, argv, "guide_shared_layers");
  try {
    setRandomSeed(3);
    // Embedding for 1000 unique words mapped to 128-dimensional vectors,
    // shared by two variable-length sequences of integers.
    auto sharedEmbedding = layers::Embedding(1000, 128);
    auto textInputA = Input({-1}, {.dtype = DType::Int32});
    auto textInputB = Input({-1}, {.dtype = DType::Int32});
    auto encodedInputA = sharedEmbedding(textInputA);
    auto encodedInputB = sharedEmbedding(textInputB);
    Model shared({textInputA, textInputB}, {encodedInputA, encodedInputB},
                 "shared_embedding");
    shared.summary();
    std::cout << sharedEmbedding->name() << ": "
              << sharedEmbedding->weights().size() << " weight, "
              << sharedEmbedding->numNodes() << " nodes\n";
    std::vector<Tensor> encoded =
        shared.predict({guide::randomTokens(2, 5, 1000, 1),
                        guide::randomTokens(2, 9, 1000, 2)});
    std::cout << "encoded " << encoded[0].shapeString() << " and "
              << encoded[1].shapeString() << "\n\n";

    applications::VGG19Options options;
    if (args.small) {
      options.include_top = false;
      options.input_shape = {32, 32, 3};
    }
    Model vgg19 = applications::VGG19(options);
    vgg19.summary();
    std::vector<SymbolicTensor> features;
    for (const auto &layer : vgg19.layers())
      features.push_back(layer->output());
    Model extractor({vgg19.input()}, features, "feature_extraction");
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), options.input_shape.begin(),
                 options.input_shape.end());
    Tensor img = guide::randomUniform(shape, 4);
    std::vector<Tensor> extracted = extractor.predict(std::vector<Tensor>{img});
    std::cout << "extracted " << extracted.size() << " feature maps:";
    for (size_t i = 0; i < extracted.size(); ++i)
      std::cout << (i ? ", " : " ") << vgg19.layers()[i]->name() << " "
                << extracted[i].shapeString();
    std::cout << "\n";
    if (!args.plotDir.empty()) {
      utils::plotModel(shared, args.plotDir + "/shared_embedding.png",
                       {.show_shapes = true});
      std::cout << "wrote " << args.plotDir << "/shared_embedding.png\n";
    }
  } catch (const Error &e) {
    std::cerr << "guide_shared_layers: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
