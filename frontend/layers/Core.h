//===- Core.h - Core and merging layers -------------------------*- C++ -*-===//
//
// Dense, Activation, Reshape, Permute, Flatten and the merging
// functions add() and multiply(), with Keras's names, defaults and error
// messages.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_CORE_H
#define LAYERC_FRONTEND_LAYERS_CORE_H

#include "frontend/Layer.h"

namespace layerc {

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  std::string name{};
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  Constraint kernel_constraint{};
  Constraint bias_constraint{};
  /// Its penalty of the output (divided by the batch) joins the loss.
  Regularizer activity_regularizer{};
};

class DenseLayer : public Layer {
public:
  DenseLayer(int64_t units, DenseOptions options);
  std::string className() const override { return "Dense"; }
  int64_t units() const { return units_; }
  const std::string &activation() const { return options_.activation; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t units_;
  DenseOptions options_;
};

class ActivationLayer : public Layer {
public:
  ActivationLayer(std::string activation, std::string name);
  std::string className() const override { return "Activation"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  std::string activation_;
};

class ReshapeLayer : public Layer {
public:
  ReshapeLayer(std::vector<int64_t> targetShape, std::string name);
  std::string className() const override { return "Reshape"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  std::vector<int64_t> target_;
};

/// Keras's Permute: `dims` (1-based, over the non-batch axes) reorders the
/// axes of every sample; one layer.transpose that keeps the batch axis.
class PermuteLayer : public Layer {
public:
  PermuteLayer(std::vector<int64_t> dims, std::string name);
  std::string className() const override { return "Permute"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  std::vector<int64_t> dims_;
};

/// Keras's Add, Subtract, Multiply, Average and Maximum: element-wise
/// merges of same-shaped inputs.
class MergeLayer : public Layer {
public:
  enum class Kind { Add, Subtract, Multiply, Average, Maximum };
  MergeLayer(Kind kind, std::string name);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  int expectedInputs() const override { return -1; }

private:
  Kind kind_;
};

/// Keras's Concatenate: joins inputs along `axis` (default -1).
class ConcatenateLayer : public Layer {
public:
  ConcatenateLayer(int64_t axis, std::string name);
  std::string className() const override { return "Concatenate"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  int expectedInputs() const override { return -1; }

private:
  int64_t axis_;
};

/// Keras's Embedding: integer indices to rows of an (input_dim,
/// output_dim) table. An index outside [0, input_dim) gives zeros.
class EmbeddingLayer : public Layer {
public:
  EmbeddingLayer(int64_t inputDim, int64_t outputDim, std::string name,
                 Initializer initializer = "uniform");
  std::string className() const override { return "Embedding"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  DType outputDType(const std::vector<SymbolicTensor> &inputs) const override;
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t inputDim_, outputDim_;
  Initializer initializer_;
};

/// Keras's Flatten: every sample to one axis.
class FlattenLayer : public Layer {
public:
  explicit FlattenLayer(std::string name);
  std::string className() const override { return "Flatten"; }
  void emit(MLIRGenState &state, const Node &node) const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addCoreLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {

/// keras.layers.Dense(units, activation=..., use_bias=..., name=...).
class Dense : public LayerHandle<DenseLayer> {
public:
  explicit Dense(int64_t units, DenseOptions options = {});
};

struct ActivationOptions {
  std::string name{};
};
class Activation : public LayerHandle<ActivationLayer> {
public:
  explicit Activation(std::string activation, ActivationOptions options = {});
};

struct ReshapeOptions {
  std::string name{};
};
class Reshape : public LayerHandle<ReshapeLayer> {
public:
  explicit Reshape(std::vector<int64_t> targetShape,
                   ReshapeOptions options = {});
};

struct PermuteOptions {
  std::string name{};
};
class Permute : public LayerHandle<PermuteLayer> {
public:
  explicit Permute(std::vector<int64_t> dims, PermuteOptions options = {});
};

/// keras.layers.add([a, b, ...]): element-wise sum of same-shaped tensors.
SymbolicTensor add(const std::vector<SymbolicTensor> &inputs,
                   const std::string &name = "");
/// keras.layers.subtract([a, b]): a - b.
SymbolicTensor subtract(const std::vector<SymbolicTensor> &inputs,
                        const std::string &name = "");
/// keras.layers.multiply([a, b, ...]): element-wise product.
SymbolicTensor multiply(const std::vector<SymbolicTensor> &inputs,
                        const std::string &name = "");
/// keras.layers.average([a, b, ...]): element-wise mean.
SymbolicTensor average(const std::vector<SymbolicTensor> &inputs,
                       const std::string &name = "");
/// keras.layers.maximum([a, b, ...]): element-wise maximum.
SymbolicTensor maximum(const std::vector<SymbolicTensor> &inputs,
                       const std::string &name = "");
/// keras.layers.concatenate([a, b, ...], axis=-1).
SymbolicTensor concatenate(const std::vector<SymbolicTensor> &inputs,
                           int64_t axis = -1, const std::string &name = "");

struct EmbeddingOptions {
  std::string name{};
  /// Keras's "uniform": RandomUniform(-0.05, 0.05).
  Initializer embeddings_initializer = "uniform";
};
class Embedding : public LayerHandle<EmbeddingLayer> {
public:
  Embedding(int64_t input_dim, int64_t output_dim,
            EmbeddingOptions options = {});
};

struct FlattenOptions {
  std::string name{};
};
class Flatten : public LayerHandle<FlattenLayer> {
public:
  explicit Flatten(FlattenOptions options = {});
};

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_CORE_H
