//===- OnnxRecurrent.cpp - LSTM, GRU and RNN; time-major tensors ----------===//
//
// ONNX's recurrent operators are time-major: X is (T, N, F), Y is
// (T, D, N, H) and Y_h, Y_c are (D, N, H) (D directions), while layerc's
// first axis is always the batch. The values around them keep the layers'
// batch-first tensors in the layouts TimeMajor, RnnSequence and RnnState
// (OnnxImporter.h), so that the Transpose [1, 0, 2] PyTorch puts before an
// RNN with batch_first=True, and the Squeeze, Transpose, Gather or Slice
// after it that bring the batch first again, move no data (at most a
// Reshape). Whatever would leave the batch elsewhere than first is refused.
//
// PyTorch's zero initial states are ConstantOfShape(Concat(.., Shape(x)[0],
// ..)): Shape and what follows it are computed here on integers, with the
// batch size symbolic (Value::dims), and ConstantOfShape of such a shape is
// Value::zeros, which the recurrent mappers accept as zero states.
//
//===----------------------------------------------------------------------===//

#include "frontend/Ops.h"
#include "frontend/import/OnnxImporter.h"
#include "frontend/layers/Core.h"
#include "frontend/layers/Recurrent.h"
#include "frontend/layers/Wrappers.h"
#include "runtime/Error.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>

using namespace layerc;
using namespace layerc::onnximport;

