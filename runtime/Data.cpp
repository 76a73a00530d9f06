//===- Data.cpp - Datasets: IDX files and Fashion-MNIST -------------------===//
//
// IDX files start with two zero bytes, a type code, the number of dimensions
// and one big-endian 32-bit size per dimension; the big-endian data follows.
// All reads go through zlib's gzread, which also reads uncompressed files.
// A gzip stream's uncompressed size is unknown until it has been inflated,
// so the data is read in bounded chunks and compared with the header's size
// afterwards: a lying header can cost at most the bytes actually present.
//
//===----------------------------------------------------------------------===//

#include "runtime/Data.h"
#include "runtime/Error.h"

#include "absl/strings/str_format.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

using namespace layerc;

namespace {

/// No IDX file the runtime reads is anywhere near this size.
constexpr uint64_t kMaxIdxBytes = uint64_t(4) << 30;
constexpr size_t kChunkBytes = size_t(1) << 20;
constexpr int kMaxRank = 8;

struct GzCloser {
  void operator()(gzFile_s *f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

/// Reads up to `size` bytes; throws on a zlib error (e.g. a corrupt or
/// truncated gzip stream). Returns the count read, short only at the end.
size_t readSome(const std::string &path, gzFile file, void *buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    unsigned want =
        static_cast<unsigned>(std::min(size - done, size_t(kChunkBytes)));
    int got = gzread(file, static_cast<char *>(buf) + done, want);
    if (got < 0) {
      int errnum = 0;
      const char *msg = gzerror(file, &errnum);
      throw Error(path + ": read error (" + (msg ? msg : "zlib error") + ")");
    }
    if (got == 0)
      break;
    done += static_cast<size_t>(got);
  }
  return done;
}

/// Decodes the element type of the IDX type code `code`.
DType idxDType(const std::string &path, int code) {
  switch (code) {
  case 0x08:
    return DType::UInt8;
  case 0x0C:
    return DType::Int32;
  case 0x0D:
    return DType::Float32;
  case 0x0E:
    return DType::Float64;
  }
  throw Error(absl::StrFormat(
      "%s: IDX type code 0x%02X is not supported (expected 0x08 uint8, 0x0C "
      "int32, 0x0D float32 or 0x0E float64)",
      path, code));
}

uint32_t bigEndian32(const unsigned char *b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) |
         (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

/// Reads the magic and dimensions; returns the shape and sets `dtype`.
std::vector<int64_t> readIdxHeader(const std::string &path, gzFile file,
                                   DType &dtype) {
  unsigned char magic[4];
  if (readSome(path, file, magic, 4) != 4 || magic[0] != 0 || magic[1] != 0)
    throw Error(path + ": not an IDX file (expected the magic bytes 0x00 0x00 "
                       "<type> <ndims> at the start)");
  dtype = idxDType(path, magic[2]);
  int rank = magic[3];
  if (rank < 1 || rank > kMaxRank)
    throw Error(
        absl::StrFormat("%s: IDX header has %d dimensions (expected 1 to %d)",
                        path, rank, kMaxRank));
  std::vector<unsigned char> dims(4 * rank);
  if (readSome(path, file, dims.data(), dims.size()) != dims.size())
    throw Error(path + ": file ends inside the IDX header");
  std::vector<int64_t> shape(rank);
  for (int i = 0; i < rank; ++i)
    shape[i] = bigEndian32(&dims[4 * i]);
  return shape;
}

/// The data size the header promises, refusing anything over kMaxIdxBytes.
uint64_t expectedBytes(const std::string &path,
                       const std::vector<int64_t> &shape, DType dtype) {
  uint64_t bytes = dtypeSize(dtype);
  for (int64_t d : shape) {
    // Dimensions are below 2^32, so this cannot overflow before the check.
    bytes *= static_cast<uint64_t>(d);
    if (bytes > kMaxIdxBytes)
      throw Error(path + ": IDX header shape " + formatShape(shape) + " " +
                  dtypeName(dtype) + " is larger than the 4 GiB limit");
  }
  return bytes;
}

/// IDX stores multi-byte elements big-endian; the host is little-endian.
void byteSwap(std::vector<unsigned char> &data, size_t width) {
  if (width == 1)
    return;
  for (size_t i = 0; i + width <= data.size(); i += width)
    std::reverse(data.begin() + i, data.begin() + i + width);
}

std::vector<unsigned char> readIdxData(const std::string &path, gzFile file,
                                       const std::vector<int64_t> &shape,
                                       uint64_t expected) {
  std::vector<unsigned char> data;
  // Trust the header only up to a modest size; beyond it, grow as bytes come.
  data.reserve(std::min<uint64_t>(expected, uint64_t(64) << 20));
  while (data.size() < expected) {
    size_t chunk = std::min<uint64_t>(kChunkBytes, expected - data.size());
    size_t old = data.size();
    data.resize(old + chunk);
    size_t got = readSome(path, file, data.data() + old, chunk);
    data.resize(old + got);
    if (got < chunk)
      throw Error(absl::StrFormat("%s: IDX header says shape %s (%d bytes of "
                                  "data) but the file holds only %d",
                                  path, formatShape(shape), expected,
                                  data.size()));
  }
  unsigned char extra;
  if (readSome(path, file, &extra, 1) != 0)
    throw Error(absl::StrFormat(
        "%s: IDX header says shape %s (%d bytes of data) but the file holds "
        "more",
        path, formatShape(shape), expected));
  return data;
}

} // namespace

Tensor layerc::loadIdx(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(path + ": no such file");
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file)
    throw Error(path + ": cannot open file (" + std::strerror(errno) + ")");
  DType dtype;
  std::vector<int64_t> shape = readIdxHeader(path, file.get(), dtype);
  uint64_t expected = expectedBytes(path, shape, dtype);
  std::vector<unsigned char> data =
      readIdxData(path, file.get(), shape, expected);
  byteSwap(data, dtypeSize(dtype));
  Tensor t(shape, dtype);
  if (!data.empty())
    std::memcpy(t.rawData(), data.data(), data.size());
  return t;
}

namespace {

Tensor loadPart(const std::string &dir, const char *name) {
  std::string path = (std::filesystem::path(dir) / name).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(path + ": no such file; Fashion-MNIST comes from Debian's "
                       "dataset-fashion-mnist package (apt-get install "
                       "dataset-fashion-mnist)");
  return loadIdx(path);
}

void checkPair(const std::string &dir, const Tensor &images,
               const Tensor &labels, const char *split) {
  bool ok = images.dtype() == DType::UInt8 && labels.dtype() == DType::UInt8 &&
            images.rank() == 3 && images.dim(1) == 28 && images.dim(2) == 28 &&
            labels.rank() == 1 && labels.dim(0) == images.dim(0);
  if (!ok)
    throw Error(dir + ": the Fashion-MNIST " + split + " files hold images " +
                images.shapeString() + " " + dtypeName(images.dtype()) +
                " and labels " + labels.shapeString() + " " +
                dtypeName(labels.dtype()) +
                " (expected (N, 28, 28) uint8 and (N,) uint8)");
}

} // namespace

datasets::fashion_mnist::Data
datasets::fashion_mnist::loadData(const std::string &dir) {
  Data d;
  d.xTrain = loadPart(dir, "train-images-idx3-ubyte.gz");
  d.yTrain = loadPart(dir, "train-labels-idx1-ubyte.gz");
  d.xTest = loadPart(dir, "t10k-images-idx3-ubyte.gz");
  d.yTest = loadPart(dir, "t10k-labels-idx1-ubyte.gz");
  checkPair(dir, d.xTrain, d.yTrain, "training");
  checkPair(dir, d.xTest, d.yTest, "test");
  return d;
}
