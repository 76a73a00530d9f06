//===- RandomGraphTest.cpp - Random layer graphs against a reference ------===//
//
// Differential test of the whole compiler. Random valid graphs of about 2 to
// 6 layers (RandomGraph.h: random shapes and layer arguments over Dense,
// Activation, Dropout, Reshape, Flatten, Embedding, BatchNormalization,
// Conv/ConvTranspose 1D-3D, Max/AveragePooling 1D-3D, the global poolings,
// UpSampling 1D-3D, SimpleRNN/LSTM/GRU, ConvLSTM1D/2D, the merges and
// Concatenate; several inputs and outputs, layers called twice) are built
// with the frontend, given random weights (Layer::setWeights, read back
// with getWeights for the reference) and inputs, and
//   - Model::predict (float32, compiled and run by the JIT) is compared
//     with a float64 reference interpreter (RandomGraphReference.h, written
//     from Keras's definitions) within float32 tolerances;
//   - for every tenth seed, the model's layer IR (Model::toMLIR) in float64
//     goes through layer-autodiff{optimizer=none} as in GradientTest.cpp
//     (CompilerTest::build), and `grad`'s loss, outputs and parameter
//     gradients (up to 160 elements per graph) are compared with the
//     reference and with central differences of the reference's
//     mean-squared-error loss, BatchNormalization in training mode
//     (batch-stats). Every other one of these is compiled with every
//     function split into parts of a few instructions (JitOptions::outline,
//     which by default splits only functions of deep models): the parts'
//     inputs, outputs and exits (check failures included) must not change
//     a number.
// Graph k of a run uses seed SEED + k. A failure prints the seed, the
// command that reruns that graph alone, and the graph as the C++ API code
// that rebuilds it. The cases that layerc gets wrong are kept out of the
// random space by the generator, each with a comment saying why (search
// RandomGraph.h for "layerc bug").
//
// Environment (when running the binary directly; lit does not pass it on):
//   LAYERC_RANDOM_GRAPH_SEED   first seed (default 1)
//   LAYERC_RANDOM_GRAPH_COUNT  number of graphs (default 160), split over
//                              kShards test cases (lit runs them on every
//                              core)
//
//   LAYERC_RANDOM_GRAPH_SEED=1234 LAYERC_RANDOM_GRAPH_COUNT=1 \
//     build/test/unittests/compiler/RandomGraphTests
//
//===----------------------------------------------------------------------===//

#include "RandomGraph.h"
#include "CompilerTestUtil.h"
#include "RandomGraphReference.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>

using namespace layerc;
using namespace layerc::test;
using namespace layerc::randomgraph;

namespace {

constexpr int kShards = 4;
constexpr uint64_t kDefaultSeed = 1;
constexpr int64_t kDefaultCount = 160;
/// Seeds divisible by this also get the gradient check.
constexpr uint64_t kGradientEvery = 10;
/// Most parameter elements whose gradient is checked per graph.
constexpr int64_t kMaxGradientElements = 160;
/// predict (float32) against the float64 reference: |error| <= atol *
/// max(1, max |output|) + rtol * |expected|. Over seeds 30000-30999 the
/// largest error was 2e-2 of this (the summary line prints it).
constexpr double kPredictRtol = 1e-4, kPredictAtol = 1e-5;
/// grad (float64) against central differences (eps 1e-6) of the float64
/// reference: |error| <= atol + rtol * |difference|. The largest error
/// over the same seeds was 1.5e-2 of this.
constexpr double kGradientRtol = 1e-5, kGradientAtol = 1e-7;

uint64_t envNumber(const char *name, uint64_t fallback) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return fallback;
  char *end = nullptr;
  uint64_t n = std::strtoull(v, &end, 0);
  if (*end)
    throw std::runtime_error(std::string(name) + " is not a number: " + v);
  return n;
}

Array toArray(const Tensor &t) {
  Array a(t.shape());
  Tensor d = t.dtype() == DType::Float64 ? t : t.astype(DType::Float64);
  const double *p = d.data<double>();
  std::copy(p, p + t.numel(), a.v.begin());
  return a;
}

