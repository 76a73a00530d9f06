//===- RandomGraphReference.h - Float64 interpreter of random graphs ------===//
//
// Runs a RandomGraph (RandomGraph.h) in float64 by straightforward loops
// written from Keras's definitions of each layer (channels-last):
// Dense and the activations, Conv/ConvTranspose 1D-3D (strides, 'valid' /
// 'same' padding with TensorFlow's split, dilation, groups, output_padding),
// Max/AveragePooling (padding excluded from the average), the global
// poolings, UpSampling (nearest; bilinear with half-pixel centres),
// BatchNormalization (moving statistics, or the batch's in training mode),
// Reshape, Flatten, Embedding (ids outside [0, input_dim) give zeros), the
// merges, Concatenate, and SimpleRNN/LSTM/GRU (Keras's gate orders,
// go_backwards, return_sequences, return_state, GRU reset_after). Nothing
// here calls layerc's compiler; the weights come in by layer weight name.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHREFERENCE_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHREFERENCE_H

#include "RandomGraph.h"

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace layerc::randomgraph {

/// A dense row-major float64 array (activations with the batch axis, or a
/// weight).
struct Array {
  std::vector<int64_t> shape;
  std::vector<double> v;
  Array() = default;
  explicit Array(std::vector<int64_t> s)
      : shape(std::move(s)), v(size_t(numel(shape)), 0.0) {}
  double &operator[](int64_t i) { return v[size_t(i)]; }
  double operator[](int64_t i) const { return v[size_t(i)]; }
  int64_t size() const { return int64_t(v.size()); }
};

/// A layer's weights by Keras weight name ("kernel", "moving_mean", ...).
using WeightMap = std::map<std::string, Array>;

inline double activate(const std::string &a, double x) {
  if (a == "linear")
    return x;
  if (a == "relu")
    return x > 0 ? x : 0;
  if (a == "sigmoid")
    return 1 / (1 + std::exp(-x));
  if (a == "tanh")
    return std::tanh(x);
  if (a == "gelu")
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (a == "elu")
    return x > 0 ? x : std::expm1(x);
  if (a == "selu") {
    const double alpha = 1.6732632423543772848170429916717;
    const double scale = 1.0507009873554804934193349852946;
    return scale * (x > 0 ? x : alpha * std::expm1(x));
  }
  if (a == "swish")
    return x / (1 + std::exp(-x));
  if (a == "hard_sigmoid") // Keras 3's: relu6(x + 3) / 6
    return std::min(1.0, std::max(0.0, x / 6 + 0.5));
  throw std::runtime_error("reference: unknown activation " + a);
}

/// `a` applied to every element (softmax: over the last axis).
inline Array activateArray(const std::string &a, Array x) {
  if (a != "softmax") {
    for (double &e : x.v)
      e = activate(a, e);
    return x;
  }
  int64_t c = x.shape.back();
  for (int64_t row = 0; row < x.size() / c; ++row) {
    double *p = &x.v[size_t(row * c)];
    double m = p[0];
    for (int64_t i = 1; i < c; ++i)
      m = std::max(m, p[i]);
    double sum = 0;
    for (int64_t i = 0; i < c; ++i)
      sum += (p[i] = std::exp(p[i] - m));
    for (int64_t i = 0; i < c; ++i)
      p[i] /= sum;
  }
  return x;
}

/// Calls f(index) for every multi-index below `dims` (row-major order).
template <typename F>
void forEachIndex(const std::vector<int64_t> &dims, F &&f) {
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t d : dims)
    if (d <= 0)
      return;
  for (;;) {
    f(idx);
    int a = int(dims.size()) - 1;
    while (a >= 0 && ++idx[size_t(a)] == dims[size_t(a)])
      idx[size_t(a--)] = 0;
    if (a < 0)
      return;
  }
}