namespace {

using Cell = RecurrentLayer::Cell;

/// Whether input `i` is absent, zeros of a shape with the batch size, or a
/// constant of zeros.
bool zeroInput(Importer &im, int i) {
  if (!im.hasInput(i))
    return true;
  Value &v = im.value(i);
  if (v.zeros)
    return true;
  if (!v.constant)
    return false;
  const auto *bytes = static_cast<const unsigned char *>(v.constant->rawData());
  return std::all_of(bytes, bytes + v.constant->nbytes(),
                     [](unsigned char b) { return b == 0; });
}

std::string kerasActivation(Importer &im, const std::string &name) {
  if (name == "Sigmoid")
    return "sigmoid";
  if (name == "Tanh")
    return "tanh";
  if (name == "Relu")
    return "relu";
  im.fail("activation " + name +
          " is not supported (Sigmoid, Tanh and Relu are)");
}

/// x[:, ::-1]: the steps of axis 1 in reverse order.
SymbolicTensor reverseTime(Importer &im, const SymbolicTensor &x) {
  int64_t steps = x.shape()[1];
  if (steps < 1)
    im.fail("direction reverse with an unknown number of time steps is not "
            "supported (Y is put back in time order step by step)");
  if (steps == 1)
    return x;
  std::vector<SymbolicTensor> parts;
  for (int64_t t = steps - 1; t >= 0; --t)
    parts.push_back(ops::slice(x, 1, t, 1));
  return ops::concat(parts, 1);
}

/// Direction `d` of ONNX's W (D, G H, I), R (D, G H, H) and B (D, 2 G H)
/// as Keras's kernel (I, G H), recurrent_kernel (H, G H) and bias: ONNX's
/// gates are LSTM i, o, f, c and GRU z, r, h; Keras's LSTM i, f, c, o and
/// GRU z, r, h (with reset_after a (2, G H) bias, Wb then Rb).
std::vector<Tensor> kerasWeights(Cell cell, const Tensor &w, const Tensor &r,
                                 const Tensor *b, int64_t d, int64_t hidden,
                                 bool resetAfter) {
  const int64_t lstmOrder[] = {0, 2, 3, 1}, sameOrder[] = {0, 1, 2};
  const int64_t *order = cell == Cell::LSTM ? lstmOrder : sameOrder;
  int64_t gates = w.dim(1) / hidden, in = w.dim(2), width = gates * hidden;
  Tensor kernel({in, width}), recurrent({hidden, width});
  bool twoBiases = cell == Cell::GRU && resetAfter;
  Tensor bias = twoBiases ? Tensor({2, width}) : Tensor({width});
  const float *wd = w.data<float>() + d * width * in;
  const float *rd = r.data<float>() + d * width * hidden;
  const float *bd = b ? b->data<float>() + d * 2 * width : nullptr;
  float *k = kernel.data<float>(), *rk = recurrent.data<float>(),
        *bias0 = bias.data<float>();
  for (int64_t g = 0; g < gates; ++g)
    for (int64_t j = 0; j < hidden; ++j) {
      int64_t row = order[g] * hidden + j, col = g * hidden + j;
      for (int64_t i = 0; i < in; ++i)
        k[i * width + col] = wd[row * in + i];
      for (int64_t h = 0; h < hidden; ++h)
        rk[h * width + col] = rd[row * hidden + h];
      float wb = bd ? bd[row] : 0, rb = bd ? bd[width + row] : 0;
      if (twoBiases) {
        bias0[col] = wb;
        bias0[width + col] = rb;
      } else {
        bias0[col] = wb + rb;
      }
    }
  return {kernel, recurrent, bias};
}

bool outputUsed(Importer &im, int i) {
  return i < im.current().output_size() && !im.current().output(i).empty();
}

/// LSTM, GRU and RNN: a Keras recurrent layer (a Bidirectional one for
/// direction bidirectional) over the batch-first form of X.
void recurrent(Importer &im, Cell cell) {
  const int64_t gates = cell == Cell::LSTM ? 4 : cell == Cell::GRU ? 3 : 1;
  std::string direction = im.attrString("direction", "forward");
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    im.fail("direction '" + direction + "' is not an ONNX value");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  bool batchFirst = im.attrInt("layout", 0) != 0;
  if (im.hasAttr("clip"))
    im.fail("attribute 'clip' is not supported (Keras's recurrent layers do "
            "not clip)");
  if (cell == Cell::LSTM && im.attrInt("input_forget", 0) != 0)
    im.fail("input_forget 1 (coupled input and forget gates) is not "
            "supported");
  bool resetAfter =
      cell != Cell::GRU || im.attrInt("linear_before_reset", 0) != 0;
  if (im.hasAttr("activation_alpha") || im.hasAttr("activation_beta"))
    im.fail("activation_alpha and activation_beta are not supported");
  std::vector<std::string> defaults =
      cell == Cell::LSTM  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
      : cell == Cell::GRU ? std::vector<std::string>{"Sigmoid", "Tanh"}
                          : std::vector<std::string>{"Tanh"};
  size_t n = defaults.size();
  std::vector<std::string> acts = im.attrStrings("activations", {});
  if (acts.empty())
    for (int64_t d = 0; d < dirs; ++d)
      acts.insert(acts.end(), defaults.begin(), defaults.end());
  if (acts.size() != n * dirs)
    im.fail("activations has " + std::to_string(acts.size()) + " names; " +
            std::to_string(n * dirs) + " are needed");
  for (size_t j = n; j < acts.size(); ++j)
    if (acts[j] != acts[j % n])
      im.fail("different activations per direction are not supported");
  std::string act = kerasActivation(im, acts[cell == Cell::SimpleRNN ? 0 : 1]);
  std::string recurrentAct =
      cell == Cell::SimpleRNN ? "sigmoid" : kerasActivation(im, acts[0]);
  if (cell == Cell::LSTM && acts[2] != acts[1])
    im.fail("activations " + acts[1] + " (cell) and " + acts[2] +
            " (output) differ; Keras's LSTM uses one activation for both");

  const Tensor &w = floatConstant(im, 1, "W"), &r = floatConstant(im, 2, "R");
  if (w.rank() != 3 || w.dim(0) != dirs || w.dim(1) % gates || w.dim(1) == 0)
    im.fail("W has shape " + w.shapeString() + "; (" + std::to_string(dirs) +
            ", " + std::to_string(gates) +
            " * hidden_size, input_size) is "
            "needed");
  int64_t hidden = im.attrInt("hidden_size", w.dim(1) / gates);
  int64_t in = w.dim(2), width = gates * hidden;
  if (hidden != w.dim(1) / gates ||
      r.shape() != std::vector<int64_t>{dirs, width, hidden})
    im.fail("W of shape " + w.shapeString() + " and R of shape " +
            r.shapeString() + " do not fit hidden_size " +
            std::to_string(hidden));
  const Tensor *b = nullptr;
  if (im.hasInput(3)) {
    b = &floatConstant(im, 3, "B");
    if (b->shape() != std::vector<int64_t>{dirs, 2 * width})
      im.fail("B has shape " + b->shapeString() + "; (" + std::to_string(dirs) +
              ", " + std::to_string(2 * width) + ") is needed");
  }

  SymbolicTensor x;
  if (batchFirst) {
    x = im.tensor(0, Layout::Onnx);
  } else {
    Value &xv = im.value(0);
    if (!xv.isTensor() || xv.layout != Layout::TimeMajor)
      im.fail("X ('" + im.current().input(0) +
              "') is not time-major here: its first axis is layerc's batch "
              "axis, but with layout 0 ONNX reads it as time (T, N, F); X "
              "must be the Transpose [1, 0, 2] of a batch-first tensor (what "
              "PyTorch exports for batch_first=True), or the node must have "
              "layout 1");
    x = xv.tensor;
  }
  if (x.shape().size() != 3 || x.shape()[2] != in)
    im.fail("X of shape " + formatShape(im.shape(0)) +
            " does not fit W of shape " + w.shapeString());
  int64_t steps = x.shape()[1];
  if (im.hasInput(4))
    for (int64_t len : im.constantInts(4, "sequence_lens"))
      if (len != steps)
        im.fail("sequence_lens other than the full length of every sequence "
                "are not supported");
  if (!zeroInput(im, 5))
    im.fail("initial_h other than zeros is not supported");
  if (cell == Cell::LSTM && !zeroInput(im, 6))
    im.fail("initial_c other than zeros is not supported");
  if (cell == Cell::LSTM && !zeroInput(im, 7))
    im.fail("peepholes (P) are not supported");

  bool wantY = outputUsed(im, 0);
  bool wantStates = outputUsed(im, 1) || outputUsed(im, 2);
  RecurrentOptions o{.activation = act,
                     .recurrent_activation = recurrentAct,
                     .return_sequences = wantY,
                     .return_state = wantStates,
                     .go_backwards = direction == "reverse",
                     .reset_after = resetAfter};
  auto layer = std::make_shared<RecurrentLayer>(cell, hidden, o);
  std::vector<SymbolicTensor> outs;
  if (dirs == 1) {
    outs = layer->apply({x});
    im.setWeights(layer, kerasWeights(cell, w, r, b, 0, hidden, resetAfter));
    if (o.go_backwards && wantY)
      outs[0] = reverseTime(im, outs[0]);
  } else {
    auto bi =
        std::make_shared<BidirectionalLayer>(*layer, BidirectionalOptions{});
    outs = bi->apply({x});
    im.setWeights(bi->forwardLayer(),
                  kerasWeights(cell, w, r, b, 0, hidden, resetAfter));
    im.setWeights(bi->backwardLayer(),
                  kerasWeights(cell, w, r, b, 1, hidden, resetAfter));
    // [y, forward states..., backward states...]: each state with its two
    // directions side by side, as ONNX's (D, N, H) stored as (N, D * H).
    if (wantStates) {
      size_t states = cell == Cell::LSTM ? 2 : 1;
      std::vector<SymbolicTensor> merged{outs[0]};
      for (size_t s = 0; s < states; ++s)
        merged.push_back(ops::concat({outs[1 + s], outs[1 + states + s]}, 1));
      outs = merged;
    }
  }
  auto define = [&](int i, const SymbolicTensor &t, Layout layout) {
    if (batchFirst) {
      // ONNX's Y (N, T, D, H) and states (N, D, H).
      std::vector<int64_t> sample =
          layout == Layout::RnnSequence
              ? std::vector<int64_t>{steps, dirs, hidden}
              : std::vector<int64_t>{dirs, hidden};
      im.define(i, layers::Reshape(sample)(t));
      return;
    }
    Value v;
    v.tensor = t;
    v.layout = layout;
    v.directions = dirs;
    im.defineValue(i, std::move(v));
  };
  if (wantY)
    define(0, outs[0], Layout::RnnSequence);
  if (wantStates)
    for (int i = 1; i < static_cast<int>(outs.size()); ++i)
      define(i, outs[i], Layout::RnnState);
}

//===----------------------------------------------------------------------===//
// Time-major tensors through the operators that bring the batch first
//===----------------------------------------------------------------------===//

/// The axes of an Unsqueeze or Squeeze (attribute or input 1), each made
/// non-negative for `rank`, sorted.
std::vector<int64_t> axesOf(Importer &im, int64_t rank) {
  std::vector<int64_t> axes = im.attrInts("axes", {});
  if (im.hasInput(1))
    axes = im.constantInts(1, "axes");
  for (int64_t &a : axes)
    if (a < 0)
      a += rank;
  std::sort(axes.begin(), axes.end());
  return axes;
}

void defineLike(Importer &im, const Value &from, SymbolicTensor t,
                Layout layout) {
  Value v;
  v.tensor = std::move(t);
  v.layout = layout;
  v.directions = from.directions;
  im.defineValue(0, std::move(v));
}

void transposeTime(Importer &im, const NodeMapper &base) {
  Value &v = im.value(0);
  if (!v.isTensor())
    return base(im);
  int64_t rank = static_cast<int64_t>(im.shape(0).size());
  std::vector<int64_t> perm(rank), swap01(rank);
  for (int64_t i = 0; i < rank; ++i) {
    perm[i] = rank - 1 - i;
    swap01[i] = i;
  }
  if (rank >= 2)
    std::swap(swap01[0], swap01[1]);
  perm = im.attrInts("perm", perm);
  if (!movesBatch(v.layout)) {
    if (rank >= 3 && perm == swap01)
      return defineLike(im, v, im.tensor(0, Layout::Onnx), Layout::TimeMajor);
    return base(im);
  }
  const std::vector<int64_t> &s = v.tensor.shape();
  int64_t d = v.directions;
  if (v.layout == Layout::TimeMajor && perm == swap01)
    return defineLike(im, v, v.tensor, Layout::Onnx);
  // Y (T, D, N, H) as (N, T, D, H) or (T, N, D, H).
  if (v.layout == Layout::RnnSequence &&
      (perm == std::vector<int64_t>{2, 0, 1, 3} ||
       perm == std::vector<int64_t>{0, 2, 1, 3}))
    return defineLike(im, v, layers::Reshape({s[1], d, s[2] / d})(v.tensor),
                      perm[0] == 2 ? Layout::Onnx : Layout::TimeMajor);
  // Y_h (D, N, H) as (N, D, H).
  if (v.layout == Layout::RnnState && perm == std::vector<int64_t>{1, 0, 2})
    return defineLike(im, v, layers::Reshape({d, s[1] / d})(v.tensor),
                      Layout::Onnx);
  im.fail("perm " + text(perm) + " of a time-major tensor of ONNX shape " +
          formatShape(im.shape(0)) +
          " does not bring the batch axis first (layerc keeps the batch on "
          "the first axis)");
}

void squeezeTime(Importer &im, const NodeMapper &base) {
  Value &v = im.value(0);
  if (!v.isTensor() || !movesBatch(v.layout))
    return base(im);
  std::vector<int64_t> axes =
      axesOf(im, static_cast<int64_t>(im.shape(0).size()));
  if (v.layout == Layout::RnnSequence && v.directions == 1 &&
      axes == std::vector<int64_t>{1})
    return defineLike(im, v, v.tensor, Layout::TimeMajor);
  if (v.layout == Layout::RnnState && v.directions == 1 &&
      axes == std::vector<int64_t>{0})
    return defineLike(im, v, v.tensor, Layout::Onnx);
  im.fail("squeezing axes " + text(axes) +
          " of a time-major tensor of ONNX shape " + formatShape(im.shape(0)) +
          " is not supported (axis 1 of an LSTM/GRU/RNN's Y and axis 0 of "
          "its Y_h, with one direction, are)");
}

/// Reshape of a time-major tensor that keeps its first two axes.
void reshapeTime(Importer &im, const NodeMapper &base) {
  Value &v = im.value(0);
  if (!v.isTensor() || !movesBatch(v.layout))
    return base(im);
  std::vector<int64_t> xs = im.shape(0);
  std::vector<int64_t> target = im.constantInts(1, "the shape");
  if (im.attrInt("allowzero", 0))
    im.fail("allowzero 1 is not supported");
  if (v.layout != Layout::TimeMajor || target.size() < 2 ||
      !(target[0] == 0 || (xs[0] >= 0 && target[0] == xs[0])) || target[1] != 0)
    im.fail("the shape " + text(target) +
            " for a time-major tensor of ONNX shape " + formatShape(xs) +
            " is not supported (one that keeps the time and batch axes, "
            "[0, 0, ...], is)");
  std::vector<int64_t> sample{xs[0]};
  int64_t unknown = xs[0] < 0;
  for (size_t i = 2; i < target.size(); ++i) {
    int64_t d = target[i] == 0 && i < xs.size() ? xs[i] : target[i];
    if (d < -1 || d == 0)
      im.fail("the shape " + text(target) + " has a size out of range");
    unknown += d == -1;
    sample.push_back(d);
  }
  if (unknown > 1)
    im.fail("the shape " + text(target) + " leaves more than one axis unknown");
  defineLike(im, v, layers::Reshape(sample)(v.tensor), Layout::TimeMajor);
}

/// Gather of one index along a non-batch axis (out[:, -1] of a sequence),
/// of integers computed from shapes, or of an LSTM/GRU/RNN's output.
void gatherAxis(Importer &im, const NodeMapper &base) {
  Value &v = im.value(0);
  if (v.constant || !im.hasInput(1) || !im.isConstant(1))
    return base(im);
  int64_t rank = static_cast<int64_t>(im.shape(0).size());
  int64_t axis = im.attrInt("axis", 0);
  if (axis < 0)
    axis += rank;
  const Tensor &idx = im.constant(1, "the indices");
  if (idx.dtype() != DType::Int64)
    im.fail("the indices must be integers");
  const int64_t *ids = idx.data<int64_t>();
  if (v.dims) {
    if (axis != 0 || idx.rank() > 1)
      im.fail("gathering from a shape needs axis 0 and at most a vector of "
              "indices");
    Value out;
    out.dims.emplace();
    out.scalar = idx.rank() == 0;
    int64_t size = static_cast<int64_t>(v.dims->size());
    for (int64_t i = 0; i < idx.numel(); ++i) {
      int64_t at = ids[i] < 0 ? ids[i] + size : ids[i];
      if (at < 0 || at >= size)
        im.fail("index " + std::to_string(ids[i]) + " is out of range");
      out.dims->push_back((*v.dims)[at]);
    }
    return im.defineValue(0, std::move(out));
  }
  if (v.zeros)
    im.tensor(0, Layout::Onnx); // fails, naming the input
  if (idx.numel() != 1 || idx.rank() > 1 ||
      (!movesBatch(v.layout) && axis == 0)) {
    if (movesBatch(v.layout))
      im.fail("gathering several indices from a time-major tensor is not "
              "supported");
    return base(im);
  }
  std::vector<int64_t> xs = im.shape(0);
  if (axis < 0 || axis >= rank || xs[axis] < 0)
    im.fail("gathering along axis " + std::to_string(axis) +
            " of unknown size or out of range is not supported");
  int64_t index = ids[0] < 0 ? ids[0] + xs[axis] : ids[0];
  if (index < 0 || index >= xs[axis])
    im.fail("index " + std::to_string(ids[0]) + " is out of range");
  bool keep = idx.rank() == 1;
  auto pick = [&](const SymbolicTensor &t, int64_t a) {
    return keep ? ops::slice(t, a, index, 1) : ops::take(t, a, index);
  };
  switch (v.layout) {
  case Layout::Onnx:
  case Layout::ChannelsLast:
    return defineLike(im, v, pick(im.tensor(0, Layout::Onnx), axis),
                      Layout::Onnx);
  case Layout::TimeMajor:
    // (T, N, ...) stored as (N, T, ...): a time step is batch-first.
    if (axis == 0)
      return defineLike(im, v, pick(v.tensor, 1),
                        keep ? Layout::TimeMajor : Layout::Onnx);
    if (axis >= 2)
      return defineLike(im, v, pick(v.tensor, axis), Layout::TimeMajor);
    break;
  case Layout::RnnSequence:
    // A step of Y (T, D, N, H): Y_h's layout.
    if (axis == 0 && !keep)
      return defineLike(im, v, ops::take(v.tensor, 1, index), Layout::RnnState);
    break;
  case Layout::RnnState:
    // One direction of Y_h (D, N, H): (N, H).
    if (axis == 0 && !keep) {
      int64_t h = v.tensor.shape()[1] / v.directions;
      return defineLike(
          im, v,
          v.directions == 1 ? v.tensor : ops::slice(v.tensor, 1, index * h, h),
          Layout::Onnx);
    }
    break;
  }
  im.fail("gathering along axis " + std::to_string(axis) +
          " of a time-major tensor of ONNX shape " + formatShape(xs) +
          " is not supported");
}

//===----------------------------------------------------------------------===//
// Slice, and integers computed from shapes
//===----------------------------------------------------------------------===//

/// Slice with step 1 along axes other than the batch (which it may cover
/// whole); also of zeros (Value::zeros) and of shape integers.
void slice(Importer &im) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (im.opset() < 10) {
    starts = im.attrInts("starts", {});
    ends = im.attrInts("ends", {});
    axes = im.attrInts("axes", {});
  } else {
    starts = im.constantInts(1, "starts");
    ends = im.constantInts(2, "ends");
    if (im.hasInput(3))
      axes = im.constantInts(3, "axes");
    if (im.hasInput(4))
      steps = im.constantInts(4, "steps");
  }
  Value &v = im.value(0);
  if (v.constant)
    im.fail("slicing a constant is not supported");
  std::vector<int64_t> xs =
      v.dims ? std::vector<int64_t>{static_cast<int64_t>(v.dims->size())}
             : im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    im.fail("starts, ends, axes and steps differ in length");
  // The batch axis of ONNX's shape, and the stored axis of each ONNX axis.
  int64_t batch = 0;
  std::vector<int64_t> stored(rank);
  for (int64_t a = 0; a < rank; ++a)
    stored[a] = a;
  if (v.layout == Layout::TimeMajor && rank >= 2) {
    batch = 1;
    std::swap(stored[0], stored[1]);
  } else if (v.layout == Layout::RnnSequence) {
    batch = 2;
    stored = {1, -1, 0, -1};
  } else if (v.layout == Layout::RnnState) {
    batch = 1;
    stored = {-1, 0, -1};
  }
  if (v.dims || v.zeros)
    batch = -1; // an unknown size (the batch) is sliced whole only
  std::vector<int64_t> begin(rank, 0), size = xs;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank)
      im.fail("axis " + std::to_string(axes[i]) + " is out of range");
    int64_t dim = xs[a], s = starts[i], e = ends[i];
    bool whole = s == 0 && e >= (int64_t(1) << 31) - 1 && steps[i] == 1;
    if (dim < 0) {
      if (!whole)
        im.fail("slicing axis " + std::to_string(a) +
                " of unknown size is not supported (the whole of it is)");
      continue;
    }
    if (steps[i] != 1)
      im.fail("steps other than 1 are not supported");
    s = std::clamp<int64_t>(s < 0 ? s + dim : s, 0, dim);
    e = std::clamp<int64_t>(e < 0 ? e + dim : e, 0, dim);
    if (e <= s)
      im.fail("an empty slice is not supported");
    if (e - s == dim)
      continue;
    if (a == batch || (!v.dims && !v.zeros && stored[a] < 0))
      im.fail("slicing axis " + std::to_string(a) +
              " (the batch, or the directions or units of an RNN's output) "
              "is not supported");
    begin[a] = s;
    size[a] = e - s;
  }
  Value out = v;
  if (v.dims) {
    out.dims->assign(v.dims->begin() + begin[0],
                     v.dims->begin() + begin[0] + size[0]);
    return im.defineValue(0, std::move(out));
  }
  if (v.zeros) {
    out.zeros = size;
    return im.defineValue(0, std::move(out));
  }
  SymbolicTensor t =
      movesBatch(v.layout) ? v.tensor : im.tensor(0, Layout::Onnx);
  for (int64_t a = 0; a < rank; ++a)
    if (size[a] != xs[a])
      t = ops::slice(t, stored[a], begin[a], size[a]);
  out.other.reset();
  out.tensor = t;
  if (!movesBatch(v.layout))
    out.layout = Layout::Onnx;
  im.defineValue(0, std::move(out));
}

