//===- Layer.cpp - Symbolic tensors, layers and their calls
//----------------===//
//
// Naming follows Keras (dense, dense_1, ...; inputs input_1, input_2, ...),
// initializers follow Keras's defaults (glorot_uniform kernels, zero
// biases) from one seeded generator so that a model is reproducible.
//
//===----------------------------------------------------------------------===//

#include "frontend/Layer.h"
#include "frontend/KerasFile.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>
#include <set>

using namespace layerc;

namespace {

std::mt19937_64 &generator() {
  static std::mt19937_64 gen(1337);
  return gen;
}

/// A unique name for a layer of `base` name: base, base_1, base_2, ...
std::string uniqueName(const std::string &base, bool startAtOne) {
  static std::map<std::string, int> counts;
  int n = counts[base]++;
  if (startAtOne)
    return base + "_" + std::to_string(n + 1);
  return n == 0 ? base : base + "_" + std::to_string(n);
}

} // namespace

void layerc::setRandomSeed(uint64_t seed) { generator().seed(seed); }

std::string layerc::uniqueLayerName(const std::string &base) {
  return uniqueName(base, false);
}

const std::vector<int64_t> &SymbolicTensor::shape() const {
  if (!node_)
    throw Error("SymbolicTensor: use of an empty tensor (not produced by "
                "Input() or a layer call)");
  return node_->outputShapes.at(index_);
}

std::string SymbolicTensor::shapeString() const { return formatShape(shape()); }

DType SymbolicTensor::dtype() const { return node_->dtype; }

Layer::Layer(const std::string &className, const std::string &name)
    : name_(name.empty() ? uniqueName(keras::snakeCase(className), false)
                         : name) {
  // Names end up in saved models (JSON) and IR locations.
  if (!isValidUtf8(name_))
    throw Error(className + " layer: the name is not valid UTF-8");
  // A C string (the AOT header's weight names) cannot carry a NUL, and no
  // name needs a control character.
  if (hasControlCharacter(name_))
    throw Error(className + " layer: the name contains a control character");
}

Layer::~Layer() = default;

std::vector<Weight *> Layer::kerasWeights() const {
  std::vector<Weight *> out;
  auto *self = const_cast<Layer *>(this);
  if (!weights_.empty() || bodies_.empty()) {
    for (Weight &w : self->weights_)
      out.push_back(&w);
    return out;
  }
  for (const auto &layer : self->weightLayers())
    for (Weight &w : layer->weights_)
      out.push_back(&w);
  return out;
}

std::vector<Tensor> Layer::getWeights() const {
  std::vector<Tensor> out;
  for (const Weight *w : kerasWeights())
    out.push_back(w->value.clone());
  return out;
}

void Layer::checkWeights(const std::vector<Tensor> &values) const {
  std::vector<Weight *> weights = kerasWeights();
  if (values.size() != weights.size())
    throw Error("Layer " + name_ + " expects " +
                std::to_string(weights.size()) + " weights, but received " +
                std::to_string(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].shape() != weights[i]->value.shape())
      throw Error("Layer " + name_ + " weight '" + weights[i]->name +
                  "' has shape " + weights[i]->value.shapeString() +
                  ", but the provided value has shape " +
                  values[i].shapeString());
}

void Layer::setWeights(const std::vector<Tensor> &values) {
  checkWeights(values);
  std::vector<Weight *> weights = kerasWeights();
  for (size_t i = 0; i < values.size(); ++i) {
    Tensor &dst = weights[i]->value;
    Tensor src = values[i].astype(dst.dtype());
    // Copy into the existing storage: compiled models hold views of it.
    std::copy_n(static_cast<const std::byte *>(src.rawData()), src.nbytes(),
                static_cast<std::byte *>(dst.rawData()));
  }
}

void Layer::build(const std::vector<std::vector<int64_t>> &) {}

DType Layer::outputDType(const std::vector<SymbolicTensor> &inputs) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!isFloat(inputs[i].dtype()))
      throw Error("Input " + std::to_string(i) + " of layer \"" + name_ +
                  "\" has dtype " + dtypeName(inputs[i].dtype()) +
                  "; it expects float32 or float64");
  return inputs.empty() ? DType::Float32 : inputs.front().dtype();
}

