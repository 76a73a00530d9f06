//===- TensorTest.cpp - Tests of runtime/Tensor ---------------------------===//
//
// Storage, shape arithmetic and the copying operations of Tensor, including
// the errors a user sees for bad shapes and out-of-range rows.
//
//===----------------------------------------------------------------------===//

#include "runtime/Tensor.h"
#include "RuntimeTestUtil.h"
#include "runtime/Error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

using namespace layerc;
using layerc::test::errorOf;
using ::testing::HasSubstr;

namespace {

TEST(TensorTest, DTypeNamesAndSizes) {
  EXPECT_EQ(dtypeSize(DType::Float32), 4u);
  EXPECT_EQ(dtypeSize(DType::Float64), 8u);
  EXPECT_EQ(dtypeSize(DType::Int32), 4u);
  EXPECT_EQ(dtypeSize(DType::Int64), 8u);
  EXPECT_EQ(dtypeSize(DType::UInt8), 1u);
  EXPECT_STREQ(dtypeName(DType::Int64), "int64");
  EXPECT_TRUE(isFloat(DType::Float64));
  EXPECT_FALSE(isFloat(DType::UInt8));
}

TEST(TensorTest, FormatShapeLikePython) {
  EXPECT_EQ(formatShape({60000, 784}), "(60000, 784)");
  EXPECT_EQ(formatShape({10}), "(10,)");
  EXPECT_EQ(formatShape({}), "()");
  EXPECT_EQ(formatShape({-1, 784}), "(None, 784)");
}

TEST(TensorTest, ConstructionIsZeroFilledAndAligned) {
  Tensor t({3, 5}, DType::Float64);
  EXPECT_EQ(t.numel(), 15);
  EXPECT_EQ(t.nbytes(), 120u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.rawData()) % 64, 0u);
  for (int i = 0; i < 15; ++i)
    EXPECT_EQ(t.data<double>()[i], 0.0);
  Tensor empty;
  EXPECT_EQ(empty.shape(), std::vector<int64_t>{0});
  EXPECT_NE(empty.rawData(), nullptr);
  Tensor scalar({}, DType::Int32);
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.rank(), 0);
}

TEST(TensorTest, BadShapesThrow) {
  EXPECT_THAT(errorOf([] { Tensor({2, -3}); }), HasSubstr("(2, -3)"));
  int64_t big = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_THAT(errorOf([&] { Tensor({big, 4}); }), HasSubstr("overflow"));
  EXPECT_THAT(errorOf([] {
                Tensor::fromFloats({1, 2, 3}, {2, 2});
              }),
              HasSubstr("(2, 2) from 3 values"));
}

TEST(TensorTest, TypedAccessChecksDType) {
  Tensor t = Tensor::fromInts({1, 2, 3}, {3});
  EXPECT_EQ(t.data<int32_t>()[2], 3);
  EXPECT_THAT(errorOf([&] { t.data<float>(); }),
              HasSubstr("cannot access a int32 tensor as float32"));
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_THROW(t.dim(1), Error);
}

TEST(TensorTest, CopiesShareStorageCloneDoesNot) {
  Tensor a = Tensor::fromFloats({1, 2}, {2});
  Tensor b = a;
  Tensor c = a.clone();
  b.data<float>()[0] = 7;
  EXPECT_EQ(a.data<float>()[0], 7);
  EXPECT_EQ(c.data<float>()[0], 1);
}

TEST(TensorTest, ReshapeInfersOneDimension) {
  Tensor a = Tensor::fromFloats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = a.reshape({-1, 2});
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r.rawData(), a.rawData());
  EXPECT_EQ(a.reshape({6}).shape(), std::vector<int64_t>{6});
  EXPECT_THAT(errorOf([&] {
                a.reshape({-1, -1});
              }),
              HasSubstr("only one dimension may be -1"));
  EXPECT_THAT(errorOf([&] {
                a.reshape({4, -1});
              }),
              HasSubstr("cannot reshape (2, 3) (6 elements) to (4, -1)"));
  EXPECT_THROW(a.reshape({7}), Error);
  EXPECT_EQ(Tensor({0, 4}).reshape({-1, 2}).shape(),
            (std::vector<int64_t>{0, 2}));
}

TEST(TensorTest, AstypeConvertsBetweenAllDTypes) {
  Tensor f = Tensor::fromFloats({1.75f, -2.5f, 255.0f}, {3});
  Tensor i = f.astype(DType::Int64);
  EXPECT_EQ(i.data<int64_t>()[0], 1);
  EXPECT_EQ(i.data<int64_t>()[1], -2);
  Tensor u = f.astype(DType::UInt8);
  EXPECT_EQ(u.data<uint8_t>()[2], 255);
  Tensor d = u.astype(DType::Float64);
  EXPECT_EQ(d.data<double>()[2], 255.0);
  Tensor back = d.astype(DType::Int32).astype(DType::Float32);
  EXPECT_EQ(back.data<float>()[2], 255.0f);
  // Out-of-range floats saturate instead of being undefined behaviour.
  Tensor huge = Tensor::fromDoubles({1e30, -1e30}, {2}).astype(DType::Int32);
  EXPECT_EQ(huge.data<int32_t>()[0], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(huge.data<int32_t>()[1], std::numeric_limits<int32_t>::min());
}

TEST(TensorTest, DivisionIsForFloatsOnly) {
  Tensor f = Tensor::fromFloats({255.0f, 51.0f}, {2});
  Tensor q = f / 255.0;
  EXPECT_FLOAT_EQ(q.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(q.data<float>()[1], 0.2f);
  EXPECT_EQ(f.data<float>()[0], 255.0f);
  Tensor u({2}, DType::UInt8);
  EXPECT_THAT(errorOf([&] { u / 255.0; }),
              HasSubstr("cannot divide a uint8 tensor"));
}

TEST(TensorTest, SliceAndTakeCopyRows) {
  Tensor a = Tensor::fromInts({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor s = a.slice(1, 3);
  EXPECT_EQ(s.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(s.data<int32_t>()[0], 10);
  EXPECT_NE(s.rawData(), a.rawData());
  Tensor t = a.take({2, 0, 2});
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.data<int32_t>()[0], 20);
  EXPECT_EQ(t.data<int32_t>()[3], 1);
  EXPECT_EQ(a.slice(3, 3).dim(0), 0);
  EXPECT_THAT(errorOf([&] { a.slice(2, 4); }),
              HasSubstr("slice [2, 4) is out of range for a tensor of shape "
                        "(3, 2)"));
  EXPECT_THAT(errorOf([&] {
                a.take({0, 3});
              }),
              HasSubstr("index 3 (at position 1) is out of range"));
  EXPECT_THROW(Tensor(std::vector<int64_t>{}).take({0}), Error);
}

} // namespace
