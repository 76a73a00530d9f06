//===- AbiTest.cpp - Tests of calling through the memref ABI --------------===//
//
// Hand-written C++ functions with the packed signature stand in for
// compiled code: they read the memref descriptors exactly as generated code
// would, so these tests pin down the descriptor layout (pointers, offset,
// sizes, row-major strides) and the argument checks in front of every call.
//
//===----------------------------------------------------------------------===//

#include "runtime/Abi.h"
#include "RuntimeTestUtil.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace layerc;
using layerc::test::errorOf;
using ::testing::HasSubstr;

namespace {

/// The descriptor that args[i] points to, viewed as 64-bit words.
const int64_t *descriptor(void **args, int i) {
  return *static_cast<int64_t **>(args[i]);
}

template <typename T> T *alignedPtr(void **args, int i) {
  return reinterpret_cast<T *>(descriptor(args, i)[1]);
}

/// out = a + b for (N, 3) float32 memrefs, read through the descriptors.
void addRows(void **args) {
  const int64_t *a = descriptor(args, 0);
  int64_t n = a[3], cols = a[4];
  const float *x = alignedPtr<float>(args, 0);
  const float *y = alignedPtr<float>(args, 1);
  float *out = alignedPtr<float>(args, 2);
  for (int64_t i = 0; i < n * cols; ++i)
    out[i] = x[i] + y[i];
}

CompiledFunction makeAdd() {
  CompiledFunction f;
  f.name = "add";
  f.inputs = {{"a", DType::Float32, {kDynamic, 3}},
              {"b", DType::Float32, {kDynamic, 3}}};
  f.outputs = {{"sum", DType::Float32, {kDynamic, 3}}};
  f.fn = addRows;
  return f;
}

TEST(AbiTest, BufferSpecResolveAndStr) {
  BufferSpec spec{"x", DType::Float32, {kDynamic, 784}};
  EXPECT_EQ(spec.resolve(64), (std::vector<int64_t>{64, 784}));
  EXPECT_EQ(spec.str(), "(None, 784) float32");
  EXPECT_EQ((BufferSpec{"loss", DType::Float64, {}}).str(), "() float64");
}

TEST(AbiTest, CallsThroughDescriptors) {
  CompiledFunction add = makeAdd();
  Tensor a = Tensor::fromFloats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::fromFloats({10, 20, 30, 40, 50, 60}, {2, 3});
  std::vector<Tensor> out = add({&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(out[0].data<float>()[0], 11);
  EXPECT_EQ(out[0].data<float>()[5], 66);
}

TEST(AbiTest, DescriptorLayout) {
  std::vector<std::vector<int64_t>> seen;
  CompiledFunction f;
  f.name = "probe";
  f.inputs = {{"x", DType::Float64, {kDynamic, 4, 5}},
              {"s", DType::Float32, {}}};
  f.outputs = {{"y", DType::Int32, {kDynamic}}};
  f.fn = [&](void **args) {
    seen.emplace_back(descriptor(args, 0), descriptor(args, 0) + 9);
    seen.emplace_back(descriptor(args, 1), descriptor(args, 1) + 3);
    seen.emplace_back(descriptor(args, 2), descriptor(args, 2) + 5);
  };
  Tensor x({2, 4, 5}, DType::Float64);
  Tensor s({}, DType::Float32);
  std::vector<Tensor> out = f({&x, &s});
  ASSERT_EQ(seen.size(), 3u);
  auto ptr = [](const Tensor &t) {
    return static_cast<int64_t>(reinterpret_cast<intptr_t>(t.rawData()));
  };
  EXPECT_EQ(seen[0],
            (std::vector<int64_t>{ptr(x), ptr(x), 0, 2, 4, 5, 20, 5, 1}));
  EXPECT_EQ(seen[1], (std::vector<int64_t>{ptr(s), ptr(s), 0}));
  EXPECT_EQ(seen[2], (std::vector<int64_t>{ptr(out[0]), ptr(out[0]), 0, 2, 1}));
}

TEST(AbiTest, CallWritesIntoGivenOutputs) {
  CompiledFunction add = makeAdd();
  Tensor a = Tensor::fromFloats({1, 2, 3}, {1, 3});
  Tensor out({1, 3});
  add.call({&a, &a}, {&out});
  EXPECT_EQ(out.data<float>()[2], 6);
  Tensor wrong({2, 3});
  EXPECT_EQ(errorOf([&] {
              add.call({&a, &a}, {&wrong});
            }),
            "add: output 'sum' has batch size 2 but argument 'a' has batch "
            "size 1 (sum is (2, 3))");
}

TEST(AbiTest, ShapeMismatchesNameTheArgument) {
  CompiledFunction add = makeAdd();
  add.name = "train_step";
  Tensor a({64, 3});
  Tensor wide({64, 4});
  Tensor ints({64, 3}, DType::Int32);
  Tensor small({32, 3});
  Tensor flat({64});
  EXPECT_EQ(errorOf([&] {
              add({&a, &wide});
            }),
            "train_step: argument 'b' expects (None, 3) float32 but got "
            "(64, 4) float32");
  EXPECT_EQ(errorOf([&] {
              add({&a, &ints});
            }),
            "train_step: argument 'b' expects (None, 3) float32 but got "
            "(64, 3) int32");
  EXPECT_THAT(errorOf([&] {
                add({&a, &flat});
              }),
              HasSubstr("got (64,) float32"));
  EXPECT_THAT(errorOf([&] {
                add({&a, &small});
              }),
              HasSubstr("argument 'b' has batch size 32 but argument 'a' has "
                        "batch size 64"));
  EXPECT_EQ(errorOf([&] { add({&a}); }),
            "train_step: expects 2 inputs but got 1");
  EXPECT_THAT(errorOf([&] { add({&a, nullptr}); }), HasSubstr("is null"));
}

TEST(AbiTest, DynamicOutputNeedsDynamicInput) {
  CompiledFunction f;
  f.name = "f";
  f.inputs = {{"x", DType::Float32, {2}}};
  f.outputs = {{"y", DType::Float32, {kDynamic}}};
  f.fn = [](void **) {};
  Tensor x({2});
  EXPECT_THAT(errorOf([&] { f({&x}); }),
              HasSubstr("f: output 'y' has shape (None,) float32 with a "
                        "dynamic dimension"));
  f.outputs[0].shape = {2};
  EXPECT_EQ(f({&x})[0].shape(), std::vector<int64_t>{2});
  f.fn = nullptr;
  EXPECT_THAT(errorOf([&] { f({&x}); }), HasSubstr("no compiled code"));
}

} // namespace

// A compiled function reports a failed run-time check or a failed
// allocation through the status after its descriptors; the call throws the
// check's message, never returns the outputs.
TEST(AbiTest, StatusesBecomeErrors) {
  CompiledFunction f = makeAdd();
  f.checkMessages = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"layer 'fc' (layer.dense): sizes differ"});
  int32_t status = kStatusOk;
  f.fn = [&](void **args) { *static_cast<int32_t *>(args[3]) = status; };
  Tensor a({2, 3});
  status = kStatusCheckBase;
  EXPECT_EQ(errorOf([&] {
              f({&a, &a});
            }),
            "add: layer 'fc' (layer.dense): sizes differ");
  status = kStatusOutOfMemory;
  EXPECT_EQ(errorOf([&] { f({&a, &a}); }), "add: out of memory");
  status = kStatusCheckBase + 7;
  EXPECT_EQ(errorOf([&] { f({&a, &a}); }), "add: failed with status 107");
  status = kStatusOk;
  EXPECT_EQ(f({&a, &a}).size(), 1u);
}

// Only dimension 0 is the shared batch: another unknown size is the
// caller's (the compiled code checks what it needs of it).
TEST(AbiTest, OnlyTheBatchIsShared) {
  CompiledFunction f;
  f.name = "seq";
  f.inputs = {{"x", DType::Float32, {kDynamic, kDynamic}}};
  f.outputs = {{"y", DType::Float32, {kDynamic}}};
  f.fn = [](void **) {};
  Tensor x({2, 7});
  std::vector<Tensor> out = f({&x});
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{2}));
}