Weight &Layer::addWeight(const std::string &name, std::vector<int64_t> shape,
                         const Initializer &initializer, bool trainable) {
  weights_.push_back({name,
                      initializer.fill(shape, generator(), "Layer " + name_),
                      trainable});
  return weights_.back();
}

Weight &Layer::addWeight(const std::string &name, std::vector<int64_t> shape,
                         const Initializer &initializer,
                         const Regularizer &regularizer,
                         const Constraint &constraint) {
  if (!constraint.empty())
    constraint.axesFor(static_cast<int64_t>(shape.size()),
                       "Layer " + name_ + " weight '" + name + "'");
  Weight &w = addWeight(name, std::move(shape), initializer);
  w.regularizer = regularizer;
  w.constraint = constraint;
  return w;
}

void Layer::incompatible(int input, const std::string &what,
                         const std::vector<int64_t> &shape) const {
  throw Error("Input " + std::to_string(input) + " of layer \"" + name_ +
              "\" is incompatible with the layer: " + what +
              ". Full shape received: " + formatShape(shape));
}

std::vector<std::vector<int64_t>>
Layer::computeOutputShapes(const std::vector<std::vector<int64_t>> &) {
  return {};
}

std::vector<SymbolicTensor> Layer::call(const std::vector<SymbolicTensor> &) {
  throw Error("Layer " + name_ + " (" + className() +
              ") defines neither an output shape rule nor call(); a custom "
              "layer overrides call() with ops:: primitives");
}

std::shared_ptr<const Graph>
Layer::trace(const std::vector<SymbolicTensor> &inputs) {
  std::vector<SymbolicTensor> placeholders;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int64_t> &shape = inputs[i].shape();
    auto layer = std::make_shared<InputLayer>(
        std::vector<int64_t>(shape.begin() + (shape.empty() ? 0 : 1),
                             shape.end()),
        inputs[i].dtype(), name_ + "/input_" + std::to_string(i),
        shape.empty() ? -1 : shape[0]);
    placeholders.emplace_back(makeSourceNode(layer, shape, inputs[i].dtype()),
                              0);
  }
  std::vector<SymbolicTensor> outputs = call(placeholders);
  if (outputs.empty())
    throw Error("Layer " + name_ + ": call() returned no tensor");
  return Graph::build(placeholders, outputs, "Layer " + name_ + " (call())");
}

namespace {
std::string inputCount(size_t n) {
  return std::to_string(n) + (n == 1 ? " input" : " inputs");
}
} // namespace

std::vector<SymbolicTensor>
Layer::apply(const std::vector<SymbolicTensor> &inputs) {
  if (tracing_)
    throw Error("Layer \"" + name_ +
                "\" is called inside its own call(): a layer cannot be part "
                "of its own graph (the connections would form a cycle)");
  int expected = expectedInputs();
  if (expected >= 0 && inputs.size() != static_cast<size_t>(expected))
    throw Error("Layer \"" + name_ + "\" (" + className() + ") expects " +
                inputCount(expected) + ", but it received " +
                inputCount(inputs.size()));
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].node())
      throw Error("Input " + std::to_string(i) + " of layer \"" + name_ +
                  "\" is an empty tensor (not produced by Input() or a "
                  "layer call)");
    shapes.push_back(inputs[i].shape());
  }
  auto node = std::make_shared<Node>();
  node->inputs = inputs;
  node->outputShapes = computeOutputShapes(shapes);
  if (!node->outputShapes.empty()) {
    node->dtype = outputDType(inputs);
    if (!built_) {
      build(shapes);
      built_ = true;
    }
  } else {
    if (!built_) {
      build(shapes);
      built_ = true;
    }
    tracing_ = true;
    try {
      node->body = trace(inputs);
    } catch (...) {
      tracing_ = false;
      throw;
    }
    tracing_ = false;
    // A nested model's outputs have an unknown batch; a call on inputs of
    // one static batch size gives them that size.
    int64_t batch = -1;
    for (size_t i = 0; i < shapes.size(); ++i)
      if (!shapes[i].empty())
        batch = i == 0 || batch == shapes[i][0] ? shapes[i][0] : -1;
    for (const SymbolicTensor &out : node->body->outputs) {
      std::vector<int64_t> shape = out.shape();
      if (!shape.empty() && shape[0] < 0 && batch > 0)
        shape[0] = batch;
      node->outputShapes.push_back(shape);
    }
    node->dtype = node->body->outputs.front().dtype();
    if (std::find(bodies_.begin(), bodies_.end(), node->body) == bodies_.end())
      bodies_.push_back(node->body);
  }
  node->layer = shared_from_this();
  nodes_.push_back(node);
  std::vector<SymbolicTensor> outputs;
  for (size_t i = 0; i < node->outputShapes.size(); ++i)
    outputs.emplace_back(node, static_cast<int>(i));
  return outputs;
}

