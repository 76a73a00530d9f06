//===- OnnxOps.cpp - One Keras layer (or a few) per ONNX operator ---------===//
//
// Each mapper reads its node's inputs and attributes through the Importer,
// refuses what the layers cannot compute exactly (naming the attribute or
// the shape), and defines the node's outputs. Spatial operators work
// channels-last (Layout::ChannelsLast); operators whose axes are ONNX's
// (Reshape, Flatten, Transpose, Gemm, ...) take the ONNX layout, and the
// Importer inserts the Permute between the two once per value.
//
//===----------------------------------------------------------------------===//

#include "frontend/Ops.h"
#include "frontend/import/OnnxImporter.h"
#include "frontend/layers/Composite.h"
#include "frontend/layers/Convolution.h"
#include "frontend/layers/Core.h"
#include "frontend/layers/Noise.h"
#include "frontend/layers/Normalization.h"
#include "runtime/Error.h"

#include <onnx/onnx_pb.h>

#include <cmath>

using namespace layerc;
using namespace layerc::onnximport;

namespace {

std::string text(const std::vector<int64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/// The number of spatial axes of input `i` (its rank less N and C), 1 to 3.
int64_t spatialRank(Importer &im, int i) {
  int64_t k = static_cast<int64_t>(im.shape(i).size()) - 2;
  if (k < 1 || k > 3)
    im.fail("takes a tensor of rank 3 to 5 (N, C, spatial...); input has "
            "rank " +
            std::to_string(k + 2));
  return k;
}

std::vector<int64_t> ints(Importer &im, const char *name, int64_t k,
                          int64_t value) {
  std::vector<int64_t> v = im.attrInts(name, std::vector<int64_t>(k, value));
  if (static_cast<int64_t>(v.size()) != k)
    im.fail("attribute '" + std::string(name) + "' has " +
            std::to_string(v.size()) + " values for " + std::to_string(k) +
            " spatial axes");
  for (int64_t x : v)
    if (x < 1)
      im.fail("attribute '" + std::string(name) + "' " + text(v) +
              " must be positive");
  return v;
}

/// The padding of a window op: "valid", "same" (both Keras's, which pads
/// the odd element at the end, as ONNX's SAME_UPPER) or "explicit" with the
/// pads in `pads` (begin for each axis, then end).
std::string windowPadding(Importer &im, const std::vector<int64_t> &in,
                          const std::vector<int64_t> &kernel,
                          const std::vector<int64_t> &strides,
                          const std::vector<int64_t> &dilations,
                          std::vector<int64_t> &pads) {
  size_t k = kernel.size();
  std::string autoPad = im.attrString("auto_pad", "NOTSET");
  // Keras's "same" pads, where they do not depend on an unknown size.
  std::optional<std::vector<int64_t>> same(std::vector<int64_t>(2 * k));
  for (size_t d = 0; d < k; ++d) {
    int64_t extent = dilations[d] * (kernel[d] - 1) + 1;
    int64_t total;
    if (in[d] < 0) {
      if (strides[d] != 1) {
        same.reset();
        break;
      }
      total = extent - 1;
    } else {
      int64_t out = (in[d] + strides[d] - 1) / strides[d];
      total = std::max<int64_t>((out - 1) * strides[d] + extent - in[d], 0);
    }
    (*same)[d] = total / 2;
    (*same)[d + k] = total - total / 2;
  }
  if (autoPad == "VALID") {
    pads.assign(2 * k, 0);
    return "valid";
  }
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    if (!same)
      im.fail("auto_pad " + autoPad +
              " on an axis of unknown size with a "
              "stride above 1 is not supported");
    pads = *same;
    if (autoPad == "SAME_LOWER")
      for (size_t d = 0; d < k; ++d)
        std::swap(pads[d], pads[d + k]);
    return pads == *same ? "same" : "explicit";
  }
  if (autoPad != "NOTSET")
    im.fail("auto_pad '" + autoPad + "' is not an ONNX value");
  pads = im.attrInts("pads", std::vector<int64_t>(2 * k, 0));
  if (pads.size() != 2 * k)
    im.fail("attribute 'pads' " + text(pads) + " needs " +
            std::to_string(2 * k) + " values");
  for (int64_t p : pads)
    if (p < 0 || p > (int64_t(1) << 20))
      im.fail("attribute 'pads' " + text(pads) + " is out of range");
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return "valid";
  if (same && pads == *same)
    return "same";
  return "explicit";
}

/// Zeros around the spatial axes of a channels-last tensor.
SymbolicTensor zeroPad(const SymbolicTensor &x, const std::vector<int64_t> &p) {
  size_t k = p.size() / 2;
  std::vector<layers::Crop> edges;
  for (size_t d = 0; d < k; ++d)
    edges.emplace_back(p[d], p[d + k]);
  if (k == 1)
    return layers::ZeroPadding1D(edges[0])(x);
  if (k == 2)
    return layers::ZeroPadding2D(edges)(x);
  return layers::ZeroPadding3D(edges)(x);
}

std::vector<int64_t> spatialOf(const std::vector<int64_t> &shape) {
  return std::vector<int64_t>(shape.begin() + 2, shape.end());
}

/// W (O, I, k...) as Keras's kernel (k..., I, O); also ConvTranspose's W
/// (I, O, k...) as (k..., O, I).
Tensor kerasKernel(const Tensor &w) {
  std::vector<int64_t> perm;
  for (int64_t d = 2; d < w.rank(); ++d)
    perm.push_back(d);
  perm.push_back(1);
  perm.push_back(0);
  return transposed(w, perm);
}

Tensor floatConstant(Importer &im, int i, const std::string &what) {
  const Tensor &t = im.constant(i, what);
  if (t.dtype() != DType::Float32)
    im.fail(what + " must be float32");
  return t.clone();
}

/// A float32 constant of exactly `shape`.
Tensor vectorConstant(Importer &im, int i, const std::string &what,
                      int64_t size) {
  Tensor t = floatConstant(im, i, what);
  if (t.numel() != size || t.rank() != 1)
    im.fail(what + " has shape " + t.shapeString() + " but " +
            std::to_string(size) + " values (a vector) are needed");
  return t;
}

void conv(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  Tensor w = floatConstant(im, 1, "the weight W");
  int64_t k = spatialRank(im, 0);
  if (w.rank() != k + 2)
    im.fail("W has shape " + w.shapeString() + " for an input of shape " +
            formatShape(xs));
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  if (im.attrInts("kernel_shape", kernel) != kernel)
    im.fail("kernel_shape does not match W's shape " + w.shapeString());
  int64_t group = im.attrInt("group", 1);
  int64_t cin = xs[1], cout = w.dim(0);
  if (group < 1 || cin < 0 || cin % group || w.dim(1) != cin / group ||
      cout % group)
    im.fail("W of shape " + w.shapeString() + " with group " +
            std::to_string(group) + " does not fit an input of shape " +
            formatShape(xs));
  std::vector<int64_t> strides = ints(im, "strides", k, 1),
                       dilations = ints(im, "dilations", k, 1), pads;
  std::string padding =
      windowPadding(im, spatialOf(xs), kernel, strides, dilations, pads);
  SymbolicTensor x = im.tensor(0, Layout::ChannelsLast);
  if (padding == "explicit") {
    x = zeroPad(x, pads);
    padding = "valid";
  }
  bool bias = im.hasInput(2);
  ConvOptions o{.strides = IntTuple(strides),
                .padding = padding,
                .dilation_rate = IntTuple(dilations),
                .groups = group,
                .use_bias = bias};
  std::shared_ptr<ConvLayer> layer =
      k == 1   ? layers::Conv1D(cout, IntTuple(kernel), o).get()
      : k == 2 ? layers::Conv2D(cout, IntTuple(kernel), o).get()
               : layers::Conv3D(cout, IntTuple(kernel), o).get();
  SymbolicTensor y = layer->apply({x}).front();
  std::vector<Tensor> weights{kerasKernel(w)};
  if (bias)
    weights.push_back(vectorConstant(im, 2, "the bias B", cout));
  im.setWeights(layer, weights);
  im.define(0, y, Layout::ChannelsLast);
}

void convTranspose(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  Tensor w = floatConstant(im, 1, "the weight W");
  int64_t k = spatialRank(im, 0);
  if (w.rank() != k + 2 || w.dim(0) != xs[1])
    im.fail("W has shape " + w.shapeString() + " for an input of shape " +
            formatShape(xs));
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  if (im.attrInts("kernel_shape", kernel) != kernel)
    im.fail("kernel_shape does not match W's shape " + w.shapeString());
  if (im.attrInt("group", 1) != 1)
    im.fail("grouped transposed convolutions are not supported");
  if (im.hasAttr("output_shape"))
    im.fail("attribute 'output_shape' is not supported (give pads)");
  std::vector<int64_t> strides = ints(im, "strides", k, 1),
                       dilations = ints(im, "dilations", k, 1);
  std::vector<int64_t> outputPadding =
      im.attrInts("output_padding", std::vector<int64_t>(k, 0));
  std::string autoPad = im.attrString("auto_pad", "NOTSET");
  std::vector<int64_t> pads =
      im.attrInts("pads", std::vector<int64_t>(2 * k, 0));
  if (outputPadding.size() != static_cast<size_t>(k) ||
      pads.size() != static_cast<size_t>(2 * k))
    im.fail("output_padding " + text(outputPadding) + " or pads " + text(pads) +
            " does not have one value per spatial axis");
  if (autoPad != "NOTSET" && autoPad != "VALID")
    im.fail("auto_pad " + autoPad + " is not supported (give pads)");
  if (autoPad == "VALID")
    pads.assign(2 * k, 0);
  // Keras's "same" crops (k - 1) / 2 on each side of an odd kernel
  // (dilation 1) when there is no output padding (with some, TensorFlow's
  // rule crops less at the start than ONNX's pads say). Any other pads:
  // the whole "valid" result, with the output padding that pads cannot
  // absorb, then cropped.
  bool same = true;
  for (int64_t d = 0; d < k; ++d)
    same = same && kernel[d] % 2 == 1 && dilations[d] == 1 &&
           outputPadding[d] == 0 && pads[d] == (kernel[d] - 1) / 2 &&
           pads[d + k] == pads[d] && pads[d] > 0;
  std::vector<int64_t> extra(k);
  std::vector<layers::Crop> crops;
  bool crop = false;
  for (int64_t d = 0; d < k; ++d) {
    if (pads[d] < 0 || pads[d + k] < 0 || outputPadding[d] < 0 ||
        outputPadding[d] >= strides[d])
      im.fail("pads " + text(pads) + " or output_padding " +
              text(outputPadding) + " are out of range");
    extra[d] = same ? 0 : std::max<int64_t>(outputPadding[d] - pads[d + k], 0);
    crops.emplace_back(
        same ? 0 : pads[d],
        same ? 0 : std::max<int64_t>(pads[d + k] - outputPadding[d], 0));
    crop = crop || crops.back().first || crops.back().second;
  }
  int64_t cout = w.dim(1);
  bool bias = im.hasInput(2);
  ConvTransposeOptions o{.strides = IntTuple(strides),
                         .padding = same ? "same" : "valid",
                         .output_padding = IntTuple(extra),
                         .dilation_rate = IntTuple(dilations),
                         .use_bias = bias};
  std::shared_ptr<ConvLayer> layer =
      k == 1   ? layers::Conv1DTranspose(cout, IntTuple(kernel), o).get()
      : k == 2 ? layers::Conv2DTranspose(cout, IntTuple(kernel), o).get()
               : layers::Conv3DTranspose(cout, IntTuple(kernel), o).get();
  SymbolicTensor y = layer->apply({im.tensor(0, Layout::ChannelsLast)}).front();
  if (crop)
    y = k == 1   ? layers::Cropping1D(crops[0])(y)
        : k == 2 ? layers::Cropping2D(crops)(y)
                 : layers::Cropping3D(crops)(y);
  std::vector<Tensor> weights{kerasKernel(w)};
  if (bias)
    weights.push_back(vectorConstant(im, 2, "the bias B", cout));
  im.setWeights(layer, weights);
  im.define(0, y, Layout::ChannelsLast);
}

void pool(Importer &im, PoolingLayer::Kind kind) {
  int64_t k = spatialRank(im, 0);
  std::vector<int64_t> xs = im.shape(0);
  if (im.current().output_size() > 1)
    im.fail("the Indices output is not supported");
  std::vector<int64_t> kernel = ints(im, "kernel_shape", k, 1);
  if (!im.hasAttr("kernel_shape"))
    im.fail("attribute 'kernel_shape' is required");
  std::vector<int64_t> strides = ints(im, "strides", k, 1),
                       dilations = ints(im, "dilations", k, 1), pads;
  for (int64_t d : dilations)
    if (d != 1)
      im.fail("dilated pooling is not supported");
  if (im.attrInt("storage_order", 0) != 0)
    im.fail("storage_order 1 is not supported");
  bool ceil = im.attrInt("ceil_mode", 0) != 0;
  std::string padding =
      windowPadding(im, spatialOf(xs), kernel, strides, dilations, pads);
  if (kind == PoolingLayer::Kind::Average &&
      im.attrInt("count_include_pad", 0) != 0 && padding != "valid")
    im.fail("count_include_pad 1 with padding is not supported (Keras's "
            "average pooling leaves the padding out)");
  if (padding == "explicit")
    im.fail("pads " + text(pads) +
            " are neither none nor Keras's \"same\" padding");
  if (ceil)
    for (int64_t d = 0; d < k; ++d) {
      int64_t in = xs[d + 2] + pads[d] + pads[d + k] - kernel[d];
      if (xs[d + 2] < 0 || in % strides[d] != 0)
        im.fail("ceil_mode 1 is supported only where it rounds nothing");
    }
  PoolingOptions o{.strides = IntTuple(strides), .padding = padding};
  IntTuple size(kernel);
  SymbolicTensor x = im.tensor(0, Layout::ChannelsLast), y;
  bool max = kind == PoolingLayer::Kind::Max;
  if (k == 1)
    y = max ? layers::MaxPooling1D(size, o)(x)
            : layers::AveragePooling1D(size, o)(x);
  else if (k == 2)
    y = max ? layers::MaxPooling2D(size, o)(x)
            : layers::AveragePooling2D(size, o)(x);
  else
    y = max ? layers::MaxPooling3D(size, o)(x)
            : layers::AveragePooling3D(size, o)(x);
  im.define(0, y, Layout::ChannelsLast);
}

SymbolicTensor globalPool(const SymbolicTensor &x, int64_t k, bool max,
                          bool keepdims) {
  GlobalPoolingOptions o{.keepdims = keepdims};
  if (k == 1)
    return max ? layers::GlobalMaxPooling1D(o)(x)
               : layers::GlobalAveragePooling1D(o)(x);
  if (k == 2)
    return max ? layers::GlobalMaxPooling2D(o)(x)
               : layers::GlobalAveragePooling2D(o)(x);
  return max ? layers::GlobalMaxPooling3D(o)(x)
             : layers::GlobalAveragePooling3D(o)(x);
}

void globalPoolNode(Importer &im, bool max) {
  int64_t k = spatialRank(im, 0);
  im.define(0, globalPool(im.tensor(0, Layout::ChannelsLast), k, max, true),
            Layout::ChannelsLast);
}

/// ReduceMean / ReduceMax over every spatial axis: a global pool.
void reduce(Importer &im, bool max) {
  std::vector<int64_t> xs = im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  std::vector<int64_t> axes = im.attrInts("axes", {});
  if (im.hasInput(1))
    axes = im.constantInts(1, "axes");
  bool keepdims = im.attrInt("keepdims", 1) != 0;
  if (im.attrInt("noop_with_empty_axes", 0) != 0)
    im.fail("noop_with_empty_axes is not supported");
  for (int64_t &a : axes)
    if (a < 0)
      a += rank;
  std::sort(axes.begin(), axes.end());
  std::vector<int64_t> spatial;
  for (int64_t a = 2; a < rank; ++a)
    spatial.push_back(a);
  if (rank < 3 || axes != spatial)
    im.fail("reducing axes " + text(axes) + " of a rank-" +
            std::to_string(rank) +
            " tensor is not supported (every spatial axis, a global pool, "
            "is)");
  SymbolicTensor y =
      globalPool(im.tensor(0, Layout::ChannelsLast), rank - 2, max, keepdims);
  im.define(0, y, keepdims ? Layout::ChannelsLast : Layout::Onnx);
}

void batchNorm(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  if (xs.size() < 2)
    im.fail("takes a tensor of rank 2 or more");
  if (im.current().output_size() > 1 || im.attrInt("training_mode", 0))
    im.fail("training mode (batch statistics as outputs) is not supported");
  if (im.attrInt("spatial", 1) != 1)
    im.fail("spatial 0 is not supported");
  im.attrInt("is_test", 1); // opset < 7: inference either way
  double epsilon = im.attrFloat("epsilon", 1e-5f);
  double momentum = im.attrFloat("momentum", 0.9f);
  int64_t c = xs[1];
  std::vector<Tensor> weights;
  const char *names[] = {"scale", "B", "mean", "var"};
  for (int i = 1; i <= 4; ++i)
    weights.push_back(vectorConstant(im, i, names[i - 1], c));
  std::shared_ptr<BatchNormalizationLayer> layer =
      layers::BatchNormalization({.momentum = momentum, .epsilon = epsilon})
          .get();
  SymbolicTensor y = layer->apply({im.tensor(0, Layout::ChannelsLast)}).front();
  im.setWeights(layer, weights);
  im.define(0, y, Layout::ChannelsLast);
}

/// Gemm (A B' + C) and MatMul with a constant B: a Dense layer.
void dense(Importer &im, bool gemm) {
  std::vector<int64_t> as = im.shape(0);
  Tensor b = floatConstant(im, 1, "B");
  if (b.rank() != 2)
    im.fail("B has shape " + b.shapeString() + "; a matrix is needed");
  float alpha = 1, beta = 1;
  if (gemm) {
    if (im.attrInt("transA", 0))
      im.fail("transA 1 is not supported (A's first axis is the batch)");
    if (im.attrInt("transB", 0))
      b = transposed(b, {1, 0});
    if (im.opset() < 7)
      im.attrInt("broadcast", 0); // C broadcasts (a vector) or is a matrix
    alpha = im.attrFloat("alpha", 1);
    beta = im.attrFloat("beta", 1);
    if (as.size() != 2)
      im.fail("A must be a matrix; it has shape " + formatShape(as));
  }
  if (as.size() < 2 || as.back() != b.dim(0))
    im.fail("A of shape " + formatShape(as) + " does not fit B of shape " +
            b.shapeString());
  int64_t units = b.dim(1);
  float *kernel = b.data<float>();
  for (int64_t i = 0; i < b.numel(); ++i)
    kernel[i] *= alpha;
  bool bias = gemm && im.hasInput(2);
  std::vector<Tensor> weights{b};
  if (bias) {
    Tensor c = floatConstant(im, 2, "C");
    if (c.numel() == 1) {
      Tensor full({units});
      std::fill_n(full.data<float>(), units, c.data<float>()[0]);
      c = full;
    }
    if (c.numel() != units || (c.rank() == 2 && c.dim(0) != 1) || c.rank() > 2)
      im.fail("C of shape " + c.shapeString() +
              " is not supported (a bias of " + std::to_string(units) +
              " values is)");
    c = c.reshape({units});
    for (int64_t i = 0; i < units; ++i)
      c.data<float>()[i] *= beta;
    weights.push_back(c);
  }
  std::shared_ptr<DenseLayer> layer =
      layers::Dense(units, {.use_bias = bias}).get();
  SymbolicTensor y = layer->apply({im.tensor(0, Layout::Onnx)}).front();
  im.setWeights(layer, weights);
  im.define(0, y);
}

enum class Binary { Add, Sub, Mul, Div, Max, Min, Mean };

/// Element-wise ops of graph tensors of one shape (Keras's merge layers),
/// or of a tensor and a scalar constant.
void elementwise(Importer &im, Binary op) {
  int n = im.numInputs();
  if (n < 1)
    im.fail("needs inputs");
  bool variadic = op == Binary::Add || op == Binary::Max || op == Binary::Min ||
                  op == Binary::Mean;
  if (n != 2 && !(variadic && n >= 1))
    im.fail("takes two inputs");
  // A scalar constant operand.
  if (n == 2 && (im.isConstant(0) || im.isConstant(1))) {
    int ci = im.isConstant(0) ? 0 : 1;
    const Tensor &c = im.constant(ci, "the constant operand");
    if (c.numel() != 1 || c.dtype() != DType::Float32)
      im.fail("a constant operand of shape " + c.shapeString() +
              " is not supported (a float32 scalar is)");
    double v = c.data<float>()[0];
    Layout layout;
    SymbolicTensor x = im.tensorAsIs(1 - ci, layout), y;
    if (op == Binary::Add)
      y = x + ops::full({}, v);
    else if (op == Binary::Sub)
      y = ci == 1 ? x + ops::full({}, -v)
                  : ops::scale(x, -1.0) + ops::full({}, v);
    else if (op == Binary::Mul)
      y = ops::scale(x, v);
    else if (op == Binary::Div && ci == 1 && v != 0)
      y = ops::scale(x, 1.0 / v);
    else if (op == Binary::Max && v == 0)
      y = ops::relu(x);
    else
      im.fail("this operation with a constant operand is not supported");
    im.define(0, y, layout);
    return;
  }
  if (op == Binary::Div)
    im.fail("dividing two graph tensors is not supported");
  std::vector<int64_t> shape0 = im.shape(0);
  bool channelsLast = true;
  for (int i = 0; i < n; ++i) {
    if (im.shape(i) != shape0)
      im.fail("broadcasting " + formatShape(im.shape(i)) + " against " +
              formatShape(shape0) +
              " is not supported (operands of one shape are)");
    Layout l;
    im.tensorAsIs(i, l);
    channelsLast = channelsLast && l == Layout::ChannelsLast;
  }
  Layout layout = channelsLast ? Layout::ChannelsLast : Layout::Onnx;
  std::vector<SymbolicTensor> xs;
  for (int i = 0; i < n; ++i)
    xs.push_back(im.tensor(i, layout));
  if (n == 1) {
    im.define(0, xs[0], layout);
    return;
  }
  SymbolicTensor y;
  switch (op) {
  case Binary::Add:
    y = layers::add(xs);
    break;
  case Binary::Sub:
    y = layers::subtract(xs);
    break;
  case Binary::Mul:
    y = layers::multiply(xs);
    break;
  case Binary::Max:
    y = layers::maximum(xs);
    break;
  case Binary::Min:
    y = layers::minimum(xs);
    break;
  case Binary::Mean:
    y = layers::average(xs);
    break;
  case Binary::Div:
    break;
  }
  im.define(0, y, layout);
}

/// An element-wise activation, in the layout its input has.
void unary(Importer &im,
           const std::function<SymbolicTensor(const SymbolicTensor &)> &apply) {
  Layout layout;
  SymbolicTensor x = im.tensorAsIs(0, layout);
  im.define(0, apply(x), layout);
}

void activation(Importer &im, const std::string &name) {
  unary(im,
        [&](const SymbolicTensor &x) { return layers::Activation(name)(x); });
}

void softmax(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  int64_t axis = im.attrInt("axis", im.opset() >= 13 ? -1 : 1);
  if (axis < 0)
    axis += rank;
  // Before opset 13 Softmax flattens the axes from `axis` on: the same as
  // the last axis only when `axis` is the last.
  if (axis < 1 || axis >= rank || (im.opset() < 13 && axis != rank - 1))
    im.fail("softmax over axis " + std::to_string(axis) + " of a rank-" +
            std::to_string(rank) + " tensor is not supported");
  SymbolicTensor y =
      layers::Softmax({.axis = axis})(im.tensor(0, Layout::Onnx));
  im.define(0, y);
}

/// Reshape to `sample` (the batch kept) in the ONNX layout.
void reshapeTo(Importer &im, std::vector<int64_t> sample) {
  SymbolicTensor x = im.tensor(0, Layout::Onnx);
  std::vector<int64_t> have(x.shape().begin() + 1, x.shape().end());
  if (have == sample) {
    im.define(0, x);
    return;
  }
  im.define(0, layers::Reshape(sample)(x));
}

void reshape(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  std::vector<int64_t> target = im.constantInts(1, "the shape");
  if (im.attrInt("allowzero", 0))
    im.fail("allowzero 1 is not supported");
  if (target.empty() || (target[0] != 0 && target[0] != -1 &&
                         !(xs[0] >= 0 && target[0] == xs[0])))
    im.fail("the shape " + text(target) +
            " changes the batch axis (the first axis must stay: 0 or -1)");
  std::vector<int64_t> sample;
  for (size_t i = 1; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0) {
      if (i >= xs.size())
        im.fail("the shape " + text(target) +
                " copies an axis the input "
                "lacks");
      d = xs[i];
    }
    if (d == -1 && target[0] == -1)
      im.fail("the shape " + text(target) +
              " leaves both the batch and another axis unknown");
    if (d < -1)
      im.fail("the shape " + text(target) + " has a negative size");
    sample.push_back(d);
  }
  reshapeTo(im, sample);
}

