//===- fashion_cnn.cpp - A program built on the installed layerc SDK ------===//
//
// Builds a small convolutional network with the functional API, trains it on
// part of Fashion-MNIST, evaluates it on the test set, predicts a few images,
// and saves and reloads the model. A custom callback (a subclass of
// layerc::Callback) reports every epoch.
//
//   fashion_cnn [--data=DIR] [--train-samples=N] [--epochs=N] [--save=FILE]
//
//===----------------------------------------------------------------------===//

#include "layerc/layerc.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace layerc;

namespace {

/// Prints the training loss after every epoch, and stops training when it
/// is not finite (as Keras's TerminateOnNaN does).
class LossReporter : public Callback {
public:
  void onEpochEnd(int epoch, const LogValues &logs) override {
    for (const auto &[name, value] : logs) {
      if (name != "loss")
        continue;
      std::printf("epoch %d: loss %.4f\n", epoch + 1, value);
      if (!(value == value) || value > 1e30)
        stopTraining = true;
    }
  }
};

} // namespace

int main(int argc, char **argv) {
  std::string dataDir = datasets::fashion_mnist::kDefaultDir;
  std::string savePath;
  int64_t trainSamples = 12000;
  int epochs = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--data=", 0) == 0) {
      dataDir = arg.substr(7);
    } else if (arg.rfind("--train-samples=", 0) == 0) {
      trainSamples = std::atoll(arg.c_str() + 16);
    } else if (arg.rfind("--epochs=", 0) == 0) {
      epochs = std::atoi(arg.c_str() + 9);
    } else if (arg.rfind("--save=", 0) == 0) {
      savePath = arg.substr(7);
    } else {
      std::fprintf(stderr, "usage: fashion_cnn [--data=DIR] "
                           "[--train-samples=N] [--epochs=N] [--save=FILE]\n");
      return arg == "--help" ? 0 : 2;
    }
  }

  try {
    auto inputs = Input({28, 28, 1}, {.name = "image"});
    auto x = layers::Conv2D(16, 3, {.activation = "relu"})(inputs);
    x = layers::MaxPooling2D(2)(x);
    x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
    x = layers::MaxPooling2D(2)(x);
    x = layers::Flatten()(x);
    auto outputs = layers::Dense(10, {.name = "logits"})(x);
    Model model(inputs, outputs, "fashion_cnn");
    model.summary();

    auto data = datasets::fashion_mnist::loadData(dataDir);
    Tensor xTrain = data.xTrain.slice(0, trainSamples)
                        .reshape({trainSamples, 28, 28, 1})
                        .astype(DType::Float32) /
                    255.0;
    Tensor yTrain = data.yTrain.slice(0, trainSamples);
    Tensor xTest =
        data.xTest.reshape({10000, 28, 28, 1}).astype(DType::Float32) / 255.0;

    model.compile(
        {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
         .optimizer = optimizers::Adam({.learning_rate = 3e-3}),
         .metrics = {"accuracy"}});
    model.fit(xTrain, yTrain,
              {.batch_size = 64,
               .epochs = epochs,
               .verbose = 0,
               .callbacks = {std::make_shared<LossReporter>()}});
    std::vector<double> scores =
        model.evaluate(xTest, data.yTest, {.verbose = 0});
    std::printf("Test loss: %.4f\n", scores[0]);
    std::printf("Test accuracy: %.4f\n", scores[1]);

    Tensor logits = model.predict(xTest.slice(0, 4));
    std::printf("Logits of 4 test images: shape (%lld, %lld)\n",
                static_cast<long long>(logits.shape()[0]),
                static_cast<long long>(logits.shape()[1]));

    if (!savePath.empty()) {
      model.save(savePath);
      Model reloaded = loadModel(savePath);
      std::vector<double> again =
          reloaded.evaluate(xTest, data.yTest, {.verbose = 0});
      std::printf("Reloaded: test accuracy %.4f\n", again[1]);
    }
  } catch (const Error &e) {
    std::fprintf(stderr, "fashion_cnn: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
