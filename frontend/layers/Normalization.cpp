//===- Normalization.cpp - Normalization layers
//----------------------------===//

#include "frontend/layers/Normalization.h"
#include "frontend/MLIRGen.h"

#include "dialect/LayerOps.h"

#include <algorithm>

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

static void addPerSampleFactories(std::map<std::string, LayerFactory> &out);

void layerc::addNormalizationLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  addPerSampleFactories(out);
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

//===----------------------------------------------------------------------===//
// LayerNormalization, GroupNormalization, UnitNormalization
//===----------------------------------------------------------------------===//

namespace {

std::string formatAxes(const std::vector<int64_t> &axes) {
  if (axes.size() == 1)
    return std::to_string(axes[0]);
  std::string out = "[";
  for (size_t i = 0; i < axes.size(); ++i)
    out += (i ? ", " : "") + std::to_string(axes[i]);
  return out + "]";
}

/// Keras's axis config: an int or a list of ints (as the layer's option).
Json axesToConfig(const std::vector<int64_t> &axes) {
  if (axes.size() == 1)
    return Json(axes[0]);
  return Json::array(std::vector<Json>(axes.begin(), axes.end()));
}

std::vector<int64_t> axesFromConfig(const Json &c, const char *cls) {
  const Json *axis = c.get("axis");
  if (!axis)
    throw Error(std::string("config of ") + cls +
                " layer: missing field 'axis'");
  std::vector<int64_t> axes;
  if (axis->isInteger())
    axes.push_back(axis->asInt());
  else if (axis->isArray())
    for (const Json &a : axis->items()) {
      if (!a.isInteger())
        throw Error(std::string("config of ") + cls +
                    " layer: field 'axis' must hold integers");
      axes.push_back(a.asInt());
    }
  else
    throw Error(std::string("config of ") + cls +
                " layer: field 'axis' must be an integer or a list");
  return axes;
}

void checkOneInput(const Layer &l,
                   const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + l.name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
}

/// The first of the normalized axes `axes` of an input of shape `shape`,
/// which must be the trailing run [first, rank) with first >= 1.
int64_t trailingAxes(const Layer &l, const std::vector<int64_t> &axes,
                     const std::vector<int64_t> &shape,
                     const std::string &received) {
  int64_t rank = static_cast<int64_t>(shape.size());
  if (axes.empty())
    throw Error("Layer " + l.name() + ": axis must name at least one axis");
  std::vector<int64_t> sorted;
  for (int64_t a : axes) {
    if (a >= rank || a < -rank)
      throw Error("Layer " + l.name() + ": Axis " + std::to_string(a) +
                  " is out of bounds for input shape " + formatShape(shape) +
                  "." + received);
    sorted.push_back(a < 0 ? a + rank : a);
  }
  std::sort(sorted.begin(), sorted.end());
  bool trailing = sorted.back() == rank - 1;
  for (size_t i = 1; i < sorted.size(); ++i)
    trailing &= sorted[i] == sorted[i - 1] + 1;
  if (!trailing)
    throw Error("Layer " + l.name() + ": axis=" + formatAxes(axes) +
                " is not supported for input shape " + formatShape(shape) +
                "; layerc normalizes a trailing run of axes (such as -1 or "
                "[-2, -1]), once each");
  if (sorted.front() == 0)
    throw Error("Layer " + l.name() + ": axis=" + formatAxes(axes) +
                " includes the batch axis of input shape " +
                formatShape(shape) + "; layerc normalizes each sample");
  return sorted.front();
}

mlir::Value normalize(MLIRGenState &state, const Layer &l, const Node &node,
                      int64_t axis, int64_t groups, double epsilon,
                      layer::NormKind kind) {
  auto &b = state.builder;
  return layer::NormalizeOp::create(
      b, state.loc(l), state.resultType(node), state.value(node.inputs[0]),
      b.getI64IntegerAttr(axis), b.getI64IntegerAttr(groups),
      b.getF64FloatAttr(epsilon),
      layer::NormKindAttr::get(b.getContext(), kind));
}

/// y * gamma + beta, either absent (null).
mlir::Value scaleAndCenter(MLIRGenState &state, const Layer &l,
                           const Node &node, mlir::Value y, mlir::Value gamma,
                           mlir::Value beta) {
  auto type = state.resultType(node);
  if (gamma)
    y = layer::MultiplyOp::create(state.builder, state.loc(l), type, y, gamma);
  if (beta)
    y = layer::AddOp::create(state.builder, state.loc(l), type, y, beta);
  return y;
}

} // namespace

LayerNormalizationLayer::LayerNormalizationLayer(
    LayerNormalizationOptions options)
    : Layer("LayerNormalization", options.name), options_(std::move(options)) {
  if (options_.axis.empty())
    throw Error("Layer " + name() + ": axis must name at least one axis");
  if (!(options_.epsilon >= 0.0))
    throw Error("Layer " + name() + ": epsilon must be non-negative, got " +
                std::to_string(options_.epsilon));
}

