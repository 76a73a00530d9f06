//===- NpyTest.cpp - Tests of the .npy reader and writer ------------------===//
//
// Round trips for every dtype, parsing of hand-written headers in the forms
// NumPy produces (versions 1.0 to 3.0, odd spacing, Python 2 longs), and the
// errors for malformed files: each must name the file and must be raised
// before anything is allocated from the header.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtil.h"
#include "runtime/Tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

using namespace layerc;
using layerc::test::errorOf;
using layerc::test::readBytes;
using layerc::test::TempDir;
using layerc::test::writeBytes;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

/// The bytes of an .npy file with header dict `dict` (padded as NumPy
/// does) and raw data `data`, in format `major`.0.
std::string npyBytes(const std::string &dict, const std::string &data,
                     int major = 1) {
  int lengthBytes = major == 1 ? 2 : 4;
  std::string header = dict;
  size_t pre = 8 + lengthBytes;
  header.append(64 - (pre + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  for (int i = 0; i < lengthBytes; ++i)
    out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return out + header + data;
}

template <typename T> std::string rawOf(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

class NpyTest : public ::testing::Test {
protected:
  TempDir dir;
};

TEST_F(NpyTest, RoundTripsEveryDType) {
  Tensor source = Tensor::fromDoubles({0, 1, 2, 3, 4, 250}, {2, 3});
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int32,
                      DType::Int64, DType::UInt8}) {
    SCOPED_TRACE(dtypeName(dtype));
    Tensor t = source.astype(dtype);
    std::string path = dir.file(std::string(dtypeName(dtype)) + ".npy");
    t.saveNpy(path);
    Tensor back = Tensor::loadNpy(path);
    EXPECT_EQ(back.dtype(), dtype);
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(std::memcmp(back.rawData(), t.rawData(), t.nbytes()), 0);
  }
}

TEST_F(NpyTest, RoundTripsScalarsAndEmptyArrays) {
  Tensor scalar = Tensor::fromFloats({2.5f}, {});
  scalar.saveNpy(dir.file("s.npy"));
  Tensor s = Tensor::loadNpy(dir.file("s.npy"));
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<float>()[0], 2.5f);
  Tensor(std::vector<int64_t>{0, 4}).saveNpy(dir.file("e.npy"));
  EXPECT_EQ(Tensor::loadNpy(dir.file("e.npy")).shape(),
            (std::vector<int64_t>{0, 4}));
}

TEST_F(NpyTest, WritesTheHeaderNumPyWrites) {
  Tensor t = Tensor::fromFloats({0, 1, 2, 3, 4, 5}, {2, 3});
  t.saveNpy(dir.file("a.npy"));
  std::string bytes = readBytes(dir.file("a.npy"));
  std::string expected =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
               rawOf(std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ((bytes.size() - t.nbytes()) % 64, 0u);
  Tensor(std::vector<int64_t>{7}, DType::UInt8).saveNpy(dir.file("u.npy"));
  EXPECT_THAT(readBytes(dir.file("u.npy")),
              HasSubstr("{'descr': '|u1', 'fortran_order': False, "
                        "'shape': (7,), }"));
}

TEST_F(NpyTest, ParsesHandWrittenHeaders) {
  std::string path = dir.file("h.npy");
  writeBytes(path, npyBytes("{'descr': '<i8', 'fortran_order': False, "
                            "'shape': (3,), }",
                            rawOf(std::vector<int64_t>{-1, 2, 1LL << 40})));
  Tensor a = Tensor::loadNpy(path);
  EXPECT_EQ(a.dtype(), DType::Int64);
  EXPECT_EQ(a.shape(), std::vector<int64_t>{3});
  EXPECT_EQ(a.data<int64_t>()[2], 1LL << 40);

  // Key order, spacing, double quotes and Python 2 longs all occur in the
  // wild; version 2.0 and 3.0 use a 4-byte header length.
  for (int major : {2, 3}) {
    writeBytes(path, npyBytes("{ \"shape\":(2L,1L) ,'fortran_order' : False,"
                              "'descr':'<u1'}",
                              std::string("\x05\x07", 2), major));
    Tensor b = Tensor::loadNpy(path);
    EXPECT_EQ(b.dtype(), DType::UInt8);
    EXPECT_EQ(b.shape(), (std::vector<int64_t>{2, 1}));
    EXPECT_EQ(b.data<uint8_t>()[1], 7);
  }
}

TEST_F(NpyTest, RejectsMalformedFiles) {
  std::string path = dir.file("bad.npy");
  std::string good =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
               rawOf(std::vector<float>{1, 2}));

  writeBytes(path, good.substr(0, good.size() - 3));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path), HasSubstr("needs 8 bytes of data but the "
                                               "file holds 5")));
  writeBytes(path, good + "xy");
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }), HasSubstr("holds 10"));

  writeBytes(path, "\x93NUMPX" + good.substr(6));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path), HasSubstr("not a .npy file")));

  writeBytes(path, good.substr(0, 7));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path), HasSubstr("too short")));

  writeBytes(path, good.substr(0, 40));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path), HasSubstr("runs past the end")));

  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(dir.file("missing.npy")); }),
              AllOf(HasSubstr("missing.npy"), HasSubstr("cannot open")));
}

TEST_F(NpyTest, RejectsHugeShapesBeforeAllocating) {
  std::string path = dir.file("huge.npy");
  writeBytes(path, npyBytes("{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (1000000000, 1000000000), }",
                            "12345678"));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path),
                    HasSubstr("shape (1000000000, 1000000000) float64 needs "
                              "8000000000000000000 bytes")));
  writeBytes(path, npyBytes("{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (4294967296, 4294967296), }",
                            "12345678"));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              HasSubstr("needs over 2^63 bytes"));
  writeBytes(path, npyBytes("{'descr': '<f8', 'fortran_order': False, "
                            "'shape': (99999999999999999999,), }",
                            ""));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              HasSubstr("dimension too large"));
}

TEST_F(NpyTest, RejectsUnsupportedLayouts) {
  std::string path = dir.file("f.npy");
  std::string data = rawOf(std::vector<float>{1, 2, 3, 4});
  writeBytes(path, npyBytes("{'descr': '<f4', 'fortran_order': True, "
                            "'shape': (2, 2), }",
                            data));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path), HasSubstr("fortran_order is True")));

  writeBytes(path, npyBytes("{'descr': '<i2', 'fortran_order': False, "
                            "'shape': (8,), }",
                            data));
  EXPECT_EQ(errorOf([&] { Tensor::loadNpy(path); }),
            path + ": dtype '<i2' is not supported (expected one of float32, "
                   "float64, int32, int64, uint8)");

  writeBytes(path, npyBytes("{'descr': '>f4', 'fortran_order': False, "
                            "'shape': (4,), }",
                            data));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }), HasSubstr("big-endian"));

  writeBytes(path, npyBytes("{'descr': '<f4', 'shape': (4,), }", data));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              HasSubstr("missing key 'fortran_order'"));

  writeBytes(path, npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (4,), 'extra': 1}",
                            data));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              HasSubstr("unexpected key 'extra'"));

  writeBytes(path, npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (-4,), }",
                            data));
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              AllOf(HasSubstr(path), HasSubstr("malformed .npy header")));

  std::string v4 = npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (4,), }",
                            data);
  v4[6] = 4;
  writeBytes(path, v4);
  EXPECT_THAT(errorOf([&] { Tensor::loadNpy(path); }),
              HasSubstr("version 4.0 is not supported"));
}

} // namespace
