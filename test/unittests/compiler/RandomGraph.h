//===- RandomGraph.h - Random valid layer graphs for differential tests ---===//
//
// A small description of a functional model (one GraphNode per layer call,
// inputs first), a seeded generator of random valid graphs over the
// frontend's layers, a printer that writes a graph as the C++ API code that
// rebuilds it, and a builder that makes the layerc Model. The float64
// reference interpreter of the same description is RandomGraphReference.h;
// RandomGraphTest.cpp compares the two.
//
// Everything the generator draws comes from one 64-bit seed through
// RandomSource (plain modulo arithmetic on std::mt19937_64, whose sequence
// the standard fixes), so a seed gives the same graph, weights and inputs
// with any standard library.
//
// What layerc computes wrongly is kept out of the random space, each case
// at the place it would be generated, under a comment starting "layerc
// bug" with the reproducer: GlobalMaxPooling's gradient at ties, a
// ConvTranspose 'same' output_padding that breaks the gradient, and
// outputs of the same shape computed by MaxPooling / GlobalMaxPooling /
// Dense without bias that come back as copies of each other.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPH_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPH_H

#include "layerc/layerc.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
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

//===----------------------------------------------------------------------===//
// The generator
//===----------------------------------------------------------------------===//

struct GeneratorOptions {
  /// A graph for the gradient check: no Dropout (random in training), a
  /// batch of 2 or 3 (batch statistics), and none of the gradient bugs.
  bool forGradient = false;
  /// Most elements a sample of any tensor may have.
  int64_t maxElements = 640;
};

/// Builds a random valid graph of 2 to 6 layers from `seed`.
class Generator {
public:
  Generator(uint64_t seed, GeneratorOptions options)
      : r_(seed), options_(options) {
    graph_.seed = seed;
  }

  RandomGraph generate() {
    graph_.batch = options_.forGradient ? r_.between(2, 3) : r_.between(1, 3);
    int layers = int(r_.between(2, 6));
    newFirstInput();
    for (int attempt = 0; attempt < 400 && numLayers_ < layers; ++attempt)
      addRandomLayer();
    std::set<std::pair<int, int>> used;
    for (const GraphNode &n : graph_.nodes)
      for (const Ref &in : n.inputs)
        used.insert({in.node, in.out});
    for (int i = 0; i < int(graph_.nodes.size()); ++i)
      for (int o = 0; o < int(graph_.nodes[i].shapes.size()); ++o)
        if (graph_.nodes[i].op != Op::Input && !used.count({i, o}))
          graph_.outputs.push_back({i, o});
    return graph_;
  }

private:
  using Shape = std::vector<int64_t>;

  const Shape &shapeOf(Ref ref) const {
    return graph_.nodes[ref.node].shapes[ref.out];
  }
  bool isFloat(Ref ref) const {
    const GraphNode &n = graph_.nodes[ref.node];
    return !(n.op == Op::Input && n.intInput);
  }

  /// Appends `n` after computing its shapes; -1 (nothing added) when the
  /// arguments do not fit or the result is too large.
  int add(GraphNode n) {
    std::vector<Shape> in;
    for (const Ref &ref : n.inputs)
      in.push_back(shapeOf(ref));
    n.shapes = outputShapes(n, in);
    if (n.shapes.empty())
      return -1;
    for (const Shape &s : n.shapes)
      if (numel(s) > options_.maxElements || numel(s) <= 0)
        return -1;
    int id = int(graph_.nodes.size());
    n.origin = id;
    bool identity = (n.op == Op::Activation && n.activation == "linear") ||
                    n.op == Op::Dropout ||
                    ((n.op == Op::Reshape || n.op == Op::Flatten) &&
                     n.shapes[0] == in[0]) ||
                    (n.op == Op::UpSampling &&
                     std::all_of(n.size.begin(), n.size.end(),
                                 [](int64_t s) { return s == 1; }));
    if (identity)
      n.origin = graph_.nodes[n.inputs[0].node].origin;
    graph_.nodes.push_back(std::move(n));
    if (graph_.nodes.back().op == Op::Input)
      graph_.inputs.push_back(id);
    else
      ++numLayers_;
    return id;
  }

  Shape randomSampleShape(int rank) {
    switch (rank) {
    case 1:
      return {r_.between(1, 12)};
    case 2:
      return {r_.between(2, 10), r_.between(1, 6)};
    case 3:
      return {r_.between(2, 9), r_.between(2, 9), r_.between(1, 5)};
    default:
      return {r_.between(2, 5), r_.between(2, 5), r_.between(2, 5),
              r_.between(1, 3)};
    }
  }

  int newInput(Shape shape, bool intInput = false) {
    GraphNode n;
    n.op = Op::Input;
    n.intInput = intInput;
    n.shapes = {std::move(shape)};
    return add(std::move(n));
  }

