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

#include <algorithm>

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
  setActivityRegularizer(options_.activity_regularizer);
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
  addWeight("kernel", {in[0].back(), units_}, options_.kernel_initializer,
            options_.kernel_regularizer, options_.kernel_constraint);
  if (options_.use_bias)
    addWeight("bias", {units_}, options_.bias_initializer,
              options_.bias_regularizer, options_.bias_constraint);
}

void DenseLayer::emit(MLIRGenState &state, const Node &node) const {
  const auto &w = state.weights(*this);
  mlir::Value bias = w.size() > 1 ? w[1] : mlir::Value();
  auto op = layer::DenseOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), w[0], bias,
      activationAttr(state.builder, options_.activation));
  state.define(node, op->getResults());
}

layers::Dense::Dense(int64_t units, DenseOptions options)
    : LayerHandle(std::make_shared<DenseLayer>(units, std::move(options))) {}

//===----------------------------------------------------------------------===//
// Activation, Reshape
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
      state.value(node.inputs[0]), activationAttr(state.builder, activation_));
  state.define(node, op->getResults());
}

layers::Activation::Activation(std::string activation,
                               ActivationOptions options)
    : LayerHandle(std::make_shared<ActivationLayer>(std::move(activation),
                                                    options.name)) {}

ReshapeLayer::ReshapeLayer(std::vector<int64_t> targetShape, std::string name)
    : Layer("Reshape", name), target_(std::move(targetShape)) {
  int unknown = 0;
  for (int64_t d : target_) {
    if (d <= 0 && d != -1)
      throw Error("Layer " + this->name() +
                  ": target_shape dimensions must be positive (or one -1), "
                  "got " +
                  formatShape(target_));
    unknown += d == -1;
  }
  if (unknown > 1)
    throw Error("Layer " + this->name() +
                ": target_shape may hold at most one -1, got " +
                formatShape(target_));
}

std::vector<std::vector<int64_t>>
ReshapeLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  std::vector<int64_t> known;
  for (int64_t d : target_)
    if (d != -1)
      known.push_back(d);
  int64_t have = product(in[0], 1), want = product(known, 0);
  if (want < 0)
    throw Error("Layer " + name() + ": target_shape " + formatShape(target_) +
                " has more elements than can be addressed");
  std::vector<int64_t> resolved = target_;
  bool inferred = known.size() != target_.size();
  if (have < 0)
    incompatible(0, "Reshape needs every non-batch dimension to be known",
                 in[0]);
  if (inferred ? have % want != 0 : have != want)
    incompatible(0,
                 "total size of the input (" + std::to_string(have) +
                     " per sample) does not match target_shape " +
                     formatShape(target_) + " (" + std::to_string(want) + ")",
                 in[0]);
  for (int64_t &d : resolved)
    if (d == -1)
      d = have / want;
  std::vector<int64_t> out{in[0][0]};
  out.insert(out.end(), resolved.begin(), resolved.end());
  return {out};
}

void ReshapeLayer::emit(MLIRGenState &state, const Node &node) const {
  const std::vector<int64_t> &out = node.outputShapes[0];
  auto op = layer::ReshapeOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]),
      state.builder.getDenseI64ArrayAttr(
          std::vector<int64_t>(out.begin() + 1, out.end())));
  state.define(node, op->getResults());
}

layers::Reshape::Reshape(std::vector<int64_t> targetShape,
                         ReshapeOptions options)
    : LayerHandle(std::make_shared<ReshapeLayer>(std::move(targetShape),
                                                 options.name)) {}

PermuteLayer::PermuteLayer(std::vector<int64_t> dims, std::string name)
    : Layer("Permute", name), dims_(std::move(dims)) {
  std::vector<int64_t> sorted = dims_;
  std::sort(sorted.begin(), sorted.end());
  bool valid = true;
  for (size_t i = 0; i < sorted.size(); ++i)
    valid &= sorted[i] == static_cast<int64_t>(i) + 1;
  if (!valid) {
    std::string got = "(";
    for (size_t i = 0; i < dims_.size(); ++i)
      got += (i ? ", " : "") + std::to_string(dims_[i]);
    throw Error("Layer " + this->name() +
                ": Invalid permutation argument `dims` for Permute Layer. The "
                "set of indices in `dims` must be consecutive and start from "
                "1. Received dims=" +
                got + (dims_.size() == 1 ? ",)" : ")"));
  }
}

