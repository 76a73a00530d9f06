//===- DeepModelTest.cpp - Deep models, split into parts for LLVM ---------===//
//
// A deep model split into parts before LLVM optimizes it (outlineRegions
// in codegen/OutlineRegions.cpp; 100 Dense layers make about 28,000
// instructions, which the default OutlineOptions::above of 50,000 leaves
// whole) computes what a float64 reference computes, split into parts of
// 1,000 instructions (above 20,000) and into parts of a single block.
// (Unsplit, as every model of the other tests, it compiles in twice the
// time.) test/codegen/deep-graphs.test checks that the default splits a
// larger one.
//
//===----------------------------------------------------------------------===//

#include "CompilerTestUtil.h"

#include <cmath>
#include <random>

using namespace layerc;
using namespace layerc::test;

namespace {

constexpr int64_t kLayers = 100, kWidth = 8, kBatch = 3;

/// @deep(x, k0, b0, k1, b1, ...): kLayers Dense(kWidth, relu) in a chain.
std::string deepChain() {
  std::string args = "%x: tensor<?x8xf64>", body;
  std::string source = "%x", type = "tensor<?x8xf64>";
  for (int64_t i = 0; i < kLayers; ++i) {
    std::string n = std::to_string(i);
    args += ", %k" + n + ": tensor<8x8xf64> {layer.param}, %b" + n +
            ": tensor<8xf64> {layer.param}";
    body += "  %h" + n + " = layer.dense " + source + ", %k" + n + ", %b" + n +
            " {activation = #layer.activation<relu>} : (" + type +
            ", tensor<8x8xf64>, tensor<8xf64>) -> tensor<*xf64>\n";
    source = "%h" + n;
    type = "tensor<*xf64>";
  }
  return "func.func @deep(" + args + ") -> tensor<*xf64> {\n" + body +
         "  return " + source + " : tensor<*xf64>\n}\n";
}

class DeepModelTest : public CompilerTest {};

TEST_F(DeepModelTest, SplitIntoPartsComputesTheSameAsTheReference) {
  std::mt19937 rng(20261202u);
  // Kernels of variance 2 / width keep the activations of order one
  // through relu after relu.
  double bound = std::sqrt(6.0 / kWidth);
  Tensor x = randomTensor(rng, {kBatch, kWidth}, -2, 2);
  std::vector<Tensor> args{x};
  std::vector<double> h = values(x);
  for (int64_t i = 0; i < kLayers; ++i) {
    Tensor k = randomTensor(rng, {kWidth, kWidth}, -bound, bound);
    Tensor b = randomTensor(rng, {kWidth}, -0.1, 0.1);
    args.push_back(k);
    args.push_back(b);
    std::vector<double> kv = values(k), bv = values(b), next(h.size());
    for (int64_t r = 0; r < kBatch; ++r)
      for (int64_t o = 0; o < kWidth; ++o) {
        double s = bv[size_t(o)];
        for (int64_t j = 0; j < kWidth; ++j)
          s += h[size_t(r * kWidth + j)] * kv[size_t(j * kWidth + o)];
        next[size_t(r * kWidth + o)] = std::max(s, 0.0);
      }
    h = next;
  }
  double scale = 0;
  for (double v : h)
    scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 1e-3) << "the reference died out; the test checks nothing";

  struct Variant {
    const char *name;
    OutlineOptions outline;
  } variants[] = {
      {"parts of 1,000 instructions", {.above = 20000, .chunk = 1000}},
      {"parts of one block", {.above = 0, .chunk = 1}}};
  for (const Variant &v : variants) {
    SCOPED_TRACE(v.name);
    JitOptions options;
    options.outline = v.outline;
    auto jit = build(deepChain(), "", options);
    ASSERT_TRUE(jit);
    std::vector<Tensor> out = call(lookup(*jit, "deep"), args);
    ASSERT_EQ(out.size(), 1u);
    expectClose(out[0], h, {kBatch, kWidth}, 1e-10, 1e-12 * scale, v.name);
  }
}

} // namespace
