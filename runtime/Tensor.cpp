//===- Tensor.cpp - Host tensors owned by the runtime ---------------------===//
//
// Storage, shape arithmetic and the copying operations of Tensor. Every size
// is computed with overflow checks before anything is allocated, so that a
// shape read from a file or passed by a user can never wrap around into a
// small allocation that is then written past.
//
//===----------------------------------------------------------------------===//

#include "runtime/Tensor.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <type_traits>

using namespace layerc;

size_t layerc::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::Float32:
  case DType::Int32:
    return 4;
  case DType::Float64:
  case DType::Int64:
    return 8;
  case DType::UInt8:
    return 1;
  }
  throw Error("invalid dtype");
}

const char *layerc::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::Float32:
    return "float32";
  case DType::Float64:
    return "float64";
  case DType::Int32:
    return "int32";
  case DType::Int64:
    return "int64";
  case DType::UInt8:
    return "uint8";
  }
  return "invalid";
}

bool layerc::isFloat(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float64;
}

std::string layerc::formatShape(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      os << ", ";
    if (shape[i] < 0)
      os << "None";
    else
      os << shape[i];
  }
  if (shape.size() == 1)
    os << ',';
  os << ')';
  return os.str();
}

namespace {

constexpr size_t kAlignment = 64;

/// A shape as the user wrote it: unlike formatShape, -1 stays -1.
std::string literalShape(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// The element count of `shape`; throws on a negative dimension or overflow
/// of the byte size (elements times `elementSize`).
int64_t checkedNumel(const std::vector<int64_t> &shape, size_t elementSize) {
  const int64_t limit =
      std::numeric_limits<int64_t>::max() / static_cast<int64_t>(elementSize);
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw Error("tensor shape " + literalShape(shape) +
                  " has a negative dimension");
    if (d != 0 && count > limit / d)
      throw Error("tensor shape " + literalShape(shape) +
                  " is too large: its size in bytes overflows 64 bits");
    count *= d;
  }
  return count;
}

/// Zero-filled storage of at least `bytes` bytes, 64-byte aligned. Never
/// returns null, even for an empty tensor, so descriptors always hold a
/// valid pointer.
std::shared_ptr<std::byte> allocateStorage(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded < bytes)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes");
  if (rounded == 0)
    rounded = kAlignment;
  void *p = std::aligned_alloc(kAlignment, rounded);
  if (!p)
    throw Error("out of memory allocating a tensor of " +
                std::to_string(bytes) + " bytes");
  std::memset(p, 0, rounded);
  return std::shared_ptr<std::byte>(static_cast<std::byte *>(p), std::free);
}

template <typename T> constexpr DType dtypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return DType::Float32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::Float64;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::Int32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::Int64;
  else
    return DType::UInt8;
}

/// Float-to-integer conversion without undefined behaviour: NaN becomes 0
/// and out-of-range values saturate, where C++ leaves the cast undefined.
template <typename To, typename From> To convertElement(From v) {
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (std::isnan(v))
      return 0;
    if (v <= static_cast<From>(std::numeric_limits<To>::min()))
      return std::numeric_limits<To>::min();
    if (v >= static_cast<From>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
  }
  return static_cast<To>(v);
}

template <typename To, typename From>
void convertBuffer(const void *src, void *dst, int64_t n) {
  const From *in = static_cast<const From *>(src);
  To *out = static_cast<To *>(dst);
  for (int64_t i = 0; i < n; ++i)
    out[i] = convertElement<To>(in[i]);
}

template <typename From>
void convertFrom(DType to, const void *src, void *dst, int64_t n) {
  switch (to) {
  case DType::Float32:
    return convertBuffer<float, From>(src, dst, n);
  case DType::Float64:
    return convertBuffer<double, From>(src, dst, n);
  case DType::Int32:
    return convertBuffer<int32_t, From>(src, dst, n);
  case DType::Int64:
    return convertBuffer<int64_t, From>(src, dst, n);
  case DType::UInt8:
    return convertBuffer<uint8_t, From>(src, dst, n);
  }
}

void convert(DType from, DType to, const void *src, void *dst, int64_t n) {
  switch (from) {
  case DType::Float32:
    return convertFrom<float>(to, src, dst, n);
  case DType::Float64:
    return convertFrom<double>(to, src, dst, n);
  case DType::Int32:
    return convertFrom<int32_t>(to, src, dst, n);
  case DType::Int64:
    return convertFrom<int64_t>(to, src, dst, n);
  case DType::UInt8:
    return convertFrom<uint8_t>(to, src, dst, n);
  }
}

template <typename T>
Tensor fromValues(const std::vector<T> &values, std::vector<int64_t> shape) {
  Tensor t(std::move(shape), dtypeOf<T>());
  if (static_cast<size_t>(t.numel()) != values.size())
    throw Error("cannot make a tensor of shape " + t.shapeString() + " from " +
                std::to_string(values.size()) + " values");
  if (!values.empty())
    std::memcpy(t.rawData(), values.data(), t.nbytes());
  return t;
}

} // namespace

Tensor::Tensor() : Tensor(std::vector<int64_t>{0}) {}

Tensor::Tensor(std::vector<int64_t> shape, DType dtype)
    : shape_(std::move(shape)), dtype_(dtype) {
  int64_t n = checkedNumel(shape_, dtypeSize(dtype_));
  data_ = allocateStorage(static_cast<size_t>(n) * dtypeSize(dtype_));
}