void flatten(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  int64_t axis = im.attrInt("axis", 1);
  if (axis != 1)
    im.fail("Flatten over axis " + std::to_string(axis) +
            " is not supported (axis 1, keeping the batch, is)");
  if (xs.size() == 1) {
    reshapeTo(im, {1});
    return;
  }
  SymbolicTensor x = im.tensor(0, Layout::Onnx);
  im.define(0, xs.size() == 2 ? x : layers::Flatten()(x));
}

void transpose(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  std::vector<int64_t> perm(rank);
  for (int64_t i = 0; i < rank; ++i)
    perm[i] = rank - 1 - i;
  perm = im.attrInts("perm", perm);
  if (static_cast<int64_t>(perm.size()) != rank || perm[0] != 0)
    im.fail("perm " + text(perm) + " moves the batch axis");
  std::vector<int64_t> dims(perm.begin() + 1, perm.end()), sorted = dims;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < rank - 1; ++i)
    if (sorted[i] != i + 1)
      im.fail("perm " + text(perm) + " is not a permutation");
  // The channels-last form of the input is this very transpose.
  if (rank > 2 && dims == toChannelsLastDims(rank)) {
    im.define(0, im.tensor(0, Layout::ChannelsLast));
    return;
  }
  im.define(0, layers::Permute(dims)(im.tensor(0, Layout::Onnx)));
}