/// Flat offset of (batch, spatial..., channel) in a channels-last array of
/// `shape`.
inline int64_t offsetOf(const std::vector<int64_t> &shape, int64_t batch,
                        const std::vector<int64_t> &spatial, int64_t channel) {
  int64_t off = batch;
  for (size_t a = 0; a < spatial.size(); ++a)
    off = off * shape[a + 1] + spatial[a];
  return off * shape.back() + channel;
}

inline const Array *weightOrNull(const WeightMap &w, const std::string &name) {
  auto it = w.find(name);
  return it == w.end() ? nullptr : &it->second;
}

inline const Array &weight(const WeightMap &w, const std::string &name) {
  const Array *a = weightOrNull(w, name);
  if (!a)
    throw std::runtime_error("reference: no weight '" + name + "'");
  return *a;
}

inline Array dense(const Array &x, const WeightMap &w, const GraphNode &n) {
  const Array &k = weight(w, "kernel");
  const Array *b = weightOrNull(w, "bias");
  int64_t in = x.shape.back(), units = n.units, rows = x.size() / in;
  std::vector<int64_t> shape = x.shape;
  shape.back() = units;
  Array y(shape);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double acc = b ? (*b)[u] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        acc += x[r * in + i] * k[i * units + u];
      y[r * units + u] = acc;
    }
  return activateArray(n.activation, std::move(y));
}

/// Padding before the first element for 'same' (TensorFlow: the odd one
/// goes after).
inline int64_t padBefore(int64_t in, int64_t out, int64_t window,
                         int64_t stride) {
  return std::max<int64_t>((out - 1) * stride + window - in, 0) / 2;
}

inline std::vector<int64_t> spatialDims(const Array &x) {
  return std::vector<int64_t>(x.shape.begin() + 1, x.shape.end() - 1);
}

/// Keras's kernel (k..., C / groups, filters).
inline Array conv(const Array &x, const WeightMap &w, const GraphNode &n) {
  const Array &k = weight(w, "kernel");
  const Array *b = weightOrNull(w, "bias");
  int r = n.rank;
  int64_t batch = x.shape[0], channels = x.shape.back(), filters = n.units;
  int64_t cg = channels / n.groups, fg = filters / n.groups;
  std::vector<int64_t> in = spatialDims(x), out, pad;
  for (int a = 0; a < r; ++a) {
    int64_t window = (n.kernel[a] - 1) * n.dilation[a] + 1;
    out.push_back(windowOut(in[a], window, n.strides[a], n.padding == "same"));
    pad.push_back(n.padding == "same"
                      ? padBefore(in[a], out[a], window, n.strides[a])
                      : 0);
  }
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), out.begin(), out.end());
  shape.push_back(filters);
  Array y(shape);
  std::vector<int64_t> p(static_cast<size_t>(r));
  for (int64_t nb = 0; nb < batch; ++nb)
    forEachIndex(out, [&](const std::vector<int64_t> &o) {
      for (int64_t f = 0; f < filters; ++f) {
        int64_t g = f / fg;
        double acc = b ? (*b)[f] : 0.0;
        int64_t kOff = 0;
        forEachIndex(n.kernel, [&](const std::vector<int64_t> &j) {
          bool inside = true;
          for (int a = 0; a < r; ++a) {
            p[a] = o[a] * n.strides[a] + j[a] * n.dilation[a] - pad[a];
            inside = inside && p[a] >= 0 && p[a] < in[a];
          }
          if (inside) {
            int64_t xOff = offsetOf(x.shape, nb, p, g * cg);
            for (int64_t c = 0; c < cg; ++c)
              acc += x[xOff + c] * k[(kOff * cg + c) * filters + f];
          }
          ++kOff;
        });
        y[offsetOf(y.shape, nb, o, f)] = acc;
      }
    });
  return activateArray(n.activation, std::move(y));
}

