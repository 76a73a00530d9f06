//===- DataTest.cpp - Tests of the IDX reader and Fashion-MNIST -----------===//
//
// Small IDX files, plain and gzip-compressed, written to a scratch directory
// and read back; headers that lie about the data size; and the real
// Fashion-MNIST files from Debian's dataset-fashion-mnist package, skipped
// where the package is not installed.
//
//===----------------------------------------------------------------------===//

#include "runtime/Data.h"
#include "RuntimeTestUtil.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

using namespace layerc;
using layerc::test::errorOf;
using layerc::test::TempDir;
using layerc::test::writeBytes;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

std::string bigEndian32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i)
    s[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
  return s;
}

/// An IDX header for type code `type` and `dims`.
std::string idxHeader(int type, const std::vector<uint32_t> &dims) {
  std::string s{'\0', '\0', static_cast<char>(type),
                static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    s += bigEndian32(d);
  return s;
}

void writeGzip(const std::string &path, const std::string &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

class DataTest : public ::testing::Test {
protected:
  TempDir dir;
};

TEST_F(DataTest, ReadsPlainAndGzippedUInt8) {
  std::string bytes = idxHeader(0x08, {2, 3}) + "\x01\x02\x03\x04\x05\xff";
  writeBytes(dir.file("a.idx"), bytes);
  writeGzip(dir.file("a.idx.gz"), bytes);
  for (const char *name : {"a.idx", "a.idx.gz"}) {
    SCOPED_TRACE(name);
    Tensor t = loadIdx(dir.file(name));
    EXPECT_EQ(t.dtype(), DType::UInt8);
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(t.data<uint8_t>()[0], 1);
    EXPECT_EQ(t.data<uint8_t>()[5], 255);
  }
}

TEST_F(DataTest, ConvertsBigEndianElements) {
  std::string ints = idxHeader(0x0C, {2}) + bigEndian32(0x01020304) +
                     bigEndian32(static_cast<uint32_t>(-5));
  writeGzip(dir.file("i.gz"), ints);
  Tensor i = loadIdx(dir.file("i.gz"));
  EXPECT_EQ(i.dtype(), DType::Int32);
  EXPECT_EQ(i.data<int32_t>()[0], 0x01020304);
  EXPECT_EQ(i.data<int32_t>()[1], -5);

  // 1.5f is 0x3FC00000; -2.0 as a double is 0xC000000000000000.
  writeBytes(dir.file("f"), idxHeader(0x0D, {1}) + bigEndian32(0x3FC00000));
  EXPECT_EQ(loadIdx(dir.file("f")).data<float>()[0], 1.5f);
  writeBytes(dir.file("d"), idxHeader(0x0E, {1, 1}) + bigEndian32(0xC0000000) +
                                bigEndian32(0));
  Tensor d = loadIdx(dir.file("d"));
  EXPECT_EQ(d.shape(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(d.data<double>()[0], -2.0);
}

TEST_F(DataTest, RejectsHeadersThatLie) {
  std::string path = dir.file("lie.gz");
  // Claims 4 GiB - 1 of images but holds 3 bytes: must fail without
  // allocating what the header claims.
  writeGzip(path, idxHeader(0x08, {65535, 65535}) + "abc");
  EXPECT_THAT(errorOf([&] { loadIdx(path); }),
              AllOf(HasSubstr(path), HasSubstr("(65535, 65535)"),
                    HasSubstr("holds only 3")));
  writeGzip(path, idxHeader(0x0E, {65536, 65536}) + "abc");
  EXPECT_THAT(errorOf([&] { loadIdx(path); }), HasSubstr("4 GiB limit"));
  writeGzip(path, idxHeader(0x08, {2}) + "abc");
  EXPECT_THAT(errorOf([&] { loadIdx(path); }), HasSubstr("holds more"));
}

TEST_F(DataTest, RejectsBadHeaders) {
  std::string path = dir.file("bad");
  writeBytes(path, std::string("\x01\x00\x08\x01", 4) + bigEndian32(1) + "x");
  EXPECT_THAT(errorOf([&] { loadIdx(path); }),
              AllOf(HasSubstr(path), HasSubstr("not an IDX file")));
  writeBytes(path, idxHeader(0x0B, {1}) + "xx");
  EXPECT_THAT(errorOf([&] { loadIdx(path); }),
              HasSubstr("IDX type code 0x0B is not supported"));
  writeBytes(path, idxHeader(0x08, {}));
  EXPECT_THAT(errorOf([&] { loadIdx(path); }), HasSubstr("0 dimensions"));
  writeBytes(path, idxHeader(0x08, {1, 2, 3}).substr(0, 9));
  EXPECT_THAT(errorOf([&] { loadIdx(path); }),
              HasSubstr("ends inside the IDX header"));
  EXPECT_EQ(errorOf([&] { loadIdx(dir.file("nope.gz")); }),
            dir.file("nope.gz") + ": no such file");
}

TEST_F(DataTest, RejectsCorruptGzip) {
  std::string gz = dir.file("c.gz");
  writeGzip(gz, idxHeader(0x08, {4096}) + std::string(4096, 'z'));
  std::string bytes = test::readBytes(gz);
  writeBytes(gz, bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(errorOf([&] { loadIdx(gz); }), HasSubstr(gz));
}

TEST_F(DataTest, FashionMnistMissingDirectoryNamesThePackage) {
  std::string missing = dir.file("no-such-dir");
  EXPECT_EQ(errorOf([&] { datasets::fashion_mnist::loadData(missing); }),
            missing + "/train-images-idx3-ubyte.gz: no such file; "
                      "Fashion-MNIST comes from Debian's "
                      "dataset-fashion-mnist package (apt-get install "
                      "dataset-fashion-mnist)");
}

TEST(FashionMnistTest, LoadsTheRealDataset) {
  std::string dir = datasets::fashion_mnist::kDefaultDir;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto data = datasets::fashion_mnist::loadData();
  EXPECT_EQ(data.xTrain.shape(), (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(data.yTrain.shape(), std::vector<int64_t>{60000});
  EXPECT_EQ(data.xTest.shape(), (std::vector<int64_t>{10000, 28, 28}));
  EXPECT_EQ(data.yTest.shape(), std::vector<int64_t>{10000});
  EXPECT_EQ(data.xTrain.dtype(), DType::UInt8);
  // Keras's documentation: the first training image is an ankle boot (9),
  // and so is the first test image.
  EXPECT_EQ(data.yTrain.data<uint8_t>()[0], 9);
  EXPECT_EQ(data.yTest.data<uint8_t>()[0], 9);
  int maxLabel = 0;
  for (int i = 0; i < 60000; ++i)
    maxLabel = std::max<int>(maxLabel, data.yTrain.data<uint8_t>()[i]);
  EXPECT_EQ(maxLabel, 9);
}

} // namespace