void concat(Importer &im) {
  int n = im.numInputs();
  std::vector<int64_t> xs = im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  if (!im.hasAttr("axis"))
    im.fail("attribute 'axis' is required");
  int64_t axis = im.attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 1 || axis >= rank)
    im.fail("concatenating along axis " + std::to_string(axis) +
            " is not supported (the batch axis cannot be)");
  bool channelsLast = rank > 2;
  for (int i = 0; i < n; ++i) {
    Layout l;
    im.tensorAsIs(i, l);
    channelsLast = channelsLast && l == Layout::ChannelsLast;
  }
  Layout layout = channelsLast ? Layout::ChannelsLast : Layout::Onnx;
  std::vector<SymbolicTensor> parts;
  for (int i = 0; i < n; ++i)
    parts.push_back(im.tensor(i, layout));
  int64_t kerasAxis = !channelsLast ? axis : axis == 1 ? rank - 1 : axis - 1;
  im.define(0, n == 1 ? parts[0] : layers::concatenate(parts, kerasAxis),
            layout);
}

void dropout(Importer &im) {
  double rate = im.attrFloat("ratio", 0.5f);
  if (im.hasInput(1))
    rate = floatConstant(im, 1, "ratio").data<float>()[0];
  if (im.hasInput(2)) {
    const Tensor &training = im.constant(2, "training_mode");
    if (training.numel() != 1 || training.rawData() == nullptr ||
        static_cast<const uint8_t *>(training.rawData())[0] != 0)
      im.fail("training_mode true is not supported");
  }
  im.attrInt("seed", 0);
  im.attrInt("is_test", 0);
  if (im.current().output_size() > 1 && !im.current().output(1).empty())
    im.fail("the mask output is not supported");
  if (rate < 0 || rate >= 1)
    im.fail("ratio " + std::to_string(rate) + " is not in [0, 1)");
  Layout layout;
  SymbolicTensor x = im.tensorAsIs(0, layout);
  im.define(0, rate == 0 ? x : layers::Dropout(rate)(x), layout);
}