  void newFirstInput() {
    double p = r_.unit();
    if (p < 0.12) {
      // Token ids, then an Embedding.
      int in = newInput({r_.between(2, 8)}, /*intInput=*/true);
      GraphNode e;
      e.op = Op::Embedding;
      e.inputs = {{in, 0}};
      e.inputDim = r_.between(2, 10);
      e.units = r_.between(1, 6);
      add(e);
      return;
    }
    int rank = p < 0.3 ? 1 : p < 0.55 ? 2 : p < 0.9 ? 3 : 4;
    newInput(randomSampleShape(rank));
  }

  /// A float tensor to build on: usually the newest one.
  Ref pickSource() {
    std::vector<Ref> floats;
    for (int i = 0; i < int(graph_.nodes.size()); ++i)
      for (int o = 0; o < int(graph_.nodes[i].shapes.size()); ++o)
        if (isFloat({i, o}))
          floats.push_back({i, o});
    if (r_.chance(0.55))
      return floats.back();
    return r_.pick(floats);
  }

  std::string randomActivation(bool allowSoftmax = true) {
    static const std::vector<std::string> acts = {
        "linear", "relu", "sigmoid", "tanh",  "softmax",
        "gelu",   "elu",  "selu",    "swish", "hard_sigmoid"};
    for (;;) {
      std::string a = r_.pick(acts);
      if (a != "softmax" || allowSoftmax)
        return a;
    }
  }

  Shape tuple(int rank, int64_t lo, int64_t hi) {
    Shape v;
    for (int a = 0; a < rank; ++a)
      v.push_back(r_.between(lo, hi));
    // Often the same value on every axis (Keras's integer argument).
    if (rank > 1 && r_.chance(0.5))
      std::fill(v.begin(), v.end(), v[0]);
    return v;
  }

