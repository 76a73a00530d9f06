//===- ForwardTest.cpp - Forward numerics of compiled layer ops -----------===//
//
// Every forward op of the layer dialect, JIT-compiled in float64 and compared
// with a naive reference written here (plain loops, no shared code with the
// lowering): Dense with each activation, with and without bias, Activation
// on rank 2 and 3, Add, Reshape, Dropout and the register-blocked matmul.
// Also the errors a user sees: a shape error at compile time and
// a wrong-shaped argument at call time. The convolutions are in
// ForwardConvTest.cpp, the losses in ForwardLossTest.cpp, the fixture in
// ForwardTestUtil.h.
//
//===----------------------------------------------------------------------===//

#include "ForwardTestUtil.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cmath>

using namespace layerc;
using namespace layerc::test;
using ::testing::HasSubstr;

namespace {

const char *const kActivations[] = {"linear",  "relu",        "sigmoid", "tanh",
                                    "softmax", "gelu",        "elu",     "selu",
                                    "swish",   "hard_sigmoid"};

//===----------------------------------------------------------------------===//
// Reference implementations
//===----------------------------------------------------------------------===//

/// Applies `act` to `z`, whose last axis has `last` elements.
std::vector<double> refActivation(std::vector<double> z, const std::string &act,
                                  int64_t last) {
  if (act == "softmax") {
    for (size_t row = 0; row < z.size(); row += last) {
      double m = -INFINITY;
      for (int64_t j = 0; j < last; ++j)
        m = std::max(m, z[row + j]);
      double s = 0;
      for (int64_t j = 0; j < last; ++j)
        s += std::exp(z[row + j] - m);
      for (int64_t j = 0; j < last; ++j)
        z[row + j] = std::exp(z[row + j] - m) / s;
    }
    return z;
  }
  for (double &v : z) {
    if (act == "relu")
      v = v > 0 ? v : 0;
    else if (act == "sigmoid")
      v = 1 / (1 + std::exp(-v));
    else if (act == "tanh")
      v = std::tanh(v);
    else if (act == "gelu")
      v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    else if (act == "elu")
      v = v > 0 ? v : std::exp(v) - 1;
    else if (act == "selu")
      v = 1.0507009873554804934 *
          (v > 0 ? v : 1.6732632423543772848 * (std::exp(v) - 1));
    else if (act == "hard_sigmoid")
      v = std::min(1.0, std::max(0.0, v / 6 + 0.5)); // Keras 3
    else if (act == "swish")
      v = v / (1 + std::exp(-v));
    else
      EXPECT_EQ(act, "linear");
  }
  return z;
}

/// act(x k + b) for x of `rows` x `in` (leading axes flattened).
std::vector<double> refDense(const std::vector<double> &x,
                             const std::vector<double> &k,
                             const std::vector<double> *bias, int64_t rows,
                             int64_t in, int64_t out, const std::string &act) {
  std::vector<double> z(rows * out, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = bias ? (*bias)[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += x[r * in + i] * k[i * out + o];
      z[r * out + o] = s;
    }
  return refActivation(z, act, out);
}

//===----------------------------------------------------------------------===//
// Core
//===----------------------------------------------------------------------===//

TEST_F(ForwardTest, DenseEveryActivationWithAndWithoutBias) {
  const char *tmpl = R"mlir(
func.func @dense_${ACT}_bias(%x: tensor<?x7xf64>, %k: tensor<7x5xf64>, %b: tensor<5xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<${ACT}>} : (tensor<?x7xf64>, tensor<7x5xf64>, tensor<5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @dense_${ACT}_nobias(%x: tensor<?x7xf64>, %k: tensor<7x5xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k {activation = #layer.activation<${ACT}>} : (tensor<?x7xf64>, tensor<7x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir";
  std::string ir;
  for (const char *act : kActivations)
    ir += fill(tmpl, {{"ACT", act}});
  auto jit = build(ir);
  ASSERT_TRUE(jit);

  for (const char *act : kActivations)
    for (bool withBias : {true, false})
      for (int64_t batch : {1, 3}) {
        std::string name =
            std::string("dense_") + act + (withBias ? "_bias" : "_nobias");
        SCOPED_TRACE(name + " batch " + std::to_string(batch));
        Tensor x = randomTensor(rng, {batch, 7}, -2, 2);
        Tensor k = randomTensor(rng, {7, 5});
        Tensor b = randomTensor(rng, {5});
        std::vector<Tensor> args = {x, k};
        if (withBias)
          args.push_back(b);
        std::vector<Tensor> out = call(lookup(*jit, name), args);
        ASSERT_EQ(out.size(), 1u);
        std::vector<double> bv = values(b);
        expectClose(out[0],
                    refDense(values(x), values(k), withBias ? &bv : nullptr,
                             batch, 7, 5, act),
                    {batch, 5}, kRtol, kAtol, name);
      }
}

TEST_F(ForwardTest, DenseLargerOddSizes) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x33xf64>, %k: tensor<33x17xf64>, %b: tensor<17xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<relu>} : (tensor<?x33xf64>, tensor<33x17xf64>, tensor<17xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor x = randomTensor(rng, {37, 33});
  Tensor k = randomTensor(rng, {33, 17});
  Tensor b = randomTensor(rng, {17});
  std::vector<double> bv = values(b);
  expectClose(call(lookup(*jit, "f"), {x, k, b})[0],
              refDense(values(x), values(k), &bv, 37, 33, 17, "relu"), {37, 17},
              kRtol, kAtol, "dense 37x33 -> 17");
}

// From 64 rows and 512 columns the matmul kernel packs B's slices (one
// part per panel of 256 columns, the threads splitting the panels); with
// fewer rows it reads B as it is. 70 rows are 5 blocks of 12, 2 of 4 and 2
// rows alone; 300 inputs are a slice of 256 and one of 44.
TEST_F(ForwardTest, DenseWideWithManyRowsPacksB) {
  auto jit = build(R"mlir(
func.func @f64(%x: tensor<?x300xf64>, %k: tensor<300x512xf64>, %b: tensor<512xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<relu>} : (tensor<?x300xf64>, tensor<300x512xf64>, tensor<512xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @f32(%x: tensor<?x300xf32>, %k: tensor<300x512xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x300xf32>, tensor<300x512xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor k = randomTensor(rng, {300, 512});
  Tensor b = randomTensor(rng, {512});
  std::vector<double> bv = values(b);
  for (int64_t rows : {70, 5}) {
    Tensor x = randomTensor(rng, {rows, 300});
    expectClose(call(lookup(*jit, "f64"), {x, k, b})[0],
                refDense(values(x), values(k), &bv, rows, 300, 512, "relu"),
                {rows, 512}, kRtol, kAtol,
                "dense " + std::to_string(rows) + "x300 -> 512");
    std::vector<Tensor> out =
        call(lookup(*jit, "f32"),
             {x.astype(DType::Float32), k.astype(DType::Float32)});
    expectClose(
        out[0].astype(DType::Float64),
        refDense(values(x.astype(DType::Float32).astype(DType::Float64)),
                 values(k.astype(DType::Float32).astype(DType::Float64)),
                 nullptr, rows, 300, 512, "linear"),
        {rows, 512}, 1e-5, 1e-5,
        "dense f32 " + std::to_string(rows) + "x300 -> 512");
  }
}

// The matmul kernel is built as the op's layer.tile says (layer-tile keeps
// a tiling written by hand): 2 lanes by 1 vector by 3 rows, panels of 4
// columns, slices of 5 of the 37 inputs, B packed from 2 rows and 8
// columns. 7 rows are 2 blocks of 3 and a row alone; 1 row is not packed.
TEST_F(ForwardTest, DenseFollowsItsTileAttribute) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x37xf64>, %k: tensor<37x12xf64>, %b: tensor<12xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<relu>, layer.tile = #layer.tile<lanes = 2, vectors = 1, block = 3, panel = 4, slice = 5, pack_rows = 2, pack_columns = 8>} : (tensor<?x37xf64>, tensor<37x12xf64>, tensor<12xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor k = randomTensor(rng, {37, 12});
  Tensor b = randomTensor(rng, {12});
  std::vector<double> bv = values(b);
  for (int64_t rows : {7, 1}) {
    Tensor x = randomTensor(rng, {rows, 37});
    expectClose(call(lookup(*jit, "f"), {x, k, b})[0],
                refDense(values(x), values(k), &bv, rows, 37, 12, "relu"),
                {rows, 12}, kRtol, kAtol,
                "dense " + std::to_string(rows) + "x37 -> 12, small tiles");
  }
}

// Where all of B's panel fits the tile's budget for a slice of a panel
// (300 x 16 within 256 x 32), the threads split the row blocks outside the
// panels and slices: 43 rows are 6 blocks of 6, one of 4 and 3 rows alone,
// each over 2 slices of the reduction (256 and 44); a batch of 1 has no
// whole block and starts no threads.
TEST_F(ForwardTest, DenseWithBInCacheSplitsRowsOnce) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x300xf64>, %k: tensor<300x16xf64>, %b: tensor<16xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<relu>, layer.tile = #layer.tile<lanes = 4, vectors = 2, block = 6, panel = 32, slice = 256, pack_rows = 64, pack_columns = 512>} : (tensor<?x300xf64>, tensor<300x16xf64>, tensor<16xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor k = randomTensor(rng, {300, 16});
  Tensor b = randomTensor(rng, {16});
  std::vector<double> bv = values(b);
  for (int64_t rows : {43, 1}) {
    Tensor x = randomTensor(rng, {rows, 300});
    expectClose(call(lookup(*jit, "f"), {x, k, b})[0],
                refDense(values(x), values(k), &bv, rows, 300, 16, "relu"),
                {rows, 16}, kRtol, kAtol,
                "dense " + std::to_string(rows) + "x300 -> 16, rows outside");
  }
}

// Columns that are not whole vectors (10 logits, 19 with an activation)
// are padded to whole vectors for the register-blocked kernel, and the
// first ones kept: batches of 1, 13 (a block and a rest) and 64.
TEST_F(ForwardTest, DenseOfPartialVectorsPadsItsColumns) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x70xf32>, %k: tensor<70x10xf32>, %b: tensor<10xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k, %b : (tensor<?x70xf32>, tensor<70x10xf32>, tensor<10xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @g(%x: tensor<?x10xf64>, %k: tensor<10x19xf64>, %b: tensor<19xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<tanh>} : (tensor<?x10xf64>, tensor<10x19xf64>, tensor<19xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor k = randomTensor(rng, {70, 10}), b = randomTensor(rng, {10});
  Tensor k2 = randomTensor(rng, {10, 19}), b2 = randomTensor(rng, {19});
  std::vector<double> bv = values(b), b2v = values(b2);
  for (int64_t rows : {1, 13, 64}) {
    Tensor x = randomTensor(rng, {rows, 70});
    Tensor logits = call(lookup(*jit, "f"),
                         {x.astype(DType::Float32), k.astype(DType::Float32),
                          b.astype(DType::Float32)})[0];
    expectClose(logits.astype(DType::Float64),
                refDense(values(x), values(k), &bv, rows, 70, 10, "linear"),
                {rows, 10}, 1e-5, 1e-5,
                "dense to 10 columns, " + std::to_string(rows) + " rows");
    Tensor x2 = randomTensor(rng, {rows, 10});
    expectClose(call(lookup(*jit, "g"), {x2, k2, b2})[0],
                refDense(values(x2), values(k2), &b2v, rows, 10, 19, "tanh"),
                {rows, 19}, kRtol, kAtol,
                "dense to 19 columns, " + std::to_string(rows) + " rows");
  }
}

TEST_F(ForwardTest, DenseOnRank3InputActsOnLastAxis) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x3x7xf64>, %k: tensor<7x5xf64>, %b: tensor<5xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<softmax>} : (tensor<?x3x7xf64>, tensor<7x5xf64>, tensor<5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor x = randomTensor(rng, {2, 3, 7}, -2, 2);
  Tensor k = randomTensor(rng, {7, 5});
  Tensor b = randomTensor(rng, {5});
  std::vector<Tensor> out = call(lookup(*jit, "f"), {x, k, b});
  std::vector<double> bv = values(b);
  expectClose(out[0], refDense(values(x), values(k), &bv, 6, 7, 5, "softmax"),
              {2, 3, 5}, kRtol, kAtol, "dense rank 3");
}

TEST_F(ForwardTest, DenseFloat32) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x7xf32>, %k: tensor<7x5xf32>, %b: tensor<5xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<tanh>} : (tensor<?x7xf32>, tensor<7x5xf32>, tensor<5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor x = randomTensor(rng, {3, 7}, -2, 2);
  Tensor k = randomTensor(rng, {7, 5});
  Tensor b = randomTensor(rng, {5});
  std::vector<Tensor> out = call(lookup(*jit, "f"), {x.astype(DType::Float32),
                                                     k.astype(DType::Float32),
                                                     b.astype(DType::Float32)});
  ASSERT_EQ(out[0].dtype(), DType::Float32);
  // The reference uses the float32-rounded inputs, in double.
  std::vector<double> bv =
      values(b.astype(DType::Float32).astype(DType::Float64));
  std::vector<double> ref =
      refDense(values(x.astype(DType::Float32).astype(DType::Float64)),
               values(k.astype(DType::Float32).astype(DType::Float64)), &bv, 3,
               7, 5, "tanh");
  expectClose(out[0].astype(DType::Float64), ref, {3, 5}, 1e-5, 1e-6,
              "dense f32");
}

TEST_F(ForwardTest, ActivationEveryKindOnRank2And3) {
  const char *tmpl = R"mlir(
func.func @act_${ACT}_r2(%x: tensor<?x6xf64>) -> tensor<*xf64> {
  %0 = layer.activation %x {activation = #layer.activation<${ACT}>} : (tensor<?x6xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @act_${ACT}_r3(%x: tensor<?x3x4xf64>) -> tensor<*xf64> {
  %0 = layer.activation %x {activation = #layer.activation<${ACT}>} : (tensor<?x3x4xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir";
  std::string ir;
  for (const char *act : kActivations)
    ir += fill(tmpl, {{"ACT", act}});
  auto jit = build(ir);
  ASSERT_TRUE(jit);
  for (const char *act : kActivations)
    for (int64_t batch : {1, 3}) {
      SCOPED_TRACE(std::string(act) + " batch " + std::to_string(batch));
      Tensor x2 = randomTensor(rng, {batch, 6}, -4, 4);
      Tensor x3 = randomTensor(rng, {batch, 3, 4}, -4, 4);
      auto o2 = call(lookup(*jit, std::string("act_") + act + "_r2"), {x2});
      auto o3 = call(lookup(*jit, std::string("act_") + act + "_r3"), {x3});
      expectClose(o2[0], refActivation(values(x2), act, 6), {batch, 6}, kRtol,
                  kAtol, "rank 2");
      expectClose(o3[0], refActivation(values(x3), act, 4), {batch, 3, 4},
                  kRtol, kAtol, "rank 3");
    }
}

TEST_F(ForwardTest, ActivationsAreStableForLargeInputs) {
  const char *tmpl = R"mlir(
func.func @act_${ACT}(%x: tensor<?x4xf64>) -> tensor<*xf64> {
  %0 = layer.activation %x {activation = #layer.activation<${ACT}>} : (tensor<?x4xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir";
  std::string ir;
  for (const char *act : {"sigmoid", "tanh", "softmax"})
    ir += fill(tmpl, {{"ACT", act}});
  auto jit = build(ir);
  ASSERT_TRUE(jit);
  std::vector<double> x = {1000, 1001, 999, -1000, -800, -801, -799, 800};
  for (const char *act : {"sigmoid", "tanh", "softmax"}) {
    SCOPED_TRACE(act);
    auto out = call(lookup(*jit, std::string("act_") + act),
                    {Tensor::fromDoubles(x, {2, 4})});
    expectClose(out[0], refActivation(x, act, 4), {2, 4}, kRtol, kAtol, act);
  }
}

TEST_F(ForwardTest, DropoutIsTheIdentityAtInference) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x3x5xf64>) -> tensor<*xf64> {
  %0 = layer.dropout %x {rate = 0.5 : f64} : (tensor<?x3x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  Tensor x = randomTensor(rng, {4, 3, 5});
  auto out = call(lookup(*jit, "f"), {x});
  expectClose(out[0], values(x), {4, 3, 5}, 0, 0, "dropout");
}

//===----------------------------------------------------------------------===//
// Merging and reshaping
//===----------------------------------------------------------------------===//

TEST_F(ForwardTest, AddIsElementwise) {
  auto jit = build(R"mlir(
func.func @add2(%a: tensor<?x7xf64>, %b: tensor<?x7xf64>) -> tensor<*xf64> {
  %0 = layer.add %a, %b : (tensor<?x7xf64>, tensor<?x7xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @add3(%a: tensor<?x3x4xf64>, %b: tensor<?x3x4xf64>) -> tensor<*xf64> {
  %0 = layer.add %a, %b : (tensor<?x3x4xf64>, tensor<?x3x4xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    for (auto [name, shape] :
         {std::pair<std::string, std::vector<int64_t>>{"add2", {batch, 7}},
          {"add3", {batch, 3, 4}}}) {
      Tensor a = randomTensor(rng, shape), b = randomTensor(rng, shape);
      std::vector<double> ref = values(a), bv = values(b);
      for (size_t i = 0; i < ref.size(); ++i)
        ref[i] += bv[i];
      expectClose(call(lookup(*jit, name), {a, b})[0], ref, shape, kRtol, kAtol,
                  name);
    }
  }
}

TEST_F(ForwardTest, ReshapeKeepsRowMajorOrder) {
  auto jit = build(R"mlir(
func.func @up(%x: tensor<?x12xf64>) -> tensor<*xf64> {
  %0 = layer.reshape %x {target_shape = array<i64: 3, 4>} : (tensor<?x12xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @down(%x: tensor<?x3x4xf64>) -> tensor<*xf64> {
  %0 = layer.reshape %x {target_shape = array<i64: 12>} : (tensor<?x3x4xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
func.func @up_dense(%x: tensor<?x12xf64>, %k: tensor<4x2xf64>) -> tensor<*xf64> {
  %0 = layer.reshape %x {target_shape = array<i64: 3, 4>} : (tensor<?x12xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k : (tensor<*xf64>, tensor<4x2xf64>) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Tensor x = randomTensor(rng, {batch, 12});
    expectClose(call(lookup(*jit, "up"), {x})[0], values(x), {batch, 3, 4}, 0,
                0, "up");
    Tensor y = randomTensor(rng, {batch, 3, 4});
    expectClose(call(lookup(*jit, "down"), {y})[0], values(y), {batch, 12}, 0,
                0, "down");
    Tensor k = randomTensor(rng, {4, 2});
    expectClose(
        call(lookup(*jit, "up_dense"), {x, k})[0],
        refDense(values(x), values(k), nullptr, batch * 3, 4, 2, "linear"),
        {batch, 3, 2}, kRtol, kAtol, "up_dense");
  }
}

// Columns in whole vectors take the register-blocked matmul: row counts
// that leave a partial (clamped) block, a transposed lhs (the kernel
// gradient: the batch is reduced), a transposed rhs (the input gradient),
// float64 and float32.
TEST_F(ForwardTest, RegisterBlockedMatmulMatchesLoops) {
  struct Case {
    int64_t rows, inner, cols;
    bool ta, tb;
    const char *dtype;
  };
  const Case cases[] = {{7, 13, 8, false, false, "f64"},
                        {10, 9, 12, true, false, "f64"},
                        {11, 9, 16, false, true, "f64"},
                        {5, 33, 24, false, false, "f32"},
                        {13, 7, 32, true, false, "f32"}};
  for (const Case &c : cases) {
    SCOPED_TRACE(std::to_string(c.rows) + "x" + std::to_string(c.inner) + "x" +
                 std::to_string(c.cols) + (c.ta ? " ta" : "") +
                 (c.tb ? " tb" : "") + " " + c.dtype);
    std::string t = c.dtype;
    auto type = [&](const std::string &a, const std::string &b) {
      return "tensor<" + a + "x" + b + "x" + t + ">";
    };
    // The batch (dynamic) axis is the rows, or with ta the reduced axis.
    std::string at = c.ta ? type("?", std::to_string(c.rows))
                          : type("?", std::to_string(c.inner));
    std::string bt =
        c.tb   ? type(std::to_string(c.cols), std::to_string(c.inner))
        : c.ta ? type("?", std::to_string(c.cols))
               : type(std::to_string(c.inner), std::to_string(c.cols));
    std::string attrs = c.ta   ? " {transpose_lhs}"
                        : c.tb ? " {transpose_rhs}"
                               : "";
    std::string ir = "func.func @mm(%a: " + at + ", %b: " + bt +
                     ") -> tensor<*x" + t + "> {\n  %0 = layer.matmul %a, %b" +
                     attrs + " : (" + at + ", " + bt + ") -> tensor<*x" + t +
                     ">\n  return %0 : tensor<*x" + t + ">\n}\n";
    auto jit = build(ir);
    ASSERT_TRUE(jit);
    Tensor a = c.ta ? randomTensor(rng, {c.inner, c.rows})
                    : randomTensor(rng, {c.rows, c.inner});
    Tensor b = c.tb ? randomTensor(rng, {c.cols, c.inner})
                    : randomTensor(rng, {c.inner, c.cols});
    std::vector<double> av = values(a), bv = values(b);
    std::vector<double> want(c.rows * c.cols, 0.0);
    for (int64_t i = 0; i < c.rows; ++i)
      for (int64_t j = 0; j < c.cols; ++j)
        for (int64_t k = 0; k < c.inner; ++k)
          want[i * c.cols + j] +=
              (c.ta ? av[k * c.rows + i] : av[i * c.inner + k]) *
              (c.tb ? bv[j * c.inner + k] : bv[k * c.cols + j]);
    bool f32 = t == "f32";
    Tensor got =
        call(lookup(*jit, "mm"), {f32 ? a.astype(DType::Float32) : a,
                                  f32 ? b.astype(DType::Float32) : b})[0];
    expectClose(f32 ? got.astype(DType::Float64) : got, want, {c.rows, c.cols},
                f32 ? 1e-5 : kRtol, f32 ? 1e-5 : kAtol, "mm");
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

// The operands are unranked when parsed, so only shape inference (inside
// JitModule::compile) can see the mismatch.
TEST_F(ForwardTest, CompileReportsShapeErrorsAsValues) {
  mlir::OwningOpRef<mlir::ModuleOp> module = parse(R"mlir(
func.func @f(%x: tensor<?x6xf64>, %k0: tensor<6x4xf64>, %k: tensor<5x3xf64>) -> tensor<*xf64> {
  %0 = layer.dense %x, %k0 : (tensor<?x6xf64>, tensor<6x4xf64>) -> tensor<*xf64>
  %1 = layer.dense %0, %k {activation = #layer.activation<relu>} : (tensor<*xf64>, tensor<5x3xf64>) -> tensor<*xf64>
  return %1 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(module);
  auto jit = JitModule::compile(*module);
  ASSERT_FALSE(jit) << "a dense with a (5, 3) kernel on (None, 4) compiled";
  std::string message = llvm::toString(jit.takeError());
  EXPECT_THAT(message, HasSubstr("layer.dense"));
  EXPECT_THAT(message, HasSubstr("(5, 3)"));
  EXPECT_THAT(message, HasSubstr("(None, 4)"));
}

TEST_F(ForwardTest, CompileReportsLossShapeErrors) {
  mlir::OwningOpRef<mlir::ModuleOp> module = parse(R"mlir(
func.func @f(%x: tensor<?x5xf64>, %t: tensor<?x4xf64>) -> tensor<*xf64> {
  %p = layer.activation %x {activation = #layer.activation<softmax>} : (tensor<?x5xf64>) -> tensor<*xf64>
  %0 = layer.loss %p, %t {loss = #layer.loss<categorical_crossentropy>} : (tensor<*xf64>, tensor<?x4xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(module);
  auto jit = JitModule::compile(*module);
  ASSERT_FALSE(jit);
  std::string message = llvm::toString(jit.takeError());
  EXPECT_THAT(message, HasSubstr("layer.loss"));
  EXPECT_THAT(message, HasSubstr("(None, 5)"));
  EXPECT_THAT(message, HasSubstr("(None, 4)"));
}

TEST_F(ForwardTest, CallWithWrongShapeThrowsNamingTheArgument) {
  auto jit = build(R"mlir(
func.func @f(%x: tensor<?x7xf64> {layer.name = "input"}, %k: tensor<7x5xf64> {layer.name = "dense/kernel"}) -> tensor<*xf64> {
  %0 = layer.dense %x, %k : (tensor<?x7xf64>, tensor<7x5xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}
)mlir");
  ASSERT_TRUE(jit);
  CompiledFunction f = lookup(*jit, "f");
  Tensor k = randomTensor(rng, {7, 5});

  std::string wrongFeatures = errorOf([&] {
    call(f, {randomTensor(rng, {2, 6}), k});
  });
  EXPECT_THAT(wrongFeatures, HasSubstr("'input'"));
  EXPECT_THAT(wrongFeatures, HasSubstr("(None, 7)"));
  EXPECT_THAT(wrongFeatures, HasSubstr("(2, 6)"));

  std::string wrongKernel = errorOf([&] {
    call(f, {randomTensor(rng, {2, 7}), randomTensor(rng, {5, 7})});
  });
  EXPECT_THAT(wrongKernel, HasSubstr("'dense/kernel'"));
  EXPECT_THAT(wrongKernel, HasSubstr("(7, 5)"));

  std::string wrongDtype = errorOf([&] {
    call(f, {randomTensor(rng, {2, 7}).astype(DType::Float32), k});
  });
  EXPECT_THAT(wrongDtype, HasSubstr("'input'"));
  EXPECT_THAT(wrongDtype, HasSubstr("float32"));

  std::string wrongCount = errorOf([&] { call(f, {k}); });
  EXPECT_THAT(wrongCount, HasSubstr("expects 2"));
}

} // namespace

namespace {

/// The training-mode dropout mask: values in {0, 1/(1-rate)}, about `rate`
/// of them zero, the same for the same (seed, step), different otherwise.
TEST_F(ForwardTest, DropoutMaskIsSeededAndHasTheRightRate) {
  auto jit = build(R"mlir(
func.func @mask(%x: tensor<?x100xf32>, %step: tensor<f32>) -> tensor<*xf32> {
  %0 = layer.dropout_mask %x, %step {rate = 0.3 : f64, seed = 11 : i64} : (tensor<?x100xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @mask2(%x: tensor<?x100xf32>, %step: tensor<f32>) -> tensor<*xf32> {
  %0 = layer.dropout_mask %x, %step {rate = 0.3 : f64, seed = 12 : i64} : (tensor<?x100xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  CompiledFunction mask = lookup(*jit, "mask"), mask2 = lookup(*jit, "mask2");
  Tensor x({200, 100});
  auto run = [&](const CompiledFunction &f, float step) {
    return call(f, {x, Tensor::fromFloats({step}, {})})[0];
  };
  Tensor a = run(mask, 1), b = run(mask, 1), c = run(mask, 2),
         d = run(mask2, 1);
  int64_t zeros = 0, diffStep = 0, diffSeed = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    float v = a.data<float>()[i];
    ASSERT_TRUE(v == 0.0f || std::abs(v - 1.0f / 0.7f) < 1e-6f) << v;
    zeros += v == 0.0f;
    EXPECT_EQ(v, b.data<float>()[i]);
    diffStep += v != c.data<float>()[i];
    diffSeed += v != d.data<float>()[i];
  }
  double rate = static_cast<double>(zeros) / a.numel();
  EXPECT_NEAR(rate, 0.3, 0.015); // 20,000 draws: 4.6 standard deviations
  // Independent masks differ in about 2 * 0.3 * 0.7 = 42% of the places.
  EXPECT_NEAR(static_cast<double>(diffStep) / a.numel(), 0.42, 0.03);
  EXPECT_NEAR(static_cast<double>(diffSeed) / a.numel(), 0.42, 0.03);
}

/// In train_step, dropout multiplies by the mask; evaluate keeps the
/// identity. With rate 0.5 a train step's outputs differ from evaluate's.
TEST_F(ForwardTest, TrainStepAppliesDropoutEvaluateDoesNot) {
  auto jit = build(R"mlir(
func.func @predict(%x: tensor<?x8xf32>, %k: tensor<8x8xf32> {layer.param}) -> tensor<*xf32> {
  %0 = layer.dropout %x {rate = 0.5 : f64} : (tensor<?x8xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k : (tensor<*xf32>, tensor<8x8xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}
)mlir",
                   "func.func(layer-shape-inference),"
                   "layer-autodiff{loss=mean_squared_error optimizer=sgd}");
  ASSERT_TRUE(jit);
  Tensor x({16, 8}), y({16, 8}), k({8, 8}), v({8, 8});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = 1.0f;
  for (int i = 0; i < 8; ++i)
    k.data<float>()[i * 8 + i] = 1.0f; // identity kernel: output = input
  auto train = call(lookup(*jit, "train_step"),
                    {x, y, k, v, Tensor::fromFloats({1}, {})});
  auto eval = call(lookup(*jit, "evaluate"), {x, y, k});
  int64_t zeros = 0;
  for (int64_t i = 0; i < 128; ++i) {
    float t = train[1].data<float>()[i];
    EXPECT_TRUE(t == 0.0f || t == 2.0f) << t;
    zeros += t == 0.0f;
    EXPECT_EQ(eval[1].data<float>()[i], 1.0f);
  }
  EXPECT_GT(zeros, 32);
  EXPECT_LT(zeros, 96);
}

} // namespace
