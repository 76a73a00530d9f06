//===- Normalization.h - Normalization layers --------------------*- C++
//-*-===//
//
// Keras's BatchNormalization, with Keras's weights in Keras's order: gamma,
// beta, moving_mean, moving_variance (the last two not trainable). predict
// and evaluate normalize by the moving statistics; fit's train_step by the
// batch's, and updates the moving ones with `momentum` (layer-autodiff).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_NORMALIZATION_H
#define LAYERC_FRONTEND_LAYERS_NORMALIZATION_H

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

void addNormalizationLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {
class BatchNormalization : public LayerHandle<BatchNormalizationLayer> {
public:
  explicit BatchNormalization(BatchNormalizationOptions options = {});
};
} // namespace layers

} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_NORMALIZATION_H