  void addRandomLayer() {
    Ref src = pickSource();
    const Shape s = shapeOf(src);
    int r = int(s.size());
    int spatial = r - 1;
    std::vector<std::pair<Op, int>> choices = {
        {Op::Dense, 4},    {Op::Activation, 3},
        {Op::Reshape, 2},  {Op::BatchNormalization, 2},
        {Op::Add, 1},      {Op::Subtract, 1},
        {Op::Multiply, 1}, {Op::Average, 1},
        {Op::Maximum, 1},  {Op::Concatenate, 2}};
    if (!options_.forGradient)
      choices.push_back({Op::Dropout, 1});
    if (r >= 2)
      choices.push_back({Op::Flatten, 1});
    if (spatial >= 1 && spatial <= 3) {
      choices.insert(choices.end(), {{Op::Conv, 8},
                                     {Op::ConvTranspose, 3},
                                     {Op::MaxPool, 3},
                                     {Op::AveragePool, 3},
                                     {Op::GlobalAveragePool, 1},
                                     {Op::UpSampling, 2}});
      // Ties (an Embedding of a repeated id, nearest upsampling) share
      // the gradient equally, as in the reference (seeds 1110, 1500 found
      // layerc giving each the whole of it).
      choices.push_back({Op::GlobalMaxPool, 1});
    }
    if (r == 2)
      choices.insert(choices.end(),
                     {{Op::SimpleRNN, 2}, {Op::LSTM, 2}, {Op::GRU, 2}});
    if (r == 3 || r == 4) // ConvLSTM1D over (time, length, channels), 2D
      choices.push_back({Op::ConvLSTM, 2});
    int total = 0;
    for (auto &c : choices)
      total += c.second;
    int64_t k = r_.between(0, total - 1);
    Op op = choices.back().first;
    for (auto &c : choices) {
      if (k < c.second) {
        op = c.first;
        break;
      }
      k -= c.second;
    }
    if (shareable(op) && r_.chance(0.6) && callAgain(op, src, s))
      return;
    GraphNode n;
    n.op = op;
    n.inputs = {src};
    switch (op) {
    case Op::Dense:
      n.units = r_.between(1, 8);
      n.activation = randomActivation();
      n.useBias = r_.chance(0.8);
      add(n);
      return;
    case Op::Activation:
      n.activation = randomActivation();
      add(n);
      return;
    case Op::Dropout:
      n.rate = double(r_.between(1, 8)) / 10;
      add(n);
      return;
    case Op::Flatten:
      add(n);
      return;
    case Op::Reshape: {
      n.target = randomFactorization(numel(s));
      if (r_.chance(0.3))
        n.target[size_t(r_.between(0, int64_t(n.target.size()) - 1))] = -1;
      add(n);
      return;
    }
    case Op::BatchNormalization:
      n.center = r_.chance(0.8);
      n.scale = r_.chance(0.8);
      n.epsilon = r_.pick(std::vector<double>{1e-3, 1e-2, 0.1});
      add(n);
      return;
    case Op::Conv:
    case Op::ConvTranspose: {
      n.rank = spatial;
      n.strides = tuple(spatial, 1, 2);
      bool strided = std::any_of(n.strides.begin(), n.strides.end(),
                                 [](int64_t v) { return v > 1; });
      // Keras refuses strides > 1 together with a dilation > 1.
      n.dilation = strided || !r_.chance(0.3) ? Shape(size_t(spatial), 1)
                                              : tuple(spatial, 1, 2);
      n.kernel = tuple(spatial, 1, 3);
      n.padding = r_.chance(0.5) ? "same" : "valid";
      n.activation = randomActivation(/*allowSoftmax=*/r_.chance(0.3));
      n.useBias = r_.chance(0.8);
      if (op == Op::Conv) {
        int64_t channels = s.back();
        std::vector<int64_t> divisors;
        for (int64_t g = 2; g <= channels; ++g)
          if (channels % g == 0)
            divisors.push_back(g);
        n.groups = !divisors.empty() && r_.chance(0.25) ? r_.pick(divisors) : 1;
        n.units = n.groups * r_.between(1, n.groups > 1 ? 2 : 6);
      } else {
        n.units = r_.between(1, 5);
        if (strided && r_.chance(0.4)) {
          // Keras: each output_padding lower than its stride.
          for (int a = 0; a < spatial; ++a)
            n.outputPadding.push_back(r_.between(0, n.strides[a] - 1));
          // layerc bug (gradient only, predict is right): with 'same'
          // padding, an output_padding of 0 on an axis whose dilated kernel
          // is even gives an output size O with ceil(O / stride) != the
          // input size, and layer-autodiff stops on "'layer.conv_transpose'
          // op internal error: the input gradient has shape (None, 1, 7,
          // 4), not (None, 2, 7, 4)" (seed 1200). Gradient graphs use
          // output_padding >= 1 there, or none.
          if (options_.forGradient && n.padding == "same")
            for (int a = 0; a < spatial; ++a)
              if (((n.kernel[a] - 1) * n.dilation[a] + 1) % 2 == 0 &&
                  n.outputPadding[a] == 0) {
                if (n.strides[a] > 1)
                  n.outputPadding[a] = r_.between(1, n.strides[a] - 1);
                else
                  n.outputPadding.clear();
                if (n.outputPadding.empty())
                  break;
              }
        }
      }
      add(n);
      return;
    }
    case Op::MaxPool:
    case Op::AveragePool:
      n.rank = spatial;
      n.kernel = tuple(spatial, 1, 3);
      n.explicitStrides = r_.chance(0.5);
      n.strides = n.explicitStrides ? tuple(spatial, 1, 3) : n.kernel;
      n.padding = r_.chance(0.5) ? "same" : "valid";
      add(n);
      return;
    case Op::GlobalMaxPool:
    case Op::GlobalAveragePool:
      n.rank = spatial;
      n.keepdims = r_.chance(0.3);
      add(n);
      return;
    case Op::UpSampling:
      n.rank = spatial;
      n.size = tuple(spatial, 1, 3);
      if (spatial == 2 && r_.chance(0.4))
        n.interpolation = "bilinear";
      add(n);
      return;
    case Op::ConvLSTM: {
      n.rank = r - 2;
      n.units = r_.between(1, 4);
      n.strides = tuple(n.rank, 1, 2);
      bool strided = std::any_of(n.strides.begin(), n.strides.end(),
                                 [](int64_t v) { return v > 1; });
      n.dilation = strided || !r_.chance(0.3) ? Shape(size_t(n.rank), 1)
                                              : tuple(n.rank, 1, 2);
      n.kernel = tuple(n.rank, 1, 3);
      n.padding = r_.chance(0.5) ? "same" : "valid";
      n.activation =
          r_.pick(std::vector<std::string>{"tanh", "tanh", "sigmoid", "relu"});
      n.recurrentActivation =
          r_.pick(std::vector<std::string>{"hard_sigmoid", "sigmoid"});
      n.useBias = r_.chance(0.8);
      n.returnSequences = r_.chance(0.5);
      n.returnState = r_.chance(0.25);
      n.goBackwards = r_.chance(0.3);
      add(n);
      return;
    }
    case Op::SimpleRNN:
    case Op::LSTM:
    case Op::GRU:
      n.units = r_.between(1, 5);
      n.activation = r_.pick(std::vector<std::string>{"tanh", "tanh", "sigmoid",
                                                      "relu", "linear"});
      n.recurrentActivation =
          r_.pick(std::vector<std::string>{"sigmoid", "hard_sigmoid"});
      if (op == Op::SimpleRNN) // has no recurrent activation
        n.recurrentActivation = "sigmoid";
      n.useBias = r_.chance(0.8);
      n.returnSequences = r_.chance(0.5);
      n.returnState = r_.chance(0.25);
      n.goBackwards = r_.chance(0.3);
      n.resetAfter = r_.chance(0.6);
      add(n);
      return;
    case Op::Concatenate:
      addConcatenate(src, s);
      return;
    default:
      addMerge(op, src, s);
      return;
    }
  }

