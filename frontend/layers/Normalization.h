//===- Normalization.h - Normalization layers --------------------*- C++
//-*-===//
//
// Keras's BatchNormalization, with Keras's weights in Keras's order: gamma,
// beta, moving_mean, moving_variance (the last two not trainable). predict
// and evaluate normalize by the moving statistics; fit's train_step by the
// batch's, and updates the moving ones with `momentum` (layer-autodiff).
//
// LayerNormalization, GroupNormalization and UnitNormalization normalize
// each sample on its own: one layer.normalize over the trailing axes (in
// groups of the channels for GroupNormalization), then `* gamma + beta`
// as a layer.multiply and a layer.add (gamma and beta have the normalized
// axes' shape, which they broadcast over the leading ones).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_NORMALIZATION_H
#define LAYERC_FRONTEND_LAYERS_NORMALIZATION_H

#include "frontend/Initializers.h"
#include "frontend/Layer.h"

namespace layerc {

struct BatchNormalizationOptions {
  /// The features axis; only the last (-1, channels-last) is supported.
  int64_t axis = -1;
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  std::string name{};
};

class BatchNormalizationLayer : public Layer {
public:
  explicit BatchNormalizationLayer(BatchNormalizationOptions options);
  std::string className() const override { return "BatchNormalization"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  BatchNormalizationOptions options_;
};

struct LayerNormalizationOptions {
  /// The axes to normalize over (negative count from the end): Keras's int
  /// or list. layerc normalizes a trailing run of axes, e.g. {-1} or
  /// {-2, -1}, not the batch axis.
  std::vector<int64_t> axis{-1};
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  /// Keras's deprecated rms_scaling: x / sqrt(variance + epsilon) * gamma,
  /// no mean subtracted and no beta.
  bool rms_scaling = false;
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  std::string name{};
};

class LayerNormalizationLayer : public Layer {
public:
  explicit LayerNormalizationLayer(LayerNormalizationOptions options);
  std::string className() const override { return "LayerNormalization"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  LayerNormalizationOptions options_;
  /// The first normalized axis (>= 1) of the built input.
  int64_t first_ = -1;
};

struct GroupNormalizationOptions {
  /// Groups of channels; -1 is one per channel (instance normalization).
  int64_t groups = 32;
  /// The channels axis; only the last (-1, channels-last) is supported.
  int64_t axis = -1;
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  std::string name{};
};

class GroupNormalizationLayer : public Layer {
public:
  explicit GroupNormalizationLayer(GroupNormalizationOptions options);
  std::string className() const override { return "GroupNormalization"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  GroupNormalizationOptions options_;
};

struct UnitNormalizationOptions {
  /// The axes to normalize over, as LayerNormalization's.
  std::vector<int64_t> axis{-1};
  std::string name{};
};

/// x / max(||x||_2, 1e-12) over `axis` (keras.ops.normalize, order 2).
class UnitNormalizationLayer : public Layer {
public:
  explicit UnitNormalizationLayer(UnitNormalizationOptions options);
  std::string className() const override { return "UnitNormalization"; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  UnitNormalizationOptions options_;
};

void addNormalizationLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {
class BatchNormalization : public LayerHandle<BatchNormalizationLayer> {
public:
  explicit BatchNormalization(BatchNormalizationOptions options = {});
};
class LayerNormalization : public LayerHandle<LayerNormalizationLayer> {
public:
  explicit LayerNormalization(LayerNormalizationOptions options = {});
};
class GroupNormalization : public LayerHandle<GroupNormalizationLayer> {
public:
  explicit GroupNormalization(GroupNormalizationOptions options = {});
};
class UnitNormalization : public LayerHandle<UnitNormalizationLayer> {
public:
  explicit UnitNormalization(UnitNormalizationOptions options = {});
};
} // namespace layers

} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_NORMALIZATION_H
