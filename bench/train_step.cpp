//===- train_step.cpp - Time train_step of the guide's MLP and toy ResNet -===//
//
// Median time of one training step (forward, loss, gradients, RMSprop
// update) of the MNIST MLP (batch 64) and of the toy ResNet (batch 32, 32x32
// RGB), measured over fit() on random data, one thread; steps are timed as
// the epoch time divided by the steps of the epoch. bench/train_step.sh
// runs it next to PyTorch (bench/train_step_pytorch.py).
//
//   train_step [mlp_steps] [resnet_steps]
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace layerc;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// Median over 3 epochs of `steps` batches of `batch` samples.
double medianStep(Model &model, const Tensor &x, const Tensor &y, int64_t batch,
                  int64_t steps) {
  std::vector<double> times;
  for (int e = 0; e < 3; ++e) {
    auto start = std::chrono::steady_clock::now();
    model.fit(x, y, {.batch_size = batch, .epochs = 1, .verbose = 0});
    times.push_back(secondsSince(start) / double(steps));
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

Tensor labels(int64_t n) {
  Tensor y({n}, DType::Int32);
  for (int64_t i = 0; i < n; ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
  return y;
}

} // namespace

int main(int argc, char **argv) {
  int64_t mlpSteps = argc > 1 ? std::atoll(argv[1]) : 200;
  int64_t resnetSteps = argc > 2 ? std::atoll(argv[2]) : 4;
  CompileOptions options;
  options.loss = losses::SparseCategoricalCrossentropy({.from_logits = true});
  options.optimizer = optimizers::RMSprop();

  auto inputs = Input({784});
  auto x = layers::Dense(64, {.activation = "relu"})(inputs);
  x = layers::Dense(64, {.activation = "relu"})(x);
  Model mlp(inputs, layers::Dense(10)(x), "mnist_model");
  mlp.compile(options);
  std::printf("layerc mlp_step_ms %.4f\n",
              1e3 * medianStep(mlp,
                               guide::randomUniform({64 * mlpSteps, 784}, 1),
                               labels(64 * mlpSteps), 64, mlpSteps));

  Model resnet = guide::toyResNet();
  resnet.compile(options);
  std::printf(
      "layerc resnet_step_ms %.2f\n",
      1e3 * medianStep(resnet,
                       guide::randomUniform({32 * resnetSteps, 32, 32, 3}, 2),
                       labels(32 * resnetSteps), 32, resnetSteps));
  return 0;
}
