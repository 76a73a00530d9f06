//===- GradientTestUtil.h - Fixture of the gradient tests -------*- C++ -*-===//
//
// Shared by GradientTest.cpp, GradientOptimizerTest.cpp, GradientConvTest.cpp
// and GradientRecurrentTest.cpp: the tolerances of the finite-difference
// checks, the autodiff pass list, and the GradientTest fixture, which seeds
// its generator per test and configuration and checks every parameter
// gradient of `grad` against central differences of `evaluate` (float64),
// then a random directional derivative in float32.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_GRADIENTTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_COMPILER_GRADIENTTESTUTIL_H

#include "CompilerTestUtil.h"

#include <functional>
#include <regex>
#include <string>

namespace layerc::test {

constexpr double kEps = 1e-6;
constexpr double kAtol = 1e-5;
constexpr double kRtol = 1e-3;

/// Pass list turning `predict` into evaluate + grad.
inline std::string gradPipeline(const std::string &options) {
  return "func.func(layer-shape-inference),layer-autodiff{optimizer=none " +
         options + "}";
}

inline std::string str(int64_t v) { return std::to_string(v); }

class GradientTest : public CompilerTest {
protected:
  /// Seeds the generator for configuration `config` of the current test.
  unsigned seed(unsigned config) {
    unsigned s =
        7919u * (config + 1) +
        std::hash<std::string>{}(
            ::testing::UnitTest::GetInstance()->current_test_info()->name()) %
            100000u;
    rng.seed(s);
    return s;
  }

  int64_t randInt(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }

  Tensor labels(int64_t batch, int64_t classes) {
    std::vector<int32_t> l(batch);
    for (int32_t &v : l)
      v = static_cast<int32_t>(randInt(0, classes - 1));
    return Tensor::fromInts(l, {batch});
  }

  /// checkGradients of a classifier (sparse categorical cross-entropy on
  /// logits) twice: tiled by layer-tile for this machine, and for 128-bit
  /// vectors with tiny caches, so that the kernels are checked with another
  /// layer.tile than the host's; then with `layer-tile{thirdTiling}`, if
  /// given.
  void checkAtTwoTilings(const std::string &ir, const std::vector<Tensor> &data,
                         const std::vector<Tensor> &params,
                         const std::string &thirdTiling = "") {
    std::vector<std::string> tilings = {
        "", ",func.func(layer-tile{vector-bits=128 l1-bytes=1024 "
            "l2-bytes=4096})"};
    if (!thirdTiling.empty())
      tilings.push_back(",func.func(layer-tile{" + thirdTiling + "})");
    for (const std::string &tiles : tilings) {
      SCOPED_TRACE(std::string("tiles: ") + tiles);
      checkGradients(ir,
                     "loss=sparse_categorical_crossentropy from-logits=true",
                     data, params, tiles);
    }
  }

  /// Compiles `ir` with layer-autodiff{optimizer=none `options`} (then the
  /// passes `after`, if any) and checks d loss / d param of `grad` against
  /// central differences of `evaluate`. `data` are the inputs then the
  /// targets; `params` the parameters.
  void checkGradients(const std::string &ir, const std::string &options,
                      const std::vector<Tensor> &data,
                      const std::vector<Tensor> &params,
                      const std::string &after = "") {
    auto jit = build(ir, gradPipeline(options) + after);
    ASSERT_TRUE(jit);
    CompiledFunction grad = lookup(*jit, "grad");
    CompiledFunction evaluate = lookup(*jit, "evaluate");

    std::vector<Tensor> args = data;
    args.insert(args.end(), params.begin(), params.end());
    std::vector<Tensor> g = call(grad, args);
    std::vector<Tensor> e = call(evaluate, args);
    ASSERT_GE(g.size(), 1 + params.size());
    size_t numOutputs = g.size() - 1 - params.size();
    ASSERT_EQ(e.size(), 1 + numOutputs);
    double loss = e[0].data<double>()[0];
    ASSERT_TRUE(std::isfinite(loss));
    EXPECT_NEAR(g[0].data<double>()[0], loss, 1e-12 * std::fabs(loss) + 1e-14)
        << "grad and evaluate disagree on the loss";
    for (size_t o = 0; o < numOutputs; ++o)
      expectClose(g[1 + o], values(e[1 + o]), e[1 + o].shape(), 1e-12, 1e-14,
                  "output " + std::to_string(o));

    auto lossWith = [&](size_t p, int64_t i, double delta) {
      std::vector<Tensor> a = data;
      for (size_t q = 0; q < params.size(); ++q) {
        if (q != p) {
          a.push_back(params[q]);
          continue;
        }
        Tensor moved = params[q].clone();
        moved.data<double>()[i] += delta;
        a.push_back(moved);
      }
      return call(evaluate, a)[0].data<double>()[0];
    };
    for (size_t p = 0; p < params.size(); ++p) {
      const Tensor &dp = g[1 + numOutputs + p];
      const std::string &name = grad.outputs[1 + numOutputs + p].name;
      ASSERT_EQ(dp.shape(), params[p].shape()) << "gradient of " << name;
      const double *analytic = dp.data<double>();
      for (int64_t i = 0; i < params[p].numel(); ++i) {
        double fd = (lossWith(p, i, kEps) - lossWith(p, i, -kEps)) / (2 * kEps);
        EXPECT_NEAR(analytic[i], fd, kAtol + kRtol * std::fabs(fd))
            << "d loss / d " << name << " at flat index " << i;
      }
    }
    checkDirectionalFloat32(ir, options, data, params);
  }