std::vector<std::vector<int64_t>> LayerNormalizationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkOneInput(*this, in);
  int64_t first = trailingAxes(*this, options_.axis, in[0],
                               " Received: axis=" + formatAxes(options_.axis));
  std::vector<int64_t> normalized(in[0].begin() + first, in[0].end());
  bool weighted = options_.scale || options_.rms_scaling ||
                  (options_.center && !options_.rms_scaling);
  if (weighted)
    for (int64_t d : normalized)
      if (d <= 0)
        incompatible(0,
                     "the normalized axes must have known sizes to build "
                     "gamma and beta",
                     in[0]);
  if (built() && !weights().empty() &&
      weights().front().value.shape() != normalized)
    incompatible(0,
                 "expected the normalized axes to have shape " +
                     formatShape(weights().front().value.shape()) +
                     ", but received input with shape " + formatShape(in[0]),
                 in[0]);
  if (built() && first != first_)
    incompatible(
        0,
        "the layer was built for inputs of rank " +
            std::to_string(first_ + static_cast<int64_t>(normalized.size())) +
            ", but received input with shape " + formatShape(in[0]),
        in[0]);
  return {in[0]};
}

void LayerNormalizationLayer::build(
    const std::vector<std::vector<int64_t>> &in) {
  first_ = trailingAxes(*this, options_.axis, in[0], "");
  std::vector<int64_t> shape(in[0].begin() + first_, in[0].end());
  if (options_.scale || options_.rms_scaling)
    addWeight("gamma", shape, options_.gamma_initializer);
  if (options_.center && !options_.rms_scaling)
    addWeight("beta", shape, options_.beta_initializer);
}

void LayerNormalizationLayer::emit(MLIRGenState &state,
                                   const Node &node) const {
  const auto &w = state.weights(*this);
  size_t next = 0;
  bool hasGamma = options_.scale || options_.rms_scaling;
  bool hasBeta = options_.center && !options_.rms_scaling;
  mlir::Value gamma = hasGamma ? w[next++] : mlir::Value();
  mlir::Value beta = hasBeta ? w[next++] : mlir::Value();
  mlir::Value y =
      normalize(state, *this, node, first_, 1, options_.epsilon,
                options_.rms_scaling ? layer::NormKind::Variance
                                     : layer::NormKind::Standardize);
  state.define(node, {scaleAndCenter(state, *this, node, y, gamma, beta)});
}

Json LayerNormalizationLayer::getConfig() const {
  return Json::object(
      {{"name", name()},
       {"axis", axesToConfig(options_.axis)},
       {"epsilon", options_.epsilon},
       {"center", options_.center},
       {"scale", options_.scale},
       {"rms_scaling", options_.rms_scaling},
       {"beta_initializer", options_.beta_initializer.toConfig()},
       {"gamma_initializer", options_.gamma_initializer.toConfig()}});
}

GroupNormalizationLayer::GroupNormalizationLayer(
    GroupNormalizationOptions options)
    : Layer("GroupNormalization", options.name), options_(std::move(options)) {
  if (options_.groups <= 0 && options_.groups != -1)
    throw Error("Layer " + name() +
                ": Received an invalid value for argument `groups`, expected "
                "a positive integer (or `-1` for instance normalization). "
                "Received: groups=" +
                std::to_string(options_.groups));
  if (!(options_.epsilon >= 0.0))
    throw Error("Layer " + name() + ": epsilon must be non-negative, got " +
                std::to_string(options_.epsilon));
}

std::vector<std::vector<int64_t>> GroupNormalizationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkOneInput(*this, in);
  const std::vector<int64_t> &shape = in[0];
  int64_t rank = static_cast<int64_t>(shape.size());
  if (rank < 2)
    incompatible(0, "expected min_ndim=2, found ndim=" + std::to_string(rank),
                 shape);
  if (options_.axis != -1 && options_.axis != rank - 1)
    throw Error("Layer " + name() + ": axis " + std::to_string(options_.axis) +
                " is not supported for input shape " + formatShape(shape) +
                "; layerc is channels-last (axis=-1)");
  int64_t dim = shape.back();
  if (dim <= 0)
    throw Error("Layer " + name() + ": Axis " + std::to_string(options_.axis) +
                " of input tensor should have a defined dimension but the "
                "layer received an input with shape " +
                formatShape(shape) + ".");
  int64_t groups = options_.groups == -1 ? dim : options_.groups;
  if (dim < groups)
    throw Error("Layer " + name() + ": Number of groups (" +
                std::to_string(groups) +
                ") cannot be more than the number of channels (" +
                std::to_string(dim) + "). Input shape: " + formatShape(shape));
  if (dim % groups != 0)
    throw Error("Layer " + name() + ": Number of groups (" +
                std::to_string(groups) +
                ") must be a multiple of the number of channels (" +
                std::to_string(dim) + "). Input shape: " + formatShape(shape));
  if (built() && !weights().empty() && weights().front().value.dim(0) != dim)
    incompatible(0,
                 "expected axis -1 of input shape to have value " +
                     std::to_string(weights().front().value.dim(0)) +
                     ", but received input with shape " + formatShape(shape),
                 shape);
  return {shape};
}