  static bool shareable(Op op) {
    return op == Op::Dense || op == Op::BatchNormalization || op == Op::Conv ||
           op == Op::ConvTranspose || isRecurrent(op) || op == Op::ConvLSTM;
  }

  /// Calls an earlier layer of kind `op` again on `src` (a shared layer),
  /// if one takes its channels (and, but for Dense, its rank).
  bool callAgain(Op op, Ref src, const Shape &s) {
    std::vector<int> layers;
    for (int k = 0; k < int(graph_.nodes.size()); ++k) {
      const GraphNode &m = graph_.nodes[size_t(k)];
      if (m.op != op || m.shareWith >= 0)
        continue;
      const Shape &in = shapeOf(m.inputs[0]);
      if (in.back() == s.back() && (op == Op::Dense || in.size() == s.size()))
        layers.push_back(k);
    }
    if (layers.empty())
      return false;
    int k = r_.pick(layers);
    GraphNode n = graph_.nodes[size_t(k)];
    n.inputs = {src};
    n.shareWith = k;
    return add(n) >= 0;
  }

  /// A random shape of `count` elements with 1 to 3 axes.
  Shape randomFactorization(int64_t count) {
    int axes = int(r_.between(1, 3));
    Shape dims;
    int64_t rest = count;
    for (int a = 0; a + 1 < axes; ++a) {
      std::vector<int64_t> divisors;
      for (int64_t d = 1; d <= rest; ++d)
        if (rest % d == 0)
          divisors.push_back(d);
      int64_t d = r_.pick(divisors);
      dims.push_back(d);
      rest /= d;
    }
    dims.push_back(rest);
    return dims;
  }

  /// A tensor computed from `src` with the same shape (a branch to merge).
  int sibling(Ref src, const Shape &s) {
    GraphNode n;
    n.inputs = {src};
    switch (r_.between(0, s.size() >= 2 && s.size() <= 4 ? 3 : 2)) {
    case 0:
      n.op = Op::Dense;
      n.units = s.back();
      n.activation = randomActivation();
      n.useBias = r_.chance(0.8);
      break;
    case 1:
      n.op = Op::Activation;
      n.activation = randomActivation();
      if (n.activation == "linear")
        n.activation = "tanh";
      break;
    case 2:
      n.op = Op::BatchNormalization;
      n.epsilon = 1e-2;
      break;
    default:
      n.op = Op::Conv;
      n.rank = int(s.size()) - 1;
      n.units = s.back();
      n.kernel = tuple(n.rank, 1, 3);
      n.strides.assign(size_t(n.rank), 1);
      n.dilation.assign(size_t(n.rank), 1);
      n.padding = "same";
      n.activation = randomActivation(false);
      break;
    }
    return add(n);
  }

  void addMerge(Op op, Ref src, const Shape &s) {
    int origin = graph_.nodes[src.node].origin;
    std::vector<Ref> partners;
    for (int i = 0; i < int(graph_.nodes.size()); ++i)
      for (int o = 0; o < int(graph_.nodes[i].shapes.size()); ++o)
        if (isFloat({i, o}) && shapeOf({i, o}) == s &&
            graph_.nodes[i].origin != origin)
          partners.push_back({i, o});
    GraphNode n;
    n.op = op;
    n.inputs = {src};
    if (partners.empty() || r_.chance(0.3)) {
      int p = graph_.inputs.size() < 3 && r_.chance(0.4) ? newInput(s)
                                                         : sibling(src, s);
      if (p < 0)
        return;
      n.inputs.push_back({p, 0});
    } else {
      n.inputs.push_back(r_.pick(partners));
    }
    if (op != Op::Subtract && r_.chance(0.25)) {
      for (const Ref &p : partners)
        if (!(p == n.inputs[1]) && graph_.nodes[p.node].origin !=
                                       graph_.nodes[n.inputs[1].node].origin) {
          n.inputs.push_back(p);
          break;
        }
    }
    if (r_.chance(0.5))
      std::swap(n.inputs[0], n.inputs[1]);
    add(n);
  }

