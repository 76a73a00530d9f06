//===- Tensor.h - Host tensors owned by the runtime --------------*- C++
//-*-===//
//
// A Tensor is a dense, row-major, 64-byte aligned host buffer with a dtype
// and a static shape. Copies share storage (like NumPy views of the same
// array); `clone()` makes a deep copy. Tensors feed compiled functions through
// the memref ABI in Abi.h and read/write NumPy .npy files.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_TENSOR_H
#define LAYERC_RUNTIME_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace layerc {

/// Element types a host tensor can hold.
enum class DType : uint8_t { Float32, Float64, Int32, Int64, UInt8 };

/// Size in bytes of one element of `dtype`.
size_t dtypeSize(DType dtype);
/// NumPy-style name: "float32", "float64", "int32", "int64", "uint8".
const char *dtypeName(DType dtype);
/// True for Float32 and Float64.
bool isFloat(DType dtype);

/// Formats a shape as Python does: "(60000, 784)", "(10,)", "()". A negative
/// dimension prints as "None".
std::string formatShape(const std::vector<int64_t> &shape);

/// A dense host tensor.
class Tensor {
public:
  /// An empty tensor of shape (0,) and dtype float32.
  Tensor();
  /// A zero-filled tensor. Throws layerc::Error on a negative dimension or a
  /// size that overflows.
  explicit Tensor(std::vector<int64_t> shape, DType dtype = DType::Float32);

  /// A tensor holding a copy of `values`; `shape` must match their count.
  static Tensor fromFloats(const std::vector<float> &values,
                           std::vector<int64_t> shape);
  static Tensor fromDoubles(const std::vector<double> &values,
                            std::vector<int64_t> shape);
  static Tensor fromInts(const std::vector<int32_t> &values,
                         std::vector<int64_t> shape);

  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const;
  DType dtype() const { return dtype_; }
  int64_t numel() const;
  size_t nbytes() const { return numel() * dtypeSize(dtype_); }
  /// "(60000, 784)".
  std::string shapeString() const { return formatShape(shape_); }

  void *rawData() { return data_.get(); }
  const void *rawData() const { return data_.get(); }
  /// Typed access; throws layerc::Error when T does not match the dtype.
  template <typename T> T *data();
  template <typename T> const T *data() const;

  /// A view with a new shape over the same storage; one dimension may be -1.
  Tensor reshape(std::vector<int64_t> shape) const;
  /// A converted copy (integers to floats, floats to floats, ...).
  Tensor astype(DType dtype) const;
  /// A deep copy.
  Tensor clone() const;
  /// Element-wise division by a scalar; float tensors only (as x / 255.0).
  Tensor operator/(double divisor) const;
  /// Rows [begin, end) along axis 0, copied.
  Tensor slice(int64_t begin, int64_t end) const;
  /// Rows `indices[i]` along axis 0, copied into a new tensor (a gather).
  Tensor take(const std::vector<int64_t> &indices) const;

  /// Reads a NumPy .npy file (format versions 1-3, C order, little-endian
  /// float32/float64/int32/int64/uint8). Throws layerc::Error naming the file
  /// on anything else; never reads past the file or allocates more than the
  /// file can hold.
  static Tensor loadNpy(const std::string &path);
  /// Writes a NumPy .npy file (format 1.0).
  void saveNpy(const std::string &path) const;

private:
  std::vector<int64_t> shape_;
  DType dtype_ = DType::Float32;
  std::shared_ptr<std::byte> data_;
};

} // namespace layerc

#endif // LAYERC_RUNTIME_TENSOR_H