SymbolicTensor Layer::operator()(const SymbolicTensor &input) {
  std::vector<SymbolicTensor> outputs = apply({input});
  if (outputs.size() != 1)
    throw Error("Layer " + name_ + " has " + std::to_string(outputs.size()) +
                " outputs; call it on a list of tensors to get them all");
  return outputs.front();
}

void Layer::adoptBody(std::shared_ptr<const Graph> body) {
  bodies_.push_back(std::move(body));
}

void Layer::collectWeightLayers(std::vector<std::shared_ptr<Layer>> &out,
                                std::set<const Layer *> &seen) {
  if (!seen.insert(this).second)
    return;
  if (!weights_.empty())
    out.push_back(shared_from_this());
  for (const auto &body : bodies_)
    for (const auto &layer : body->layers)
      layer->collectWeightLayers(out, seen);
}

std::vector<std::shared_ptr<Layer>> Layer::weightLayers() {
  std::vector<std::shared_ptr<Layer>> out;
  std::set<const Layer *> seen;
  collectWeightLayers(out, seen);
  return out;
}

std::vector<std::shared_ptr<const Layer>> Layer::weightLayers() const {
  auto layers = const_cast<Layer *>(this)->weightLayers();
  return {layers.begin(), layers.end()};
}

int64_t Layer::countParams() const {
  int64_t n = 0;
  for (const auto &layer : weightLayers())
    for (const Weight &w : layer->weights())
      n += w.value.numel();
  return n;
}

int64_t Layer::countTrainableParams() const {
  int64_t n = 0;
  for (const auto &layer : weightLayers())
    for (const Weight &w : layer->weights())
      if (w.trainable)
        n += w.value.numel();
  return n;
}

int Layer::nodeIndex(const Node *node) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].lock().get() == node)
      return static_cast<int>(i);
  return -1;
}

namespace {
std::vector<SymbolicTensor> outputsOf(const std::shared_ptr<Node> &node) {
  std::vector<SymbolicTensor> out;
  for (size_t i = 0; i < node->outputShapes.size(); ++i)
    out.emplace_back(node, static_cast<int>(i));
  return out;
}
} // namespace

std::vector<SymbolicTensor> Layer::outputAt(size_t index) const {
  if (index >= nodes_.size())
    throw Error("Layer " + name_ + " has " + std::to_string(nodes_.size()) +
                " call node(s); there is no node " + std::to_string(index));
  std::shared_ptr<Node> node = nodes_[index].lock();
  if (!node)
    throw Error("Layer " + name_ + ": node " + std::to_string(index) +
                " no longer exists (no tensor or model refers to it)");
  return outputsOf(node);
}

std::vector<SymbolicTensor> Layer::inputAt(size_t index) const {
  std::vector<SymbolicTensor> outputs = outputAt(index);
  if (dynamic_cast<const InputLayer *>(this))
    return outputs;
  return outputs.front().node()->inputs;
}

namespace {
const SymbolicTensor &single(const std::vector<SymbolicTensor> &tensors,
                             const std::string &layer, const char *what) {
  if (tensors.size() != 1)
    throw Error("Layer " + layer + " has " + std::to_string(tensors.size()) +
                " " + what + "s; use " + what + "At(0) to get them all");
  return tensors.front();
}
} // namespace