/// The adjoint of a convolution (TensorFlow's conv_transpose), kernel
/// (k..., filters, C); padding from the forward convolution of the output
/// size back to the input size.
inline Array convTranspose(const Array &x, const WeightMap &w,
                           const GraphNode &n) {
  const Array &k = weight(w, "kernel");
  const Array *b = weightOrNull(w, "bias");
  int r = n.rank;
  int64_t batch = x.shape[0], channels = x.shape.back(), filters = n.units;
  std::vector<int64_t> in = spatialDims(x), out, pad;
  bool same = n.padding == "same";
  for (int a = 0; a < r; ++a) {
    int64_t window = (n.kernel[a] - 1) * n.dilation[a] + 1;
    out.push_back(transposedOut(
        in[a], window, n.strides[a], same,
        n.outputPadding.empty() ? std::nullopt
                                : std::optional<int64_t>(n.outputPadding[a])));
    pad.push_back(same ? std::max<int64_t>(
                             (in[a] - 1) * n.strides[a] + window - out[a], 0) /
                             2
                       : 0);
  }
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), out.begin(), out.end());
  shape.push_back(filters);
  Array y(shape);
  std::vector<int64_t> o(static_cast<size_t>(r));
  for (int64_t nb = 0; nb < batch; ++nb)
    forEachIndex(in, [&](const std::vector<int64_t> &i) {
      int64_t xOff = offsetOf(x.shape, nb, i, 0);
      int64_t kOff = 0;
      forEachIndex(n.kernel, [&](const std::vector<int64_t> &j) {
        bool inside = true;
        for (int a = 0; a < r; ++a) {
          o[a] = i[a] * n.strides[a] + j[a] * n.dilation[a] - pad[a];
          inside = inside && o[a] >= 0 && o[a] < out[a];
        }
        if (inside) {
          int64_t yOff = offsetOf(y.shape, nb, o, 0);
          for (int64_t f = 0; f < filters; ++f)
            for (int64_t c = 0; c < channels; ++c)
              y[yOff + f] +=
                  x[xOff + c] * k[(kOff * filters + f) * channels + c];
        }
        ++kOff;
      });
    });
  if (b)
    for (int64_t e = 0; e < y.size(); ++e)
      y[e] += (*b)[e % filters];
  return activateArray(n.activation, std::move(y));
}

/// Max or average over each window; padded positions take no part (the
/// average divides by the positions inside the input).
inline Array pool(const Array &x, const GraphNode &n) {
  int r = n.rank;
  bool max = n.op == Op::MaxPool;
  int64_t batch = x.shape[0], channels = x.shape.back();
  std::vector<int64_t> in = spatialDims(x), out, pad;
  for (int a = 0; a < r; ++a) {
    out.push_back(
        windowOut(in[a], n.kernel[a], n.strides[a], n.padding == "same"));
    pad.push_back(n.padding == "same"
                      ? padBefore(in[a], out[a], n.kernel[a], n.strides[a])
                      : 0);
  }
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), out.begin(), out.end());
  shape.push_back(channels);
  Array y(shape);
  std::vector<int64_t> p(static_cast<size_t>(r));
  for (int64_t nb = 0; nb < batch; ++nb)
    forEachIndex(out, [&](const std::vector<int64_t> &o) {
      for (int64_t c = 0; c < channels; ++c) {
        double acc = max ? -INFINITY : 0.0;
        int64_t count = 0;
        forEachIndex(n.kernel, [&](const std::vector<int64_t> &j) {
          for (int a = 0; a < r; ++a) {
            p[a] = o[a] * n.strides[a] + j[a] - pad[a];
            if (p[a] < 0 || p[a] >= in[a])
              return;
          }
          double v = x[offsetOf(x.shape, nb, p, c)];
          acc = max ? std::max(acc, v) : acc + v;
          ++count;
        });
        y[offsetOf(y.shape, nb, o, c)] = max ? acc : acc / double(count);
      }
    });
  return y;
}

