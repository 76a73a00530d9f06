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

#include "frontend/Initializers.h"
#include "frontend/Regularizers.h"
#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace layerc {

class Layer;
class MLIRGenState;
class Model;
struct Graph;
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
  std::shared_ptr<Layer> layer{};
  std::vector<SymbolicTensor> inputs{};
  std::vector<std::vector<int64_t>> outputShapes{};
  DType dtype = DType::Float32;
  /// What a nested model or a layer defined by call() stands for: the graph
  /// emitted in place of this node (null for the built-in layers).
  std::shared_ptr<const Graph> body{};
};

/// The layer calls between some inputs and some outputs: what a Model is,
/// and what a layer's call() traces to.
struct Graph {
  std::vector<SymbolicTensor> inputs, outputs;
  /// Every call node, inputs first, each after the nodes it reads.
  std::vector<std::shared_ptr<Node>> nodes{};
  /// Every layer, in the order of their first node.
  std::vector<std::shared_ptr<Layer>> layers{};

  /// Walks back from `outputs` to `inputs` (iteratively: deep graphs cannot
  /// exhaust the stack). Throws layerc::Error naming `owner` and the
  /// missing input when an output needs a tensor that is not among the
  /// inputs ("graph disconnected").
  static std::shared_ptr<Graph> build(std::vector<SymbolicTensor> inputs,
                                      std::vector<SymbolicTensor> outputs,
                                      const std::string &owner);
};

/// A weight of a layer: its name ("kernel"), value and trainability.
struct Weight {
  std::string name{};
  Tensor value{};
  bool trainable = true;
  /// Its penalty in the loss and its constraint after each step (none by
  /// default).
  Regularizer regularizer{};
  Constraint constraint{};
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
  /// The weights this layer creates itself (not those of the layers it
  /// calls; see weightLayers()).
  const std::vector<Weight> &weights() const { return weights_; }
  std::vector<Weight> &weights() { return weights_; }
  /// This layer (when it has weights of its own) and every layer with
  /// weights that it calls: the layers of a nested model, the sub-layers a
  /// custom call() uses. Each once, in order; what gets saved and trained.
  std::vector<std::shared_ptr<Layer>> weightLayers();
  std::vector<std::shared_ptr<const Layer>> weightLayers() const;
  /// Adds this layer's weight layers to `out` (each once, `seen` tracks
  /// them); what weightLayers() gathers.
  virtual void collectWeightLayers(std::vector<std::shared_ptr<Layer>> &out,
                                   std::set<const Layer *> &seen);
  /// Parameters of every weight layer (Keras's count_params()).
  int64_t countParams() const;
  int64_t countTrainableParams() const;
  bool built() const { return built_; }
  /// Keras's activity_regularizer: its penalty of each output (divided by
  /// the batch) joins the loss. None by default.
  const Regularizer &activityRegularizer() const {
    return activityRegularizer_;
  }

  /// Keras's layer.get_weights() / set_weights(): values in creation order.
  /// A layer without weights of its own that calls others (a wrapper such
  /// as Bidirectional, a nested model) has theirs, in weightLayers() order.
  std::vector<Tensor> getWeights() const;
  /// Throws layerc::Error naming the layer and both shapes on a mismatch,
  /// before changing anything.
  void setWeights(const std::vector<Tensor> &values);
  /// The checks of setWeights() alone.
  void checkWeights(const std::vector<Tensor> &values) const;

  /// Calls the layer on symbolic inputs (Keras's `__call__`): checks them,
  /// builds the weights on the first call and records a node. A layer
  /// defined by call() is traced here.
  std::vector<SymbolicTensor> apply(const std::vector<SymbolicTensor> &inputs);
  std::vector<SymbolicTensor>
  operator()(const std::vector<SymbolicTensor> &inputs) {
    return apply(inputs);
  }
  /// One input, one output (an error names the layer otherwise).
  SymbolicTensor operator()(const SymbolicTensor &input);
  /// Eager call on a concrete batch, as `layer(tf.zeros((1, 10, 5)))`: the
  /// layer is called on an Input of exactly that shape (batch included),
  /// compiled and run. Returns the first output.
  Tensor operator()(const Tensor &input);