void constantNode(Importer &im) {
  if (const onnx::TensorProto *t = im.attrTensor("value")) {
    im.defineConstant(0, tensorFromProto(*t, "the value"));
    return;
  }
  if (im.hasAttr("value_float")) {
    im.defineConstant(0,
                      Tensor::fromFloats({im.attrFloat("value_float", 0)}, {}));
    return;
  }
  if (im.hasAttr("value_floats")) {
    im.fail("value_floats is not supported");
  }
  if (im.hasAttr("value_int") || im.hasAttr("value_ints")) {
    std::vector<int64_t> v =
        im.hasAttr("value_int")
            ? std::vector<int64_t>{im.attrInt("value_int", 0)}
            : im.attrInts("value_ints", {});
    Tensor t(im.hasAttr("value_int")
                 ? std::vector<int64_t>{}
                 : std::vector<int64_t>{static_cast<int64_t>(v.size())},
             DType::Int64);
    std::copy(v.begin(), v.end(), t.data<int64_t>());
    im.defineConstant(0, t);
    return;
  }
  im.fail("needs a value (tensor, value_float, value_int or value_ints)");
}

/// Squeeze and Unsqueeze: a reshape (never of the batch axis).
void squeeze(Importer &im, bool un) {
  std::vector<int64_t> xs = im.shape(0);
  std::vector<int64_t> axes = im.attrInts("axes", {});
  if (im.hasInput(1))
    axes = im.constantInts(1, "axes");
  int64_t rank = static_cast<int64_t>(xs.size()) +
                 (un ? static_cast<int64_t>(axes.size()) : 0);
  if (axes.empty())
    im.fail("axes are required");
  for (int64_t &a : axes) {
    if (a < 0)
      a += rank;
    if (a < 1 || a >= rank)
      im.fail("axes " + text(axes) +
              " include the batch axis or are out of "
              "range");
  }
  std::sort(axes.begin(), axes.end());
  std::vector<int64_t> out;
  if (un) {
    size_t next = 1;
    for (int64_t a = 1; a < rank; ++a)
      out.push_back(
          std::binary_search(axes.begin(), axes.end(), a) ? 1 : xs[next++]);
  } else {
    for (int64_t a = 1; a < static_cast<int64_t>(xs.size()); ++a) {
      bool drop = std::binary_search(axes.begin(), axes.end(), a);
      if (drop && xs[a] != 1)
        im.fail("axis " + std::to_string(a) + " has size " +
                std::to_string(xs[a]) + ", not 1");
      if (!drop)
        out.push_back(xs[a]);
    }
  }
  reshapeTo(im, out);
}