void GroupNormalizationLayer::build(
    const std::vector<std::vector<int64_t>> &in) {
  int64_t channels = in[0].back();
  if (options_.scale)
    addWeight("gamma", {channels}, options_.gamma_initializer);
  if (options_.center)
    addWeight("beta", {channels}, options_.beta_initializer);
}

void GroupNormalizationLayer::emit(MLIRGenState &state,
                                   const Node &node) const {
  const auto &w = state.weights(*this);
  size_t next = 0;
  mlir::Value gamma = options_.scale ? w[next++] : mlir::Value();
  mlir::Value beta = options_.center ? w[next++] : mlir::Value();
  int64_t channels = node.outputShapes[0].back();
  int64_t groups = options_.groups == -1 ? channels : options_.groups;
  mlir::Value y = normalize(state, *this, node, 1, groups, options_.epsilon,
                            layer::NormKind::Standardize);
  state.define(node, {scaleAndCenter(state, *this, node, y, gamma, beta)});
}

Json GroupNormalizationLayer::getConfig() const {
  return Json::object(
      {{"name", name()},
       {"groups", options_.groups},
       {"axis", options_.axis},
       {"epsilon", options_.epsilon},
       {"center", options_.center},
       {"scale", options_.scale},
       {"beta_initializer", options_.beta_initializer.toConfig()},
       {"gamma_initializer", options_.gamma_initializer.toConfig()}});
}

UnitNormalizationLayer::UnitNormalizationLayer(UnitNormalizationOptions options)
    : Layer("UnitNormalization", options.name), options_(std::move(options)) {
  if (options_.axis.empty())
    throw Error("Layer " + name() + ": axis must name at least one axis");
}

std::vector<std::vector<int64_t>> UnitNormalizationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkOneInput(*this, in);
  trailingAxes(*this, options_.axis, in[0], "");
  return {in[0]};
}

void UnitNormalizationLayer::emit(MLIRGenState &state, const Node &node) const {
  int64_t first = trailingAxes(*this, options_.axis, node.outputShapes[0], "");
  // keras.ops.normalize(x, axis, order=2, epsilon=1e-12).
  state.define(node, {normalize(state, *this, node, first, 1, 1e-12,
                                layer::NormKind::L2)});
}

Json UnitNormalizationLayer::getConfig() const {
  return Json::object(
      {{"name", name()}, {"axis", axesToConfig(options_.axis)}});
}

layers::LayerNormalization::LayerNormalization(
    LayerNormalizationOptions options)
    : LayerHandle(
          std::make_shared<LayerNormalizationLayer>(std::move(options))) {}

layers::GroupNormalization::GroupNormalization(
    GroupNormalizationOptions options)
    : LayerHandle(
          std::make_shared<GroupNormalizationLayer>(std::move(options))) {}

layers::UnitNormalization::UnitNormalization(UnitNormalizationOptions options)
    : LayerHandle(
          std::make_shared<UnitNormalizationLayer>(std::move(options))) {}

static void addPerSampleFactories(std::map<std::string, LayerFactory> &out) {
  using K = Json::Kind;
  out["LayerNormalization"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "LayerNormalization";
    LayerNormalizationOptions o;
    o.axis = axesFromConfig(c, cls);
    o.epsilon = configField(c, cls, "epsilon", K::Number).asDouble();
    o.center = configField(c, cls, "center", K::Bool).asBool();
    o.scale = configField(c, cls, "scale", K::Bool).asBool();
    if (const Json *rms = c.get("rms_scaling"); rms && rms->isBool())
      o.rms_scaling = rms->asBool();
    o.beta_initializer = initializerIn(c, cls, "beta_initializer", "zeros");
    o.gamma_initializer = initializerIn(c, cls, "gamma_initializer", "ones");
    o.name = configField(c, cls, "name", K::String).asString();
    return std::make_shared<LayerNormalizationLayer>(o);
  };
  out["GroupNormalization"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "GroupNormalization";
    GroupNormalizationOptions o;
    const Json &groups = configField(c, cls, "groups", K::Number);
    const Json &axis = configField(c, cls, "axis", K::Number);
    if (!groups.isInteger() || !axis.isInteger())
      throw Error("config of GroupNormalization layer: fields 'groups' and "
                  "'axis' must be integers");
    o.groups = groups.asInt();
    o.axis = axis.asInt();
    o.epsilon = configField(c, cls, "epsilon", K::Number).asDouble();
    o.center = configField(c, cls, "center", K::Bool).asBool();
    o.scale = configField(c, cls, "scale", K::Bool).asBool();
    o.beta_initializer = initializerIn(c, cls, "beta_initializer", "zeros");
    o.gamma_initializer = initializerIn(c, cls, "gamma_initializer", "ones");
    o.name = configField(c, cls, "name", K::String).asString();
    return std::make_shared<GroupNormalizationLayer>(o);
  };
  out["UnitNormalization"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "UnitNormalization";
    UnitNormalizationOptions o;
    o.axis = axesFromConfig(c, cls);
    o.name = configField(c, cls, "name", K::String).asString();
    return std::make_shared<UnitNormalizationLayer>(o);
  };
}