Tensor toTensor(const Array &a, DType dtype) {
  return Tensor::fromDoubles(a.v, a.shape).astype(dtype);
}

std::vector<int64_t> withBatch(int64_t batch, const std::vector<int64_t> &s) {
  std::vector<int64_t> full{batch};
  full.insert(full.end(), s.begin(), s.end());
  return full;
}

double maxAbs(const Array &a) {
  double m = 0;
  for (double v : a.v)
    m = std::max(m, std::fabs(v));
  return m;
}

/// Sum over the outputs of the mean squared error (Keras's
/// mean_squared_error with unit loss weights).
double mseLoss(const std::vector<Array> &outputs,
               const std::vector<Array> &targets) {
  double loss = 0;
  for (size_t k = 0; k < outputs.size(); ++k) {
    double sum = 0;
    for (int64_t e = 0; e < outputs[k].size(); ++e) {
      double d = outputs[k][e] - targets[k][e];
      sum += d * d;
    }
    loss += sum / double(outputs[k].size());
  }
  return loss;
}

/// One graph with its model, weights and data.
struct Case {
  RandomGraph graph;
  BuiltGraph built;
  /// Per node: its layer's weights as read back, by weight name.
  std::vector<WeightMap> weights;
  std::vector<Tensor> inputs;
  std::vector<Array> refInputs;
};

