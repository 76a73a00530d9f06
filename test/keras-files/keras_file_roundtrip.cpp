//===- keras_file_roundtrip.cpp - .keras files against Keras --------------===//
//
// The C++ half of test/keras-files/keras_roundtrip.py: for each model NAME
// it loads DIR/NAME.keras (written by Keras 3) with layerc::loadModel,
// checks predict() on DIR/NAME_x.npy against Keras's DIR/NAME_y.npy within
// 1e-5, saves the model again as DIR/NAME.layerc.keras (and reloads that
// with layerc, which must predict the same), and writes its predictions to
// DIR/NAME_layerc_y.npy for the script to compare with Keras. A model whose
// file carries a compile config must come back compiled and fit().
//
//   keras_file_roundtrip DIR NAME...
//
//===----------------------------------------------------------------------===//

#include "layerc/layerc.h"

#include <cmath>
#include <cstdio>
#include <iostream>

using namespace layerc;

namespace {

/// max |a - b|, relative to b's scale when it is over 1 (float32 sums of
/// thousands of terms differ in their last bits), as the script's.
double maxAbsDiff(const Tensor &a, const Tensor &b) {
  if (a.shape() != b.shape())
    return INFINITY;
  const float *x = a.data<float>(), *y = b.data<float>();
  double worst = 0, scale = 1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    worst = std::fmax(worst, std::fabs(double(x[i]) - double(y[i])));
    scale = std::fmax(scale, std::fabs(double(y[i])));
  }
  return worst / scale;
}

bool check(const std::string &dir, const std::string &name) {
  const double tolerance = 1e-5;
  std::string base = dir + "/" + name;
  Model model = loadModel(base + ".keras");
  Tensor x = Tensor::loadNpy(base + "_x.npy");
  Tensor want = Tensor::loadNpy(base + "_y.npy");
  Tensor got = model.predict(x);
  double err = maxAbsDiff(got, want);
  bool ok = err <= tolerance;
  std::printf(
      "%s: layerc loads Keras's %s.keras: max |layerc - keras| (relative) = "
      "%.3g\n",
      ok ? "ok" : "FAIL", name.c_str(), err);
  bool compiled = model.compiled();
  if (compiled) {
    // Sparse labels for the compiled MLP's 10 classes.
    Tensor labels({x.shape()[0]}, DType::Int32);
    for (int64_t i = 0; i < labels.numel(); ++i)
      labels.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
    History h = model.fit(x, labels, {.epochs = 2, .verbose = 0});
    const std::vector<double> &loss = h.history["loss"];
    bool fitted = loss.size() == 2 && std::isfinite(loss[1]);
    std::printf("%s: %s comes back compiled and fits (loss %.4g -> %.4g)\n",
                fitted ? "ok" : "FAIL", name.c_str(),
                loss.empty() ? NAN : loss[0], loss.empty() ? NAN : loss[1]);
    ok = ok && fitted;
    got = model.predict(x); // After training: what Keras must see.
  }
  model.save(base + ".layerc.keras");
  got.saveNpy(base + "_layerc_y.npy");
  Model again = loadModel(base + ".layerc.keras");
  double self = maxAbsDiff(again.predict(x), got);
  bool same = self == 0 && again.compiled() == compiled;
  std::printf("%s: layerc reloads its own %s.layerc.keras (max diff %.3g)\n",
              same ? "ok" : "FAIL", name.c_str(), self);
  return ok && same;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: keras_file_roundtrip DIR NAME...\n";
    return 2;
  }
  int failures = 0;
  for (int i = 2; i < argc; ++i) {
    try {
      failures += !check(argv[1], argv[i]);
    } catch (const Error &e) {
      std::printf("FAIL: %s: %s\n", argv[i], e.what());
      ++failures;
    }
  }
  return failures ? 1 : 0;
}