  /// What a custom layer computes, in terms of the ops:: primitives, its
  /// weights (weight()) and other layers; traced once per call of the
  /// layer. Built-in layers emit their op directly and do not override it.
  virtual std::vector<SymbolicTensor>
  call(const std::vector<SymbolicTensor> &inputs);

  /// Emits this layer's op for `node` (MLIRGen.cpp and the layer files).
  /// The default emits the node's body (nested models, custom layers).
  virtual void emit(MLIRGenState &state, const Node &node) const;

  /// Every call of this layer, in order (Keras's inbound nodes). Nodes
  /// live as long as a tensor or model refers to them.
  size_t numNodes() const { return nodes_.size(); }
  /// Index of `node` among this layer's calls; -1 if it is not one.
  int nodeIndex(const Node *node) const;
  /// Keras's layer.input / layer.output: the tensors of the only call;
  /// an error when the layer was called several times (use inputAt /
  /// outputAt) or never.
  SymbolicTensor input() const;
  SymbolicTensor output() const;
  std::vector<SymbolicTensor> inputAt(size_t node) const;
  std::vector<SymbolicTensor> outputAt(size_t node) const;

  /// Keras's get_config(): the constructor arguments as a JSON object
  /// (always with "name"); a factory registered for className() rebuilds
  /// the layer from it.
  virtual Json getConfig() const;

protected:
  /// `name` empty: the class's snake_case name, made unique.
  Layer(const std::string &className, const std::string &name);

  /// Checks the input shapes and returns the output shapes. Throws
  /// layerc::Error naming the layer and the shapes on a mismatch. The
  /// default returns nothing: the layer is defined by its body (trace()).
  virtual std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &inputs);
  /// The graph a call stands for, for layers without computeOutputShapes():
  /// by default call() traced on placeholders of the inputs' shapes.
  virtual std::shared_ptr<const Graph>
  trace(const std::vector<SymbolicTensor> &inputs);
  /// The number of inputs the layer takes (checked before anything else,
  /// the error names the layer); -1: any number.
  virtual int expectedInputs() const { return 1; }
  /// Checks the inputs' dtypes and returns the outputs' (default: float
  /// inputs, outputs of the first input's dtype).
  virtual DType outputDType(const std::vector<SymbolicTensor> &inputs) const;
  /// Creates the weights for the first input shapes (default: none).
  virtual void build(const std::vector<std::vector<int64_t>> &inputs);
  /// Adds a weight filled by `initializer` (called from build()): a Keras
  /// name ("glorot_uniform", "he_normal", "zeros", ...) or an Initializer
  /// with arguments and a seed (Initializers.h).
  Weight &addWeight(const std::string &name, std::vector<int64_t> shape,
                    const Initializer &initializer, bool trainable = true);
  /// A trainable weight with a regularizer and a constraint (Keras's
  /// kernel_regularizer, kernel_constraint, ...); the constraint's axes
  /// are checked against the weight's rank here.
  Weight &addWeight(const std::string &name, std::vector<int64_t> shape,
                    const Initializer &initializer,
                    const Regularizer &regularizer,
                    const Constraint &constraint);
  /// A weight of this layer as a tensor, for call() (exactly the weight's
  /// shape, no batch dimension).
  SymbolicTensor weight(const std::string &name);
  /// Makes the layers of `body` count as this layer's (nested models).
  void adoptBody(std::shared_ptr<const Graph> body);

  void setActivityRegularizer(Regularizer regularizer) {
    activityRegularizer_ = std::move(regularizer);
  }

  /// "Input 0 of layer "dense" is incompatible with the layer: <what>. Full
  /// shape received: (None,)".
  [[noreturn]] void incompatible(int input, const std::string &what,
                                 const std::vector<int64_t> &shape) const;

