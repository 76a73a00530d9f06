//===- conv_layer.cpp - Time one convolution layer, forward and training --===//
//
// The toy ResNet's heaviest layer, Conv2D(64, 3) on (32, 30, 30, 32), and
// its 64 -> 64 "same" layers on (32, 9, 9, 64): the median time of predict
// (forward) and of one training step (forward, mean-squared-error against
// a target, kernel and bias gradients, SGD), one thread.
// bench/conv_layer.sh runs it next to PyTorch (bench/conv_layer_pytorch.py).
//
//   conv_layer [repeats]
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace layerc;

namespace {

template <typename Fn> double medianMs(int repeats, Fn fn) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void run(const std::string &name, int64_t size, int64_t channels,
         const std::string &padding, int repeats) {
  const int64_t batch = 32;
  auto x = Input({size, size, channels});
  auto y = layers::Conv2D(64, 3, {.padding = padding})(x);
  Model model(x, y, name);
  model.compile(
      {.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 1e-3})});
  Tensor data = guide::randomUniform({batch, size, size, channels}, 1);
  Tensor target = model.predict(data);
  model.predict(data, {.batch_size = batch});
  double forward =
      medianMs(repeats, [&] { model.predict(data, {.batch_size = batch}); });
  model.fit(data, target, {.batch_size = batch, .epochs = 1, .verbose = 0});
  double step = medianMs(repeats, [&] {
    model.fit(data, target, {.batch_size = batch, .epochs = 1, .verbose = 0});
  });
  std::printf("layerc %s_forward_ms %.3f\nlayerc %s_step_ms %.3f\n",
              name.c_str(), forward, name.c_str(), step);
}

} // namespace

int main(int argc, char **argv) {
  int repeats = argc > 1 ? std::atoi(argv[1]) : 7;
  run("conv30x32", 30, 32, "valid", repeats);
  run("conv9x64", 9, 64, "same", repeats);
  return 0;
}