inline Array globalPool(const Array &x, const GraphNode &n) {
  bool max = n.op == Op::GlobalMaxPool;
  int64_t batch = x.shape[0], channels = x.shape.back();
  int64_t positions = x.size() / (batch * channels);
  std::vector<int64_t> shape{batch};
  if (n.keepdims)
    shape.insert(shape.end(), size_t(n.rank), 1);
  shape.push_back(channels);
  Array y(shape);
  for (int64_t nb = 0; nb < batch; ++nb)
    for (int64_t c = 0; c < channels; ++c) {
      double acc = max ? -INFINITY : 0.0;
      for (int64_t p = 0; p < positions; ++p) {
        double v = x[(nb * positions + p) * channels + c];
        acc = max ? std::max(acc, v) : acc + v;
      }
      y[nb * channels + c] = max ? acc : acc / double(positions);
    }
  return y;
}

inline Array upSample(const Array &x, const GraphNode &n) {
  int r = n.rank;
  int64_t batch = x.shape[0], channels = x.shape.back();
  std::vector<int64_t> in = spatialDims(x), out;
  for (int a = 0; a < r; ++a)
    out.push_back(in[a] * n.size[a]);
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), out.begin(), out.end());
  shape.push_back(channels);
  Array y(shape);
  std::vector<int64_t> p(static_cast<size_t>(r));
  bool bilinear = n.interpolation == "bilinear";
  for (int64_t nb = 0; nb < batch; ++nb)
    forEachIndex(out, [&](const std::vector<int64_t> &o) {
      for (int64_t c = 0; c < channels; ++c) {
        if (!bilinear) {
          for (int a = 0; a < r; ++a)
            p[a] = o[a] / n.size[a];
          y[offsetOf(y.shape, nb, o, c)] = x[offsetOf(x.shape, nb, p, c)];
          continue;
        }
        // Half-pixel centres: source coordinate (o + 0.5) / scale - 0.5,
        // clamped to the input (tf.image.resize, torch align_corners=False).
        int64_t lo[2], hi[2];
        double t[2];
        for (int a = 0; a < 2; ++a) {
          double src = (double(o[a]) + 0.5) / double(n.size[a]) - 0.5;
          src = std::max(src, 0.0);
          lo[a] = std::min<int64_t>(int64_t(std::floor(src)), in[a] - 1);
          hi[a] = std::min<int64_t>(lo[a] + 1, in[a] - 1);
          t[a] = src - double(lo[a]);
        }
        auto at = [&](int64_t i, int64_t j) {
          return x[offsetOf(x.shape, nb, {i, j}, c)];
        };
        double top = at(lo[0], lo[1]) * (1 - t[1]) + at(lo[0], hi[1]) * t[1];
        double bottom = at(hi[0], lo[1]) * (1 - t[1]) + at(hi[0], hi[1]) * t[1];
        y[offsetOf(y.shape, nb, o, c)] = top * (1 - t[0]) + bottom * t[0];
      }
    });
  return y;
}

/// Over the last axis; by the moving statistics, or (training) by the
/// batch's mean and biased variance over every other axis.
inline Array batchNorm(const Array &x, const WeightMap &w, const GraphNode &n,
                       bool training) {
  int64_t c = x.shape.back(), rows = x.size() / c;
  std::vector<double> mean(static_cast<size_t>(c)), var(static_cast<size_t>(c));
  if (training) {
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t i = 0; i < c; ++i)
        mean[i] += x[row * c + i] / double(rows);
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t i = 0; i < c; ++i) {
        double d = x[row * c + i] - mean[i];
        var[i] += d * d / double(rows);
      }
  } else {
    mean = weight(w, "moving_mean").v;
    var = weight(w, "moving_variance").v;
  }
  const Array *gamma = n.scale ? &weight(w, "gamma") : nullptr;
  const Array *beta = n.center ? &weight(w, "beta") : nullptr;
  Array y(x.shape);
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t i = 0; i < c; ++i) {
      double v = (x[row * c + i] - mean[i]) / std::sqrt(var[i] + n.epsilon);
      if (gamma)
        v *= (*gamma)[i];
      if (beta)
        v += (*beta)[i];
      y[row * c + i] = v;
    }
  return y;
}

