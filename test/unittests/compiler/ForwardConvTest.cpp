//===- ForwardConvTest.cpp - Forward numerics of compiled convolutions ----===//
//
// 2-D convolutions JIT-compiled and compared with a naive reference written
// here (plain loops, no shared code with the lowering): the register-blocked
// direct kernel and Winograd's F(2 x 2, 3 x 3).
//
//===----------------------------------------------------------------------===//

#include "ForwardTestUtil.h"
#include "codegen/Target.h"

#include <algorithm>
#include <sstream>

using namespace layerc;
using namespace layerc::test;

namespace {

/// A 2-D channels-last convolution by plain loops: `x` (b, h, w, c), `k`
/// (kh, kw, c, f), TensorFlow's "same" split; returns (b, oh, ow, f).
std::vector<double>
refConv2d(const std::vector<double> &x, const std::vector<double> &k, int64_t b,
          int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t f,
          int64_t stride, int64_t dil, bool same, int64_t &oh, int64_t &ow) {
  int64_t eh = (kh - 1) * dil + 1, ew = (kw - 1) * dil + 1;
  int64_t ph = 0, pw = 0;
  if (same) {
    oh = (h + stride - 1) / stride;
    ow = (w + stride - 1) / stride;
    ph = std::max<int64_t>((oh - 1) * stride + eh - h, 0) / 2;
    pw = std::max<int64_t>((ow - 1) * stride + ew - w, 0) / 2;
  } else {
    oh = (h - eh) / stride + 1;
    ow = (w - ew) / stride + 1;
  }
  std::vector<double> y(b * oh * ow * f, 0.0);
  for (int64_t n = 0; n < b; ++n)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < f; ++o) {
          double sum = 0;
          for (int64_t p = 0; p < kh; ++p)
            for (int64_t q = 0; q < kw; ++q) {
              int64_t r = i * stride + p * dil - ph,
                      s = j * stride + q * dil - pw;
              if (r < 0 || r >= h || s < 0 || s >= w)
                continue;
              for (int64_t ci = 0; ci < c; ++ci)
                sum += x[((n * h + r) * w + s) * c + ci] *
                       k[((p * kw + q) * c + ci) * f + o];
            }
          y[((n * oh + i) * ow + j) * f + o] = sum;
        }
  return y;
}

// Whole vectors of filters take the register-blocked convolution: output
// widths that leave a partial column block, strides, dilations, padding,
// float64 and float32.
TEST_F(ForwardTest, RegisterBlockedConvolutionMatchesLoops) {
  struct Case {
    int64_t h, w, c, f, k, stride, dil;
    bool same;
    const char *dtype;
  };
  const Case cases[] = {{9, 13, 3, 8, 3, 1, 1, false, "f64"},
                        {10, 11, 5, 12, 3, 2, 1, true, "f64"},
                        {12, 17, 4, 16, 2, 1, 2, true, "f32"},
                        {8, 9, 2, 32, 3, 2, 2, false, "f32"}};
  for (const Case &c : cases) {
    SCOPED_TRACE(std::to_string(c.f) + " filters, stride " +
                 std::to_string(c.stride) + ", " + c.dtype);
    std::string t = c.dtype;
    std::string xs = "tensor<?x" + std::to_string(c.h) + "x" +
                     std::to_string(c.w) + "x" + std::to_string(c.c) + "x" + t +
                     ">";
    std::string ks = "tensor<" + std::to_string(c.k) + "x" +
                     std::to_string(c.k) + "x" + std::to_string(c.c) + "x" +
                     std::to_string(c.f) + "x" + t + ">";
    std::string ir =
        "func.func @conv(%x: " + xs + ", %k: " + ks + ") -> tensor<*x" + t +
        "> {\n  %0 = layer.conv %x, %k " +
        "{strides = array<i64: " + std::to_string(c.stride) + ", " +
        std::to_string(c.stride) +
        ">, dilations = array<i64: " + std::to_string(c.dil) + ", " +
        std::to_string(c.dil) + ">, padding = #layer.padding<" +
        (c.same ? "same" : "valid") + ">} : (" + xs + ", " + ks +
        ") -> tensor<*x" + t + ">\n  return %0 : tensor<*x" + t + ">\n}\n";
    auto jit = build(ir);
    ASSERT_TRUE(jit);
    int64_t b = 2;
    Tensor x = randomTensor(rng, {b, c.h, c.w, c.c});
    Tensor k = randomTensor(rng, {c.k, c.k, c.c, c.f});
    int64_t oh = 0, ow = 0;
    std::vector<double> want =
        refConv2d(values(x), values(k), b, c.h, c.w, c.c, c.k, c.k, c.f,
                  c.stride, c.dil, c.same, oh, ow);
    bool f32 = t == "f32";
    Tensor got =
        call(lookup(*jit, "conv"), {f32 ? x.astype(DType::Float32) : x,
                                    f32 ? k.astype(DType::Float32) : k})[0];
    expectClose(f32 ? got.astype(DType::Float64) : got, want, {b, oh, ow, c.f},
                f32 ? 1e-5 : kRtol, f32 ? 1e-5 : kAtol, "conv");
  }
}