void pad(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  if (im.attrString("mode", "constant") != "constant")
    im.fail("only mode \"constant\" is supported");
  std::vector<int64_t> pads = im.attrInts("pads", {});
  if (im.hasInput(1))
    pads = im.constantInts(1, "pads");
  if (im.hasInput(3))
    im.fail("the axes input is not supported");
  if (im.attrFloat("value", 0) != 0 ||
      (im.hasInput(2) &&
       floatConstant(im, 2, "constant_value").data<float>()[0] != 0))
    im.fail("only zero padding is supported");
  if (static_cast<int64_t>(pads.size()) != 2 * rank || rank < 3)
    im.fail("pads " + text(pads) + " for a rank-" + std::to_string(rank) +
            " tensor are not supported (spatial pads of a rank 3-5 tensor "
            "are)");
  std::vector<int64_t> spatial;
  for (int64_t d = 0; d < rank; ++d) {
    if (pads[d] < 0 || pads[d + rank] < 0)
      im.fail("negative pads " + text(pads) + " are not supported");
    if (d < 2 && (pads[d] || pads[d + rank]))
      im.fail("padding the batch or channel axis is not supported");
  }
  for (int64_t d = 2; d < rank; ++d)
    spatial.push_back(pads[d]);
  for (int64_t d = 2; d < rank; ++d)
    spatial.push_back(pads[d + rank]);
  im.define(0, zeroPad(im.tensor(0, Layout::ChannelsLast), spatial),
            Layout::ChannelsLast);
}

