//===- Noise.cpp - Dropout, noise and activity-regularization layers ------===//

#include "frontend/layers/Noise.h"
#include "frontend/MLIRGen.h"

#include "dialect/LayerOps.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace layerc;

namespace {

/// A number as Python prints it (shortest form): "1.5", "0.1", "1".
std::string pythonNumber(double value) {
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value)
      break;
  }
  return text;
}

/// Keras's check of a rate (or GaussianNoise's stddev): a number in [0, 1].
/// A rate of 1 would divide by zero in training, so it is refused too.
void checkAmount(const std::string &layer, const char *argument, double value,
                 bool rateOfOne) {
  bool ok = value >= 0.0 && (rateOfOne ? value <= 1.0 : value < 1.0);
  if (!ok)
    throw Error("Layer " + layer + ": invalid value received for argument `" +
                argument + "`. Expected a float value between 0 and 1" +
                (rateOfOne ? "" : " (1 excluded)") + ". Received: " + argument +
                "=" + std::to_string(value));
}

/// The name of a layer class's amount argument.
const char *amountName(NoiseKind kind) {
  return kind == NoiseKind::GaussianNoise ? "stddev" : "rate";
}

/// The spatial dimensions of SpatialDropout<N>D (0: not spatial).
int spatialRank(const std::string &className) {
  if (className.rfind("SpatialDropout", 0) != 0)
    return 0;
  return className[14] - '0';
}

layer::Noise toDialect(NoiseKind kind) {
  switch (kind) {
  case NoiseKind::Dropout:
    return layer::Noise::Dropout;
  case NoiseKind::GaussianDropout:
    return layer::Noise::GaussianDropout;
  case NoiseKind::GaussianNoise:
    return layer::Noise::GaussianNoise;
  case NoiseKind::AlphaDropout:
    return layer::Noise::AlphaDropout;
  }
  return layer::Noise::Dropout;
}

} // namespace

NoiseLayer::NoiseLayer(Spec spec, std::string name)
    : Layer(spec.className, name), spec_(std::move(spec)) {
  checkAmount(this->name(), amountName(spec_.kind), spec_.amount,
              spec_.kind == NoiseKind::GaussianNoise);
  for (size_t i = 0; i < spec_.noiseShape.size(); ++i)
    if (spec_.noiseShape[i] == 0 || spec_.noiseShape[i] < -1)
      throw Error("Layer " + this->name() +
                  ": invalid value received for argument `noise_shape`. "
                  "Expected all dimensions to be positive integers or None. "
                  "Received negative or zero value at index " +
                  std::to_string(i) + ": " +
                  std::to_string(spec_.noiseShape[i]));
  if (spec_.dataFormat != "channels_last" &&
      spec_.dataFormat != "channels_first")
    throw Error("Layer " + this->name() +
                ": the `data_format` argument must be one of "
                "{'channels_first', 'channels_last'}. Received: " +
                spec_.dataFormat);
}

std::vector<int64_t>
NoiseLayer::sharedAxes(const std::vector<int64_t> &shape) const {
  std::vector<int64_t> shared;
  if (int n = spatialRank(spec_.className)) {
    int64_t first = spec_.dataFormat == "channels_first" ? 2 : 1;
    for (int64_t d = first; d < first + n; ++d)
      shared.push_back(d);
    return shared;
  }
  const std::vector<int64_t> &ns = spec_.noiseShape;
  if (ns.empty())
    return shared;
  if (ns.size() != shape.size())
    incompatible(0,
                 "noise_shape " + formatShape(ns) + " has " +
                     std::to_string(ns.size()) + " dimensions, the input " +
                     std::to_string(shape.size()),
                 shape);
  for (size_t d = 0; d < ns.size(); ++d) {
    if (ns[d] == -1 || ns[d] == shape[d])
      continue;
    if (ns[d] != 1)
      incompatible(0,
                   "noise_shape " + formatShape(ns) +
                       " does not broadcast to the input (dimension " +
                       std::to_string(d) + ")",
                   shape);
    if (d == 0)
      throw Error("Layer " + name() + ": noise_shape " + formatShape(ns) +
                  " shares the noise across the batch (a 1 at index 0), "
                  "which is not supported; use None for the batch");
    shared.push_back(static_cast<int64_t>(d));
  }
  return shared;
}

