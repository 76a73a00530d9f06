//===- Wrappers.cpp - Bidirectional and TimeDistributed -------------------===//

#include "frontend/layers/Wrappers.h"
#include "frontend/Ops.h"

using namespace layerc;

namespace {

/// Keras's serialized form of a layer: {"module", "class_name", "config"}.
Json serializeLayer(const Layer &layer) {
  return Json::object({{"module", Json("keras.layers")},
                       {"class_name", Json(layer.className())},
                       {"config", layer.getConfig()}});
}

/// The layer a serialized form describes, with "name" replaced by `name`
/// and the booleans of `flags` set, made by the built-in factories.
std::shared_ptr<Layer>
deserializeLayer(const Json &serialized, const std::string &wrapper,
                 const std::string &name,
                 const std::vector<std::pair<std::string, bool>> &flags = {}) {
  std::string cls =
      configField(serialized, wrapper, "class_name", Json::Kind::String)
          .asString();
  const Json &config =
      configField(serialized, wrapper, "config", Json::Kind::Object);
  auto factory = builtinLayerFactories().find(cls);
  if (factory == builtinLayerFactories().end())
    throw Error("config of " + wrapper + " layer: unknown layer class '" + cls +
                "'");
  std::vector<std::pair<std::string, Json>> members;
  for (const auto &[key, value] : config.members())
    if (key != "name")
      members.emplace_back(key, value);
  for (const auto &[key, value] : flags) {
    for (auto &m : members)
      if (m.first == key)
        m.second = Json(value);
  }
  members.emplace_back("name", Json(name));
  return factory->second(Json::object(std::move(members)));
}

/// x[:, ::-1]: the steps of axis 1 in reverse order (they must be known).
SymbolicTensor reverseSteps(const SymbolicTensor &x, const std::string &layer) {
  int64_t steps = x.shape().size() > 1 ? x.shape()[1] : -1;
  if (steps < 1)
    throw Error("Layer " + layer +
                " needs the number of time steps to be known to reverse the "
                "backward sequence, got " +
                formatShape(x.shape()));
  std::vector<SymbolicTensor> parts;
  for (int64_t t = steps - 1; t >= 0; --t)
    parts.push_back(ops::slice(x, 1, t, 1));
  return steps == 1 ? x : ops::concat(parts, 1);
}

} // namespace

//===----------------------------------------------------------------------===//
// Bidirectional
//===----------------------------------------------------------------------===//

BidirectionalLayer::BidirectionalLayer(const Layer &layer,
                                       BidirectionalOptions o)
    : Layer("Bidirectional", o.name), inner_(serializeLayer(layer)),
      mergeMode_(o.merge_mode) {
  if (mergeMode_ != "concat" && mergeMode_ != "sum" && mergeMode_ != "mul" &&
      mergeMode_ != "ave" && !mergeMode_.empty())
    throw Error("Layer " + name() +
                ": Invalid merge mode. Received: merge_mode=" + mergeMode_ +
                ". Merge mode should be one of {\"sum\", \"mul\", \"ave\", "
                "\"concat\", None}");
  Json config = layer.getConfig();
  const Json *backwards = config.get("go_backwards");
  const Json *sequences = config.get("return_sequences");
  if (!backwards || !backwards->isBool() || !sequences || !sequences->isBool())
    throw Error("Layer " + name() +
                ": Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, "
                "GRU, ConvLSTM1D/2D/3D), got " +
                layer.name() + " (" + layer.className() + ")");
  // Keras: the backward copy has go_backwards=True, so the forward one
  // must not.
  if (backwards->asBool())
    throw Error("Layer " + name() +
                ": Forward layer and backward layer should have different "
                "`go_backwards` value. Received: forward_layer.go_backwards "
                "True, backward_layer.go_backwards=True");
  returnSequences_ = sequences->asBool();
  auto stem = [&](const std::string &prefix) {
    std::string n = layer.name();
    return prefix + (n.rfind(prefix, 0) == 0 ? n.substr(prefix.size()) : n);
  };
  forward_ = deserializeLayer(inner_, "Bidirectional", stem("forward_"));
  backward_ = deserializeLayer(inner_, "Bidirectional", stem("backward_"),
                               {{"go_backwards", true}});
}

void BidirectionalLayer::collectWeightLayers(
    std::vector<std::shared_ptr<Layer>> &out, std::set<const Layer *> &seen) {
  if (!seen.insert(this).second)
    return;
  forward_->collectWeightLayers(out, seen);
  backward_->collectWeightLayers(out, seen);
}

