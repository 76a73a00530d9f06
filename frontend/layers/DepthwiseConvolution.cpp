//===- DepthwiseConvolution.cpp - Depthwise and separable convolutions ----===//

#include "frontend/layers/DepthwiseConvolution.h"
#include "frontend/MLIRGen.h"
#include "frontend/layers/ConvolutionUtil.h"

#include "dialect/LayerOps.h"
#include "dialect/ShapeRules.h"

using namespace layerc;
using namespace layerc::conv;

DepthwiseConvLayer::DepthwiseConvLayer(int64_t rank, const IntTuple &kernelSize,
                                       const DepthwiseConvOptions &o)
    : Layer(std::string("DepthwiseConv") + suffix(rank), o.name), rank_(rank),
      filters_(0), multiplier_(o.depth_multiplier),
      kernel_(kernelSize.expand(rank, name(), "kernel_size")),
      strides_(o.strides.expand(rank, name(), "strides")),
      dilation_(o.dilation_rate.expand(rank, name(), "dilation_rate")),
      padding_(o.padding), activation_(o.activation), useBias_(o.use_bias),
      depthwiseInit_(o.depthwise_initializer), biasInit_(o.bias_initializer) {
  validate();
}

DepthwiseConvLayer::DepthwiseConvLayer(int64_t rank, int64_t filters,
                                       const IntTuple &kernelSize,
                                       const SeparableConvOptions &o)
    : Layer(std::string("SeparableConv") + suffix(rank), o.name), rank_(rank),
      filters_(filters), multiplier_(o.depth_multiplier),
      kernel_(kernelSize.expand(rank, name(), "kernel_size")),
      strides_(o.strides.expand(rank, name(), "strides")),
      dilation_(o.dilation_rate.expand(rank, name(), "dilation_rate")),
      padding_(o.padding), activation_(o.activation), useBias_(o.use_bias),
      depthwiseInit_(o.depthwise_initializer),
      pointwiseInit_(o.pointwise_initializer), biasInit_(o.bias_initializer) {
  if (filters <= 0)
    throw Error("Layer " + name() +
                ": filters must be a positive integer, got " +
                std::to_string(filters));
  validate();
}

void DepthwiseConvLayer::validate() {
  if (multiplier_ <= 0)
    throw Error("Layer " + name() +
                ": Invalid value for argument `depth_multiplier`. Expected a "
                "strictly positive value. Received depth_multiplier=" +
                std::to_string(multiplier_) + ".");
  checkPadding(name(), padding_);
  checkActivationName(name(), activation_);
  checkStridesAndDilation(name(), strides_, dilation_);
}

std::string DepthwiseConvLayer::className() const {
  return std::string(separable() ? "SeparableConv" : "DepthwiseConv") +
         suffix(rank_);
}

std::vector<std::vector<int64_t>> DepthwiseConvLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  auto fail = [this](int i, const std::string &w,
                     const std::vector<int64_t> &s) { incompatible(i, w, s); };
  int64_t channels = checkConvInput(*this, rank_, in, fail);
  const std::vector<int64_t> &shape = in[0];
  if (built() && channels != weights()[0].value.dim(rank_))
    incompatible(0,
                 "expected axis -1 of input shape to have value " +
                     std::to_string(weights()[0].value.dim(rank_)) +
                     ", but received input with shape " + formatShape(shape),
                 shape);
  std::vector<int64_t> out = windowedShape(
      shape, kernel_, dilation_,
      [&](int64_t i, int64_t size, int64_t window) {
        return layer::windowOutputSize(size, window, strides_[i],
                                       padding_ == "same");
      },
      fail);
  int64_t depthwise = 0;
  if (__builtin_mul_overflow(channels, multiplier_, &depthwise))
    incompatible(0, "channels * depth_multiplier overflows", shape);
  out.push_back(separable() ? filters_ : depthwise);
  return {out};
}

void DepthwiseConvLayer::build(const std::vector<std::vector<int64_t>> &in) {
  int64_t channels = in[0].back();
  std::vector<int64_t> depthwise = kernel_;
  depthwise.push_back(channels);
  depthwise.push_back(multiplier_);
  if (!separable()) {
    addWeight("kernel", depthwise, depthwiseInit_);
    if (useBias_)
      addWeight("bias", {channels * multiplier_}, biasInit_);
    return;
  }
  addWeight("depthwise_kernel", depthwise, depthwiseInit_);
  std::vector<int64_t> pointwise(rank_, 1);
  pointwise.push_back(channels * multiplier_);
  pointwise.push_back(filters_);
  addWeight("pointwise_kernel", pointwise, pointwiseInit_);
  if (useBias_)
    addWeight("bias", {filters_}, biasInit_);
}

void DepthwiseConvLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  mlir::Location loc = state.loc(*this);
  const auto &w = state.weights(*this);
  int64_t channels = node.inputs[0].shape().back();
  // The depthwise kernel as a grouped convolution's: (k..., 1, channels *
  // multiplier). layer.reshape keeps the leading axis (k_1) and reshapes
  // the rest.
  std::vector<int64_t> grouped = kernel_;
  grouped.push_back(1);
  grouped.push_back(channels * multiplier_);
  mlir::Value kernel = layer::ReshapeOp::create(
      b, loc, state.tensorType(grouped, node.dtype), w[0],
      b.getDenseI64ArrayAttr(llvm::ArrayRef<int64_t>(grouped).drop_front()));
  auto ones = std::vector<int64_t>(rank_, 1);
  mlir::Value bias = useBias_ ? w.back() : mlir::Value();
  mlir::Value x = state.value(node.inputs[0]);
  if (!separable()) {
    auto op = layer::ConvOp::create(
        b, loc, state.resultType(node), x, kernel, bias, mlir::Value(),
        b.getDenseI64ArrayAttr(strides_), paddingAttr(b, padding_),
        b.getDenseI64ArrayAttr(dilation_), b.getI64IntegerAttr(channels),
        activationAttr(b, activation_));
    state.define(node, op->getResults());
    return;
  }
  std::vector<int64_t> middle = node.outputShapes.at(0);
  middle.back() = channels * multiplier_;
  mlir::Value depthwise = layer::ConvOp::create(
      b, loc, state.tensorType(middle, node.dtype), x, kernel, mlir::Value(),
      mlir::Value(), b.getDenseI64ArrayAttr(strides_), paddingAttr(b, padding_),
      b.getDenseI64ArrayAttr(dilation_), b.getI64IntegerAttr(channels),
      activationAttr(b, "linear"));
  auto op = layer::ConvOp::create(
      b, loc, state.resultType(node), depthwise, w[1], bias, mlir::Value(),
      b.getDenseI64ArrayAttr(ones), paddingAttr(b, "valid"),
      b.getDenseI64ArrayAttr(ones), b.getI64IntegerAttr(1),
      activationAttr(b, activation_));
  state.define(node, op->getResults());
}

Json DepthwiseConvLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> fields{{"name", name()}};
  if (separable())
    fields.emplace_back("filters", filters_);
  fields.emplace_back("depth_multiplier", multiplier_);
  fields.emplace_back("kernel_size", intArray(kernel_));
  fields.emplace_back("strides", intArray(strides_));
  fields.emplace_back("padding", padding_);
  fields.emplace_back("dilation_rate", intArray(dilation_));
  fields.emplace_back("activation", activation_);
  fields.emplace_back("use_bias", useBias_);
  fields.emplace_back("depthwise_initializer", depthwiseInit_.toConfig());
  if (separable())
    fields.emplace_back("pointwise_initializer", pointwiseInit_.toConfig());
  fields.emplace_back("bias_initializer", biasInit_.toConfig());
  return Json::object(std::move(fields));
}

namespace {
/// The fields DepthwiseConv and SeparableConv configs share.
template <typename Options>
Options depthwiseOptions(const Json &c, const std::string &cls) {
  Options o;
  o.strides = tupleField(c, cls, "strides");
  o.padding = stringField(c, cls, "padding");
  o.depth_multiplier = intField(c, cls, "depth_multiplier");
  o.dilation_rate = tupleField(c, cls, "dilation_rate");
  o.activation = stringField(c, cls, "activation");
  o.use_bias = boolField(c, cls, "use_bias");
  o.name = stringField(c, cls, "name");
  o.depthwise_initializer =
      initializerIn(c, cls, "depthwise_initializer", "glorot_uniform");
  o.bias_initializer = initializerIn(c, cls, "bias_initializer", "zeros");
  return o;
}
} // namespace

void layerc::addDepthwiseConvolutionLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  for (int64_t rank = 1; rank <= 2; ++rank) {
    std::string dw = std::string("DepthwiseConv") + suffix(rank);
    out[dw] = [rank, dw](const Json &c) -> std::shared_ptr<Layer> {
      return std::make_shared<DepthwiseConvLayer>(
          rank, tupleField(c, dw, "kernel_size"),
          depthwiseOptions<DepthwiseConvOptions>(c, dw));
    };
    std::string sep = std::string("SeparableConv") + suffix(rank);
    out[sep] = [rank, sep](const Json &c) -> std::shared_ptr<Layer> {
      auto o = depthwiseOptions<SeparableConvOptions>(c, sep);
      o.pointwise_initializer =
          initializerIn(c, sep, "pointwise_initializer", "glorot_uniform");
      return std::make_shared<DepthwiseConvLayer>(
          rank, intField(c, sep, "filters"), tupleField(c, sep, "kernel_size"),
          o);
    };
  }
}
