//===- Convolution.h - Convolution, pooling and upsampling layers -*- C++
//-*-===//
//
// Keras's Conv1D/2D/3D, Conv1D/2D/3DTranspose, Max/AveragePooling1D/2D/3D,
// GlobalMax/AveragePooling1D/2D/3D and UpSampling1D/2D/3D, channels-last,
// with Keras's argument names, defaults, weight layouts and messages. One
// class per family; the rank (1, 2 or 3 spatial axes) is a member, and the
// handles (layers::Conv2D, ...) fix it.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_CONVOLUTION_H
#define LAYERC_FRONTEND_LAYERS_CONVOLUTION_H

#include "frontend/Layer.h"

#include <initializer_list>
#include <optional>

namespace layerc {

/// An integer or a tuple, as Keras takes kernel_size, strides, ...: `3`
/// means 3 on every spatial axis.
class IntTuple {
public:
  IntTuple(int64_t v) : values_{v} {}
  IntTuple(std::initializer_list<int64_t> v) : values_(v) {}
  explicit IntTuple(std::vector<int64_t> v) : values_(std::move(v)) {}
  /// The tuple for `rank` axes; throws naming `layer` and `what` when its
  /// length is neither 1 nor `rank` or an entry is not positive (zero
  /// allowed when `allowZero`).
  std::vector<int64_t> expand(int64_t rank, const std::string &layer,
                              const std::string &what,
                              bool allowZero = false) const;
  const std::vector<int64_t> &values() const { return values_; }

private:
  std::vector<int64_t> values_;
};

struct ConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  IntTuple dilation_rate = 1;
  int64_t groups = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string name{};
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  Constraint kernel_constraint{};
  Constraint bias_constraint{};
  /// Its penalty of the output (divided by the batch) joins the loss.
  Regularizer activity_regularizer{};
};

struct ConvTransposeOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  /// Not given by default (Keras's None).
  std::optional<IntTuple> output_padding{};
  IntTuple dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string name{};
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  Constraint kernel_constraint{};
  Constraint bias_constraint{};
  /// Its penalty of the output (divided by the batch) joins the loss.
  Regularizer activity_regularizer{};
};

