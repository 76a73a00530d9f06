//===- Core.cpp - Core and merging layers
//----------------------------------===//
//
// Shape rules and messages follow Keras (the user sees these before any
// compilation); each layer emits exactly one op of the layer dialect, whose
// verifier checks the same rule again on the IR.
//
//===----------------------------------------------------------------------===//

#include "frontend/layers/Core.h"
#include "frontend/MLIRGen.h"

#include "dialect/LayerOps.h"

using namespace layerc;

namespace {

/// The product of dims[from:], or -1 if it overflows.
int64_t product(const std::vector<int64_t> &dims, size_t from) {
  int64_t n = 1;
  for (size_t i = from; i < dims.size(); ++i)
    if (__builtin_mul_overflow(n, dims[i], &n))
      return -1;
  return n;
}

void checkActivation(const std::string &layer, const std::string &name) {
  if (!layer::parseActivation(name))
    throw Error("Layer " + layer + ": unknown activation '" + name +
                "' (expected one of " + layer::knownActivations() + ")");
}

void checkSingleInput(const Layer &l,
                      const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + l.name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
}

} // namespace

//===----------------------------------------------------------------------===//
// Dense
//===----------------------------------------------------------------------===//

DenseLayer::DenseLayer(int64_t units, DenseOptions options)
    : Layer("Dense", options.name), units_(units),
      options_(std::move(options)) {
  if (units <= 0)
    throw Error("Layer " + name() + ": units must be a positive integer, got " +
                std::to_string(units));
  checkActivation(name(), options_.activation);
}

std::vector<std::vector<int64_t>>
DenseLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  const std::vector<int64_t> &shape = in[0];
  if (shape.size() < 2)
    incompatible(
        0, "expected min_ndim=2, found ndim=" + std::to_string(shape.size()),
        shape);
  if (built()) {
    int64_t expected = weights()[0].value.dim(0);
    if (shape.back() != expected)
      incompatible(0,
                   "expected axis -1 of input shape to have value " +
                       std::to_string(expected) +
                       ", but received input with shape " + formatShape(shape),
                   shape);
  }
  std::vector<int64_t> out = shape;
  out.back() = units_;
  return {out};
}

void DenseLayer::build(const std::vector<std::vector<int64_t>> &in) {
  addWeight("kernel", {in[0].back(), units_}, "glorot_uniform");
  if (options_.use_bias)
    addWeight("bias", {units_}, "zeros");
}

void DenseLayer::emit(MLIRGenState &state, const Node &node) const {
  const auto &w = state.weights(*this);
  mlir::Value bias = w.size() > 1 ? w[1] : mlir::Value();
  auto op = layer::DenseOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), w[0], bias,
      state.builder.getStringAttr(options_.activation));
  state.define(node, op->getResults());
}

layers::Dense::Dense(int64_t units, DenseOptions options)
    : LayerHandle(std::make_shared<DenseLayer>(units, std::move(options))) {}

//===----------------------------------------------------------------------===//
// Activation, Dropout, Reshape
//===----------------------------------------------------------------------===//

ActivationLayer::ActivationLayer(std::string activation, std::string name)
    : Layer("Activation", name), activation_(std::move(activation)) {
  checkActivation(this->name(), activation_);
}

std::vector<std::vector<int64_t>> ActivationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  return {in[0]};
}

void ActivationLayer::emit(MLIRGenState &state, const Node &node) const {
  auto op = layer::ActivationOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), state.builder.getStringAttr(activation_));
  state.define(node, op->getResults());
}

layers::Activation::Activation(std::string activation,
                               ActivationOptions options)
    : LayerHandle(std::make_shared<ActivationLayer>(std::move(activation),
                                                    options.name)) {}

DropoutLayer::DropoutLayer(double rate, int64_t seed, std::string name)
    : Layer("Dropout", name), rate_(rate), seed_(seed) {
  if (!(rate >= 0.0 && rate < 1.0))
    throw Error("Layer " + this->name() +
                ": rate must be a float in the range [0, 1), got " +
                std::to_string(rate));
}

std::vector<std::vector<int64_t>>
DropoutLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  return {in[0]};
}

void DropoutLayer::emit(MLIRGenState &state, const Node &node) const {
  auto op = layer::DropoutOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), state.builder.getF64FloatAttr(rate_),
      state.builder.getI64IntegerAttr(seed_));
  state.define(node, op->getResults());
}

layers::Dropout::Dropout(double rate, DropoutOptions options)
    : LayerHandle(
          std::make_shared<DropoutLayer>(rate, options.seed, options.name)) {}

ReshapeLayer::ReshapeLayer(std::vector<int64_t> targetShape, std::string name)
    : Layer("Reshape", name), target_(std::move(targetShape)) {
  for (int64_t d : target_)
    if (d <= 0)
      throw Error("Layer " + this->name() +
                  ": target_shape dimensions must be positive, got " +
                  formatShape(target_));
}

std::vector<std::vector<int64_t>>
ReshapeLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  if (product(target_, 0) < 0)
    throw Error("Layer " + name() + ": target_shape " + formatShape(target_) +
                " has more elements than can be addressed");
  if (product(in[0], 1) != product(target_, 0))
    incompatible(
        0,
        "total size of the input (" + std::to_string(product(in[0], 1)) +
            " per sample) does not match target_shape " + formatShape(target_) +
            " (" + std::to_string(product(target_, 0)) + ")",
        in[0]);
  std::vector<int64_t> out{in[0][0]};
  out.insert(out.end(), target_.begin(), target_.end());
  return {out};
}

