//===- custom_layers.cpp - Custom layers and mixing API styles ------------===//
//
// Sections of Keras's functional-API guide:
//  - "Extend the API using custom layers": CustomDense (build() creates
//    its weights, call() is traced from ops:: primitives), its config, and
//    Model::fromConfig with a factory for the class.
//  - "Mix-and-match API styles": a custom RNN layer holding a functional
//    model, called eagerly on zeros((1, 10, 5)) (the stacked features are
//    (1, 10, 32)); and the custom RNN inside a functional model whose
//    Input has a static batch size.
//
//   guide_custom_layers [--plot-dir=DIR]
//
//===----------------------------------------------------------------------===//

#include "guide/CustomLayers.h"
#include "guide/GuideModels.h"

#include <iostream>

using namespace layerc;

int main(int argc, char **argv) {
  guide::ExampleArgs args =
      guide::parseExampleArgs(argc, argv, "guide_custom_layers");
  try {
    setRandomSeed(4);
    auto inputs = Input({4});
    auto customDense = std::make_shared<guide::CustomDense>(10);
    Model model(inputs, (*customDense)(inputs), "custom_dense_model");
    model.summary();
    Json config = model.getConfig();
    Model newModel = Model::fromConfig(
        config, {{"CustomDense", guide::CustomDense::fromConfig}});
    newModel.setWeights(model.getWeights());
    Tensor x = guide::randomUniform({2, 4}, 1);
    Tensor a = model.predict(x), b = newModel.predict(x);
    bool same = true;
    for (int64_t i = 0; i < a.numel(); ++i)
      same = same && a.data<float>()[i] == b.data<float>()[i];
    std::cout << "from_config with CustomDense: " << newModel.countParams()
              << " parameters, predictions "
              << (same ? "identical" : "DIFFERENT") << "\n\n";

    // A custom layer using a functional model.
    const int64_t units = 32, timesteps = 10, inputDim = 5;
    auto classifierInput = Input({-1, units});
    auto pooled = layers::GlobalAveragePooling1D()(classifierInput);
    Model classifier(classifierInput, layers::Dense(1)(pooled), "classifier");
    auto rnnModel =
        std::make_shared<guide::CustomRNN>(units, classifier.asLayer());
    rnnModel->onFeatures = [](const std::vector<int64_t> &shape) {
      std::cout << formatShape(shape) << "\n";
    };
    Tensor zeros({1, timesteps, inputDim});
    Tensor out = (*rnnModel)(zeros);
    std::cout << "CustomRNN(zeros((1, 10, 5))) -> " << out.shapeString()
              << "\n\n";

    // A functional model using the custom layer: its zeros need the
    // batch size, so the Input has a static one.
    const int64_t batchSize = 16;
    auto sequence = Input({timesteps, inputDim}, {.batch_size = batchSize});
    auto features = layers::Conv1D(32, 3)(sequence);
    auto rnn =
        std::make_shared<guide::CustomRNN>(units, layers::Dense(1).get());
    rnn->onFeatures = rnnModel->onFeatures;
    Model mixed(sequence, (*rnn)(features), "mixed");
    mixed.summary();
    Tensor y = mixed.predict(
        guide::randomUniform({batchSize, timesteps, inputDim}, 2));
    std::cout << "mixed on (16, 10, 5) -> " << y.shapeString() << "\n";
    if (!args.plotDir.empty()) {
      utils::plotModel(mixed, args.plotDir + "/mixed.png",
                       {.show_shapes = true});
      std::cout << "wrote " << args.plotDir << "/mixed.png\n";
    }
  } catch (const Error &e) {
    std::cerr << "guide_custom_layers: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