/// Conv1D/2D/3D (`transposed` false) and Conv1D/2D/3DTranspose.
class ConvLayer : public Layer {
public:
  ConvLayer(int64_t rank, int64_t filters, const IntTuple &kernelSize,
            const ConvOptions &options);
  ConvLayer(int64_t rank, int64_t filters, const IntTuple &kernelSize,
            const ConvTransposeOptions &options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  void validate();
  int64_t rank_, filters_;
  bool transposed_;
  std::vector<int64_t> kernel_, strides_, dilation_;
  std::vector<int64_t> outputPadding_; // empty: not given
  std::string padding_, activation_;
  int64_t groups_ = 1;
  bool useBias_;
  Initializer kernelInit_, biasInit_;
  Regularizer kernelReg_, biasReg_;
  Constraint kernelConstraint_, biasConstraint_;
};

struct PoolingOptions {
  /// Defaults to pool_size (Keras's None).
  std::optional<IntTuple> strides{};
  std::string padding = "valid";
  std::string name{};
};

/// Max/AveragePooling1D/2D/3D.
class PoolingLayer : public Layer {
public:
  enum class Kind { Max, Average };
  PoolingLayer(int64_t rank, Kind kind, const IntTuple &poolSize,
               const PoolingOptions &options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t rank_;
  Kind kind_;
  std::vector<int64_t> pool_, strides_;
  std::string padding_;
};

struct GlobalPoolingOptions {
  /// Keep the spatial axes (as size 1).
  bool keepdims = false;
  std::string name{};
};

/// GlobalMax/AveragePooling1D/2D/3D.
class GlobalPoolingLayer : public Layer {
public:
  GlobalPoolingLayer(int64_t rank, PoolingLayer::Kind kind,
                     GlobalPoolingOptions options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t rank_;
  PoolingLayer::Kind kind_;
  bool keepdims_;
};

struct UpSamplingOptions {
  /// "nearest" or "bilinear" (UpSampling2D only).
  std::string interpolation = "nearest";
  std::string name{};
};

/// UpSampling1D/2D/3D.
class UpSamplingLayer : public Layer {
public:
  UpSamplingLayer(int64_t rank, const IntTuple &size,
                  const UpSamplingOptions &options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t rank_;
  std::vector<int64_t> size_;
  std::string interpolation_;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addConvolutionLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {

#define LAYERC_CONV_HANDLE(NAME, RANK, OPTIONS)                                \
  class NAME : public LayerHandle<ConvLayer> {                                 \
  public:                                                                      \
    NAME(int64_t filters, const IntTuple &kernel_size, OPTIONS options = {})   \
        : LayerHandle(std::make_shared<ConvLayer>(RANK, filters, kernel_size,  \
                                                  options)) {}                 \
  };
LAYERC_CONV_HANDLE(Conv1D, 1, ConvOptions)
LAYERC_CONV_HANDLE(Conv2D, 2, ConvOptions)
LAYERC_CONV_HANDLE(Conv3D, 3, ConvOptions)
LAYERC_CONV_HANDLE(Conv1DTranspose, 1, ConvTransposeOptions)
LAYERC_CONV_HANDLE(Conv2DTranspose, 2, ConvTransposeOptions)
LAYERC_CONV_HANDLE(Conv3DTranspose, 3, ConvTransposeOptions)
#undef LAYERC_CONV_HANDLE

#define LAYERC_POOL_HANDLE(NAME, RANK, KIND)                                   \
  class NAME : public LayerHandle<PoolingLayer> {                              \
  public:                                                                      \
    explicit NAME(const IntTuple &pool_size = 2, PoolingOptions options = {})  \
        : LayerHandle(std::make_shared<PoolingLayer>(                          \
              RANK, PoolingLayer::Kind::KIND, pool_size, options)) {}          \
  };
LAYERC_POOL_HANDLE(MaxPooling1D, 1, Max)
LAYERC_POOL_HANDLE(MaxPooling2D, 2, Max)
LAYERC_POOL_HANDLE(MaxPooling3D, 3, Max)
LAYERC_POOL_HANDLE(AveragePooling1D, 1, Average)
LAYERC_POOL_HANDLE(AveragePooling2D, 2, Average)
LAYERC_POOL_HANDLE(AveragePooling3D, 3, Average)
#undef LAYERC_POOL_HANDLE

#define LAYERC_GLOBAL_POOL_HANDLE(NAME, RANK, KIND)                            \
  class NAME : public LayerHandle<GlobalPoolingLayer> {                        \
  public:                                                                      \
    explicit NAME(GlobalPoolingOptions options = {})                           \
        : LayerHandle(std::make_shared<GlobalPoolingLayer>(                    \
              RANK, PoolingLayer::Kind::KIND, std::move(options))) {}          \
  };
LAYERC_GLOBAL_POOL_HANDLE(GlobalMaxPooling1D, 1, Max)
LAYERC_GLOBAL_POOL_HANDLE(GlobalMaxPooling2D, 2, Max)
LAYERC_GLOBAL_POOL_HANDLE(GlobalMaxPooling3D, 3, Max)
LAYERC_GLOBAL_POOL_HANDLE(GlobalAveragePooling1D, 1, Average)
LAYERC_GLOBAL_POOL_HANDLE(GlobalAveragePooling2D, 2, Average)
LAYERC_GLOBAL_POOL_HANDLE(GlobalAveragePooling3D, 3, Average)
#undef LAYERC_GLOBAL_POOL_HANDLE

#define LAYERC_UPSAMPLING_HANDLE(NAME, RANK)                                   \
  class NAME : public LayerHandle<UpSamplingLayer> {                           \
  public:                                                                      \
    explicit NAME(const IntTuple &size = 2, UpSamplingOptions options = {})    \
        : LayerHandle(                                                         \
              std::make_shared<UpSamplingLayer>(RANK, size, options)) {}       \
  };
LAYERC_UPSAMPLING_HANDLE(UpSampling1D, 1)
LAYERC_UPSAMPLING_HANDLE(UpSampling2D, 2)
LAYERC_UPSAMPLING_HANDLE(UpSampling3D, 3)
#undef LAYERC_UPSAMPLING_HANDLE

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_CONVOLUTION_H