class RandomGraphTest : public CompilerTest,
                        public ::testing::WithParamInterface<int> {
protected:
  /// Random weights for every layer (set through the API, then read back
  /// with getWeights() for the reference), and random inputs.
  void prepare(Case &c) {
    RandomSource r(c.graph.seed * 0x9E3779B97F4A7C15ull + 12345);
    const RandomGraph &g = c.graph;
    c.weights.assign(g.nodes.size(), {});
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const std::shared_ptr<Layer> &layer = c.built.layers[i];
      if (!layer || layer->weights().empty() || g.nodes[i].shareWith >= 0)
        continue;
      std::vector<Tensor> values;
      for (const Weight &w : layer->weights()) {
        const std::vector<int64_t> &shape = w.value.shape();
        Array a(shape);
        double lo = -0.5, hi = 0.5;
        if (w.name == "kernel" || w.name == "recurrent_kernel") {
          // Uniform with the variance of 1.4 / fan-in: activations stay of
          // order one through the graph.
          int64_t fanIn = std::max<int64_t>(1, a.size() / shape.back());
          if (g.nodes[i].op == Op::ConvTranspose)
            fanIn = std::max<int64_t>(1, a.size() / shape[shape.size() - 2]);
          hi = std::sqrt(4.2 / double(fanIn));
          lo = -hi;
        } else if (w.name == "gamma" || w.name == "moving_variance") {
          lo = 0.5;
          hi = 1.5;
        } else if (w.name == "embeddings") {
          lo = -1;
          hi = 1;
        }
        for (double &v : a.v)
          v = r.uniform(lo, hi);
        values.push_back(toTensor(a, w.value.dtype()));
      }
      layer->setWeights(values);
      std::vector<Tensor> back = layer->getWeights();
      for (size_t k = 0; k < back.size(); ++k)
        c.weights[i][layer->weights()[k].name] = toArray(back[k]);
    }
    for (int in : g.inputs) {
      const GraphNode &n = g.nodes[size_t(in)];
      Array a(withBatch(g.batch, n.shapes[0]));
      if (n.intInput) {
        // The Embedding reading these ids; some ids fall outside
        // [0, input_dim) and give zeros.
        int64_t dim = 1;
        for (const GraphNode &m : g.nodes)
          if (m.op == Op::Embedding && m.inputs[0].node == in)
            dim = m.inputDim;
        for (double &v : a.v)
          v = r.chance(0.1) ? (r.chance(0.5) ? -1.0 : double(dim))
                            : double(r.between(0, dim - 1));
        c.inputs.push_back(toTensor(a, DType::Int32));
      } else {
        for (double &v : a.v)
          v = r.uniform(-1.5, 1.5);
        c.inputs.push_back(toTensor(a, DType::Float32));
      }
      // The reference reads the values layerc gets (rounded to float32).
      c.refInputs.push_back(toArray(c.inputs.back()));
    }
  }

  /// Model::predict against the reference; appends mismatches to `report`.
  void checkPredict(Case &c, std::ostringstream &report) {
    const RandomGraph &g = c.graph;
    std::vector<Tensor> actual = c.built.model->predict(c.inputs);
    auto values = runReference(g, c.weights, c.refInputs, /*training=*/false);
    if (actual.size() != g.outputs.size()) {
      report << "predict returned " << actual.size() << " outputs, expected "
             << g.outputs.size() << "\n";
      return;
    }
    for (size_t k = 0; k < g.outputs.size(); ++k) {
      const Ref &o = g.outputs[k];
      const Array &expected = values[size_t(o.node)][size_t(o.out)];
      compare("predict output " + std::to_string(k) + " (x" +
                  std::to_string(o.node) + ")",
              toArray(actual[k]), expected, kPredictRtol, kPredictAtol, report);
    }
  }

  /// Element-wise |actual - expected| <= atol * max(1, max|expected|) +
  /// rtol * |expected|; the first few mismatches go to `report`.
  void compare(const std::string &what, const Array &actual,
               const Array &expected, double rtol, double atol,
               std::ostringstream &report) {
    if (actual.shape != expected.shape) {
      report << what << ": shape " << formatShape(actual.shape)
             << ", the reference's " << formatShape(expected.shape) << "\n";
      return;
    }
    double scale = std::max(1.0, maxAbs(expected));
    int shown = 0, bad = 0;
    for (int64_t e = 0; e < expected.size(); ++e) {
      double tol = atol * scale + rtol * std::fabs(expected[e]);
      double err = std::fabs(actual[e] - expected[e]);
      worstRatio[rtol < 1e-6] = std::max(worstRatio[rtol < 1e-6], err / tol);
      if (!(err <= tol)) {
        ++bad;
        if (shown++ < 6)
          report << what << " at flat index " << e << ": layerc " << actual[e]
                 << ", reference " << expected[e] << " (tolerance " << tol
                 << ")\n";
      }
    }
    if (bad > shown)
      report << what << ": " << bad << " elements differ in all\n";
  }

  /// The float64 gradient of the model's MSE from layer-autodiff against
  /// central differences of the reference.
  void checkGradient(Case &c, std::ostringstream &report) {
    const RandomGraph &g = c.graph;
    std::string ir = c.built.model->toMLIR();
    ir = std::regex_replace(ir, std::regex("xf32>"), "xf64>");
    ir = std::regex_replace(ir, std::regex("tensor<f32>"), "tensor<f64>");
    JitOptions options;
    if (g.seed % (2 * kGradientEvery) == 0)
      options.outline = {.above = 0, .chunk = 8};
    auto jit = build(ir,
                     "func.func(layer-shape-inference),layer-autodiff{"
                     "optimizer=none batch-stats=true "
                     "loss=mean_squared_error}",
                     options);
    if (!jit) {
      report << "the float64 gradient module did not build (see above)\n";
      return;
    }
    CompiledFunction grad = lookup(*jit, "grad");

    // Targets, and the arguments by name: inputs (named after their Input
    // layers), targets (role "target", in output order), weights
    // ("<layer>/<weight>").
    RandomSource r(c.graph.seed * 0xD1B54A32D192ED03ull + 777);
    auto values = runReference(g, c.weights, c.refInputs, /*training=*/true);
    std::vector<Array> targets, outputs;
    for (const Ref &o : g.outputs) {
      outputs.push_back(values[size_t(o.node)][size_t(o.out)]);
      Array t(outputs.back().shape);
      for (double &v : t.v)
        v = r.uniform(-1, 1);
      targets.push_back(t);
    }
    std::map<std::string, std::pair<int, std::string>> weightByArg;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (c.built.layers[i] && g.nodes[i].shareWith < 0)
        for (const Weight &w : c.built.layers[i]->weights())
          weightByArg[c.built.layers[i]->name() + "/" + w.name] = {int(i),
                                                                   w.name};
    std::vector<std::string> inputNames = c.built.model->inputNames();
    std::vector<Tensor> args;
    size_t nextTarget = 0; // targets come in the order of the outputs
    for (const BufferSpec &spec : grad.inputs) {
      auto in = std::find(inputNames.begin(), inputNames.end(), spec.name);
      auto w = weightByArg.find(spec.name);
      size_t target = targets.size();
      if (spec.role == Role::Target)
        target = std::min(nextTarget++, targets.size());
      if (in != inputNames.end()) {
        const Tensor &t = c.inputs[size_t(in - inputNames.begin())];
        args.push_back(t.dtype() == DType::Float32 ? t.astype(DType::Float64)
                                                   : t);
      } else if (w != weightByArg.end()) {
        args.push_back(
            toTensor(c.weights[size_t(w->second.first)].at(w->second.second),
                     DType::Float64));
      } else if (target < targets.size()) {
        args.push_back(toTensor(targets[target], DType::Float64));
      } else {
        report << "grad has an argument '" << spec.name
               << "' that is neither an input, a target nor a weight\n";
        return;
      }
    }
    std::vector<Tensor> result = call(grad, args);
    double loss = mseLoss(outputs, targets);
    if (result.size() < 1 + outputs.size()) {
      report << "grad returned " << result.size() << " results\n";
      return;
    }
    double layercLoss = result[0].data<double>()[0];
    if (!(std::fabs(layercLoss - loss) <= 1e-9 * (1 + std::fabs(loss))))
      report << "grad's loss " << layercLoss << ", the reference's " << loss
             << "\n";
    for (size_t k = 0; k < outputs.size(); ++k)
      compare("grad output " + std::to_string(k) + " (x" +
                  std::to_string(g.outputs[k].node) + ", training mode)",
              toArray(result[1 + k]), outputs[k], 1e-9, 1e-10, report);

    // The parameter gradients: one result per trainable weight, named as
    // the weight's argument.
    struct Param {
      int node;
      std::string name;
      Array analytic;
    };
    std::vector<Param> params;
    for (size_t k = 1 + outputs.size(); k < result.size(); ++k) {
      const std::string &name = grad.outputs[k].name;
      auto w = weightByArg.find(name);
      if (w == weightByArg.end()) {
        report << "grad result '" << name << "' names no weight\n";
        return;
      }
      params.push_back({w->second.first, w->second.second, toArray(result[k])});
    }
    size_t trainable = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (c.built.layers[i] && g.nodes[i].shareWith < 0)
        for (const Weight &w : c.built.layers[i]->weights())
          trainable += w.trainable;
    if (params.size() != trainable)
      report << "grad returned " << params.size() << " gradients for "
             << trainable << " trainable weights\n";
    int64_t total = 0;
    for (const Param &p : params)
      total += p.analytic.size();
    std::vector<WeightMap> moved = c.weights;
    auto lossWith = [&](const Param &p, int64_t e, double delta) {
      Array &w = moved[size_t(p.node)].at(p.name);
      double keep = w[e];
      w[e] = keep + delta;
      auto v = runReference(g, moved, c.refInputs, /*training=*/true);
      w[e] = keep;
      std::vector<Array> outs;
      for (const Ref &o : g.outputs)
        outs.push_back(v[size_t(o.node)][size_t(o.out)]);
      return mseLoss(outs, targets);
    };
    constexpr double eps = 1e-6;
    int shown = 0;
    for (const Param &p : params) {
      if (p.analytic.shape != weight(c.weights[size_t(p.node)], p.name).shape) {
        report << "d loss / d x" << p.node << "." << p.name << ": shape "
               << formatShape(p.analytic.shape) << "\n";
        continue;
      }
      for (int64_t e = 0; e < p.analytic.size(); ++e) {
        // A random subset when the graph has many parameters.
        if (total > kMaxGradientElements &&
            !r.chance(double(kMaxGradientElements) / double(total)))
          continue;
        double fd = (lossWith(p, e, eps) - lossWith(p, e, -eps)) / (2 * eps);
        double a = p.analytic[e];
        ++gradientElements;
        double tol = kGradientAtol + kGradientRtol * std::fabs(fd);
        worstGradientRatio =
            std::max(worstGradientRatio, std::fabs(a - fd) / tol);
        if (!(std::fabs(a - fd) <= tol) && shown++ < 8)
          report << "d loss / d x" << p.node << "." << p.name
                 << " at flat index " << e << ": layerc " << a
                 << ", finite difference of the reference " << fd << "\n";
      }
    }
  }

  /// Generates, builds and checks graph `seed`; returns whether it passed.
  bool runGraph(uint64_t seed) {
    Case c;
    bool gradient = seed % kGradientEvery == 0;
    c.graph = generateGraph(seed, {.forGradient = gradient});
    std::ostringstream report;
    report.precision(10);
    try {
      c.built = buildModel(c.graph);
      const Model &m = *c.built.model;
      for (size_t k = 0; k < c.graph.outputs.size(); ++k) {
        const Ref &o = c.graph.outputs[k];
        std::vector<int64_t> want =
            withBatch(-1, c.graph.nodes[size_t(o.node)].shapes[size_t(o.out)]);
        if (m.outputs()[k].shape() != want)
          report << "output " << k << " has shape "
                 << m.outputs()[k].shapeString() << " in the frontend, "
                 << formatShape(want) << " by Keras's rules\n";
      }
      prepare(c);
      checkPredict(c, report);
      if (gradient)
        checkGradient(c, report);
    } catch (const std::exception &e) {
      report << "exception: " << e.what() << "\n";
    }
    for (const GraphNode &n : c.graph.nodes) {
      ++opCounts[std::string(opName(n.op)) +
                 (n.rank ? std::to_string(n.rank) + "D" : "")];
      opCounts["(shared layer calls)"] += n.shareWith >= 0;
    }
    if (report.str().empty())
      return true;
    ADD_FAILURE() << "random graph " << seed
                  << (gradient ? " (predict and gradients)" : " (predict)")
                  << ", batch " << c.graph.batch << ":\n"
                  << report.str() << "rerun it alone with\n"
                  << "  LAYERC_RANDOM_GRAPH_SEED=" << seed
                  << " LAYERC_RANDOM_GRAPH_COUNT=1 "
                     "build/test/unittests/compiler/RandomGraphTests\n"
                  << "the graph in the C++ API:\n"
                  << toCpp(c.graph);
    return false;
  }

  std::map<std::string, int> opCounts;
  int64_t gradientElements = 0;
  /// The largest error / tolerance of compare() in float32 (predict) and
  /// float64 (grad's outputs), and of the gradients.
  double worstRatio[2] = {0, 0}, worstGradientRatio = 0;
};