/// Shape: constant where every size is known, else integers with the
/// batch size symbolic.
void shapeNode(Importer &im) {
  Value &v = im.value(0);
  std::vector<int64_t> s = im.shape(0);
  int64_t rank = static_cast<int64_t>(s.size());
  int64_t start = im.attrInt("start", 0), end = im.attrInt("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  int64_t batch = v.isTensor() ? 0 : -1;
  if (v.isTensor() &&
      (v.layout == Layout::TimeMajor || v.layout == Layout::RnnState))
    batch = 1;
  if (v.isTensor() && v.layout == Layout::RnnSequence)
    batch = 2;
  std::vector<int64_t> dims;
  bool symbolic = false;
  for (int64_t a = start; a < end; ++a) {
    if (a == batch || (v.zeros && s[a] == kBatchDim)) {
      dims.push_back(kBatchDim);
      symbolic = true;
      continue;
    }
    if (s[a] < 0)
      im.fail("axis " + std::to_string(a) +
              " has an unknown size; Shape is supported where only the batch "
              "size is unknown");
    dims.push_back(s[a]);
  }
  if (symbolic) {
    Value out;
    out.dims = dims;
    return im.defineValue(0, std::move(out));
  }
  Tensor t({static_cast<int64_t>(dims.size())}, DType::Int64);
  std::copy(dims.begin(), dims.end(), t.data<int64_t>());
  im.defineConstant(0, t);
}

/// ConstantOfShape: a constant, or zeros of a shape with the batch size.
void constantOfShape(Importer &im) {
  Value &v = im.value(0);
  std::vector<int64_t> shape =
      v.dims ? *v.dims : im.constantInts(0, "the shape");
  Tensor value = Tensor::fromFloats({0}, {});
  if (const onnx::TensorProto *p = im.attrTensor("value"))
    value = tensorFromProto(*p, "the value");
  if (value.numel() != 1)
    im.fail("the value must hold one element");
  if (std::count(shape.begin(), shape.end(), kBatchDim) && v.dims) {
    if (value.dtype() != DType::Float32 || value.data<float>()[0] != 0)
      im.fail("a shape with the batch size is supported for float zeros "
              "only (an LSTM/GRU/RNN's initial state)");
    Value out;
    out.zeros = shape;
    return im.defineValue(0, std::move(out));
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > (int64_t(1) << 31) || (count *= d) > (int64_t(1) << 31))
      im.fail("the shape " + text(shape) + " is out of range");
  }
  Tensor t(shape, value.dtype());
  size_t bytes = dtypeSize(value.dtype());
  char *out = static_cast<char *>(t.rawData());
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(out + i * bytes, value.rawData(), bytes);
  im.defineConstant(0, t);
}