Json BidirectionalLayer::getConfig() const {
  return Json::object(
      {{"name", Json(name())},
       {"layer", inner_},
       {"merge_mode", mergeMode_.empty() ? Json(nullptr) : Json(mergeMode_)}});
}

std::vector<SymbolicTensor>
BidirectionalLayer::call(const std::vector<SymbolicTensor> &inputs) {
  std::vector<SymbolicTensor> f = forward_->apply(inputs);
  std::vector<SymbolicTensor> b = backward_->apply(inputs);
  SymbolicTensor y = f[0], yRev = b[0];
  if (returnSequences_)
    yRev = reverseSteps(yRev, name());
  std::vector<SymbolicTensor> out;
  if (mergeMode_ == "concat")
    out.push_back(
        ops::concat({y, yRev}, static_cast<int64_t>(y.shape().size()) - 1));
  else if (mergeMode_ == "sum")
    out.push_back(y + yRev);
  else if (mergeMode_ == "mul")
    out.push_back(y * yRev);
  else if (mergeMode_ == "ave")
    out.push_back(ops::scale(y + yRev, 0.5));
  else
    out = {y, yRev};
  // return_state: the forward states, then the backward ones (Keras).
  out.insert(out.end(), f.begin() + 1, f.end());
  out.insert(out.end(), b.begin() + 1, b.end());
  return out;
}

//===----------------------------------------------------------------------===//
// TimeDistributed
//===----------------------------------------------------------------------===//

TimeDistributedLayer::TimeDistributedLayer(std::shared_ptr<Layer> layer,
                                           const std::string &name)
    : Layer("TimeDistributed", name), layer_(std::move(layer)) {}

Json TimeDistributedLayer::getConfig() const {
  return Json::object(
      {{"name", Json(name())}, {"layer", serializeLayer(*layer_)}});
}

std::vector<SymbolicTensor>
TimeDistributedLayer::call(const std::vector<SymbolicTensor> &inputs) {
  const SymbolicTensor &x = inputs[0];
  if (x.shape().size() < 3)
    incompatible(0,
                 "TimeDistributed requires an input of at least rank 3 "
                 "(batch, time, ...)",
                 x.shape());
  int64_t steps = x.shape()[1];
  if (steps < 1)
    incompatible(0,
                 "TimeDistributed needs the number of time steps (axis 1) to "
                 "be known",
                 x.shape());
  std::vector<SymbolicTensor> ys;
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<SymbolicTensor> y = layer_->apply({ops::take(x, 1, t)});
    if (y.size() != 1)
      throw Error("Layer " + name() + ": the wrapped layer " + layer_->name() +
                  " must have one output, it has " + std::to_string(y.size()));
    ys.push_back(y[0]);
  }
  return {ops::stack(ys, 1)};
}

//===----------------------------------------------------------------------===//
// Factories
//===----------------------------------------------------------------------===//

void layerc::addWrapperLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  out["Bidirectional"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "Bidirectional";
    BidirectionalOptions o;
    o.name = configField(c, cls, "name", Json::Kind::String).asString();
    if (const Json *mode = c.get("merge_mode"))
      o.merge_mode = mode->isNull()
                         ? ""
                         : configField(c, cls, "merge_mode", Json::Kind::String)
                               .asString();
    if (c.get("backward_layer") && !c.get("backward_layer")->isNull())
      throw Error("config of Bidirectional layer " + o.name +
                  ": a separate backward_layer is not supported");
    const Json &inner = configField(c, cls, "layer", Json::Kind::Object);
    const Json &innerConfig =
        configField(inner, cls, "config", Json::Kind::Object);
    std::string innerName =
        configField(innerConfig, cls, "name", Json::Kind::String).asString();
    auto layer = deserializeLayer(inner, cls, innerName);
    return std::make_shared<BidirectionalLayer>(*layer, o);
  };
  out["TimeDistributed"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "TimeDistributed";
    const Json &inner = configField(c, cls, "layer", Json::Kind::Object);
    const Json &innerConfig =
        configField(inner, cls, "config", Json::Kind::Object);
    std::string innerName =
        configField(innerConfig, cls, "name", Json::Kind::String).asString();
    return std::make_shared<TimeDistributedLayer>(
        deserializeLayer(inner, cls, innerName),
        configField(c, cls, "name", Json::Kind::String).asString());
  };
}