inline Array embedding(const Array &ids, const WeightMap &w,
                       const GraphNode &n) {
  const Array &table = weight(w, "embeddings");
  std::vector<int64_t> shape = ids.shape;
  shape.push_back(n.units);
  Array y(shape);
  for (int64_t t = 0; t < ids.size(); ++t) {
    int64_t id = int64_t(ids[t]);
    if (id < 0 || id >= n.inputDim)
      continue;
    for (int64_t e = 0; e < n.units; ++e)
      y[t * n.units + e] = table[id * n.units + e];
  }
  return y;
}

inline Array merge(const std::vector<const Array *> &in, Op op) {
  Array y = *in[0];
  for (size_t k = 1; k < in.size(); ++k)
    for (int64_t e = 0; e < y.size(); ++e) {
      double v = (*in[k])[e];
      switch (op) {
      case Op::Add:
      case Op::Average:
        y[e] += v;
        break;
      case Op::Subtract:
        y[e] -= v;
        break;
      case Op::Multiply:
        y[e] *= v;
        break;
      default:
        y[e] = std::max(y[e], v);
        break;
      }
    }
  if (op == Op::Average)
    for (double &e : y.v)
      e /= double(in.size());
  return y;
}

inline Array concatenate(const std::vector<const Array *> &in, int64_t axis) {
  int64_t rank = int64_t(in[0]->shape.size());
  int64_t a = axis < 0 ? axis + rank : axis;
  std::vector<int64_t> shape = in[0]->shape;
  shape[a] = 0;
  for (const Array *x : in)
    shape[a] += x->shape[a];
  int64_t outer = 1;
  for (int64_t d = 0; d < a; ++d)
    outer *= shape[d];
  Array y(shape);
  int64_t pos = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const Array *x : in) {
      int64_t block = x->size() / outer;
      for (int64_t e = 0; e < block; ++e)
        y[pos++] = (*x)[o * block + e];
    }
  return y;
}

/// SimpleRNN, LSTM (gates i, f, c, o) and GRU (gates z, r, h; reset_after
/// applies the reset to h U + the recurrent bias, else h is reset before
/// U). Outputs: the sequence (in the order processed) or the last output,
/// then the final states with return_state.
inline std::vector<Array> recurrent(const Array &x, const WeightMap &w,
                                    const GraphNode &n) {
  const Array &k = weight(w, "kernel");
  const Array &rk = weight(w, "recurrent_kernel");
  const Array *b = weightOrNull(w, "bias");
  int64_t batch = x.shape[0], steps = x.shape[1], features = x.shape[2];
  int64_t u = n.units;
  int64_t gates = n.op == Op::LSTM ? 4 : n.op == Op::GRU ? 3 : 1;
  int64_t g = gates * u;
  bool gruAfter = n.op == Op::GRU && n.resetAfter;
  Array seq(std::vector<int64_t>{batch, steps, u});
  Array hOut(std::vector<int64_t>{batch, u}), cOut(hOut.shape);
  auto ra = [&](double v) { return activate(n.recurrentActivation, v); };
  auto act = [&](double v) { return activate(n.activation, v); };
  for (int64_t nb = 0; nb < batch; ++nb) {
    std::vector<double> h(size_t(u), 0.0), c(size_t(u), 0.0);
    for (int64_t s = 0; s < steps; ++s) {
      int64_t t = n.goBackwards ? steps - 1 - s : s;
      // xw = x_t W + input bias; hu = h U (+ recurrent bias for GRU
      // reset_after).
      std::vector<double> xw(size_t(g), 0.0), hu(size_t(g), 0.0);
      for (int64_t j = 0; j < g; ++j) {
        double acc = b ? (*b)[j] : 0.0;
        for (int64_t f = 0; f < features; ++f)
          acc += x[(nb * steps + t) * features + f] * k[f * g + j];
        xw[j] = acc;
        double rec = gruAfter && b ? (*b)[g + j] : 0.0;
        for (int64_t i = 0; i < u; ++i)
          rec += h[i] * rk[i * g + j];
        hu[j] = rec;
      }
      std::vector<double> hn(static_cast<size_t>(u));
      for (int64_t i = 0; i < u; ++i) {
        if (n.op == Op::SimpleRNN) {
          hn[i] = act(xw[i] + hu[i]);
        } else if (n.op == Op::LSTM) {
          double ig = ra(xw[i] + hu[i]);
          double fg = ra(xw[u + i] + hu[u + i]);
          double cc = act(xw[2 * u + i] + hu[2 * u + i]);
          double og = ra(xw[3 * u + i] + hu[3 * u + i]);
          c[i] = fg * c[i] + ig * cc;
          hn[i] = og * act(c[i]);
        }
      }
      if (n.op == Op::GRU) {
        std::vector<double> z(static_cast<size_t>(u)),
            rg(static_cast<size_t>(u));
        for (int64_t i = 0; i < u; ++i) {
          z[i] = ra(xw[i] + hu[i]);
          rg[i] = ra(xw[u + i] + hu[u + i]);
        }
        for (int64_t i = 0; i < u; ++i) {
          double cand;
          if (gruAfter) {
            cand = act(xw[2 * u + i] + rg[i] * hu[2 * u + i]);
          } else {
            double rec = 0;
            for (int64_t j = 0; j < u; ++j)
              rec += rg[j] * h[j] * rk[j * g + 2 * u + i];
            cand = act(xw[2 * u + i] + rec);
          }
          hn[i] = z[i] * h[i] + (1 - z[i]) * cand;
        }
      }
      h = hn;
      for (int64_t i = 0; i < u; ++i)
        seq[(nb * steps + s) * u + i] = h[i];
    }
    for (int64_t i = 0; i < u; ++i) {
      hOut[nb * u + i] = h[i];
      cOut[nb * u + i] = c[i];
    }
  }
  std::vector<Array> out{n.returnSequences ? seq : hOut};
  if (n.returnState) {
    out.push_back(hOut);
    if (n.op == Op::LSTM)
      out.push_back(cOut);
  }
  return out;
}

