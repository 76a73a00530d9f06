//===- Core.h - Core and merging layers -------------------------*- C++ -*-===//
//
// Dense, Activation, Dropout, Reshape, Flatten and the merging functions
// add() and multiply(), with Keras's names, defaults and error messages.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_CORE_H
#define LAYERC_FRONTEND_LAYERS_CORE_H

#include "frontend/Layer.h"

namespace layerc {

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  std::string name;
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

class DropoutLayer : public Layer {
public:
  DropoutLayer(double rate, int64_t seed, std::string name);
  std::string className() const override { return "Dropout"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  double rate_;
  int64_t seed_;
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

/// Keras's Add and Multiply: element-wise merges of same-shaped inputs.
class MergeLayer : public Layer {
public:
  enum class Kind { Add, Multiply };
  MergeLayer(Kind kind, std::string name);
  std::string className() const override {
    return kind_ == Kind::Add ? "Add" : "Multiply";
  }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  Kind kind_;
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
  std::string name;
};
class Activation : public LayerHandle<ActivationLayer> {
public:
  explicit Activation(std::string activation, ActivationOptions options = {});
};

struct DropoutOptions {
  std::string name;
  /// Seeds the masks drawn in training (with the step number): the same
  /// seed gives the same run.
  int64_t seed = 0;
};
class Dropout : public LayerHandle<DropoutLayer> {
public:
  explicit Dropout(double rate, DropoutOptions options = {});
};

struct ReshapeOptions {
  std::string name;
};
class Reshape : public LayerHandle<ReshapeLayer> {
public:
  explicit Reshape(std::vector<int64_t> targetShape,
                   ReshapeOptions options = {});
};

/// keras.layers.add([a, b, ...]): element-wise sum of same-shaped tensors.
SymbolicTensor add(const std::vector<SymbolicTensor> &inputs,
                   const std::string &name = "");
/// keras.layers.multiply([a, b, ...]): element-wise product.
SymbolicTensor multiply(const std::vector<SymbolicTensor> &inputs,
                        const std::string &name = "");

struct FlattenOptions {
  std::string name;
};
class Flatten : public LayerHandle<FlattenLayer> {
public:
  explicit Flatten(FlattenOptions options = {});
};

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_CORE_H