std::vector<std::vector<int64_t>>
NoiseLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
  if (int n = spatialRank(spec_.className);
      n && static_cast<int>(in[0].size()) != n + 2)
    incompatible(0,
                 "expected ndim=" + std::to_string(n + 2) +
                     ", found ndim=" + std::to_string(in[0].size()),
                 in[0]);
  (void)sharedAxes(in[0]);
  return {in[0]};
}

void NoiseLayer::emit(MLIRGenState &state, const Node &node) const {
  mlir::OpBuilder &b = state.builder;
  bool additive = spec_.kind == NoiseKind::GaussianNoise;
  auto op = layer::DropoutOp::create(
      b, state.loc(*this), state.resultType(node), state.value(node.inputs[0]),
      b.getF64FloatAttr(additive ? 0.0 : spec_.amount),
      b.getI64IntegerAttr(spec_.seed),
      layer::NoiseAttr::get(b.getContext(), toDialect(spec_.kind)),
      b.getF64FloatAttr(additive ? spec_.amount : 0.0),
      b.getDenseI64ArrayAttr(sharedAxes(node.inputs[0].shape())));
  state.define(node, op->getResults());
}

Json NoiseLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> fields{
      {"name", Json(name())},
      {amountName(spec_.kind), Json(spec_.amount)},
      {"seed", Json(spec_.seed)}};
  if (spec_.className == "Dropout" || spec_.className == "AlphaDropout") {
    if (spec_.noiseShape.empty()) {
      fields.emplace_back("noise_shape", Json(nullptr));
    } else {
      std::vector<Json> dims;
      for (int64_t d : spec_.noiseShape)
        dims.push_back(d == -1 ? Json(nullptr) : Json(d));
      fields.emplace_back("noise_shape", Json::array(std::move(dims)));
    }
  }
  if (spatialRank(spec_.className) > 1)
    fields.emplace_back("data_format", Json(spec_.dataFormat));
  return Json::object(std::move(fields));
}

ActivityRegularizationLayer::ActivityRegularizationLayer(double l1, double l2,
                                                         std::string name)
    : Layer("ActivityRegularization", name) {
  if (!(l1 >= 0.0 && std::isfinite(l1) && l2 >= 0.0 && std::isfinite(l2)))
    throw Error("Layer " + this->name() +
                ": l1 and l2 must be finite and >= 0, got " +
                std::to_string(l1) + " and " + std::to_string(l2));
  setActivityRegularizer(Regularizer("L1L2", l1, l2));
}

std::vector<std::vector<int64_t>>
ActivityRegularizationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
  return {in[0]};
}

void ActivityRegularizationLayer::emit(MLIRGenState &state,
                                       const Node &node) const {
  // The identity; the activity_regularization op comes from the layer's
  // activityRegularizer(), as for any layer.
  state.define(node, state.value(node.inputs[0]));
}

Json ActivityRegularizationLayer::getConfig() const {
  return Json::object({{"name", Json(name())},
                       {"l1", Json(activityRegularizer().l1)},
                       {"l2", Json(activityRegularizer().l2)}});
}

//===----------------------------------------------------------------------===//
// Factories and handles
//===----------------------------------------------------------------------===//