std::vector<std::vector<int64_t>>
PermuteLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  if (in[0].size() != dims_.size() + 1)
    incompatible(0,
                 "expected ndim=" + std::to_string(dims_.size() + 1) +
                     ", found ndim=" + std::to_string(in[0].size()),
                 in[0]);
  std::vector<int64_t> out{in[0][0]};
  for (int64_t d : dims_)
    out.push_back(in[0][d]);
  return {out};
}

void PermuteLayer::emit(MLIRGenState &state, const Node &node) const {
  std::vector<int64_t> permutation{0};
  permutation.insert(permutation.end(), dims_.begin(), dims_.end());
  auto op = layer::TransposeOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]),
      state.builder.getDenseI64ArrayAttr(permutation));
  state.define(node, op->getResults());
}

Json PermuteLayer::getConfig() const {
  return Json::object(
      {{"name", name()},
       {"dims", Json::array(std::vector<Json>(dims_.begin(), dims_.end()))}});
}

layers::Permute::Permute(std::vector<int64_t> dims, PermuteOptions options)
    : LayerHandle(
          std::make_shared<PermuteLayer>(std::move(dims), options.name)) {}

//===----------------------------------------------------------------------===//
// Merging
//===----------------------------------------------------------------------===//

namespace {
const char *mergeClassName(MergeLayer::Kind kind) {
  switch (kind) {
  case MergeLayer::Kind::Add:
    return "Add";
  case MergeLayer::Kind::Subtract:
    return "Subtract";
  case MergeLayer::Kind::Multiply:
    return "Multiply";
  case MergeLayer::Kind::Average:
    return "Average";
  case MergeLayer::Kind::Maximum:
    return "Maximum";
  }
  return "Merge";
}
} // namespace

MergeLayer::MergeLayer(Kind kind, std::string name)
    : Layer(mergeClassName(kind), name), kind_(kind) {}

std::string MergeLayer::className() const { return mergeClassName(kind_); }

std::vector<std::vector<int64_t>>
MergeLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  if (kind_ == Kind::Subtract && in.size() != 2)
    throw Error("Layer " + name() +
                " (Subtract) should be called on exactly 2 inputs, got " +
                std::to_string(in.size()));
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
  auto &b = state.builder;
  mlir::Location loc = state.loc(*this);
  mlir::RankedTensorType type = state.resultType(node);
  std::vector<mlir::Value> values;
  for (const SymbolicTensor &in : node.inputs)
    values.push_back(state.value(in));
  if (kind_ == Kind::Average) {
    state.define(node,
                 layer::AverageOp::create(b, loc, type, values)->getResults());
    return;
  }
  mlir::Value acc = values[0];
  for (size_t i = 1; i < values.size(); ++i) {
    mlir::Value next = values[i];
    switch (kind_) {
    case Kind::Add:
      acc = layer::AddOp::create(b, loc, type, acc, next);
      break;
    case Kind::Subtract:
      acc = layer::SubtractOp::create(b, loc, type, acc, next);
      break;
    case Kind::Multiply:
      acc = layer::MultiplyOp::create(b, loc, type, acc, next);
      break;
    case Kind::Maximum:
      acc = layer::MaximumOp::create(b, loc, type, acc, next);
      break;
    case Kind::Average:
      break;
    }
  }
  state.define(node, acc);
}

namespace {
SymbolicTensor merge(MergeLayer::Kind kind,
                     const std::vector<SymbolicTensor> &inputs,
                     const std::string &name) {
  return std::make_shared<MergeLayer>(kind, name)->apply(inputs).front();
}
} // namespace