// 3 x 3 stride-1 convolutions of 8 channels or more are tiled for Winograd's
// F(2 x 2, 3 x 3) (layer-tile): odd and even outputs (the last tile starts
// one early), valid and same padding, batches of 1 and 3 (parts of the
// batch's blocks of tiles with none, one or several blocks), bias and relu
// applied by the output transform; kernels passed in, or constants (whose
// transform is folded at compile time, as a library's embedded weights);
// against a float64 direct convolution.
TEST_F(ForwardTest, WinogradConvolutionMatchesReference) {
  struct Case {
    int64_t h, w, c, f, batch;
    bool same;
    const char *dtype;
    bool constantKernel = false; // its transform folded at compile time
  };
  const Case cases[] = {{9, 9, 16, 32, 1, true, "f32"},
                        {7, 10, 8, 16, 3, false, "f64"},
                        {4, 5, 12, 8, 2, false, "f64"},
                        {12, 13, 32, 64, 3, true, "f32"},
                        {2, 2, 8, 16, 1, true, "f64"},
                        {6, 7, 8, 16, 2, true, "f32", true},
                        {5, 6, 8, 8, 1, false, "f64", true},
                        // One block of tiles: its blocks of filters (2, 3)
                        // split into groups, each a part of its own.
                        {5, 5, 8, 64, 1, true, "f32"},
                        {6, 6, 8, 48, 1, false, "f64"}};
  unsigned hostBits = llvm::cantFail(TargetDescription::get("host")).vectorBits;
  for (const Case &c : cases) {
    SCOPED_TRACE(std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
                 std::to_string(c.c) + " to " + std::to_string(c.f) +
                 " filters, batch " + std::to_string(c.batch) + ", " + c.dtype);
    std::string t = c.dtype;
    std::string xs = "tensor<?x" + std::to_string(c.h) + "x" +
                     std::to_string(c.w) + "x" + std::to_string(c.c) + "x" + t +
                     ">";
    std::string ks = "tensor<3x3x" + std::to_string(c.c) + "x" +
                     std::to_string(c.f) + "x" + t + ">";
    std::string bs = "tensor<" + std::to_string(c.f) + "x" + t + ">";
    Tensor x = randomTensor(rng, {c.batch, c.h, c.w, c.c});
    Tensor k = randomTensor(rng, {3, 3, c.c, c.f});
    Tensor bias = randomTensor(rng, {c.f});
    bool f32 = t == "f32";
    auto cast = [&](const Tensor &v) {
      return f32 ? v.astype(DType::Float32) : v;
    };
    std::string kernelArg = ", %k: " + ks, kernelDef;
    if (c.constantKernel) {
      // dense<[[[[...]]]]>, nested as the (3, 3, c, f) shape.
      std::vector<double> kv = values(cast(k).astype(DType::Float64));
      std::ostringstream literal;
      literal.precision(17);
      for (int64_t i = 0; i < 9 * c.c; ++i) {
        if (i % (3 * c.c) == 0)
          literal << (i ? "]], [[" : "[[[");
        else if (i % c.c == 0)
          literal << "], [";
        else
          literal << ", ";
        literal << "[";
        for (int64_t j = 0; j < c.f; ++j)
          literal << (j ? ", " : "") << kv[i * c.f + j];
        literal << "]";
      }
      literal << "]]]";
      kernelArg.clear();
      kernelDef =
          "  %k = arith.constant dense<" + literal.str() + "> : " + ks + "\n";
    }
    std::string ir = "func.func @conv(%x: " + xs + kernelArg + ", %b: " + bs +
                     ") -> tensor<*x" + t + "> {\n" + kernelDef +
                     "  %0 = layer.conv %x, %k, %b {strides = "
                     "array<i64: 1, 1>, dilations = array<i64: 1, 1>, "
                     "activation = #layer.activation<relu>, padding = "
                     "#layer.padding<" +
                     (c.same ? "same" : "valid") + ">} : (" + xs + ", " + ks +
                     ", " + bs + ") -> tensor<*x" + t +
                     ">\n  return %0 : tensor<*x" + t + ">\n}\n";
    int64_t oh = 0, ow = 0;
    std::vector<double> want =
        refConv2d(values(x), values(k), c.batch, c.h, c.w, c.c, 3, 3, c.f, 1, 1,
                  c.same, oh, ow);
    std::vector<double> bv = values(bias);
    for (size_t i = 0; i < want.size(); ++i)
      want[i] = std::max(0.0, want[i] + bv[i % c.f]);
    std::vector<Tensor> args{cast(x), cast(k), cast(bias)};
    if (c.constantKernel)
      args.erase(args.begin() + 1);
    // F(2, 3) and F(4, 3) (an output smaller than 4 x 4 takes F(2, 3)),
    // with the host's vectors, and the tile layer-tile chooses. F(4, 3)'s
    // transforms multiply by up to 8 and 1/24: in float32 it errs by about
    // 4x the direct kernel, so its tolerance is a fraction of the output's
    // largest value rather than of each element.
    double largest = 0;
    for (double v : want)
      largest = std::max(largest, std::fabs(v));
    for (const char *tiling :
         {"winograd-tile=2", "winograd-tile=4", "winograd-tile=0"}) {
      SCOPED_TRACE(tiling);
      auto jit = build(ir, "func.func(layer-shape-inference),func.func(layer-"
                           "tile{vector-bits=" +
                               std::to_string(hostBits) + " " + tiling + "})");
      ASSERT_TRUE(jit);
      Tensor got = call(lookup(*jit, "conv"), args)[0];
      expectClose(f32 ? got.astype(DType::Float64) : got, want,
                  {c.batch, oh, ow, c.f}, f32 ? 1e-4 : kRtol,
                  !f32                                       ? kAtol
                  : std::string(tiling) == "winograd-tile=2" ? 1e-5
                                                             : 1e-5 * largest,
                  "winograd conv");
    }
  }
}

} // namespace
