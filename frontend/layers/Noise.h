//===- Noise.h - Dropout, noise and activity-regularization layers -*- C++
//-*-===//
//
// Keras's regularization layers, with Keras's names, defaults, configs and
// messages: Dropout (with noise_shape), SpatialDropout1D/2D/3D,
// GaussianNoise, GaussianDropout, AlphaDropout and ActivityRegularization.
//
// Each noise layer is one `layer.dropout` whose `noise` kind, rate or
// stddev and `shared_axes` say what a training step does; at inference it
// is the identity. Shared axes are Keras's noise_shape: SpatialDropout2D
// draws one value per (sample, channel) and broadcasts it over the rows
// and columns. ActivityRegularization is a `layer.activity_regularization`,
// as is any layer's `activity_regularizer` (Layer::activityRegularizer()).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_NOISE_H
#define LAYERC_FRONTEND_LAYERS_NOISE_H

#include "frontend/Layer.h"

#include <optional>

namespace layerc {

/// The noise a NoiseLayer adds in training (layer.dropout's `noise`).
enum class NoiseKind { Dropout, GaussianDropout, GaussianNoise, AlphaDropout };

/// Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout and
/// AlphaDropout: one class, told apart by `className`.
class NoiseLayer : public Layer {
public:
  struct Spec {
    /// "Dropout", "SpatialDropout2D", "GaussianNoise", ...
    std::string className;
    NoiseKind kind = NoiseKind::Dropout;
    /// The rate, or GaussianNoise's stddev.
    double amount = 0.0;
    int64_t seed = 0;
    /// Keras's noise_shape (Dropout, AlphaDropout; -1 is None); empty: the
    /// input's shape.
    std::vector<int64_t> noiseShape{};
    /// SpatialDropout's data_format ("channels_last" or "channels_first").
    std::string dataFormat = "channels_last";
  };
  NoiseLayer(Spec spec, std::string name);
  std::string className() const override { return spec_.className; }
  const Spec &spec() const { return spec_; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;

private:
  /// The axes whose noise is shared for an input of shape `shape`.
  std::vector<int64_t> sharedAxes(const std::vector<int64_t> &shape) const;
  Spec spec_;
};

/// ActivityRegularization: the identity, whose L1/L2 penalty of its input
/// (divided by the batch) joins the loss.
class ActivityRegularizationLayer : public Layer {
public:
  ActivityRegularizationLayer(double l1, double l2, std::string name);
  std::string className() const override { return "ActivityRegularization"; }
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void emit(MLIRGenState &state, const Node &node) const override;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addNoiseLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {

struct DropoutOptions {
  std::string name{};
  /// Seeds the masks drawn in training (with the step number): the same
  /// seed gives the same run.
  int64_t seed = 0;
  /// Keras's noise_shape: the mask's shape, 1 where it is broadcast (-1:
  /// the input's size); empty: the input's shape.
  std::vector<int64_t> noise_shape{};
};
/// keras.layers.Dropout(rate, noise_shape=None, seed=None).
class Dropout : public LayerHandle<NoiseLayer> {
public:
  explicit Dropout(double rate, DropoutOptions options = {});
};

struct SpatialDropoutOptions {
  std::string name{};
  int64_t seed = 0;
  /// "channels_last" (Keras's default) or "channels_first"; 2D and 3D only.
  std::string data_format = "channels_last";
};
/// keras.layers.SpatialDropout1D(rate): drops whole channels of a
/// (batch, steps, channels) input.
class SpatialDropout1D : public LayerHandle<NoiseLayer> {
public:
  explicit SpatialDropout1D(double rate, SpatialDropoutOptions options = {});
};
/// keras.layers.SpatialDropout2D(rate, data_format): whole feature maps.
class SpatialDropout2D : public LayerHandle<NoiseLayer> {
public:
  explicit SpatialDropout2D(double rate, SpatialDropoutOptions options = {});
};
/// keras.layers.SpatialDropout3D(rate, data_format): whole feature volumes.
class SpatialDropout3D : public LayerHandle<NoiseLayer> {
public:
  explicit SpatialDropout3D(double rate, SpatialDropoutOptions options = {});
};

struct NoiseOptions {
  std::string name{};
  int64_t seed = 0;
};
/// keras.layers.GaussianNoise(stddev): adds N(0, stddev) noise in training.
class GaussianNoise : public LayerHandle<NoiseLayer> {
public:
  explicit GaussianNoise(double stddev, NoiseOptions options = {});
};
/// keras.layers.GaussianDropout(rate): multiplies by N(1, rate / (1 -
/// rate)) noise in training.
class GaussianDropout : public LayerHandle<NoiseLayer> {
public:
  explicit GaussianDropout(double rate, NoiseOptions options = {});
};
/// keras.layers.AlphaDropout(rate, noise_shape=None, seed=None): dropout
/// that keeps SELU's self-normalization (dropped inputs become SELU's
/// negative saturation, then an affine map restores mean and variance).
class AlphaDropout : public LayerHandle<NoiseLayer> {
public:
  explicit AlphaDropout(double rate, DropoutOptions options = {});
};

struct ActivityRegularizationOptions {
  double l1 = 0.0;
  double l2 = 0.0;
  std::string name{};
};
/// keras.layers.ActivityRegularization(l1=0.0, l2=0.0).
class ActivityRegularization : public LayerHandle<ActivityRegularizationLayer> {
public:
  explicit ActivityRegularization(ActivityRegularizationOptions options = {});
};

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_NOISE_H