SymbolicTensor Layer::input() const {
  if (nodes_.empty())
    throw Error("Layer " + name_ +
                " has never been called and thus has no defined input");
  if (nodes_.size() > 1)
    throw Error("Layer " + name_ +
                " has multiple inbound nodes, hence the notion of \"layer "
                "input\" is ill-defined; use inputAt(node_index) instead");
  return single(inputAt(0), name_, "input");
}

SymbolicTensor Layer::output() const {
  if (nodes_.empty())
    throw Error("Layer " + name_ +
                " has never been called and thus has no defined output");
  if (nodes_.size() > 1)
    throw Error("Layer " + name_ +
                " has multiple inbound nodes, hence the notion of \"layer "
                "output\" is ill-defined; use outputAt(node_index) instead");
  return single(outputAt(0), name_, "output");
}

void WeightReadLayer::collectWeightLayers(
    std::vector<std::shared_ptr<Layer>> &out, std::set<const Layer *> &seen) {
  if (seen.insert(this).second)
    owner_->collectWeightLayers(out, seen);
}

std::vector<std::vector<int64_t>> WeightReadLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &) {
  throw Error("weight " + name() + " cannot be called on tensors");
}

SymbolicTensor Layer::weight(const std::string &weightName) {
  auto cached = weightNodes_.find(weightName);
  if (cached != weightNodes_.end())
    return SymbolicTensor(cached->second, 0);
  std::string known;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i].name == weightName) {
      auto reader =
          std::make_shared<WeightReadLayer>(this, i, name_ + "/" + weightName);
      auto node = makeSourceNode(reader, weights_[i].value.shape(),
                                 weights_[i].value.dtype());
      weightNodes_[weightName] = node;
      return SymbolicTensor(node, 0);
    }
    known += (known.empty() ? "" : ", ") + weights_[i].name;
  }
  throw Error("Layer " + name_ + " has no weight '" + weightName +
              "' (its weights: " + (known.empty() ? "none" : known) +
              "); create it with addWeight() in build()");
}

std::shared_ptr<Node> layerc::makeSourceNode(std::shared_ptr<Layer> layer,
                                             std::vector<int64_t> shape,
                                             DType dtype) {
  auto node = std::make_shared<Node>();
  node->layer = layer;
  node->outputShapes = {std::move(shape)};
  node->dtype = dtype;
  layer->built_ = true;
  layer->nodes_.push_back(node);
  return node;
}

std::shared_ptr<Graph> Graph::build(std::vector<SymbolicTensor> inputs,
                                    std::vector<SymbolicTensor> outputs,
                                    const std::string &owner) {
  auto graph = std::make_shared<Graph>();
  graph->inputs = std::move(inputs);
  graph->outputs = std::move(outputs);
  std::set<const Node *> inputNodes, visited;
  for (const SymbolicTensor &in : graph->inputs) {
    if (!in.node())
      throw Error(owner + ": an input is an empty tensor");
    if (!dynamic_cast<const InputLayer *>(in.node()->layer.get()))
      throw Error(owner +
                  ": inputs must come from Input(), but one comes from layer " +
                  in.node()->layer->name());
    if (!inputNodes.insert(in.node().get()).second)
      throw Error(owner + ": input " + in.node()->layer->name() +
                  " is listed twice");
  }
  for (const SymbolicTensor &out : graph->outputs)
    if (!out.node())
      throw Error(owner + ": an output is an empty tensor");
  // Iterative post-order, so a deep graph cannot exhaust the stack.
  auto visit = [&](const std::shared_ptr<Node> &root) {
    std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack;
    if (visited.insert(root.get()).second)
      stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto &[node, next] = stack.back();
      if (dynamic_cast<const InputLayer *>(node->layer.get()) &&
          !inputNodes.count(node.get())) {
        std::string at =
            stack.size() > 1
                ? " at layer \"" +
                      stack[stack.size() - 2].first->layer->name() + "\""
                : " (an output)";
        throw Error(owner +
                    ": graph disconnected: cannot obtain value for "
                    "tensor " +
                    node->layer->name() + " of shape " +
                    formatShape(node->outputShapes[0]) + at +
                    "; it is not among the inputs");
      }
      if (next < node->inputs.size()) {
        std::shared_ptr<Node> input = node->inputs[next++].node();
        if (visited.insert(input.get()).second)
          stack.emplace_back(input, 0);
        continue;
      }
      graph->nodes.push_back(node);
      stack.pop_back();
    }
  };
  for (const SymbolicTensor &in : graph->inputs)
    visit(in.node());
  for (const SymbolicTensor &out : graph->outputs)
    visit(out.node());
  // Keras's order: by decreasing depth (distance to the outputs), the
  // inputs deepest, ties in the walk's order. Still topological: a node is
  // deeper than every node reading it.
  std::map<const Node *, int> depth;
  int deepest = 0;
  for (auto it = graph->nodes.rbegin(); it != graph->nodes.rend(); ++it) {
    int d = depth[it->get()];
    for (const SymbolicTensor &in : (*it)->inputs) {
      int &di = depth[in.node().get()];
      di = std::max(di, d + 1);
      deepest = std::max(deepest, di);
    }
  }
  for (const Node *in : inputNodes)
    depth[in] = deepest + 1;
  std::stable_sort(
      graph->nodes.begin(), graph->nodes.end(),
      [&](const std::shared_ptr<Node> &a, const std::shared_ptr<Node> &b) {
        return depth[a.get()] > depth[b.get()];
      });
  std::set<const Layer *> seen;
  std::map<std::string, const Layer *> names;
  for (const auto &node : graph->nodes)
    if (seen.insert(node->layer.get()).second) {
      auto [it, fresh] = names.emplace(node->layer->name(), node->layer.get());
      if (!fresh)
        throw Error(owner + ": the layer name \"" + node->layer->name() +
                    "\" is used by more than one layer; names must be unique");
      graph->layers.push_back(node->layer);
    }
  return graph;
}