/// Keras's ConvLSTM1D/2D: per step, the input convolution of the frame
/// (strides, padding, dilation, bias) plus the recurrent convolution of h
/// ('same', stride 1), gates i, f, c, o as in the LSTM.
inline std::vector<Array> convLstm(const Array &x, const WeightMap &w,
                                   const GraphNode &n) {
  int64_t batch = x.shape[0], steps = x.shape[1], f = n.units;
  GraphNode inConv = n;
  inConv.op = Op::Conv;
  inConv.units = 4 * f;
  inConv.groups = 1;
  inConv.activation = "linear";
  GraphNode recConv = inConv;
  recConv.strides.assign(size_t(n.rank), 1);
  recConv.dilation.assign(size_t(n.rank), 1);
  recConv.padding = "same";
  WeightMap inW{{"kernel", weight(w, "kernel")}};
  if (const Array *b = weightOrNull(w, "bias"))
    inW["bias"] = *b;
  WeightMap recW{{"kernel", weight(w, "recurrent_kernel")}};
  std::vector<int64_t> frameShape{batch};
  frameShape.insert(frameShape.end(), x.shape.begin() + 2, x.shape.end());
  int64_t frameSize = numel(frameShape) / batch;
  // The states have the shape of one output frame.
  std::vector<int64_t> stateShape = {batch};
  stateShape.insert(stateShape.end(),
                    n.shapes[0].begin() + (n.returnSequences ? 1 : 0),
                    n.shapes[0].end());
  Array h(stateShape), c(stateShape);
  int64_t stateSize = h.size() / batch;
  std::vector<int64_t> seqShape{batch, steps};
  seqShape.insert(seqShape.end(), stateShape.begin() + 1, stateShape.end());
  Array seq(seqShape);
  auto ra = [&](double v) { return activate(n.recurrentActivation, v); };
  auto act = [&](double v) { return activate(n.activation, v); };
  for (int64_t s = 0; s < steps; ++s) {
    int64_t t = n.goBackwards ? steps - 1 - s : s;
    Array frame(frameShape);
    for (int64_t nb = 0; nb < batch; ++nb)
      for (int64_t e = 0; e < frameSize; ++e)
        frame[nb * frameSize + e] = x[(nb * steps + t) * frameSize + e];
    Array zx = conv(frame, inW, inConv), zh = conv(h, recW, recConv);
    for (int64_t p = 0; p < h.size() / f; ++p)
      for (int64_t k = 0; k < f; ++k) {
        auto z = [&](int gate) {
          return zx[p * 4 * f + gate * f + k] + zh[p * 4 * f + gate * f + k];
        };
        double ig = ra(z(0)), fg = ra(z(1)), cc = act(z(2)), og = ra(z(3));
        c[p * f + k] = fg * c[p * f + k] + ig * cc;
        h[p * f + k] = og * act(c[p * f + k]);
      }
    for (int64_t nb = 0; nb < batch; ++nb)
      for (int64_t e = 0; e < stateSize; ++e)
        seq[(nb * steps + s) * stateSize + e] = h[nb * stateSize + e];
  }
  std::vector<Array> out{n.returnSequences ? seq : h};
  if (n.returnState)
    out.insert(out.end(), {h, c});
  return out;
}