/// Resize (and opset 9's Upsample) by whole factors: UpSampling layers.
void resize(Importer &im) {
  std::vector<int64_t> xs = im.shape(0);
  int64_t rank = static_cast<int64_t>(xs.size());
  std::string mode = im.attrString("mode", "nearest");
  std::string transform =
      im.attrString("coordinate_transformation_mode", "half_pixel");
  std::string nearest = im.attrString("nearest_mode", "round_prefer_floor");
  im.attrFloat("cubic_coeff_a", -0.75f);
  if (im.attrInt("exclude_outside", 0) || im.attrInt("antialias", 0))
    im.fail("exclude_outside and antialias are not supported");
  if (im.hasAttr("axes") ||
      im.attrString("keep_aspect_ratio_policy", "stretch") != "stretch")
    im.fail("axes and keep_aspect_ratio_policy are not supported");
  std::vector<double> scales;
  bool upsample = im.current().op_type() == "Upsample";
  int scalesInput = upsample ? 1 : 2;
  if (im.hasInput(scalesInput) &&
      im.constant(scalesInput, "scales").numel() > 0) {
    const Tensor &s = im.constant(scalesInput, "scales");
    if (s.dtype() != DType::Float32)
      im.fail("scales must be float32");
    scales.assign(s.data<float>(), s.data<float>() + s.numel());
  } else if (!upsample && im.hasInput(3)) {
    std::vector<int64_t> sizes = im.constantInts(3, "sizes");
    if (static_cast<int64_t>(sizes.size()) != rank)
      im.fail("sizes " + text(sizes) + " do not fit the rank");
    for (int64_t d = 0; d < rank; ++d)
      scales.push_back(d < 2       ? 1.0
                       : xs[d] > 0 ? double(sizes[d]) / xs[d]
                                   : -1.0);
  }
  if (static_cast<int64_t>(scales.size()) != rank || rank < 3 || rank > 5)
    im.fail("needs a scale for each axis of a rank 3-5 tensor");
  std::vector<int64_t> factors;
  for (int64_t d = 0; d < rank; ++d) {
    double f = scales[d];
    if (f < 1 || f != std::floor(f) || (d < 2 && f != 1))
      im.fail("scales must be whole factors of the spatial axes; they are "
              "not supported as given");
    if (d >= 2)
      factors.push_back(static_cast<int64_t>(f));
  }
  // Which ONNX settings repeat each element (nearest) or match Keras's
  // half-pixel bilinear interpolation.
  bool linear = mode == "linear" || mode == "bilinear";
  bool ok =
      linear
          ? (transform == "half_pixel" || transform == "pytorch_half_pixel") &&
                rank == 4
      : mode == "nearest" ? (transform == "asymmetric" && nearest == "floor") ||
                                ((transform == "half_pixel" ||
                                  transform == "pytorch_half_pixel") &&
                                 nearest == "round_prefer_floor") ||
                                upsample
                          : false;
  if (!ok)
    im.fail("mode " + mode + " with coordinate_transformation_mode " +
            transform + " and nearest_mode " + nearest + " is not supported");
  SymbolicTensor x = im.tensor(0, Layout::ChannelsLast), y;
  IntTuple size(factors);
  if (rank == 3)
    y = layers::UpSampling1D(size)(x);
  else if (rank == 4)
    y = layers::UpSampling2D(
        size, {.interpolation = linear ? "bilinear" : "nearest"})(x);
  else
    y = layers::UpSampling3D(size)(x);
  im.define(0, y, Layout::ChannelsLast);
}

