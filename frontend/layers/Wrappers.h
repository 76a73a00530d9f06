//===- Wrappers.h - Bidirectional and TimeDistributed ------------*- C++
//-*-===//
//
// Keras's layer wrappers, with Keras's argument names, configs and weight
// order, written like custom layers (call() over other layers and ops::),
// so each compiles, trains, saves and loads with no op of its own:
//
//   Bidirectional    a copy of a recurrent layer ("forward_<name>") and one
//                    with go_backwards=True ("backward_<name>"), whose
//                    sequence output is reversed back in time, merged by
//                    merge_mode (concat, sum, mul, ave, or none: both);
//                    weights: the forward layer's, then the backward's.
//   TimeDistributed  a layer applied to every step of axis 1, with one set
//                    of weights: the layer called once per step (the steps
//                    must be known) and the results stacked on axis 1.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_WRAPPERS_H
#define LAYERC_FRONTEND_LAYERS_WRAPPERS_H

#include "frontend/Layer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace layerc {

struct BidirectionalOptions {
  /// "concat", "sum", "mul", "ave", or "" (Keras's None: both outputs).
  std::string merge_mode = "concat";
  std::string name{};
};

class BidirectionalLayer : public Layer {
public:
  /// `layer` is a recurrent layer (its config has go_backwards and
  /// return_sequences); it is copied from its config, not used itself.
  BidirectionalLayer(const Layer &layer, BidirectionalOptions options);
  std::string className() const override { return "Bidirectional"; }
  Json getConfig() const override;
  std::vector<SymbolicTensor>
  call(const std::vector<SymbolicTensor> &inputs) override;
  /// Keras's weight order: the forward copy's, then the backward copy's
  /// (the traced graph would put the backward one first).
  void collectWeightLayers(std::vector<std::shared_ptr<Layer>> &out,
                           std::set<const Layer *> &seen) override;
  /// The two copies.
  const std::shared_ptr<Layer> &forwardLayer() const { return forward_; }
  const std::shared_ptr<Layer> &backwardLayer() const { return backward_; }

private:
  Json inner_; // {"class_name", "config"} of the wrapped layer
  std::shared_ptr<Layer> forward_, backward_;
  std::string mergeMode_;
  bool returnSequences_;
};

class TimeDistributedLayer : public Layer {
public:
  TimeDistributedLayer(std::shared_ptr<Layer> layer, const std::string &name);
  std::string className() const override { return "TimeDistributed"; }
  Json getConfig() const override;
  std::vector<SymbolicTensor>
  call(const std::vector<SymbolicTensor> &inputs) override;
  const std::shared_ptr<Layer> &layer() const { return layer_; }

private:
  std::shared_ptr<Layer> layer_;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addWrapperLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {

/// keras.layers.Bidirectional(layer, merge_mode="concat").
class Bidirectional : public LayerHandle<BidirectionalLayer> {
public:
  template <typename T>
  explicit Bidirectional(const LayerHandle<T> &layer,
                         BidirectionalOptions options = {})
      : LayerHandle(std::make_shared<BidirectionalLayer>(*layer.get(),
                                                         std::move(options))) {}
};

struct TimeDistributedOptions {
  std::string name{};
};
/// keras.layers.TimeDistributed(layer).
class TimeDistributed : public LayerHandle<TimeDistributedLayer> {
public:
  template <typename T>
  explicit TimeDistributed(const LayerHandle<T> &layer,
                           TimeDistributedOptions options = {})
      : LayerHandle(std::make_shared<TimeDistributedLayer>(layer.get(),
                                                           options.name)) {}
};

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_WRAPPERS_H
