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

std::string onnximport::text(const std::vector<int64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

namespace {

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
    if (x < 1 || x > kMaxWindowAttr)
      im.fail("attribute '" + std::string(name) + "' " + text(v) +
              " must be positive, at most " + std::to_string(kMaxWindowAttr));
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
    if (p < 0 || p > kMaxWindowAttr)
      im.fail("attribute 'pads' " + text(pads) + " is out of range");
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return "valid";
  if (same && pads == *same)
    return "same";
  return "explicit";
}
} // namespace

/// Zeros around the spatial axes of a channels-last tensor.
SymbolicTensor onnximport::zeroPad(const SymbolicTensor &x,
                                   const std::vector<int64_t> &p) {
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

namespace {

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
} // namespace

const Tensor &onnximport::floatConstant(Importer &im, int i,
                                        const std::string &what) {
  const Tensor &t = im.constant(i, what);
  if (t.dtype() != DType::Float32)
    im.fail(what + " must be float32");
  return t;
}

/// A float32 scalar constant (one element, any rank).
double onnximport::scalarConstant(Importer &im, int i,
                                  const std::string &what) {
  Tensor t = floatConstant(im, i, what);
  if (t.numel() != 1)
    im.fail(what + " has shape " + t.shapeString() + "; a scalar is needed");
  return t.data<float>()[0];
}

namespace {

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
  Tensor b = floatConstant(im, 1, "B").clone();
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
    Tensor c = floatConstant(im, 2, "C").clone();
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
  };
  static const bool more = (addElementwiseAndShapeMappers(mappers),
                            addRecurrentMappers(mappers), true);
  (void)more;
  return mappers;
}
