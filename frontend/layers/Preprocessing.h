//===- Preprocessing.h - Keras preprocessing layers --------------*- C++
//-*-===//
//
// keras.layers.Normalization: (x - mean) / max(sqrt(variance), 1e-7) per
// index of the kept `axis` (broadcast over the others), or its inverse
// (x * max(sqrt(variance), 1e-7) + mean). mean and variance are given as
// options (constants, no weights) or learned by adapt(data) into Keras's
// non-trainable weights mean, variance and count (count stays 0, as
// Keras's adapt of an array leaves it).
//
// As in Keras, where call() reads the constants finalize_state() derives
// from the weights (after adapt() or a load), the statistics are constants
// of the compiled functions: they are read when the model is compiled (or
// first run), so adapt() comes before compile() / fit() / predict() (call
// compile() again after adapting anew). train_step never changes them: no
// batch statistics, no gradient.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_PREPROCESSING_H
#define LAYERC_FRONTEND_LAYERS_PREPROCESSING_H

#include "frontend/Layer.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace layerc {

struct NormalizationOptions {
  /// The axes with a separate mean and variance per index (negative count
  /// from the end); {} is Keras's axis=None (one scalar mean and variance).
  std::vector<int64_t> axis{-1};
  /// Given together or not at all: one value (broadcast), or values of the
  /// kept axes' shape (the last kept axis's size for one axis). Unset: the
  /// layer has weights, learned by adapt().
  std::optional<std::vector<double>> mean{};
  std::optional<std::vector<double>> variance{};
  /// x * max(sqrt(variance), 1e-7) + mean instead.
  bool invert = false;
  std::string name{};
};

class NormalizationLayer : public Layer {
public:
  explicit NormalizationLayer(NormalizationOptions options);
  /// From a Keras config (mean and variance as numbers or nested lists).
  explicit NormalizationLayer(const Json &config);
  std::string className() const override { return "Normalization"; }
  Json getConfig() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  /// Keras's adapt(data): the mean and the (population) variance of `data`
  /// (batch first) over every axis but the kept ones, accumulated in
  /// double, into the weights mean and variance. Builds the layer from
  /// data's shape when it is not built yet.
  void adapt(const Tensor &data);

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  /// Checks `shape` against axis (Keras's errors) and returns the kept
  /// axes, sorted, non-negative.
  std::vector<int64_t> keptAxes(const std::vector<int64_t> &shape) const;
  /// Checks and records the given mean and variance (null: none).
  void setGiven(Json mean, Json variance);
  /// The statistics over the kept axes' shape: the given ones broadcast,
  /// or the weights' current values.
  void statistics(std::vector<double> &mean,
                  std::vector<double> &variance) const;

  std::vector<int64_t> axis_;
  /// The given mean and variance (shape and values), when given.
  std::optional<std::vector<int64_t>> givenShape_;
  std::vector<double> givenMean_, givenVariance_;
  /// Keras's config values of mean and variance, as given.
  Json meanConfig_, varianceConfig_;
  bool invert_ = false;
  /// Set by build(): the input shape and the kept axes and their sizes.
  std::optional<std::vector<int64_t>> buildShape_;
  std::vector<int64_t> kept_, keptShape_;
};

/// Adds Normalization's factory to `out`.
void addPreprocessingLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {
/// keras.layers.Normalization(axis=-1, mean=None, variance=None,
/// invert=False); adapt(data) through the handle: `norm->adapt(x)`.
class Normalization : public LayerHandle<NormalizationLayer> {
public:
  explicit Normalization(NormalizationOptions options = {});
};
} // namespace layers

} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_PREPROCESSING_H
