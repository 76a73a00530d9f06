//===- Attention.h - Attention, AdditiveAttention, MultiHeadAttention -*- C++
//-*-===//
//
// Keras 3's attention layers, written like custom layers (call() over
// ops:: and the layer's weights), so each compiles, trains, saves and
// loads with no op of its own. The products are layer.batch_matmul:
//
//   Attention           scores = q k^T (* scale), or for score_mode
//                       "concat" concat_score_weight * sum(tanh((q + k)
//                       * scale)); out = softmax(scores) v
//   AdditiveAttention   scores = sum(scale * tanh(q + k)); as above
//   MultiHeadAttention  q, k, v projected per head (EinsumDense kernels
//                       (dim, heads, key_dim) and biases (heads, key_dim)),
//                       q / sqrt(key_dim), softmax(q k^T) v per head, then
//                       the output kernel (heads, value_dim, out) and bias
//
// Inputs: [query, value] or [query, value, key] (key = value when absent),
// of rank 3. Masks (attention_mask, causal masks) and dropout > 0 are not
// supported and refused with an error naming the layer. A layerc option
// (not a Keras config key), return_attention_scores, adds the softmax
// scores as a second output, as Keras's call argument does.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_ATTENTION_H
#define LAYERC_FRONTEND_LAYERS_ATTENTION_H

#include "frontend/Initializers.h"
#include "frontend/Layer.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace layerc {

namespace layers {
struct AttentionOptions {
  /// A scalar weight `scale` (ones) multiplying the scores.
  bool use_scale = false;
  /// "dot" or "concat".
  std::string score_mode = "dot";
  /// Only 0.
  double dropout = 0.0;
  std::optional<int64_t> seed{};
  /// Also return the attention scores (after softmax), (batch, Tq, Tv).
  bool return_attention_scores = false;
  std::string name{};
};

struct AdditiveAttentionOptions {
  /// A weight `scale` of shape (dim,) (glorot_uniform).
  bool use_scale = true;
  /// Only 0.
  double dropout = 0.0;
  bool return_attention_scores = false;
  std::string name{};
};

struct MultiHeadAttentionOptions {
  /// The size of each head for the value; none: key_dim.
  std::optional<int64_t> value_dim{};
  /// Only 0.
  double dropout = 0.0;
  bool use_bias = true;
  /// The last axis of the output; none: the query's.
  std::optional<int64_t> output_shape{};
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  /// Also return the attention scores, (batch, heads, Tq, Tv).
  bool return_attention_scores = false;
  std::string name{};
};
} // namespace layers

/// Attention (Luong) or AdditiveAttention (Bahdanau), by class name.
class AttentionLayer : public Layer {
public:
  AttentionLayer(std::string className, layers::AttentionOptions options);
  std::string className() const override { return className_; }
  Json getConfig() const override;
  std::vector<SymbolicTensor>
  call(const std::vector<SymbolicTensor> &inputs) override;

protected:
  int expectedInputs() const override { return -1; }
  void build(const std::vector<std::vector<int64_t>> &shapes) override;

private:
  /// (batch, Tq, Tv, dim): q + k of every pair of steps.
  SymbolicTensor pairSums(const SymbolicTensor &q, const SymbolicTensor &k);
  std::string className_;
  layers::AttentionOptions options_;
};

/// keras.layers.MultiHeadAttention.
class MultiHeadAttentionLayer : public Layer {
public:
  MultiHeadAttentionLayer(int64_t numHeads, int64_t keyDim,
                          layers::MultiHeadAttentionOptions options);
  std::string className() const override { return "MultiHeadAttention"; }
  Json getConfig() const override;
  std::vector<SymbolicTensor>
  call(const std::vector<SymbolicTensor> &inputs) override;

protected:
  int expectedInputs() const override { return -1; }
  void build(const std::vector<std::vector<int64_t>> &shapes) override;

private:
  int64_t valueDim() const { return options_.value_dim.value_or(keyDim_); }
  /// x (batch, T, dim) through `name`'s kernel and bias: (batch, heads, T,
  /// size).
  SymbolicTensor project(const SymbolicTensor &x, const std::string &name,
                         int64_t size);
  int64_t numHeads_, keyDim_;
  layers::MultiHeadAttentionOptions options_;
};

/// Adds the factories of this file's layers (by class name) to `out`.
void addAttentionLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {
/// keras.layers.Attention: called on [query, value] or [query, value, key].
class Attention : public LayerHandle<AttentionLayer> {
public:
  explicit Attention(AttentionOptions options = {});
};
/// keras.layers.AdditiveAttention.
class AdditiveAttention : public LayerHandle<AttentionLayer> {
public:
  explicit AdditiveAttention(AdditiveAttentionOptions options = {});
};
/// keras.layers.MultiHeadAttention(num_heads, key_dim): called on [query,
/// value] or [query, value, key].
class MultiHeadAttention : public LayerHandle<MultiHeadAttentionLayer> {
public:
  MultiHeadAttention(int64_t num_heads, int64_t key_dim,
                     MultiHeadAttentionOptions options = {});
};
} // namespace layers

} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_ATTENTION_H
