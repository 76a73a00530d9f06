//===- Composite.h - Keras layers composed of ops:: primitives ---*- C++
//-*-===//
//
// Keras layers whose semantics are compositions of existing `layer` ops,
// written like custom layers: call() composes ops:: primitives, so each
// compiles, trains (its gradient is the composition's), saves and loads
// with no op, lowering or gradient rule of its own:
//
//   LeakyReLU, ELU, ReLU, PReLU, Softmax   activations as layers
//   Minimum                                the merge
//   RepeatVector                           (batch, d) -> (batch, n, d)
//   Cropping1D/2D/3D                       slices of the spatial axes
//   ZeroPadding1D/2D/3D                    concatenated slabs of zeros
//   Dot                                    of 2-D inputs: (batch, 1); of
//                                          3-D ones a batched matmul
//   Rescaling                              x * scale + offset
//
// Each follows Keras 3: its class name, argument names and defaults, and
// its weights' names and layouts (PReLU's alpha).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_COMPOSITE_H
#define LAYERC_FRONTEND_LAYERS_COMPOSITE_H

#include "frontend/Layer.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace layerc {

namespace layers {
/// Amounts cut from (or added to) the start and the end of one axis.
using Crop = std::pair<int64_t, int64_t>;
} // namespace layers

/// One of the layers above, by Keras class name. Its arguments are its
/// Keras config (checked and completed with Keras's defaults when made).
class CompositeLayer : public Layer {
public:
  CompositeLayer(std::string className, Json config);
  std::string className() const override { return className_; }
  Json getConfig() const override;
  std::vector<SymbolicTensor>
  call(const std::vector<SymbolicTensor> &inputs) override;

protected:
  int expectedInputs() const override;
  void build(const std::vector<std::vector<int64_t>> &shapes) override;

private:
  double number(const char *key) const;
  /// The (start, end) pairs of `key` ("cropping", "padding"), after
  /// checking that x has one spatial axis per pair.
  std::vector<layers::Crop> edges(const char *key,
                                  const SymbolicTensor &x) const;
  SymbolicTensor crop(const SymbolicTensor &x) const;
  SymbolicTensor pad(const SymbolicTensor &x) const;
  SymbolicTensor prelu(const SymbolicTensor &x);
  SymbolicTensor relu(const SymbolicTensor &x) const;
  SymbolicTensor softmax(const SymbolicTensor &x) const;
  SymbolicTensor dot(const SymbolicTensor &x, const SymbolicTensor &y) const;
  std::string className_;
  Json config_;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addCompositeLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {

struct LeakyReLUOptions {
  double negative_slope = 0.3;
  std::string name{};
};
/// keras.layers.LeakyReLU: x for x >= 0, negative_slope * x below.
class LeakyReLU : public LayerHandle<CompositeLayer> {
public:
  explicit LeakyReLU(LeakyReLUOptions options = {});
};

struct ELUOptions {
  double alpha = 1.0;
  std::string name{};
};
/// keras.layers.ELU: x for x > 0, alpha * (exp(x) - 1) below.
class ELU : public LayerHandle<CompositeLayer> {
public:
  explicit ELU(ELUOptions options = {});
};

struct ReLUOptions {
  /// None: no upper bound.
  std::optional<double> max_value{};
  double negative_slope = 0.0;
  /// Inputs at or below it give 0 (or negative_slope * (x - threshold)):
  /// Keras's thresholded ReLU; >= 0.
  double threshold = 0.0;
  std::string name{};
};
/// keras.layers.ReLU: min(max(x, 0), max_value), plus negative_slope * x
/// for x < 0.
class ReLU : public LayerHandle<CompositeLayer> {
public:
  explicit ReLU(ReLUOptions options = {});
};

struct PReLUOptions {
  /// Axes (1-based, without the batch) along which alpha is shared: alpha
  /// has size 1 on them and is broadcast (Keras's usual [1, 2] for images:
  /// one slope per channel). Their sizes may be unknown; the others must be
  /// known.
  std::vector<int64_t> shared_axes{};
  std::string name{};
};
/// keras.layers.PReLU: LeakyReLU with a learned slope per element
/// (`alpha`, zeros at first, of the input's shape with the shared axes 1).
class PReLU : public LayerHandle<CompositeLayer> {
public:
  explicit PReLU(PReLUOptions options = {});
};

struct SoftmaxOptions {
  /// The axis normalized (any but the batch axis; negative counts from the
  /// end).
  int64_t axis = -1;
  std::string name{};
};
/// keras.layers.Softmax.
class Softmax : public LayerHandle<CompositeLayer> {
public:
  explicit Softmax(SoftmaxOptions options = {});
};

/// keras.layers.minimum([a, b, ...]): element-wise minimum.
SymbolicTensor minimum(const std::vector<SymbolicTensor> &inputs,
                       const std::string &name = "");

struct RepeatVectorOptions {
  std::string name{};
};
/// keras.layers.RepeatVector(n): (batch, d) -> (batch, n, d).
class RepeatVector : public LayerHandle<CompositeLayer> {
public:
  explicit RepeatVector(int64_t n, RepeatVectorOptions options = {});
};

struct CroppingOptions {
  std::string name{};
};
/// keras.layers.Cropping1D(cropping=(1, 1)).
class Cropping1D : public LayerHandle<CompositeLayer> {
public:
  explicit Cropping1D(Crop cropping = {1, 1}, CroppingOptions options = {});
};
/// keras.layers.Cropping2D(cropping=((top, bottom), (left, right))).
class Cropping2D : public LayerHandle<CompositeLayer> {
public:
  explicit Cropping2D(std::vector<Crop> cropping = {{0, 0}, {0, 0}},
                      CroppingOptions options = {});
};
/// keras.layers.Cropping3D(cropping=((1, 1), (1, 1), (1, 1))).
class Cropping3D : public LayerHandle<CompositeLayer> {
public:
  explicit Cropping3D(std::vector<Crop> cropping = {{1, 1}, {1, 1}, {1, 1}},
                      CroppingOptions options = {});
};

struct PaddingOptions {
  std::string name{};
};
/// keras.layers.ZeroPadding1D(padding=(1, 1)).
class ZeroPadding1D : public LayerHandle<CompositeLayer> {
public:
  explicit ZeroPadding1D(Crop padding = {1, 1}, PaddingOptions options = {});
};
/// keras.layers.ZeroPadding2D(padding=((top, bottom), (left, right))).
class ZeroPadding2D : public LayerHandle<CompositeLayer> {
public:
  explicit ZeroPadding2D(std::vector<Crop> padding = {{1, 1}, {1, 1}},
                         PaddingOptions options = {});
};
/// keras.layers.ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1))).
class ZeroPadding3D : public LayerHandle<CompositeLayer> {
public:
  explicit ZeroPadding3D(std::vector<Crop> padding = {{1, 1}, {1, 1}, {1, 1}},
                         PaddingOptions options = {});
};

/// keras.layers.dot([a, b], axes=1): per sample, the dot product of two
/// (batch, d) tensors, (batch, 1); of two rank-3 tensors, a batched matrix
/// product contracting axes[0] of a with axes[1] of b ((batch, n, d) x
/// (batch, m, d) with axes 2 gives (batch, n, m)). normalize: each input
/// L2-normalized along its dot axis first.
SymbolicTensor dot(const std::vector<SymbolicTensor> &inputs, int64_t axes = 1,
                   const std::string &name = "", bool normalize = false);
/// The same with one axis per input: keras.layers.Dot(axes=(2, 1)).
SymbolicTensor dot(const std::vector<SymbolicTensor> &inputs,
                   std::pair<int64_t, int64_t> axes,
                   const std::string &name = "", bool normalize = false);

struct RescalingOptions {
  double offset = 0.0;
  std::string name{};
};
/// keras.layers.Rescaling(scale, offset=0.0): x * scale + offset.
class Rescaling : public LayerHandle<CompositeLayer> {
public:
  explicit Rescaling(double scale, RescalingOptions options = {});
};

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_COMPOSITE_H
