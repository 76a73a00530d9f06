//===- Normalization.cpp - Normalization layers
//----------------------------===//

#include "frontend/layers/Normalization.h"
#include "frontend/MLIRGen.h"

#include "dialect/LayerOps.h"

using namespace layerc;

BatchNormalizationLayer::BatchNormalizationLayer(
    BatchNormalizationOptions options)
    : Layer("BatchNormalization", options.name), options_(std::move(options)) {
  if (options_.axis != -1)
    throw Error("Layer " + name() + ": axis " + std::to_string(options_.axis) +
                " is not supported; layerc is channels-last (axis=-1)");
  if (!(options_.epsilon > 0.0))
    throw Error("Layer " + name() + ": epsilon must be positive, got " +
                std::to_string(options_.epsilon));
  if (!(options_.momentum >= 0.0 && options_.momentum <= 1.0))
    throw Error("Layer " + name() + ": momentum must be in [0, 1], got " +
                std::to_string(options_.momentum));
}

std::vector<std::vector<int64_t>> BatchNormalizationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
  if (in[0].size() < 2)
    incompatible(
        0, "expected min_ndim=2, found ndim=" + std::to_string(in[0].size()),
        in[0]);
  if (in[0].back() <= 0)
    incompatible(0, "axis -1 of the input must have a known size", in[0]);
  if (built() && weights().back().value.dim(0) != in[0].back())
    incompatible(0,
                 "expected axis -1 of input shape to have value " +
                     std::to_string(weights().back().value.dim(0)) +
                     ", but received input with shape " + formatShape(in[0]),
                 in[0]);
  return {in[0]};
}

void BatchNormalizationLayer::build(
    const std::vector<std::vector<int64_t>> &in) {
  int64_t channels = in[0].back();
  if (options_.scale)
    addWeight("gamma", {channels}, "ones");
  if (options_.center)
    addWeight("beta", {channels}, "zeros");
  addWeight("moving_mean", {channels}, "zeros", /*trainable=*/false);
  addWeight("moving_variance", {channels}, "ones", /*trainable=*/false);
}

void BatchNormalizationLayer::emit(MLIRGenState &state,
                                   const Node &node) const {
  const auto &w = state.weights(*this);
  size_t next = 0;
  mlir::Value gamma = options_.scale ? w[next++] : mlir::Value();
  mlir::Value beta = options_.center ? w[next++] : mlir::Value();
  auto op = layer::BatchNormOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), w[next], w[next + 1], gamma, beta,
      state.builder.getF64FloatAttr(options_.epsilon),
      state.builder.getF64FloatAttr(options_.momentum));
  state.define(node, op->getResults());
}

Json BatchNormalizationLayer::getConfig() const {
  return Json::object({{"name", name()},
                       {"axis", options_.axis},
                       {"momentum", options_.momentum},
                       {"epsilon", options_.epsilon},
                       {"center", options_.center},
                       {"scale", options_.scale}});
}

layers::BatchNormalization::BatchNormalization(
    BatchNormalizationOptions options)
    : LayerHandle(
          std::make_shared<BatchNormalizationLayer>(std::move(options))) {}

void layerc::addNormalizationLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  using K = Json::Kind;
  const char *cls = "BatchNormalization";
  out[cls] = [cls](const Json &c) -> std::shared_ptr<Layer> {
    BatchNormalizationOptions o;
    const Json &axis = configField(c, cls, "axis", K::Number);
    if (!axis.isInteger())
      throw Error("config of BatchNormalization layer: field 'axis' must be "
                  "an integer");
    o.axis = axis.asInt();
    o.momentum = configField(c, cls, "momentum", K::Number).asDouble();
    o.epsilon = configField(c, cls, "epsilon", K::Number).asDouble();
    o.center = configField(c, cls, "center", K::Bool).asBool();
    o.scale = configField(c, cls, "scale", K::Bool).asBool();
    o.name = configField(c, cls, "name", K::String).asString();
    return std::make_shared<BatchNormalizationLayer>(o);
  };
}