void layerc::addNoiseLayerFactories(std::map<std::string, LayerFactory> &out) {
  using K = Json::Kind;
  auto noise = [&out](const std::string &cls, NoiseKind kind) {
    out[cls] = [cls, kind](const Json &c) -> std::shared_ptr<Layer> {
      NoiseLayer::Spec spec{cls, kind};
      spec.amount = configField(c, cls, amountName(kind), K::Number).asDouble();
      const Json *seed = c.get("seed");
      if (seed && !seed->isNull() && !seed->isInteger())
        throw Error("config of " + cls +
                    " layer: field 'seed' must be an "
                    "integer");
      spec.seed = seed && seed->isInteger() ? seed->asInt() : 0;
      const Json *shape = c.get("noise_shape");
      if (shape && !shape->isNull()) {
        if (!shape->isArray())
          throw Error("config of " + cls +
                      " layer: field 'noise_shape' must "
                      "be a list of integers or None");
        for (const Json &d : shape->items()) {
          if (!d.isNull() && !d.isInteger())
            throw Error("config of " + cls +
                        " layer: field 'noise_shape' "
                        "must hold integers or None");
          spec.noiseShape.push_back(d.isNull() ? -1 : d.asInt());
        }
      }
      if (const Json *format = c.get("data_format");
          format && !format->isNull())
        spec.dataFormat =
            configField(c, cls, "data_format", K::String).asString();
      return std::make_shared<NoiseLayer>(
          std::move(spec), configField(c, cls, "name", K::String).asString());
    };
  };
  noise("Dropout", NoiseKind::Dropout);
  noise("SpatialDropout1D", NoiseKind::Dropout);
  noise("SpatialDropout2D", NoiseKind::Dropout);
  noise("SpatialDropout3D", NoiseKind::Dropout);
  noise("GaussianNoise", NoiseKind::GaussianNoise);
  noise("GaussianDropout", NoiseKind::GaussianDropout);
  noise("AlphaDropout", NoiseKind::AlphaDropout);
  out["ActivityRegularization"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "ActivityRegularization";
    auto number = [&](const char *key) {
      const Json *v = c.get(key);
      return v && !v->isNull() ? configField(c, cls, key, K::Number).asDouble()
                               : 0.0;
    };
    return std::make_shared<ActivityRegularizationLayer>(
        number("l1"), number("l2"),
        configField(c, cls, "name", K::String).asString());
  };
}

namespace {
std::shared_ptr<NoiseLayer> makeNoise(std::string cls, NoiseKind kind,
                                      double amount, int64_t seed,
                                      std::vector<int64_t> noiseShape,
                                      std::string dataFormat,
                                      const std::string &name) {
  NoiseLayer::Spec spec{
      std::move(cls),       kind, amount, seed, std::move(noiseShape),
      std::move(dataFormat)};
  return std::make_shared<NoiseLayer>(std::move(spec), name);
}
} // namespace

layers::Dropout::Dropout(double rate, DropoutOptions o)
    : LayerHandle(makeNoise("Dropout", NoiseKind::Dropout, rate, o.seed,
                            o.noise_shape, "channels_last", o.name)) {}

layers::SpatialDropout1D::SpatialDropout1D(double rate, SpatialDropoutOptions o)
    : LayerHandle(makeNoise("SpatialDropout1D", NoiseKind::Dropout, rate,
                            o.seed, {}, "channels_last", o.name)) {}

layers::SpatialDropout2D::SpatialDropout2D(double rate, SpatialDropoutOptions o)
    : LayerHandle(makeNoise("SpatialDropout2D", NoiseKind::Dropout, rate,
                            o.seed, {}, o.data_format, o.name)) {}

layers::SpatialDropout3D::SpatialDropout3D(double rate, SpatialDropoutOptions o)
    : LayerHandle(makeNoise("SpatialDropout3D", NoiseKind::Dropout, rate,
                            o.seed, {}, o.data_format, o.name)) {}

layers::GaussianNoise::GaussianNoise(double stddev, NoiseOptions o)
    : LayerHandle(makeNoise("GaussianNoise", NoiseKind::GaussianNoise, stddev,
                            o.seed, {}, "channels_last", o.name)) {}

layers::GaussianDropout::GaussianDropout(double rate, NoiseOptions o)
    : LayerHandle(makeNoise("GaussianDropout", NoiseKind::GaussianDropout, rate,
                            o.seed, {}, "channels_last", o.name)) {}

layers::AlphaDropout::AlphaDropout(double rate, DropoutOptions o)
    : LayerHandle(makeNoise("AlphaDropout", NoiseKind::AlphaDropout, rate,
                            o.seed, o.noise_shape, "channels_last", o.name)) {}

layers::ActivityRegularization::ActivityRegularization(
    ActivityRegularizationOptions o)
    : LayerHandle(
          std::make_shared<ActivityRegularizationLayer>(o.l1, o.l2, o.name)) {}