void unsqueezeDims(Importer &im, const NodeMapper &base) {
  Value &v = im.value(0);
  if (!v.dims)
    return base(im);
  if (!v.scalar || axesOf(im, 1) != std::vector<int64_t>{0})
    im.fail("only a scalar shape integer unsqueezed on axis 0 is supported");
  Value out = v;
  out.scalar = false;
  im.defineValue(0, std::move(out));
}

void concatDims(Importer &im, const NodeMapper &base) {
  int n = im.numInputs();
  bool any = false;
  for (int i = 0; i < n; ++i)
    any = any || im.value(i).dims.has_value();
  if (!any)
    return base(im);
  if (im.attrInt("axis", 0) != 0)
    im.fail("concatenating shape integers needs axis 0");
  Value out;
  out.dims.emplace();
  for (int i = 0; i < n; ++i) {
    Value &v = im.value(i);
    if (v.dims && v.scalar)
      im.fail("concatenating a scalar is not supported");
    std::vector<int64_t> part = v.dims ? *v.dims : im.constantInts(i, "input");
    out.dims->insert(out.dims->end(), part.begin(), part.end());
  }
  im.defineValue(0, std::move(out));
}

} // namespace

void onnximport::addRecurrentMappers(std::map<std::string, NodeMapper> &m) {
  m["LSTM"] = [](Importer &im) { recurrent(im, Cell::LSTM); };
  m["GRU"] = [](Importer &im) { recurrent(im, Cell::GRU); };
  m["RNN"] = [](Importer &im) { recurrent(im, Cell::SimpleRNN); };
  m["Slice"] = slice;
  m["Shape"] = shapeNode;
  m["ConstantOfShape"] = constantOfShape;
  auto wrap = [&](const char *op,
                  void (*mapper)(Importer &, const NodeMapper &)) {
    NodeMapper base = m.at(op);
    m[op] = [base, mapper](Importer &im) { mapper(im, base); };
  };
  wrap("Transpose", transposeTime);
  wrap("Squeeze", squeezeTime);
  wrap("Unsqueeze", unsqueezeDims);
  wrap("Reshape", reshapeTime);
  wrap("Gather", gatherAxis);
  wrap("Concat", concatDims);
}