private:
  /// The weights getWeights() and setWeights() cover.
  std::vector<Weight *> kerasWeights() const;
  friend std::shared_ptr<Node> makeSourceNode(std::shared_ptr<Layer> layer,
                                              std::vector<int64_t> shape,
                                              DType dtype);
  std::string name_;
  std::vector<Weight> weights_;
  Regularizer activityRegularizer_;
  bool built_ = false;
  /// Set while call() is traced: a layer calling itself is a cycle.
  bool tracing_ = false;
  std::vector<std::weak_ptr<Node>> nodes_;
  /// The bodies of this layer's calls (the layers they use own weights
  /// this layer counts).
  std::vector<std::shared_ptr<const Graph>> bodies_;
  /// Nodes reading each weight, made once (weight()).
  std::map<std::string, std::shared_ptr<Node>> weightNodes_;
};

/// Handle of a layer of type T: calls it and reaches its methods.
template <typename T> class LayerHandle {
public:
  explicit LayerHandle(std::shared_ptr<T> layer) : layer_(std::move(layer)) {}
  SymbolicTensor operator()(const SymbolicTensor &input) const {
    return layer_->apply({input}).front();
  }
  std::vector<SymbolicTensor>
  operator()(const std::vector<SymbolicTensor> &inputs) const {
    return layer_->apply(inputs);
  }
  T *operator->() const { return layer_.get(); }
  const std::shared_ptr<T> &get() const { return layer_; }

private:
  std::shared_ptr<T> layer_;
};

struct InputOptions {
  std::string name{};
  DType dtype = DType::Float32;
  /// A static batch size (Keras's batch_size / batch_shape[0]); -1: None.
  int64_t batch_size = -1;
};

/// Keras's Input(shape): a symbolic tensor of shape (None, *shape).
SymbolicTensor Input(std::vector<int64_t> shape, InputOptions options = {});

/// The input layer behind Input() (shown as InputLayer in summaries).
class InputLayer : public Layer {
public:
  InputLayer(std::vector<int64_t> shape, DType dtype, const std::string &name,
             int64_t batchSize = -1);
  std::string className() const override { return "InputLayer"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  /// {"name", "batch_shape": [null, ...], "dtype"}.
  Json getConfig() const override;
  const std::vector<int64_t> &shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int64_t batchSize() const { return batchSize_; }

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &) override;

private:
  std::vector<int64_t> shape_; // without the batch dimension
  DType dtype_;
  int64_t batchSize_;
};

/// Reads one weight of its owner: the source node behind Layer::weight().
class WeightReadLayer : public Layer {
public:
  WeightReadLayer(Layer *owner, size_t index, const std::string &name)
      : Layer("Weight", name), owner_(owner), index_(index) {}
  std::string className() const override { return "Weight"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  void collectWeightLayers(std::vector<std::shared_ptr<Layer>> &out,
                           std::set<const Layer *> &seen) override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &) override;

private:
  Layer *owner_;
  size_t index_;
};

/// A node with no inputs whose outputs come from outside the graph: an
/// Input(), or a placeholder of a traced call. `shape` is the full shape.
std::shared_ptr<Node> makeSourceNode(std::shared_ptr<Layer> layer,
                                     std::vector<int64_t> shape, DType dtype);

/// Rebuilds a layer from its getConfig().
using LayerFactory = std::function<std::shared_ptr<Layer>(const Json &)>;

/// Factories of the built-in layers, by class name ("Dense", ...).
const std::map<std::string, LayerFactory> &builtinLayerFactories();

/// Reads field `key` of a layer config, throwing layerc::Error naming the
/// layer class and the key when it is missing or of the wrong kind.
const Json &configField(const Json &config, const std::string &className,
                        const std::string &key, Json::Kind kind);

/// A fresh layer name for `base` as Keras makes them: base, base_1, ...
std::string uniqueLayerName(const std::string &base);

/// Seeds the weight initializers (reproducible models).
void setRandomSeed(uint64_t seed);

} // namespace layerc

#endif // LAYERC_FRONTEND_LAYER_H