/// Gather of rows of a constant table by integer indices: Embedding.
void gather(Importer &im) {
  if (im.attrInt("axis", 0) != 0)
    im.fail("only axis 0 (rows of a table, as Embedding) is supported");
  Tensor table = floatConstant(im, 0, "the table (data)");
  if (table.rank() != 2)
    im.fail("the table has shape " + table.shapeString() +
            "; a matrix is needed");
  SymbolicTensor ids = im.tensor(1, Layout::Onnx);
  if (ids.dtype() == DType::Float32)
    im.fail("the indices must be integers");
  std::shared_ptr<EmbeddingLayer> layer =
      layers::Embedding(table.dim(0), table.dim(1)).get();
  SymbolicTensor y = layer->apply({ids}).front();
  im.setWeights(layer, {table});
  im.define(0, y);
}

void clip(Importer &im) {
  double lo = im.attrFloat("min", -INFINITY),
         hi = im.attrFloat("max", INFINITY);
  if (im.hasInput(1))
    lo = floatConstant(im, 1, "min").data<float>()[0];
  if (im.hasInput(2))
    hi = floatConstant(im, 2, "max").data<float>()[0];
  if (lo != 0)
    im.fail("Clip with min " + std::to_string(lo) +
            " is not supported (min 0, a ReLU, is)");
  unary(im, [&](const SymbolicTensor &x) {
    return layers::ReLU(
        {.max_value = std::isinf(hi) ? std::nullopt : std::optional(hi)})(x);
  });
}

} // namespace