void ReshapeLayer::emit(MLIRGenState &state, const Node &node) const {
  auto op = layer::ReshapeOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), state.builder.getDenseI64ArrayAttr(target_));
  state.define(node, op->getResults());
}

layers::Reshape::Reshape(std::vector<int64_t> targetShape,
                         ReshapeOptions options)
    : LayerHandle(std::make_shared<ReshapeLayer>(std::move(targetShape),
                                                 options.name)) {}

//===----------------------------------------------------------------------===//
// Merging
//===----------------------------------------------------------------------===//

MergeLayer::MergeLayer(Kind kind, std::string name)
    : Layer(kind == Kind::Add ? "Add" : "Multiply", name), kind_(kind) {}

std::vector<std::vector<int64_t>>
MergeLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  if (in.size() < 2)
    throw Error("Layer " + name() +
                " should be called on a list of at least 2 inputs, got " +
                std::to_string(in.size()));
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i] != in[0])
      throw Error("Layer " + name() +
                  " expects inputs of the same shape, got " +
                  formatShape(in[0]) + " and " + formatShape(in[i]) +
                  " (input " + std::to_string(i) + ")");
  return {in[0]};
}

void MergeLayer::emit(MLIRGenState &state, const Node &node) const {
  mlir::Value acc = state.value(node.inputs[0]);
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    mlir::Value next = state.value(node.inputs[i]);
    acc = kind_ == Kind::Add ? mlir::Value(layer::AddOp::create(
                                   state.builder, state.loc(*this),
                                   state.resultType(node), acc, next))
                             : mlir::Value(layer::MultiplyOp::create(
                                   state.builder, state.loc(*this),
                                   state.resultType(node), acc, next));
  }
  state.define(node, acc);
}

SymbolicTensor layers::add(const std::vector<SymbolicTensor> &inputs,
                           const std::string &name) {
  return std::make_shared<MergeLayer>(MergeLayer::Kind::Add, name)
      ->call(inputs)
      .front();
}

SymbolicTensor layers::multiply(const std::vector<SymbolicTensor> &inputs,
                                const std::string &name) {
  return std::make_shared<MergeLayer>(MergeLayer::Kind::Multiply, name)
      ->call(inputs)
      .front();
}

FlattenLayer::FlattenLayer(std::string name) : Layer("Flatten", name) {}

std::vector<std::vector<int64_t>>
FlattenLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  int64_t n = product(in[0], 1);
  if (n < 0)
    incompatible(0, "too many elements per sample", in[0]);
  return {{in[0][0], n}};
}

void FlattenLayer::emit(MLIRGenState &state, const Node &node) const {
  auto op = layer::ReshapeOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]),
      state.builder.getDenseI64ArrayAttr({node.outputShapes[0][1]}));
  state.define(node, op->getResults());
}

layers::Flatten::Flatten(FlattenOptions options)
    : LayerHandle(std::make_shared<FlattenLayer>(options.name)) {}

//===----------------------------------------------------------------------===//
// Configs
//===----------------------------------------------------------------------===//

Json DenseLayer::getConfig() const {
  return Json::object({{"name", name()},
                       {"units", units_},
                       {"activation", options_.activation},
                       {"use_bias", options_.use_bias}});
}

Json ActivationLayer::getConfig() const {
  return Json::object({{"name", name()}, {"activation", activation_}});
}

Json DropoutLayer::getConfig() const {
  return Json::object({{"name", name()}, {"rate", rate_}, {"seed", seed_}});
}

Json ReshapeLayer::getConfig() const {
  std::vector<Json> target(target_.begin(), target_.end());
  return Json::object(
      {{"name", name()}, {"target_shape", Json::array(std::move(target))}});
}

Json MergeLayer::getConfig() const { return Json::object({{"name", name()}}); }

void layerc::addCoreLayerFactories(std::map<std::string, LayerFactory> &out) {
  using K = Json::Kind;
  auto name = [](const Json &c, const char *cls) {
    return configField(c, cls, "name", K::String).asString();
  };
  out["Dense"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    const Json &units = configField(c, "Dense", "units", K::Number);
    if (!units.isInteger())
      throw Error("config of Dense layer: field 'units' must be an integer");
    return std::make_shared<DenseLayer>(
        units.asInt(),
        DenseOptions{
            configField(c, "Dense", "activation", K::String).asString(),
            configField(c, "Dense", "use_bias", K::Bool).asBool(),
            name(c, "Dense")});
  };
  out["Activation"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<ActivationLayer>(
        configField(c, "Activation", "activation", K::String).asString(),
        name(c, "Activation"));
  };
  out["Dropout"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    const Json *seed = c.get("seed");
    if (seed && !seed->isInteger())
      throw Error("config of Dropout layer: field 'seed' must be an integer");
    return std::make_shared<DropoutLayer>(
        configField(c, "Dropout", "rate", K::Number).asDouble(),
        seed ? seed->asInt() : 0, name(c, "Dropout"));
  };
  out["Reshape"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    std::vector<int64_t> target;
    for (const Json &d :
         configField(c, "Reshape", "target_shape", K::Array).items()) {
      if (!d.isInteger())
        throw Error("config of Reshape layer: target_shape must hold "
                    "integers");
      target.push_back(d.asInt());
    }
    return std::make_shared<ReshapeLayer>(std::move(target),
                                          name(c, "Reshape"));
  };
  out["Add"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<MergeLayer>(MergeLayer::Kind::Add, name(c, "Add"));
  };
  out["Multiply"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<MergeLayer>(MergeLayer::Kind::Multiply,
                                        name(c, "Multiply"));
  };
  out["Flatten"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<FlattenLayer>(name(c, "Flatten"));
  };
}
