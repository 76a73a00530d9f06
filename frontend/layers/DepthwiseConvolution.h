//===- DepthwiseConvolution.h - Depthwise and separable convolutions -*- C++
//-*-===//
//
// Keras's DepthwiseConv1D/2D and SeparableConv1D/2D, channels-last, with
// Keras's argument names, defaults and weight layouts:
//
//   DepthwiseConv   kernel (k..., channels, depth_multiplier),
//                   bias (channels * depth_multiplier)
//   SeparableConv   depthwise_kernel (k..., channels, depth_multiplier),
//                   pointwise_kernel (1..., channels * depth_multiplier,
//                   filters), bias (filters)
//
// A depthwise convolution is a `layer.conv` with one group per input
// channel, whose kernel is the depthwise kernel reshaped to
// (k..., 1, channels * depth_multiplier): output channel c * multiplier + m
// reads channel c with kernel [..., c, m], as Keras orders them. A separable
// convolution follows it with a 1x1 `layer.conv`. Both gradients are those
// of layer.reshape and layer.conv.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_DEPTHWISECONVOLUTION_H
#define LAYERC_FRONTEND_LAYERS_DEPTHWISECONVOLUTION_H

#include "frontend/layers/Convolution.h"

namespace layerc {

struct DepthwiseConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  int64_t depth_multiplier = 1;
  IntTuple dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string name{};
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
};

struct SeparableConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  IntTuple dilation_rate = 1;
  int64_t depth_multiplier = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string name{};
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer pointwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
};

/// DepthwiseConv1D/2D (no filters) and SeparableConv1D/2D.
class DepthwiseConvLayer : public Layer {
public:
  DepthwiseConvLayer(int64_t rank, const IntTuple &kernelSize,
                     const DepthwiseConvOptions &options);
  DepthwiseConvLayer(int64_t rank, int64_t filters, const IntTuple &kernelSize,
                     const SeparableConvOptions &options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  void validate();
  bool separable() const { return filters_ > 0; }
  int64_t rank_, filters_; // filters_ 0: depthwise
  int64_t multiplier_;
  std::vector<int64_t> kernel_, strides_, dilation_;
  std::string padding_, activation_;
  bool useBias_;
  Initializer depthwiseInit_, pointwiseInit_, biasInit_;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addDepthwiseConvolutionLayerFactories(
    std::map<std::string, LayerFactory> &out);

namespace layers {

#define LAYERC_DEPTHWISE_HANDLE(NAME, RANK)                                    \
  class NAME : public LayerHandle<DepthwiseConvLayer> {                        \
  public:                                                                      \
    explicit NAME(const IntTuple &kernel_size,                                 \
                  DepthwiseConvOptions options = {})                           \
        : LayerHandle(std::make_shared<DepthwiseConvLayer>(RANK, kernel_size,  \
                                                           options)) {}        \
  };
LAYERC_DEPTHWISE_HANDLE(DepthwiseConv1D, 1)
LAYERC_DEPTHWISE_HANDLE(DepthwiseConv2D, 2)
#undef LAYERC_DEPTHWISE_HANDLE

#define LAYERC_SEPARABLE_HANDLE(NAME, RANK)                                    \
  class NAME : public LayerHandle<DepthwiseConvLayer> {                        \
  public:                                                                      \
    NAME(int64_t filters, const IntTuple &kernel_size,                         \
         SeparableConvOptions options = {})                                    \
        : LayerHandle(std::make_shared<DepthwiseConvLayer>(                    \
              RANK, filters, kernel_size, options)) {}                         \
  };
LAYERC_SEPARABLE_HANDLE(SeparableConv1D, 1)
LAYERC_SEPARABLE_HANDLE(SeparableConv2D, 2)
#undef LAYERC_SEPARABLE_HANDLE

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_DEPTHWISECONVOLUTION_H