TEST_P(RandomGraphTest, AgainstReference) {
  uint64_t first = envNumber("LAYERC_RANDOM_GRAPH_SEED", kDefaultSeed);
  int64_t count =
      int64_t(envNumber("LAYERC_RANDOM_GRAPH_COUNT", kDefaultCount));
  // A contiguous block of the seeds per shard.
  int64_t shard = GetParam();
  int64_t begin = count * shard / kShards, end = count * (shard + 1) / kShards;
  auto start = std::chrono::steady_clock::now();
  int failed = 0, gradients = 0;
  for (int64_t k = begin; k < end; ++k) {
    uint64_t seed = first + uint64_t(k);
    gradients += seed % kGradientEvery == 0;
    failed += !runGraph(seed);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "seeds " << first + uint64_t(begin) << " to "
            << first + uint64_t(end) - 1 << ": " << end - begin << " graphs ("
            << gradients << " with gradients, " << gradientElements
            << " gradient elements), " << failed << " failed, " << seconds
            << " s\nworst error / tolerance: predict " << worstRatio[0]
            << ", grad outputs " << worstRatio[1] << ", gradients "
            << worstGradientRatio << "\nlayers:";
  for (const auto &[name, n] : opCounts)
    std::cout << " " << name << " " << n;
  std::cout << "\n";
}

INSTANTIATE_TEST_SUITE_P(Shards, RandomGraphTest, ::testing::Range(0, kShards));

} // namespace