  void addConcatenate(Ref src, const Shape &s) {
    int64_t r = int64_t(s.size());
    GraphNode n;
    n.op = Op::Concatenate;
    int64_t a = r_.between(0, r - 1);
    // Keras's axis: -1 by default, else counted with the batch axis.
    n.axis = a == r - 1 && r_.chance(0.6) ? -1 : r_.chance(0.5) ? a + 1 : a - r;
    std::vector<Ref> partners;
    for (int i = 0; i < int(graph_.nodes.size()); ++i)
      for (int o = 0; o < int(graph_.nodes[i].shapes.size()); ++o) {
        const Shape &t = shapeOf({i, o});
        if (!isFloat({i, o}) || Ref{i, o} == src || t.size() != s.size())
          continue;
        bool fits = true;
        for (int64_t d = 0; d < r; ++d)
          if (d != a && t[d] != s[d])
            fits = false;
        if (fits)
          partners.push_back({i, o});
      }
    n.inputs = {src};
    if (partners.empty() || r_.chance(0.3)) {
      int p = -1;
      if (a == r - 1 && r_.chance(0.6)) {
        GraphNode d;
        d.op = Op::Dense;
        d.inputs = {src};
        d.units = r_.between(1, 6);
        d.activation = randomActivation();
        p = add(d);
      } else if (graph_.inputs.size() < 3) {
        Shape t = s;
        t[a] = r_.between(1, 4);
        p = newInput(t);
      }
      if (p < 0)
        return;
      n.inputs.push_back({p, 0});
    } else {
      n.inputs.push_back(r_.pick(partners));
    }
    if (r_.chance(0.5))
      std::swap(n.inputs[0], n.inputs[1]);
    add(n);
  }

  RandomSource r_;
  GeneratorOptions options_;
  RandomGraph graph_;
  int numLayers_ = 0;
};

/// Whether some layer of `g` has trainable weights.
inline bool hasTrainableWeights(const RandomGraph &g) {
  for (const GraphNode &n : g.nodes)
    if (n.op == Op::Dense || n.op == Op::Embedding || n.op == Op::Conv ||
        n.op == Op::ConvTranspose || isRecurrent(n.op) ||
        n.op == Op::ConvLSTM ||
        (n.op == Op::BatchNormalization && (n.center || n.scale)))
      return true;
  return false;
}

/// The graph of `seed`. A gradient check needs parameters: for one, the
/// generator draws again (from seeds derived from `seed`) until some layer
/// has trainable weights.
inline RandomGraph generateGraph(uint64_t seed, GeneratorOptions options) {
  for (uint64_t k = 0;; ++k) {
    RandomGraph g =
        Generator(seed + k * 0x9E3779B97F4A7C15ull, options).generate();
    g.seed = seed;
    if (!options.forGradient || hasTrainableWeights(g) || k == 16)
      return g;
  }
}

//===----------------------------------------------------------------------===//
// The C++ printer
//===----------------------------------------------------------------------===//

inline std::string cppList(const std::vector<int64_t> &v) {
  std::ostringstream os;
  os << "{";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << "}";
  return os.str();
}

/// An IntTuple argument: an integer when every axis has the same value.
inline std::string cppTuple(const std::vector<int64_t> &v,
                            bool braced = false) {
  bool uniform =
      std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; });
  if (uniform && !braced)
    return std::to_string(v[0]);
  return (braced ? "IntTuple" : "") + cppList(uniform ? std::vector{v[0]} : v);
}

inline std::string refName(const RandomGraph &g, Ref ref) {
  std::string name = "x" + std::to_string(ref.node);
  if (g.nodes[ref.node].returnState)
    name += "[" + std::to_string(ref.out) + "]";
  return name;
}

/// Designated initializers, in declaration order, skipping defaults.
class OptionList {
public:
  void add(const std::string &field, const std::string &value) {
    items_.push_back("." + field + " = " + value);
  }
  std::string str() const {
    if (items_.empty())
      return "";
    std::string s = "{";
    for (size_t i = 0; i < items_.size(); ++i)
      s += (i ? ", " : "") + items_[i];
    return s + "}";
  }
  bool empty() const { return items_.empty(); }

private:
  std::vector<std::string> items_;
};

inline std::string quoted(const std::string &s) { return "\"" + s + "\""; }