  /// The same model in float32: the gradient along one random unit
  /// direction d of all the parameters, g . d, against the central
  /// difference (L(p + eps d) - L(p - eps d)) / (2 eps) within
  /// 2e-3 (1 + |g . d|). eps is 1e-3: at 1e-4 the float32 rounding of the
  /// loss itself (about 1e-6 of it), divided by 2 eps, reaches 5e-3 on the
  /// convolution models, whatever the gradient.
  void checkDirectionalFloat32(const std::string &ir,
                               const std::string &options,
                               const std::vector<Tensor> &data,
                               const std::vector<Tensor> &params) {
    std::string ir32 = std::regex_replace(ir, std::regex("xf64>"), "xf32>");
    ir32 = std::regex_replace(ir32, std::regex("tensor<f64>"), "tensor<f32>");
    auto jit = build(ir32, gradPipeline(options));
    ASSERT_TRUE(jit);
    CompiledFunction grad = lookup(*jit, "grad");
    CompiledFunction evaluate = lookup(*jit, "evaluate");
    auto to32 = [](const Tensor &t) {
      return t.dtype() == DType::Float64 ? t.astype(DType::Float32) : t;
    };
    std::vector<Tensor> data32, params32;
    for (const Tensor &t : data)
      data32.push_back(to32(t));
    for (const Tensor &t : params)
      params32.push_back(to32(t));
    std::normal_distribution<double> normal;
    std::vector<std::vector<double>> direction;
    double norm = 0;
    for (const Tensor &p : params32) {
      direction.emplace_back(p.numel());
      for (double &v : direction.back()) {
        v = normal(rng);
        norm += v * v;
      }
    }
    norm = std::sqrt(norm);
    std::vector<Tensor> args = data32;
    args.insert(args.end(), params32.begin(), params32.end());
    std::vector<Tensor> g = call(grad, args);
    size_t numOutputs = g.size() - 1 - params32.size();
    double analytic = 0;
    for (size_t p = 0; p < params32.size(); ++p)
      for (int64_t i = 0; i < params32[p].numel(); ++i)
        analytic += double(g[1 + numOutputs + p].data<float>()[i]) *
                    direction[p][i] / norm;
    constexpr double eps = 1e-3;
    auto lossAt = [&](double t) {
      std::vector<Tensor> a = data32;
      for (size_t p = 0; p < params32.size(); ++p) {
        Tensor moved = params32[p].clone();
        for (int64_t i = 0; i < moved.numel(); ++i)
          moved.data<float>()[i] +=
              static_cast<float>(t * direction[p][i] / norm);
        a.push_back(moved);
      }
      return double(call(evaluate, a)[0].data<float>()[0]);
    };
    double fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    EXPECT_NEAR(analytic, fd, 2e-3 * (1 + std::fabs(analytic)))
        << "float32 directional derivative";
  }

  std::mt19937 rng;
};

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_COMPILER_GRADIENTTESTUTIL_H
