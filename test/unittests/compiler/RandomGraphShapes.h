//===- RandomGraphShapes.h - Random graph description and shapes ----------===//
//
// The description of a functional model that the random-graph test works
// on (one GraphNode per layer call, inputs first), the seeded RandomSource
// everything random is drawn from, and Keras's output-shape rules of each
// layer, written out independently of the frontend. Part of RandomGraph.h.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHSHAPES_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHSHAPES_H

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace layerc::randomgraph {

/// Draws integers, booleans and doubles from a seed, reproducibly.
class RandomSource {
public:
  explicit RandomSource(uint64_t seed) : engine_(seed) {}
  /// Uniform in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo +
           static_cast<int64_t>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return unit() < p; }
  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
  template <typename T> const T &pick(const std::vector<T> &v) {
    return v[static_cast<size_t>(between(0, int64_t(v.size()) - 1))];
  }

private:
  std::mt19937_64 engine_;
};

/// One output of one node.
struct Ref {
  int node = 0;
  int out = 0;
  bool operator==(const Ref &o) const { return node == o.node && o.out == out; }
};

/// What a node is. Merges are Keras's functional merges
/// (layers::add, ...).
enum class Op {
  Input,
  Dense,
  Activation,
  Dropout,
  Reshape,
  Flatten,
  Embedding,
  BatchNormalization,
  Conv,
  ConvTranspose,
  MaxPool,
  AveragePool,
  GlobalMaxPool,
  GlobalAveragePool,
  UpSampling,
  Add,
  Subtract,
  Multiply,
  Average,
  Maximum,
  Concatenate,
  SimpleRNN,
  LSTM,
  GRU,
  ConvLSTM,
};

/// One layer call (or Input) with every argument the frontend takes.
struct GraphNode {
  Op op = Op::Input;
  std::vector<Ref> inputs;
  /// Sample shapes (no batch axis) of the outputs.
  std::vector<std::vector<int64_t>> shapes;
  /// Input: an Int32 input (token ids for an Embedding).
  bool intInput = false;
  /// Spatial rank of convolutions, poolings and upsamplings.
  int rank = 0;
  /// Dense/RNN units, convolution filters, Embedding output_dim.
  int64_t units = 0;
  /// Embedding input_dim.
  int64_t inputDim = 0;
  std::vector<int64_t> kernel, strides, dilation, outputPadding, size, target;
  /// Pooling: strides given explicitly (Keras's default is the pool size).
  bool explicitStrides = false;
  std::string padding = "valid", activation = "linear",
              recurrentActivation = "sigmoid", interpolation = "nearest";
  bool useBias = true, keepdims = false, center = true, scale = true;
  bool returnSequences = false, returnState = false, goBackwards = false,
       resetAfter = true;
  int64_t groups = 1, axis = -1;
  double epsilon = 1e-3, rate = 0.5;
  /// Nodes that compute the same values as an earlier one share its origin
  /// (identities: linear activations, dropout, reshape to the same shape).
  int origin = 0;
  /// The earlier node whose layer this one calls again (a shared layer,
  /// same arguments and weights); -1: a layer of its own.
  int shareWith = -1;
};

struct RandomGraph {
  uint64_t seed = 0;
  std::vector<GraphNode> nodes;
  std::vector<Ref> outputs;
  /// Input node indices, in model input order.
  std::vector<int> inputs;
  /// Batch size of the data the test feeds.
  int64_t batch = 2;
};

inline int64_t numel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

inline const char *opName(Op op) {
  switch (op) {
  case Op::Input:
    return "Input";
  case Op::Dense:
    return "Dense";
  case Op::Activation:
    return "Activation";
  case Op::Dropout:
    return "Dropout";
  case Op::Reshape:
    return "Reshape";
  case Op::Flatten:
    return "Flatten";
  case Op::Embedding:
    return "Embedding";
  case Op::BatchNormalization:
    return "BatchNormalization";
  case Op::Conv:
    return "Conv";
  case Op::ConvTranspose:
    return "ConvTranspose";
  case Op::MaxPool:
    return "MaxPooling";
  case Op::AveragePool:
    return "AveragePooling";
  case Op::GlobalMaxPool:
    return "GlobalMaxPooling";
  case Op::GlobalAveragePool:
    return "GlobalAveragePooling";
  case Op::UpSampling:
    return "UpSampling";
  case Op::Add:
    return "add";
  case Op::Subtract:
    return "subtract";
  case Op::Multiply:
    return "multiply";
  case Op::Average:
    return "average";
  case Op::Maximum:
    return "maximum";
  case Op::Concatenate:
    return "concatenate";
  case Op::SimpleRNN:
    return "SimpleRNN";
  case Op::LSTM:
    return "LSTM";
  case Op::GRU:
    return "GRU";
  case Op::ConvLSTM:
    return "ConvLSTM";
  }
  return "?";
}

inline bool isMerge(Op op) {
  return op == Op::Add || op == Op::Subtract || op == Op::Multiply ||
         op == Op::Average || op == Op::Maximum;
}

inline bool isRecurrent(Op op) {
  return op == Op::SimpleRNN || op == Op::LSTM || op == Op::GRU;
}

//===----------------------------------------------------------------------===//
// Shapes (Keras's rules, written out here independently of the frontend)
//===----------------------------------------------------------------------===//