SymbolicTensor layers::add(const std::vector<SymbolicTensor> &inputs,
                           const std::string &name) {
  return merge(MergeLayer::Kind::Add, inputs, name);
}
SymbolicTensor layers::subtract(const std::vector<SymbolicTensor> &inputs,
                                const std::string &name) {
  return merge(MergeLayer::Kind::Subtract, inputs, name);
}
SymbolicTensor layers::multiply(const std::vector<SymbolicTensor> &inputs,
                                const std::string &name) {
  return merge(MergeLayer::Kind::Multiply, inputs, name);
}
SymbolicTensor layers::average(const std::vector<SymbolicTensor> &inputs,
                               const std::string &name) {
  return merge(MergeLayer::Kind::Average, inputs, name);
}
SymbolicTensor layers::maximum(const std::vector<SymbolicTensor> &inputs,
                               const std::string &name) {
  return merge(MergeLayer::Kind::Maximum, inputs, name);
}

ConcatenateLayer::ConcatenateLayer(int64_t axis, std::string name)
    : Layer("Concatenate", name), axis_(axis) {}

std::vector<std::vector<int64_t>> ConcatenateLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  if (in.empty())
    throw Error("Layer " + name() +
                " should be called on a list of at least 1 input");
  int64_t rank = static_cast<int64_t>(in[0].size());
  int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 1 || axis >= rank)
    throw Error("Layer " + name() + ": axis " + std::to_string(axis_) +
                " is out of range for inputs of shape " + formatShape(in[0]) +
                " (the batch axis cannot be concatenated)");
  std::vector<int64_t> out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    bool ok = static_cast<int64_t>(in[i].size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      ok = d == axis || in[i][d] == in[0][d];
    if (!ok)
      throw Error("Layer " + name() +
                  ": a Concatenate layer requires inputs with matching "
                  "shapes except for the concatenation axis " +
                  std::to_string(axis_) + ". Received: input_shape=[" +
                  formatShape(in[0]) + ", " + formatShape(in[i]) + "]");
    out[axis] = out[axis] < 0 || in[i][axis] < 0 ? -1 : out[axis] + in[i][axis];
  }
  return {out};
}

void ConcatenateLayer::emit(MLIRGenState &state, const Node &node) const {
  std::vector<mlir::Value> values;
  for (const SymbolicTensor &in : node.inputs)
    values.push_back(state.value(in));
  auto op = layer::ConcatenateOp::create(
      state.builder, state.loc(*this), state.resultType(node), values,
      state.builder.getI64IntegerAttr(axis_));
  state.define(node, op->getResults());
}

SymbolicTensor layers::concatenate(const std::vector<SymbolicTensor> &inputs,
                                   int64_t axis, const std::string &name) {
  return std::make_shared<ConcatenateLayer>(axis, name)->apply(inputs).front();
}

EmbeddingLayer::EmbeddingLayer(int64_t inputDim, int64_t outputDim,
                               std::string name, Initializer initializer)
    : Layer("Embedding", name), inputDim_(inputDim), outputDim_(outputDim),
      initializer_(std::move(initializer)) {
  if (inputDim <= 0 || outputDim <= 0)
    throw Error("Layer " + this->name() +
                ": input_dim and output_dim must be positive, got " +
                std::to_string(inputDim) + " and " + std::to_string(outputDim));
}

DType EmbeddingLayer::outputDType(
    const std::vector<SymbolicTensor> &inputs) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].dtype() != DType::Int32 && inputs[i].dtype() != DType::Int64)
      throw Error("Input " + std::to_string(i) + " of layer \"" + name() +
                  "\" has dtype " + dtypeName(inputs[i].dtype()) +
                  "; Embedding expects integer indices (int32)");
  return DType::Float32;
}

std::vector<std::vector<int64_t>> EmbeddingLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkSingleInput(*this, in);
  std::vector<int64_t> out = in[0];
  out.push_back(outputDim_);
  return {out};
}

void EmbeddingLayer::build(const std::vector<std::vector<int64_t>> &) {
  addWeight("embeddings", {inputDim_, outputDim_}, initializer_);
}

