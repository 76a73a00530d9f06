//===- Ops.h - Primitive tensor ops for custom layers -----------*- C++ -*-===//
//
// The ops:: namespace: the primitives a custom layer's call() composes
// (Keras's `tf.matmul(x, self.w) + self.b`). Each call records a node of
// an OpLayer (Keras's TFOpLambda) in the graph being traced, checked at
// once; the node emits one op of the layer dialect, so a custom layer
// compiles, runs and differentiates like the built-in ones.
//
//   class CustomDense : public Layer {
//     void build(const std::vector<std::vector<int64_t>> &in) override {
//       addWeight("w", {in[0].back(), units}, "random_normal");
//       addWeight("b", {units}, "random_normal");
//     }
//     std::vector<SymbolicTensor>
//     call(const std::vector<SymbolicTensor> &in) override {
//       return {ops::matmul(in[0], weight("w")) + weight("b")};
//     }
//   };
//
// Shapes are full shapes: a weight has exactly its own shape, any other
// tensor starts with the batch dimension (-1 when unknown).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_OPS_H
#define LAYERC_FRONTEND_OPS_H

#include "frontend/Layer.h"

namespace layerc {

/// One primitive op as a layer. Its config names the op and its
/// attributes, so models that use ops directly round-trip through JSON.
class OpLayer : public Layer {
public:
  enum class Kind {
    Matmul,
    Add,
    Subtract,
    Multiply,
    Activation,
    Slice,
    Concat,
    Reshape,
    Zeros,
    Scale,
    Full,
    BatchMatmul,
    Transpose,
    Threshold
  };
  /// `attrs` holds the op's attributes (axis, begin, size, shape,
  /// activation, factor), as in the config.
  OpLayer(Kind kind, Json attrs, const std::string &name = "");
  std::string className() const override { return "OpLambda"; }
  Kind kind() const { return kind_; }
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;
  /// Rebuilds from getConfig().
  static std::shared_ptr<Layer> fromConfig(const Json &config);

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  int expectedInputs() const override;

private:
  int64_t attr(const char *key) const;
  Kind kind_;
  Json attrs_;
};

namespace ops {
/// a @ b: (..., k) x (k, n) -> (..., n). A rank-2 a with a rank-2 b is a
/// plain matrix product; a of higher rank contracts its last axis.
SymbolicTensor matmul(const SymbolicTensor &a, const SymbolicTensor &b);
/// Batched a @ b over the last two axes: (batch, ..., m, k) x (batch, ...,
/// k, n) -> (batch, ..., m, n), both of one rank >= 3 with the same leading
/// sizes; `transposeA` / `transposeB` swap an operand's last two axes first.
SymbolicTensor batchMatmul(const SymbolicTensor &a, const SymbolicTensor &b,
                           bool transposeA = false, bool transposeB = false);
/// The axes of x reordered: output axis i is x's axis permutation[i]. The
/// permutation covers every axis; a tensor with a batch keeps it first
/// (permutation[0] == 0), a weight may move any axis.
SymbolicTensor transpose(const SymbolicTensor &x,
                         const std::vector<int64_t> &permutation);
/// Element-wise, with b of the same shape as a or of a's trailing shape
/// (broadcast over a's leading dimensions, as a bias).
SymbolicTensor add(const SymbolicTensor &a, const SymbolicTensor &b);
SymbolicTensor subtract(const SymbolicTensor &a, const SymbolicTensor &b);
SymbolicTensor multiply(const SymbolicTensor &a, const SymbolicTensor &b);
/// Any activation of the Activation layer ("tanh", "relu", "softmax", ...).
SymbolicTensor activation(const SymbolicTensor &x, const std::string &name);
SymbolicTensor tanh(const SymbolicTensor &x);
SymbolicTensor sigmoid(const SymbolicTensor &x);
SymbolicTensor relu(const SymbolicTensor &x);
SymbolicTensor softmax(const SymbolicTensor &x);
/// x * factor.
SymbolicTensor scale(const SymbolicTensor &x, double factor);
/// x where x > threshold, else 0 (layer.threshold).
SymbolicTensor threshold(const SymbolicTensor &x, double threshold);
/// Elements [begin, begin + size) along `axis` (>= 1; negative counts from
/// the end): x[:, begin:begin+size] for axis 1.
SymbolicTensor slice(const SymbolicTensor &x, int64_t axis, int64_t begin,
                     int64_t size);
/// One index along `axis`, which disappears: x[:, t, :] is take(x, 1, t).
SymbolicTensor take(const SymbolicTensor &x, int64_t axis, int64_t index);
/// Joins tensors along an existing axis (>= 1).
SymbolicTensor concat(const std::vector<SymbolicTensor> &xs, int64_t axis);
/// Joins tensors of one shape along a new axis (>= 1): tf.stack.
SymbolicTensor stack(const std::vector<SymbolicTensor> &xs, int64_t axis);
/// A new shape per sample (the batch dimension is kept).
SymbolicTensor reshape(const SymbolicTensor &x,
                       const std::vector<int64_t> &sampleShape);
/// A float32 tensor of zeros of a full, static shape (tf.zeros).
SymbolicTensor zeros(const std::vector<int64_t> &shape);
/// Zeros of x's shape, the batch size included even when unknown.
SymbolicTensor zerosLike(const SymbolicTensor &x);
/// A float32 tensor of a full, static shape filled with `value`
/// (keras.ops.full). A scalar (shape {}) broadcasts in add, subtract and
/// multiply: `x + ops::full({}, 1.0)`.
SymbolicTensor full(const std::vector<int64_t> &shape, double value);
} // namespace ops

SymbolicTensor operator+(const SymbolicTensor &a, const SymbolicTensor &b);
SymbolicTensor operator-(const SymbolicTensor &a, const SymbolicTensor &b);
SymbolicTensor operator*(const SymbolicTensor &a, const SymbolicTensor &b);

} // namespace layerc

#endif // LAYERC_FRONTEND_OPS_H