const std::map<std::string, NodeMapper> &onnximport::nodeMappers() {
  using K = PoolingLayer::Kind;
  static std::map<std::string, NodeMapper> mappers = {
      {"Conv", conv},
      {"ConvTranspose", convTranspose},
      {"MaxPool", [](Importer &im) { pool(im, K::Max); }},
      {"AveragePool", [](Importer &im) { pool(im, K::Average); }},
      {"GlobalMaxPool", [](Importer &im) { globalPoolNode(im, true); }},
      {"GlobalAveragePool", [](Importer &im) { globalPoolNode(im, false); }},
      {"ReduceMean", [](Importer &im) { reduce(im, false); }},
      {"ReduceMax", [](Importer &im) { reduce(im, true); }},
      {"BatchNormalization", batchNorm},
      {"Gemm", [](Importer &im) { dense(im, true); }},
      {"MatMul", [](Importer &im) { dense(im, false); }},
      {"Add", [](Importer &im) { elementwise(im, Binary::Add); }},
      {"Sum", [](Importer &im) { elementwise(im, Binary::Add); }},
      {"Sub", [](Importer &im) { elementwise(im, Binary::Sub); }},
      {"Mul", [](Importer &im) { elementwise(im, Binary::Mul); }},
      {"Div", [](Importer &im) { elementwise(im, Binary::Div); }},
      {"Max", [](Importer &im) { elementwise(im, Binary::Max); }},
      {"Min", [](Importer &im) { elementwise(im, Binary::Min); }},
      {"Mean", [](Importer &im) { elementwise(im, Binary::Mean); }},
      {"Relu", [](Importer &im) { activation(im, "relu"); }},
      {"Sigmoid", [](Importer &im) { activation(im, "sigmoid"); }},
      {"Tanh", [](Importer &im) { activation(im, "tanh"); }},
      {"Selu",
       [](Importer &im) {
         double alpha = im.attrFloat("alpha", 1.67326319217681884765625f),
                gamma = im.attrFloat("gamma", 1.05070102214813232421875f);
         if (std::abs(alpha - 1.6732632) > 1e-6 ||
             std::abs(gamma - 1.0507010) > 1e-6)
           im.fail("alpha and gamma other than SELU's constants are not "
                   "supported");
         activation(im, "selu");
       }},
      {"Elu",
       [](Importer &im) {
         double alpha = im.attrFloat("alpha", 1);
         unary(im, [&](const SymbolicTensor &x) {
           return layers::ELU({.alpha = alpha})(x);
         });
       }},
      {"LeakyRelu",
       [](Importer &im) {
         double alpha = im.attrFloat("alpha", 0.01f);
         unary(im, [&](const SymbolicTensor &x) {
           return layers::LeakyReLU({.negative_slope = alpha})(x);
         });
       }},
      {"HardSigmoid",
       [](Importer &im) {
         double alpha = im.attrFloat("alpha", 0.2f),
                beta = im.attrFloat("beta", 0.5f);
         if (std::abs(alpha - 1.0 / 6) > 1e-6 || beta != 0.5)
           im.fail("alpha " + std::to_string(alpha) + " and beta " +
                   std::to_string(beta) +
                   " are not supported (Keras's hard_sigmoid is alpha 1/6, "
                   "beta 0.5)");
         activation(im, "hard_sigmoid");
       }},
      {"Neg",
       [](Importer &im) {
         unary(im, [](const SymbolicTensor &x) { return ops::scale(x, -1); });
       }},
      {"Clip", clip},
      {"Softmax", softmax},
      {"Flatten", flatten},
      {"Reshape", reshape},
      {"Transpose", transpose},
      {"Concat", concat},
      {"Dropout", dropout},
      {"Identity", [](Importer &im) { im.alias(0, 0); }},
      {"Constant", constantNode},
      {"Squeeze", [](Importer &im) { squeeze(im, false); }},
      {"Unsqueeze", [](Importer &im) { squeeze(im, true); }},
      {"Pad", pad},
      {"Resize", resize},
      {"Upsample", resize},
      {"Gather", gather},
  };
  static const bool recurrent = (addRecurrentMappers(mappers), true);
  (void)recurrent;
  return mappers;
}
