//===- mlp_epoch.cpp - Time one fit() epoch of the guide's MLP
//-------------===//
//
// Trains the MNIST MLP (784-64-64-10, RMSprop, batch 64) on the first 48,000
// Fashion-MNIST images, silently, and prints the median epoch time of
// `--epochs` epochs. bench/mlp_epoch.sh runs it next to PyTorch.
//
//===----------------------------------------------------------------------===//

#include "layerc/layerc.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace layerc;

int main(int argc, char **argv) {
  int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
  auto inputs = Input({784});
  auto x = layers::Dense(64, {.activation = "relu"})(inputs);
  x = layers::Dense(64, {.activation = "relu"})(x);
  auto outputs = layers::Dense(10)(x);
  Model model(inputs, outputs, "mnist_model");

  auto data = datasets::fashion_mnist::loadData();
  Tensor xTrain =
      (data.xTrain.reshape({60000, 784}).astype(DType::Float32) / 255.0)
          .slice(0, 48000);
  Tensor yTrain = data.yTrain.slice(0, 48000);

  auto t0 = std::chrono::steady_clock::now();
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::RMSprop(),
       .metrics = {"accuracy"}});
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::vector<double> times;
  for (int e = 0; e < epochs; ++e) {
    auto start = std::chrono::steady_clock::now();
    model.fit(xTrain, yTrain, {.batch_size = 64, .epochs = 1, .verbose = 0});
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  std::printf("layerc compile_s %.3f\n", compileSeconds);
  std::printf("layerc epoch_s %.4f\n", times[times.size() / 2]);
  return 0;
}