InputLayer::InputLayer(std::vector<int64_t> shape, DType dtype,
                       const std::string &name, int64_t batchSize)
    : Layer("InputLayer", name.empty() ? uniqueName("input", true) : name),
      shape_(std::move(shape)), dtype_(dtype), batchSize_(batchSize) {}

Json Layer::getConfig() const { return Json::object({{"name", name_}}); }

Json InputLayer::getConfig() const {
  std::vector<Json> batchShape{batchSize_ > 0 ? Json(batchSize_)
                                              : Json(nullptr)};
  for (int64_t d : shape_)
    batchShape.emplace_back(d);
  return Json::object({{"name", name()},
                       {"batch_shape", Json::array(std::move(batchShape))},
                       {"dtype", dtypeName(dtype_)}});
}

const Json &layerc::configField(const Json &config,
                                const std::string &className,
                                const std::string &key, Json::Kind kind) {
  static const char *kinds[] = {"null",     "a boolean", "a number",
                                "a string", "an array",  "an object"};
  const Json *value = config.isObject() ? config.get(key) : nullptr;
  bool ok = value && (value->kind() == kind ||
                      (kind == Json::Kind::Number && value->isNumber()));
  if (!ok)
    throw Error("config of " + className + " layer: field '" + key +
                "' must be " + kinds[static_cast<int>(kind)]);
  return *value;
}

std::vector<std::vector<int64_t>>
InputLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &) {
  throw Error("InputLayer " + name() + " cannot be called on tensors");
}

SymbolicTensor layerc::Input(std::vector<int64_t> shape, InputOptions options) {
  for (int64_t d : shape)
    if (d <= 0 && d != -1)
      throw Error("Input: every dimension of shape must be positive or -1 "
                  "(None, a size known only at run time), got " +
                  formatShape(shape));
  if (options.dtype != DType::Float32 && options.dtype != DType::Int32)
    throw Error(std::string("Input: dtype ") + dtypeName(options.dtype) +
                " is not supported yet (float32 or int32)");
  if (options.batch_size == 0 || options.batch_size < -1)
    throw Error("Input: batch_size must be positive or -1 (None), got " +
                std::to_string(options.batch_size));
  auto layer = std::make_shared<InputLayer>(shape, options.dtype, options.name,
                                            options.batch_size);
  std::vector<int64_t> full{options.batch_size};
  full.insert(full.end(), shape.begin(), shape.end());
  return SymbolicTensor(makeSourceNode(layer, full, options.dtype), 0);
}
