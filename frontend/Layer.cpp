//===- Layer.cpp - Symbolic tensors, layers and their calls
//----------------===//
//
// Naming follows Keras (dense, dense_1, ...; inputs input_1, input_2, ...),
// initializers follow Keras's defaults (glorot_uniform kernels, zero
// biases) from one seeded generator so that a model is reproducible.
//
//===----------------------------------------------------------------------===//

#include "frontend/Layer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>

using namespace layerc;

namespace {

std::mt19937_64 &generator() {
  static std::mt19937_64 gen(1337);
  return gen;
}

/// "Dense" -> "dense", "GlobalAveragePooling2D" -> "global_average_pooling2d".
std::string snakeCase(const std::string &name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && !std::isupper(static_cast<unsigned char>(name[i - 1])))
        out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
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

const std::vector<int64_t> &SymbolicTensor::shape() const {
  if (!node_)
    throw Error("SymbolicTensor: use of an empty tensor (not produced by "
                "Input() or a layer call)");
  return node_->outputShapes.at(index_);
}

std::string SymbolicTensor::shapeString() const { return formatShape(shape()); }

DType SymbolicTensor::dtype() const { return node_->dtype; }

Layer::Layer(const std::string &className, const std::string &name)
    : name_(name.empty() ? uniqueName(snakeCase(className), false) : name) {
  // Names end up in saved models (JSON) and IR locations.
  if (!isValidUtf8(name_))
    throw Error(className + " layer: the name is not valid UTF-8");
}

Layer::~Layer() = default;

int64_t Layer::countParams() const {
  int64_t n = 0;
  for (const Weight &w : weights_)
    n += w.value.numel();
  return n;
}

std::vector<Tensor> Layer::getWeights() const {
  std::vector<Tensor> out;
  for (const Weight &w : weights_)
    out.push_back(w.value.clone());
  return out;
}

void Layer::checkWeights(const std::vector<Tensor> &values) const {
  if (values.size() != weights_.size())
    throw Error("Layer " + name_ + " expects " +
                std::to_string(weights_.size()) + " weights, but received " +
                std::to_string(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].shape() != weights_[i].value.shape())
      throw Error("Layer " + name_ + " weight '" + weights_[i].name +
                  "' has shape " + weights_[i].value.shapeString() +
                  ", but the provided value has shape " +
                  values[i].shapeString());
}

void Layer::setWeights(const std::vector<Tensor> &values) {
  checkWeights(values);
  for (size_t i = 0; i < values.size(); ++i) {
    Tensor &dst = weights_[i].value;
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
                         const std::string &initializer, bool trainable) {
  Tensor value(shape, DType::Float32);
  float *data = value.data<float>();
  if (initializer == "glorot_uniform") {
    // fan_in/fan_out of a (..., in, out) kernel, as Keras computes them.
    int64_t receptive = 1;
    for (size_t i = 0; i + 2 < shape.size(); ++i)
      receptive *= shape[i];
    double fanIn = shape.size() >= 2 ? shape[shape.size() - 2] * receptive
                                     : static_cast<double>(shape[0]);
    double fanOut = shape.size() >= 2 ? shape.back() * receptive
                                      : static_cast<double>(shape[0]);
    double limit = std::sqrt(6.0 / (fanIn + fanOut));
    std::uniform_real_distribution<double> dist(-limit, limit);
    for (int64_t i = 0; i < value.numel(); ++i)
      data[i] = static_cast<float>(dist(generator()));
  } else if (initializer == "uniform_0.05") {
    // Keras's RandomUniform(-0.05, 0.05), the Embedding default.
    std::uniform_real_distribution<double> dist(-0.05, 0.05);
    for (int64_t i = 0; i < value.numel(); ++i)
      data[i] = static_cast<float>(dist(generator()));
  } else if (initializer == "orthogonal") {
    // Keras's Orthogonal: a random normal matrix made orthonormal (rows or
    // columns, whichever are fewer) by Gram-Schmidt.
    int64_t rows = shape.size() >= 2 ? value.numel() / shape.back() : 1;
    int64_t cols = shape.back();
    bool transposed = rows < cols;
    int64_t n = transposed ? rows : cols, len = transposed ? cols : rows;
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<std::vector<double>> vecs(n, std::vector<double>(len));
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> &v = vecs[i];
      for (double &x : v)
        x = normal(generator());
      for (int64_t j = 0; j < i; ++j) {
        double dot = 0;
        for (int64_t k = 0; k < len; ++k)
          dot += v[k] * vecs[j][k];
        for (int64_t k = 0; k < len; ++k)
          v[k] -= dot * vecs[j][k];
      }
      double norm = 0;
      for (double x : v)
        norm += x * x;
      norm = std::sqrt(norm);
      for (double &x : v)
        x /= norm > 0 ? norm : 1.0;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        data[r * cols + c] =
            static_cast<float>(transposed ? vecs[r][c] : vecs[c][r]);
  } else if (initializer == "unit_forget_bias") {
    // An LSTM bias (4 units): zeros with the forget gate's quarter at 1.
    int64_t units = value.numel() / 4;
    std::fill_n(data, value.numel(), 0.0f);
    std::fill_n(data + units, units, 1.0f);
  } else if (initializer == "ones") {
    std::fill_n(data, value.numel(), 1.0f);
  } else if (initializer != "zeros") {
    throw Error("Layer " + name_ + ": unknown initializer '" + initializer +
                "' (expected glorot_uniform, orthogonal, uniform_0.05, "
                "unit_forget_bias, zeros or ones)");
  }
  weights_.push_back({name, value, trainable});
  return weights_.back();
}

void Layer::incompatible(int input, const std::string &what,
                         const std::vector<int64_t> &shape) const {
  throw Error("Input " + std::to_string(input) + " of layer \"" + name_ +
              "\" is incompatible with the layer: " + what +
              ". Full shape received: " + formatShape(shape));
}

std::vector<SymbolicTensor>
Layer::call(const std::vector<SymbolicTensor> &inputs) {
  std::vector<std::vector<int64_t>> shapes;
  for (const SymbolicTensor &input : inputs)
    shapes.push_back(input.shape());
  DType dtype = outputDType(inputs);
  auto outputShapes = computeOutputShapes(shapes);
  if (!built_) {
    build(shapes);
    built_ = true;
  }
  auto node = std::make_shared<Node>();
  node->layer = shared_from_this();
  node->inputs = inputs;
  node->outputShapes = std::move(outputShapes);
  node->dtype = dtype;
  std::vector<SymbolicTensor> outputs;
  for (size_t i = 0; i < node->outputShapes.size(); ++i)
    outputs.emplace_back(node, static_cast<int>(i));
  return outputs;
}

InputLayer::InputLayer(std::vector<int64_t> shape, DType dtype,
                       const std::string &name)
    : Layer("InputLayer", name.empty() ? uniqueName("input", true) : name),
      shape_(std::move(shape)), dtype_(dtype) {}

Json Layer::getConfig() const { return Json::object({{"name", name_}}); }

Json InputLayer::getConfig() const {
  std::vector<Json> batchShape{Json(nullptr)};
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
  auto layer = std::make_shared<InputLayer>(shape, options.dtype, options.name);
  auto node = std::make_shared<Node>();
  node->layer = layer;
  std::vector<int64_t> full{-1};
  full.insert(full.end(), shape.begin(), shape.end());
  node->outputShapes = {full};
  node->dtype = options.dtype;
  return SymbolicTensor(node, 0);
}