/// The shortest text that reads back as `v` ("0.1", "1e-3" as "0.001").
inline std::string formatDouble(double v) {
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

inline bool anyNot(const std::vector<int64_t> &v, int64_t value) {
  return std::any_of(v.begin(), v.end(), [&](int64_t x) { return x != value; });
}

/// The expression that constructs node `n`'s layer (a handle), e.g.
/// `layers::Conv2D(4, 3, {.padding = "same"})`; empty for inputs and the
/// merge functions.
inline std::string cppLayer(const GraphNode &n) {
  std::string suffix = n.rank ? std::to_string(n.rank) + "D" : "";
  OptionList o;
  auto ctor = [&](const std::string &name, const std::string &args = "") {
    std::string a = args;
    if (!o.empty())
      a += (a.empty() ? "" : ", ") + o.str();
    return "layers::" + name + "(" + a + ")";
  };
  switch (n.op) {
  case Op::Input:
  case Op::Add:
  case Op::Subtract:
  case Op::Multiply:
  case Op::Average:
  case Op::Maximum:
  case Op::Concatenate:
    return "";
  case Op::Dense:
    if (n.activation != "linear")
      o.add("activation", quoted(n.activation));
    if (!n.useBias)
      o.add("use_bias", "false");
    return ctor("Dense", std::to_string(n.units));
  case Op::Activation:
    return ctor("Activation", quoted(n.activation));
  case Op::Dropout:
    return ctor("Dropout", formatDouble(n.rate));
  case Op::Reshape:
    return ctor("Reshape", cppList(n.target));
  case Op::Flatten:
    return ctor("Flatten");
  case Op::Embedding:
    return ctor("Embedding",
                std::to_string(n.inputDim) + ", " + std::to_string(n.units));
  case Op::BatchNormalization:
    if (n.epsilon != 1e-3)
      o.add("epsilon", formatDouble(n.epsilon));
    if (!n.center)
      o.add("center", "false");
    if (!n.scale)
      o.add("scale", "false");
    return ctor("BatchNormalization");
  case Op::Conv:
  case Op::ConvTranspose: {
    bool t = n.op == Op::ConvTranspose;
    if (anyNot(n.strides, 1))
      o.add("strides", cppTuple(n.strides));
    if (n.padding != "valid")
      o.add("padding", quoted(n.padding));
    if (t && !n.outputPadding.empty())
      o.add("output_padding", cppTuple(n.outputPadding, /*braced=*/true));
    if (anyNot(n.dilation, 1))
      o.add("dilation_rate", cppTuple(n.dilation));
    if (!t && n.groups != 1)
      o.add("groups", std::to_string(n.groups));
    if (n.activation != "linear")
      o.add("activation", quoted(n.activation));
    if (!n.useBias)
      o.add("use_bias", "false");
    return ctor("Conv" + suffix + (t ? "Transpose" : ""),
                std::to_string(n.units) + ", " + cppTuple(n.kernel));
  }
  case Op::MaxPool:
  case Op::AveragePool:
    if (n.explicitStrides)
      o.add("strides", cppTuple(n.strides, /*braced=*/true));
    if (n.padding != "valid")
      o.add("padding", quoted(n.padding));
    return ctor(std::string(opName(n.op)) + suffix, cppTuple(n.kernel));
  case Op::GlobalMaxPool:
  case Op::GlobalAveragePool:
    if (n.keepdims)
      o.add("keepdims", "true");
    return ctor(std::string(opName(n.op)) + suffix);
  case Op::UpSampling:
    if (n.interpolation != "nearest")
      o.add("interpolation", quoted(n.interpolation));
    return ctor("UpSampling" + suffix, cppTuple(n.size));
  case Op::SimpleRNN:
  case Op::LSTM:
  case Op::GRU:
    if (n.activation != "tanh")
      o.add("activation", quoted(n.activation));
    if (n.op != Op::SimpleRNN && n.recurrentActivation != "sigmoid")
      o.add("recurrent_activation", quoted(n.recurrentActivation));
    if (!n.useBias)
      o.add("use_bias", "false");
    if (n.returnSequences)
      o.add("return_sequences", "true");
    if (n.returnState)
      o.add("return_state", "true");
    if (n.goBackwards)
      o.add("go_backwards", "true");
    if (n.op == Op::GRU && !n.resetAfter)
      o.add("reset_after", "false");
    return ctor(opName(n.op), std::to_string(n.units));
  case Op::ConvLSTM:
    if (anyNot(n.strides, 1))
      o.add("strides", cppTuple(n.strides));
    if (n.padding != "valid")
      o.add("padding", quoted(n.padding));
    if (anyNot(n.dilation, 1))
      o.add("dilation_rate", cppTuple(n.dilation));
    if (n.activation != "tanh")
      o.add("activation", quoted(n.activation));
    if (n.recurrentActivation != "hard_sigmoid")
      o.add("recurrent_activation", quoted(n.recurrentActivation));
    if (!n.useBias)
      o.add("use_bias", "false");
    if (n.returnSequences)
      o.add("return_sequences", "true");
    if (n.returnState)
      o.add("return_state", "true");
    if (n.goBackwards)
      o.add("go_backwards", "true");
    return ctor("ConvLSTM" + suffix,
                std::to_string(n.units) + ", " + cppTuple(n.kernel));
  }
  return "/* ? */";
}

/// The statements that build node `i`: a layer called once is constructed
/// and called in one expression; a layer that later nodes call again is
/// first named `l<i>`.
inline std::string cppStatement(const RandomGraph &g, int i) {
  const GraphNode &n = g.nodes[size_t(i)];
  std::string lhs = "auto x" + std::to_string(i) + " = ";
  std::string list;
  for (size_t k = 0; k < n.inputs.size(); ++k)
    list += (k ? ", " : "") + refName(g, n.inputs[k]);
  switch (n.op) {
  case Op::Input: {
    OptionList o;
    if (n.intInput)
      o.add("dtype", "DType::Int32");
    return lhs + "Input(" + cppList(n.shapes[0]) +
           (o.empty() ? "" : ", " + o.str()) + ");";
  }
  case Op::Add:
  case Op::Subtract:
  case Op::Multiply:
  case Op::Average:
  case Op::Maximum:
    return lhs + "layers::" + opName(n.op) + "({" + list + "});";
  case Op::Concatenate:
    return lhs + "layers::concatenate({" + list + "}" +
           (n.axis != -1 ? ", " + std::to_string(n.axis) : "") + ");";
  default:
    break;
  }
  bool sharedLater =
      std::any_of(g.nodes.begin(), g.nodes.end(),
                  [&](const GraphNode &m) { return m.shareWith == i; });
  std::string prefix, callee = cppLayer(n);
  if (n.shareWith >= 0) {
    callee = "l" + std::to_string(n.shareWith);
  } else if (sharedLater) {
    prefix = "auto l" + std::to_string(i) + " = " + callee + ";\n";
    callee = "l" + std::to_string(i);
  }
  return prefix + lhs + callee + (n.returnState ? ".call(" : "(") + list + ");";
}

/// The graph as a C++ program (the body of a function) that rebuilds it
/// with the frontend API.
inline std::string toCpp(const RandomGraph &g) {
  std::ostringstream os;
  for (int i = 0; i < int(g.nodes.size()); ++i)
    os << cppStatement(g, i) << "\n";
  os << "Model model({";
  for (size_t k = 0; k < g.inputs.size(); ++k)
    os << (k ? ", " : "") << "x" << g.inputs[k];
  os << "}, {";
  for (size_t k = 0; k < g.outputs.size(); ++k)
    os << (k ? ", " : "") << refName(g, g.outputs[k]);
  os << "});\n";
  return os.str();
}

//===----------------------------------------------------------------------===//
// The builder: the same graph through the frontend
//===----------------------------------------------------------------------===//

struct BuiltGraph {
  std::unique_ptr<Model> model;
  /// The layer of each node (null for inputs).
  std::vector<std::shared_ptr<Layer>> layers;
};

inline RecurrentOptions recurrentOptions(const GraphNode &n) {
  RecurrentOptions o;
  o.activation = n.activation;
  o.recurrent_activation = n.recurrentActivation;
  o.use_bias = n.useBias;
  o.return_sequences = n.returnSequences;
  o.return_state = n.returnState;
  o.go_backwards = n.goBackwards;
  o.reset_after = n.resetAfter;
  return o;
}

/// Builds the Model; throws layerc::Error when the frontend refuses it.
inline BuiltGraph buildModel(const RandomGraph &g) {
  BuiltGraph built;
  std::vector<std::vector<SymbolicTensor>> values(g.nodes.size());
  auto ref = [&](Ref r) { return values.at(r.node).at(r.out); };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode &n = g.nodes[i];
    std::vector<SymbolicTensor> ins;
    for (const Ref &r : n.inputs)
      ins.push_back(ref(r));
    std::shared_ptr<Layer> layer;
    auto apply = [&](auto handle) {
      layer = handle.get();
      return layer->apply(ins);
    };
    std::vector<SymbolicTensor> out;
    if (n.shareWith >= 0) {
      layer = built.layers.at(size_t(n.shareWith));
      built.layers.push_back(layer);
      values[i] = layer->apply(ins);
      continue;
    }
    auto ints = [](const std::vector<int64_t> &v) { return IntTuple(v); };
    switch (n.op) {
    case Op::Input:
      out = {Input(n.shapes[0],
                   {.dtype = n.intInput ? DType::Int32 : DType::Float32})};
      break;
    case Op::Dense:
      out = apply(layers::Dense(
          n.units, {.activation = n.activation, .use_bias = n.useBias}));
      break;
    case Op::Activation:
      out = apply(layers::Activation(n.activation));
      break;
    case Op::Dropout:
      out = apply(layers::Dropout(n.rate));
      break;
    case Op::Reshape:
      out = apply(layers::Reshape(n.target));
      break;
    case Op::Flatten:
      out = apply(layers::Flatten());
      break;
    case Op::Embedding:
      out = apply(layers::Embedding(n.inputDim, n.units));
      break;
    case Op::BatchNormalization:
      out = apply(layers::BatchNormalization(
          {.epsilon = n.epsilon, .center = n.center, .scale = n.scale}));
      break;
    case Op::Conv: {
      ConvOptions o{.strides = ints(n.strides),
                    .padding = n.padding,
                    .dilation_rate = ints(n.dilation),
                    .groups = n.groups,
                    .activation = n.activation,
                    .use_bias = n.useBias};
      if (n.rank == 1)
        out = apply(layers::Conv1D(n.units, ints(n.kernel), o));
      else if (n.rank == 2)
        out = apply(layers::Conv2D(n.units, ints(n.kernel), o));
      else
        out = apply(layers::Conv3D(n.units, ints(n.kernel), o));
      break;
    }
    case Op::ConvTranspose: {
      ConvTransposeOptions o{.strides = ints(n.strides),
                             .padding = n.padding,
                             .output_padding = std::nullopt,
                             .dilation_rate = ints(n.dilation),
                             .activation = n.activation,
                             .use_bias = n.useBias};
      if (!n.outputPadding.empty())
        o.output_padding = ints(n.outputPadding);
      if (n.rank == 1)
        out = apply(layers::Conv1DTranspose(n.units, ints(n.kernel), o));
      else if (n.rank == 2)
        out = apply(layers::Conv2DTranspose(n.units, ints(n.kernel), o));
      else
        out = apply(layers::Conv3DTranspose(n.units, ints(n.kernel), o));
      break;
    }
    case Op::MaxPool:
    case Op::AveragePool: {
      PoolingOptions o{.strides = std::nullopt, .padding = n.padding};
      if (n.explicitStrides)
        o.strides = ints(n.strides);
      bool max = n.op == Op::MaxPool;
      if (n.rank == 1)
        out = max ? apply(layers::MaxPooling1D(ints(n.kernel), o))
                  : apply(layers::AveragePooling1D(ints(n.kernel), o));
      else if (n.rank == 2)
        out = max ? apply(layers::MaxPooling2D(ints(n.kernel), o))
                  : apply(layers::AveragePooling2D(ints(n.kernel), o));
      else
        out = max ? apply(layers::MaxPooling3D(ints(n.kernel), o))
                  : apply(layers::AveragePooling3D(ints(n.kernel), o));
      break;
    }
    case Op::GlobalMaxPool:
    case Op::GlobalAveragePool: {
      GlobalPoolingOptions o{.keepdims = n.keepdims};
      bool max = n.op == Op::GlobalMaxPool;
      if (n.rank == 1)
        out = max ? apply(layers::GlobalMaxPooling1D(o))
                  : apply(layers::GlobalAveragePooling1D(o));
      else if (n.rank == 2)
        out = max ? apply(layers::GlobalMaxPooling2D(o))
                  : apply(layers::GlobalAveragePooling2D(o));
      else
        out = max ? apply(layers::GlobalMaxPooling3D(o))
                  : apply(layers::GlobalAveragePooling3D(o));
      break;
    }
    case Op::UpSampling: {
      UpSamplingOptions o{.interpolation = n.interpolation};
      if (n.rank == 1)
        out = apply(layers::UpSampling1D(ints(n.size), o));
      else if (n.rank == 2)
        out = apply(layers::UpSampling2D(ints(n.size), o));
      else
        out = apply(layers::UpSampling3D(ints(n.size), o));
      break;
    }
    case Op::Add:
      out = {layers::add(ins)};
      break;
    case Op::Subtract:
      out = {layers::subtract(ins)};
      break;
    case Op::Multiply:
      out = {layers::multiply(ins)};
      break;
    case Op::Average:
      out = {layers::average(ins)};
      break;
    case Op::Maximum:
      out = {layers::maximum(ins)};
      break;
    case Op::Concatenate:
      out = {layers::concatenate(ins, n.axis)};
      break;
    case Op::SimpleRNN:
      out = apply(layers::SimpleRNN(n.units, recurrentOptions(n)));
      break;
    case Op::LSTM:
      out = apply(layers::LSTM(n.units, recurrentOptions(n)));
      break;
    case Op::GRU:
      out = apply(layers::GRU(n.units, recurrentOptions(n)));
      break;
    case Op::ConvLSTM: {
      ConvLSTMOptions o{.strides = ints(n.strides),
                        .padding = n.padding,
                        .dilation_rate = ints(n.dilation),
                        .activation = n.activation,
                        .recurrent_activation = n.recurrentActivation,
                        .use_bias = n.useBias,
                        .return_sequences = n.returnSequences,
                        .return_state = n.returnState,
                        .go_backwards = n.goBackwards};
      if (n.rank == 1)
        out = apply(layers::ConvLSTM1D(n.units, ints(n.kernel), o));
      else
        out = apply(layers::ConvLSTM2D(n.units, ints(n.kernel), o));
      break;
    }
    }
    if (!layer && n.op != Op::Input)
      layer = out.at(0).node()->layer;
    built.layers.push_back(layer);
    values[i] = out;
  }
  std::vector<SymbolicTensor> ins, outs;
  for (int i : g.inputs)
    ins.push_back(values[size_t(i)][0]);
  for (const Ref &r : g.outputs)
    outs.push_back(ref(r));
  built.model = std::make_unique<Model>(ins, outs);
  return built;
}

} // namespace layerc::randomgraph

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPH_H