/// Output length of a window of `window` (dilated) positions sliding by
/// `stride`; 0 when it does not fit.
inline int64_t windowOut(int64_t size, int64_t window, int64_t stride,
                         bool same) {
  if (same)
    return (size + stride - 1) / stride;
  return size < window ? 0 : (size - window) / stride + 1;
}

/// Keras's deconv_output_length.
inline int64_t transposedOut(int64_t size, int64_t window, int64_t stride,
                             bool same, std::optional<int64_t> outPad) {
  if (!outPad)
    return same ? size * stride
                : size * stride + std::max<int64_t>(window - stride, 0);
  int64_t pad = same ? window / 2 : 0;
  return (size - 1) * stride + window - 2 * pad + *outPad;
}

/// Output sample shapes of `n` given its inputs' sample shapes; empty when
/// the arguments do not fit the inputs.
inline std::vector<std::vector<int64_t>>
outputShapes(const GraphNode &n, const std::vector<std::vector<int64_t>> &in) {
  using Shape = std::vector<int64_t>;
  const Shape &x = in.empty() ? Shape{} : in[0];
  switch (n.op) {
  case Op::Input:
    return n.shapes;
  case Op::Dense: {
    Shape y = x;
    y.back() = n.units;
    return {y};
  }
  case Op::Activation:
  case Op::Dropout:
  case Op::BatchNormalization:
    return {x};
  case Op::Reshape: {
    Shape y = n.target;
    int64_t known = 1, unknown = -1;
    for (size_t i = 0; i < y.size(); ++i)
      if (y[i] == -1)
        unknown = int64_t(i);
      else
        known *= y[i];
    if (unknown >= 0) {
      if (known == 0 || numel(x) % known)
        return {};
      y[unknown] = numel(x) / known;
    }
    if (numel(y) != numel(x))
      return {};
    return {y};
  }
  case Op::Flatten:
    return {{numel(x)}};
  case Op::Embedding: {
    Shape y = x;
    y.push_back(n.units);
    return {y};
  }
  case Op::Conv:
  case Op::ConvTranspose:
  case Op::MaxPool:
  case Op::AveragePool: {
    if (int(x.size()) != n.rank + 1)
      return {};
    bool same = n.padding == "same";
    Shape y;
    for (int a = 0; a < n.rank; ++a) {
      int64_t window = n.op == Op::Conv || n.op == Op::ConvTranspose
                           ? (n.kernel[a] - 1) * n.dilation[a] + 1
                           : n.kernel[a];
      int64_t o =
          n.op == Op::ConvTranspose
              ? transposedOut(x[a], window, n.strides[a], same,
                              n.outputPadding.empty()
                                  ? std::nullopt
                                  : std::optional<int64_t>(n.outputPadding[a]))
              : windowOut(x[a], window, n.strides[a], same);
      if (o <= 0)
        return {};
      y.push_back(o);
    }
    y.push_back(n.op == Op::Conv || n.op == Op::ConvTranspose ? n.units
                                                              : x.back());
    return {y};
  }
  case Op::GlobalMaxPool:
  case Op::GlobalAveragePool: {
    Shape y;
    if (n.keepdims)
      y.assign(size_t(n.rank), 1);
    y.push_back(x.back());
    return {y};
  }
  case Op::UpSampling: {
    Shape y = x;
    for (int a = 0; a < n.rank; ++a)
      y[a] *= n.size[a];
    return {y};
  }
  case Op::Add:
  case Op::Subtract:
  case Op::Multiply:
  case Op::Average:
  case Op::Maximum:
    for (const Shape &s : in)
      if (s != x)
        return {};
    return {x};
  case Op::Concatenate: {
    int64_t r = int64_t(x.size());
    // Keras's axis counts the batch axis: 1..r, or -r..-1.
    int64_t a = n.axis < 0 ? n.axis + r : n.axis - 1;
    if (a < 0 || a >= r)
      return {};
    Shape y = x;
    y[a] = 0;
    for (const Shape &s : in) {
      if (s.size() != x.size())
        return {};
      for (int64_t i = 0; i < r; ++i)
        if (i != a && s[i] != x[i])
          return {};
      y[a] += s[a];
    }
    return {y};
  }
  case Op::ConvLSTM: {
    // (time, spatial..., channels) -> the input convolution's frames.
    if (int(x.size()) != n.rank + 2)
      return {};
    bool same = n.padding == "same";
    Shape frame;
    for (int a = 0; a < n.rank; ++a) {
      int64_t o = windowOut(x[a + 1], (n.kernel[a] - 1) * n.dilation[a] + 1,
                            n.strides[a], same);
      if (o <= 0)
        return {};
      frame.push_back(o);
    }
    frame.push_back(n.units);
    Shape seq{x[0]};
    seq.insert(seq.end(), frame.begin(), frame.end());
    std::vector<Shape> out{n.returnSequences ? seq : frame};
    if (n.returnState)
      out.insert(out.end(), {frame, frame});
    return out;
  }
  case Op::SimpleRNN:
  case Op::LSTM:
  case Op::GRU: {
    if (x.size() != 2)
      return {};
    std::vector<Shape> out{n.returnSequences ? Shape{x[0], n.units}
                                             : Shape{n.units}};
    if (n.returnState) {
      out.push_back({n.units});
      if (n.op == Op::LSTM)
        out.push_back({n.units});
    }
    return out;
  }
  }
  return {};
}

} // namespace layerc::randomgraph

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHSHAPES_H