Tensor Tensor::fromFloats(const std::vector<float> &values,
                          std::vector<int64_t> shape) {
  return fromValues(values, std::move(shape));
}

Tensor Tensor::fromDoubles(const std::vector<double> &values,
                           std::vector<int64_t> shape) {
  return fromValues(values, std::move(shape));
}

Tensor Tensor::fromInts(const std::vector<int32_t> &values,
                        std::vector<int64_t> shape) {
  return fromValues(values, std::move(shape));
}

int64_t Tensor::dim(int64_t i) const {
  int64_t r = rank();
  if (i < -r || i >= r)
    throw Error("dimension " + std::to_string(i) +
                " is out of range for a tensor of shape " + shapeString());
  return shape_[i < 0 ? i + r : i];
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

template <typename T> T *Tensor::data() {
  if (dtype_ != dtypeOf<T>())
    throw Error(std::string("cannot access a ") + dtypeName(dtype_) +
                " tensor as " + dtypeName(dtypeOf<T>()));
  return reinterpret_cast<T *>(data_.get());
}

template <typename T> const T *Tensor::data() const {
  return const_cast<Tensor *>(this)->data<T>();
}

template float *Tensor::data<float>();
template double *Tensor::data<double>();
template int32_t *Tensor::data<int32_t>();
template int64_t *Tensor::data<int64_t>();
template uint8_t *Tensor::data<uint8_t>();
template const float *Tensor::data<float>() const;
template const double *Tensor::data<double>() const;
template const int32_t *Tensor::data<int32_t>() const;
template const int64_t *Tensor::data<int64_t>() const;
template const uint8_t *Tensor::data<uint8_t>() const;

Tensor Tensor::reshape(std::vector<int64_t> shape) const {
  auto fail = [&](const std::string &why) {
    return Error("cannot reshape " + shapeString() + " (" +
                 std::to_string(numel()) + " elements) to " +
                 literalShape(shape) + ": " + why);
  };
  int inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && inferred >= 0)
      throw fail("only one dimension may be -1");
    if (shape[i] == -1)
      inferred = static_cast<int>(i);
    else if (shape[i] < 0)
      throw fail("dimensions must be non-negative or -1");
  }
  if (inferred >= 0) {
    std::vector<int64_t> others = shape;
    others[inferred] = 1;
    int64_t known = checkedNumel(others, dtypeSize(dtype_));
    if (known == 0 || numel() % known != 0)
      throw fail("the element counts do not divide");
    shape[inferred] = numel() / known;
  }
  if (checkedNumel(shape, dtypeSize(dtype_)) != numel())
    throw fail("the element counts differ");
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

Tensor Tensor::astype(DType dtype) const {
  Tensor out(shape_, dtype);
  convert(dtype_, dtype, rawData(), out.rawData(), numel());
  return out;
}

Tensor Tensor::clone() const {
  Tensor out(shape_, dtype_);
  std::memcpy(out.rawData(), rawData(), nbytes());
  return out;
}

Tensor Tensor::operator/(double divisor) const {
  if (!isFloat(dtype_))
    throw Error(std::string("cannot divide a ") + dtypeName(dtype_) +
                " tensor; convert it first with astype(DType::Float32)");
  Tensor out(shape_, dtype_);
  int64_t n = numel();
  if (dtype_ == DType::Float32) {
    // As NumPy does for float32 / Python float: the division is in float32.
    const float *in = data<float>();
    float *o = out.data<float>();
    float d = static_cast<float>(divisor);
    for (int64_t i = 0; i < n; ++i)
      o[i] = in[i] / d;
  } else {
    const double *in = data<double>();
    double *o = out.data<double>();
    for (int64_t i = 0; i < n; ++i)
      o[i] = in[i] / divisor;
  }
  return out;
}

Tensor Tensor::slice(int64_t begin, int64_t end) const {
  if (rank() == 0)
    throw Error("cannot slice a scalar tensor");
  if (begin < 0 || begin > end || end > shape_[0])
    throw Error("slice [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") is out of range for a tensor of "
                "shape " +
                shapeString());
  std::vector<int64_t> shape = shape_;
  shape[0] = end - begin;
  Tensor out(shape, dtype_);
  size_t rowBytes = out.nbytes() / std::max<int64_t>(shape[0], 1);
  if (shape[0] > 0)
    std::memcpy(out.rawData(), data_.get() + begin * rowBytes, out.nbytes());
  return out;
}

Tensor Tensor::take(const std::vector<int64_t> &indices) const {
  if (rank() == 0)
    throw Error("cannot take rows of a scalar tensor");
  std::vector<int64_t> shape = shape_;
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out(shape, dtype_);
  size_t rowBytes = shape_[0] ? nbytes() / shape_[0] : 0;
  for (size_t i = 0; i < indices.size(); ++i) {
    int64_t row = indices[i];
    if (row < 0 || row >= shape_[0])
      throw Error("index " + std::to_string(row) + " (at position " +
                  std::to_string(i) +
                  ") is out of range for axis 0 of a tensor of shape " +
                  shapeString());
    std::memcpy(out.data_.get() + i * rowBytes, data_.get() + row * rowBytes,
                rowBytes);
  }
  return out;
}
