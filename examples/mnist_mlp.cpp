//===- mnist_mlp.cpp - The functional-API guide's first example
//------------===//
//
// The guide's MNIST MLP, in C++: build it with the functional API, print
// its summary, compile it to native code, train it for two epochs on
// Fashion-MNIST (Debian's dataset-fashion-mnist) and evaluate it on the
// 10,000 test images.
//
//   mnist_mlp [--epochs=N] [--data=DIR] [--save=model.lcm] [--plot-dir=DIR]
//             [--batch-norm]
//
// --save writes the trained model (weights, optimizer state, configs), which
// `layerc model.lcm --embed-weights -o libmodel.a` compiles into a library,
// then loads it back (the guide's "Save and serialize") and evaluates it.
// --plot-dir renders the guide's my_first_model.png and
// my_first_model_with_shape_info.png there. --batch-norm puts a
// BatchNormalization between each hidden Dense and its relu (not the
// guide's model: a model with non-trainable state, for the AOT tests).
//
//===----------------------------------------------------------------------===//

#include "layerc/layerc.h"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

using namespace layerc;

int main(int argc, char **argv) {
  int epochs = 2;
  std::string dataDir = datasets::fashion_mnist::kDefaultDir;
  std::string savePath, plotDir;
  bool batchNorm = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--epochs=", 0) == 0) {
      epochs = std::atoi(arg.c_str() + 9);
    } else if (arg.rfind("--data=", 0) == 0) {
      dataDir = arg.substr(7);
    } else if (arg.rfind("--save=", 0) == 0) {
      savePath = arg.substr(7);
    } else if (arg.rfind("--plot-dir=", 0) == 0) {
      plotDir = arg.substr(11);
    } else if (arg == "--batch-norm") {
      batchNorm = true;
    } else {
      std::cerr << "usage: mnist_mlp [--epochs=N] [--data=DIR] "
                   "[--save=model.lcm] [--plot-dir=DIR] [--batch-norm]\n"
                   "Trains the functional-API guide's MLP on Fashion-MNIST.\n"
                   "--batch-norm adds BatchNormalization after each hidden "
                   "Dense.\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }

  try {
    auto inputs = Input({784});
    auto hidden = [&](SymbolicTensor h) {
      if (!batchNorm)
        return layers::Dense(64, {.activation = "relu"})(h);
      h = layers::BatchNormalization()(layers::Dense(64)(h));
      return layers::Activation("relu")(h);
    };
    auto x = hidden(hidden(inputs));
    auto outputs = layers::Dense(10)(x);
    Model model(inputs, outputs, "mnist_model");
    model.summary();
    if (!plotDir.empty()) {
      utils::plotModel(model, plotDir + "/my_first_model.png");
      utils::plotModel(model, plotDir + "/my_first_model_with_shape_info.png",
                       {.show_shapes = true});
    }

    auto data = datasets::fashion_mnist::loadData(dataDir);
    Tensor xTrain =
        data.xTrain.reshape({60000, 784}).astype(DType::Float32) / 255.0;
    Tensor xTest =
        data.xTest.reshape({10000, 784}).astype(DType::Float32) / 255.0;

    model.compile(
        {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
         .optimizer = optimizers::RMSprop(),
         .metrics = {"accuracy"}});
    History history = model.fit(
        xTrain, data.yTrain,
        {.batch_size = 64, .epochs = epochs, .validation_split = 0.2});
    std::vector<double> scores =
        model.evaluate(xTest, data.yTest, {.verbose = 2});
    std::printf("Test loss: %g\n", scores[0]);
    std::printf("Test accuracy: %g\n", scores[1]);
    if (!savePath.empty()) {
      model.save(savePath);
      std::printf("Saved the model to %s\n", savePath.c_str());
      Model reloaded = loadModel(savePath);
      std::vector<double> again =
          reloaded.evaluate(xTest, data.yTest, {.verbose = 0});
      std::printf("Reloaded model: test loss %g, test accuracy %g\n", again[0],
                  again[1]);
    }
  } catch (const Error &e) {
    std::cerr << "mnist_mlp: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