void EmbeddingLayer::emit(MLIRGenState &state, const Node &node) const {
  auto op = layer::EmbeddingOp::create(
      state.builder, state.loc(*this), state.resultType(node),
      state.value(node.inputs[0]), state.weights(*this)[0]);
  state.define(node, op->getResults());
}

layers::Embedding::Embedding(int64_t input_dim, int64_t output_dim,
                             EmbeddingOptions options)
    : LayerHandle(
          std::make_shared<EmbeddingLayer>(input_dim, output_dim, options.name,
                                           options.embeddings_initializer)) {}

Json ConcatenateLayer::getConfig() const {
  return Json::object({{"name", name()}, {"axis", axis_}});
}

Json EmbeddingLayer::getConfig() const {
  return Json::object({{"name", name()},
                       {"input_dim", inputDim_},
                       {"output_dim", outputDim_},
                       {"embeddings_initializer", initializer_.toConfig()}});
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
  return Json::object(
      {{"name", name()},
       {"units", units_},
       {"activation", options_.activation},
       {"use_bias", options_.use_bias},
       {"kernel_initializer", options_.kernel_initializer.toConfig()},
       {"bias_initializer", options_.bias_initializer.toConfig()},
       {"kernel_regularizer", options_.kernel_regularizer.toConfig()},
       {"bias_regularizer", options_.bias_regularizer.toConfig()},
       {"activity_regularizer", activityRegularizer().toConfig()},
       {"kernel_constraint", options_.kernel_constraint.toConfig()},
       {"bias_constraint", options_.bias_constraint.toConfig()}});
}

Json ActivationLayer::getConfig() const {
  return Json::object({{"name", name()}, {"activation", activation_}});
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
            name(c, "Dense"),
            initializerIn(c, "Dense", "kernel_initializer", "glorot_uniform"),
            initializerIn(c, "Dense", "bias_initializer", "zeros"),
            regularizerIn(c, "Dense", "kernel_regularizer"),
            regularizerIn(c, "Dense", "bias_regularizer"),
            constraintIn(c, "Dense", "kernel_constraint"),
            constraintIn(c, "Dense", "bias_constraint"),
            regularizerIn(c, "Dense", "activity_regularizer")});
  };
  out["Activation"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<ActivationLayer>(
        configField(c, "Activation", "activation", K::String).asString(),
        name(c, "Activation"));
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
  out["Permute"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    std::vector<int64_t> dims;
    for (const Json &d : configField(c, "Permute", "dims", K::Array).items()) {
      if (!d.isInteger())
        throw Error("config of Permute layer: dims must hold integers");
      dims.push_back(d.asInt());
    }
    return std::make_shared<PermuteLayer>(std::move(dims), name(c, "Permute"));
  };
  for (MergeLayer::Kind kind :
       {MergeLayer::Kind::Add, MergeLayer::Kind::Subtract,
        MergeLayer::Kind::Multiply, MergeLayer::Kind::Average,
        MergeLayer::Kind::Maximum}) {
    const char *cls = mergeClassName(kind);
    out[cls] = [name, kind, cls](const Json &c) -> std::shared_ptr<Layer> {
      return std::make_shared<MergeLayer>(kind, name(c, cls));
    };
  }
  out["Concatenate"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    const Json &axis = configField(c, "Concatenate", "axis", K::Number);
    if (!axis.isInteger())
      throw Error("config of Concatenate layer: field 'axis' must be an "
                  "integer");
    return std::make_shared<ConcatenateLayer>(axis.asInt(),
                                              name(c, "Concatenate"));
  };
  out["Embedding"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    auto dim = [&](const char *key) {
      const Json &v = configField(c, "Embedding", key, K::Number);
      if (!v.isInteger())
        throw Error(std::string("config of Embedding layer: field '") + key +
                    "' must be an integer");
      return v.asInt();
    };
    return std::make_shared<EmbeddingLayer>(
        dim("input_dim"), dim("output_dim"), name(c, "Embedding"),
        initializerIn(c, "Embedding", "embeddings_initializer", "uniform"));
  };
  out["Flatten"] = [name](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<FlattenLayer>(name(c, "Flatten"));
  };
}
