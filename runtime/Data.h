//===- Data.h - Datasets: IDX files and Fashion-MNIST ------------*- C++
//-*-===//
//
// Readers for the data the examples train on. IDX is the format of (Fashion-)
// MNIST; files may be gzip-compressed (read through zlib). Every header field
// is checked against the bytes actually present before anything is
// allocated from it.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_DATA_H
#define LAYERC_RUNTIME_DATA_H

#include "runtime/Tensor.h"

#include <string>

namespace layerc {

/// Reads an IDX file (optionally .gz). Unsigned-byte data gives a uint8
/// tensor, int gives int32, float gives float32, double gives float64.
/// Throws layerc::Error naming the file on a missing file, a bad magic
/// number, or a size that does not match the header.
Tensor loadIdx(const std::string &path);

namespace datasets::fashion_mnist {

/// Where Debian's dataset-fashion-mnist package installs the files.
inline constexpr const char *kDefaultDir = "/usr/share/datasets/fashion-mnist";

struct Data {
  Tensor xTrain; // (60000, 28, 28) uint8
  Tensor yTrain; // (60000,) uint8
  Tensor xTest;  // (10000, 28, 28) uint8
  Tensor yTest;  // (10000,) uint8
};

/// Keras's fashion_mnist.load_data(), from local files only. The error for a
/// missing directory says which package provides it.
Data loadData(const std::string &dir = kDefaultDir);

} // namespace datasets::fashion_mnist
} // namespace layerc

#endif // LAYERC_RUNTIME_DATA_H
