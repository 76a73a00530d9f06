//===- Layer.h - Symbolic tensors, layers and their calls -------*- C++ -*-===//
//
// The graph of the functional API. `Input()` makes a SymbolicTensor;
// calling a layer on symbolic tensors checks their shapes at once (an error
// names the layer and both shapes), builds the layer's weights on the first
// call, and records a Node: one call of one layer. A Model is a walk over
// these nodes. Nothing here knows MLIR: each layer emits its ops through
// the MLIRGen interface declared in MLIRGen.h.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYER_H
#define LAYERC_FRONTEND_LAYER_H

#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace layerc {

class Layer;
class MLIRGenState;
struct Node;

/// The symbolic value of a tensor while a model is being defined (Keras's
/// KerasTensor). Shapes include the batch dimension as -1 ("None").
class SymbolicTensor {
public:
  SymbolicTensor() = default;
  /// (None, 784) as a vector: {-1, 784}.
  const std::vector<int64_t> &shape() const;
  /// "(None, 784)".
  std::string shapeString() const;
  DType dtype() const;
  /// The node that produced this tensor.
  const std::shared_ptr<Node> &node() const { return node_; }
  /// Which output of the node this is.
  int index() const { return index_; }

  SymbolicTensor(std::shared_ptr<Node> node, int index)
      : node_(std::move(node)), index_(index) {}

private:
  std::shared_ptr<Node> node_;
  int index_ = 0;
};

/// One call of a layer: its inputs and the shapes of its outputs.
struct Node {
  std::shared_ptr<Layer> layer;
  std::vector<SymbolicTensor> inputs;
  std::vector<std::vector<int64_t>> outputShapes;
  DType dtype = DType::Float32;
};

/// A weight of a layer: its name ("kernel"), value and trainability.
struct Weight {
  std::string name;
  Tensor value;
  bool trainable = true;
};

/// Base of every layer. Layers are always owned by shared_ptr (nodes keep
/// them alive); user code holds them through handles such as
/// layers::Dense.
class Layer : public std::enable_shared_from_this<Layer> {
public:
  virtual ~Layer();

  /// "dense_1": unique per class name, as Keras names layers.
  const std::string &name() const { return name_; }
  /// "Dense".
  virtual std::string className() const = 0;
  const std::vector<Weight> &weights() const { return weights_; }
  std::vector<Weight> &weights() { return weights_; }
  int64_t countParams() const;
  bool built() const { return built_; }

  /// Keras's layer.get_weights() / set_weights(): values in creation order.
  std::vector<Tensor> getWeights() const;
  /// Throws layerc::Error naming the layer and both shapes on a mismatch,
  /// before changing anything.
  void setWeights(const std::vector<Tensor> &values);
  /// The checks of setWeights() alone.
  void checkWeights(const std::vector<Tensor> &values) const;

  /// Calls the layer on symbolic inputs: checks them, builds the weights on
  /// the first call and records a node.
  std::vector<SymbolicTensor> call(const std::vector<SymbolicTensor> &inputs);

  /// Emits this layer's op for `node` (MLIRGen.cpp and the layer files).
  virtual void emit(MLIRGenState &state, const Node &node) const = 0;

  /// Keras's get_config(): the constructor arguments as a JSON object
  /// (always with "name"); a factory registered for className() rebuilds
  /// the layer from it.
  virtual Json getConfig() const;

protected:
  /// `name` empty: the class's snake_case name, made unique.
  Layer(const std::string &className, const std::string &name);

  /// Checks the input shapes and returns the output shapes. Throws
  /// layerc::Error naming the layer and the shapes on a mismatch.
  virtual std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &inputs) = 0;
  /// Checks the inputs' dtypes and returns the outputs' (default: float
  /// inputs, outputs of the first input's dtype).
  virtual DType outputDType(const std::vector<SymbolicTensor> &inputs) const;
  /// Creates the weights for the first input shapes (default: none).
  virtual void build(const std::vector<std::vector<int64_t>> &inputs);
  /// Adds a weight filled by `init` (called from build()).
  Weight &addWeight(const std::string &name, std::vector<int64_t> shape,
                    const std::string &initializer, bool trainable = true);

  /// "Input 0 of layer "dense" is incompatible with the layer: <what>. Full
  /// shape received: (None,)".
  [[noreturn]] void incompatible(int input, const std::string &what,
                                 const std::vector<int64_t> &shape) const;

private:
  std::string name_;
  std::vector<Weight> weights_;
  bool built_ = false;
};

/// Handle of a layer of type T: calls it and reaches its methods.
template <typename T> class LayerHandle {
public:
  explicit LayerHandle(std::shared_ptr<T> layer) : layer_(std::move(layer)) {}
  SymbolicTensor operator()(const SymbolicTensor &input) const {
    return layer_->call({input}).front();
  }
  T *operator->() const { return layer_.get(); }
  const std::shared_ptr<T> &get() const { return layer_; }

private:
  std::shared_ptr<T> layer_;
};

struct InputOptions {
  std::string name;
  DType dtype = DType::Float32;
};

/// Keras's Input(shape): a symbolic tensor of shape (None, *shape).
SymbolicTensor Input(std::vector<int64_t> shape, InputOptions options = {});

/// The input layer behind Input() (shown as InputLayer in summaries).
class InputLayer : public Layer {
public:
  InputLayer(std::vector<int64_t> shape, DType dtype, const std::string &name);
  std::string className() const override { return "InputLayer"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  /// {"name", "batch_shape": [null, ...], "dtype"}.
  Json getConfig() const override;
  const std::vector<int64_t> &shape() const { return shape_; }
  DType dtype() const { return dtype_; }

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &) override;

private:
  std::vector<int64_t> shape_; // without the batch dimension
  DType dtype_;
};

/// Rebuilds a layer from its getConfig().
using LayerFactory = std::function<std::shared_ptr<Layer>(const Json &)>;

/// Factories of the built-in layers, by class name ("Dense", ...).
const std::map<std::string, LayerFactory> &builtinLayerFactories();

/// Reads field `key` of a layer config, throwing layerc::Error naming the
/// layer class and the key when it is missing or of the wrong kind.
const Json &configField(const Json &config, const std::string &className,
                        const std::string &key, Json::Kind kind);

/// Seeds the weight initializers (reproducible models).
void setRandomSeed(uint64_t seed);

} // namespace layerc

#endif // LAYERC_FRONTEND_LAYER_H
