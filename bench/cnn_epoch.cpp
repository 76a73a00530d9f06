//===- cnn_epoch.cpp - Time one fit() epoch of a small Fashion-MNIST CNN --===//
//
// Conv2D(32, 3) - BatchNormalization - relu - MaxPooling2D(2) -
// Conv2D(64, 3, relu) - MaxPooling2D(2) - Flatten - Dense(10), Adam
// (Keras's defaults), batch 64, trained for one epoch on the first N
// Fashion-MNIST training images (all 60,000 by default), silently; prints
// the compile time, the epoch time and the accuracy on the 10,000 test
// images. bench/cnn_epoch.sh runs it next to PyTorch
// (bench/cnn_epoch_pytorch.py); the thread count is the runtime's
// (LAYERC_NUM_THREADS).
//
//   cnn_epoch [train-images] [data-dir] [save-path]
//
// With a save path it also saves the compiled model (a .lcm with its
// compile config), so that `layerc M.lcm --train` compiles the same
// train_step ahead of time (bench/compile_time.sh times it).
//===----------------------------------------------------------------------===//

#include "layerc/layerc.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

using namespace layerc;

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? std::atoll(argv[1]) : 60000;
  std::string dir =
      argc > 2 ? argv[2] : std::string(datasets::fashion_mnist::kDefaultDir);
  if (n < 1 || n > 60000) {
    std::cerr << "usage: cnn_epoch [train-images (1..60000)] [data-dir] "
                 "[save-path]\n";
    return 2;
  }
  try {
    auto inputs = Input({28, 28, 1});
    auto x = layers::Conv2D(32, 3)(inputs);
    x = layers::BatchNormalization()(x);
    x = layers::Activation("relu")(x);
    x = layers::MaxPooling2D(2)(x);
    x = layers::Conv2D(64, 3, {.activation = "relu"})(x);
    x = layers::MaxPooling2D(2)(x);
    x = layers::Flatten()(x);
    auto outputs = layers::Dense(10)(x);
    Model model(inputs, outputs, "fashion_cnn");

    auto data = datasets::fashion_mnist::loadData(dir);
    Tensor xTrain =
        (data.xTrain.reshape({60000, 28, 28, 1}).astype(DType::Float32) / 255.0)
            .slice(0, n);
    Tensor yTrain = data.yTrain.slice(0, n);
    Tensor xTest =
        data.xTest.reshape({10000, 28, 28, 1}).astype(DType::Float32) / 255.0;

    auto t0 = std::chrono::steady_clock::now();
    model.compile(
        {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
         .optimizer = optimizers::Adam(),
         .metrics = {"accuracy"}});
    auto t1 = std::chrono::steady_clock::now();
    if (argc > 3)
      model.save(argv[3]);
    model.fit(xTrain, yTrain, {.batch_size = 64, .epochs = 1, .verbose = 0});
    auto t2 = std::chrono::steady_clock::now();
    std::vector<double> scores =
        model.evaluate(xTest, data.yTest, {.batch_size = 500, .verbose = 0});
    std::printf("layerc params %lld\n",
                static_cast<long long>(model.countParams()));
    std::printf("layerc compile_s %.3f\n",
                std::chrono::duration<double>(t1 - t0).count());
    std::printf("layerc epoch_s %.3f\n",
                std::chrono::duration<double>(t2 - t1).count());
    std::printf("layerc test_acc %.4f\n", scores[1]);
  } catch (const Error &e) {
    std::cerr << "cnn_epoch: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