/// Every output of every node for `inputs` (one per graph input, batch
/// first; token ids as doubles) and `weights` (one map per node; a node
/// calling an earlier node's layer again reads that node's).
inline std::vector<std::vector<Array>>
runReference(const RandomGraph &g, const std::vector<WeightMap> &weights,
             const std::vector<Array> &inputs, bool training) {
  std::vector<std::vector<Array>> values(g.nodes.size());
  size_t nextInput = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode &n = g.nodes[i];
    // A shared layer's weights are those of its first call.
    const WeightMap &w = weights[n.shareWith >= 0 ? size_t(n.shareWith) : i];
    std::vector<const Array *> in;
    for (const Ref &r : n.inputs)
      in.push_back(&values[size_t(r.node)][size_t(r.out)]);
    const Array *x = in.empty() ? nullptr : in[0];
    std::vector<Array> &out = values[i];
    switch (n.op) {
    case Op::Input:
      out = {inputs.at(nextInput++)};
      break;
    case Op::Dense:
      out = {dense(*x, w, n)};
      break;
    case Op::Activation:
      out = {activateArray(n.activation, *x)};
      break;
    case Op::Dropout: // inference: the identity
      out = {*x};
      break;
    case Op::Reshape:
    case Op::Flatten: {
      Array y = *x;
      y.shape = {x->shape[0]};
      y.shape.insert(y.shape.end(), n.shapes[0].begin(), n.shapes[0].end());
      out = {y};
      break;
    }
    case Op::Embedding:
      out = {embedding(*x, w, n)};
      break;
    case Op::BatchNormalization:
      out = {batchNorm(*x, w, n, training)};
      break;
    case Op::Conv:
      out = {conv(*x, w, n)};
      break;
    case Op::ConvTranspose:
      out = {convTranspose(*x, w, n)};
      break;
    case Op::MaxPool:
    case Op::AveragePool:
      out = {pool(*x, n)};
      break;
    case Op::GlobalMaxPool:
    case Op::GlobalAveragePool:
      out = {globalPool(*x, n)};
      break;
    case Op::UpSampling:
      out = {upSample(*x, n)};
      break;
    case Op::Add:
    case Op::Subtract:
    case Op::Multiply:
    case Op::Average:
    case Op::Maximum:
      out = {merge(in, n.op)};
      break;
    case Op::Concatenate:
      out = {concatenate(in, n.axis)};
      break;
    case Op::SimpleRNN:
    case Op::LSTM:
    case Op::GRU:
      out = recurrent(*x, w, n);
      break;
    case Op::ConvLSTM:
      out = convLstm(*x, w, n);
      break;
    }
  }
  return values;
}

} // namespace layerc::randomgraph

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHREFERENCE_H
