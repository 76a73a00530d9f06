//===- OnnxShapeOps.cpp - Element-wise, activation and shape operators ----===//
//
// The ONNX operators that compute element by element (Add, Relu, Clip, ...)
// or move elements (Reshape, Transpose, Concat, Pad, Resize, Gather, ...):
// each keeps the layout its input has when the result is the same either
// way, and takes ONNX's layout where the operator's axes are ONNX's. The
// window operators (convolutions, pools, batch norm, Gemm) are in
// OnnxOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "frontend/Ops.h"
#include "frontend/import/OnnxImporter.h"
#include "frontend/layers/Composite.h"
#include "frontend/layers/Convolution.h"
#include "frontend/layers/Core.h"
#include "frontend/layers/Noise.h"
#include "runtime/Error.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>

using namespace layerc;
using namespace layerc::onnximport;

namespace {

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
    if (c.rank() > static_cast<int64_t>(im.shape(1 - ci).size()))
      im.fail("a constant of shape " + c.shapeString() +
              " would add axes in front of the batch axis");
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
  if (xs.empty())
    im.fail("takes a tensor with a batch axis");
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
  if (rank < 2)
    im.fail("takes a tensor with a batch axis and at least one other");
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
  // Channels-last, ONNX's channel axis is the last (Keras's -1).
  int64_t kerasAxis = !channelsLast ? axis : axis == 1 ? -1 : axis - 1;
  im.define(0, n == 1 ? parts[0] : layers::concatenate(parts, kerasAxis),
            layout);
}

void dropout(Importer &im) {
  double rate = im.attrFloat("ratio", 0.5f);
  if (im.hasInput(1))
    rate = scalarConstant(im, 1, "ratio");
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
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    im.fail("axes " + text(axes) + " name an axis twice");
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
      (im.hasInput(2) && scalarConstant(im, 2, "constant_value") != 0))
    im.fail("only zero padding is supported");
  if (static_cast<int64_t>(pads.size()) != 2 * rank || rank < 3)
    im.fail("pads " + text(pads) + " for a rank-" + std::to_string(rank) +
            " tensor are not supported (spatial pads of a rank 3-5 tensor "
            "are)");
  std::vector<int64_t> spatial;
  for (int64_t d = 0; d < rank; ++d) {
    if (pads[d] < 0 || pads[d + rank] < 0 || pads[d] > kMaxWindowAttr ||
        pads[d + rank] > kMaxWindowAttr)
      im.fail("pads " + text(pads) + " are negative or above " +
              std::to_string(kMaxWindowAttr));
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
  // Upsample repeats elements (floor of x / scale): nearest, asymmetric.
  // Resize's other attributes are not Upsample's: left unread for it, they
  // are refused.
  bool upsample = im.current().op_type() == "Upsample";
  std::string transform = "asymmetric", nearest = "floor";
  if (!upsample) {
    if (im.opset() < 11)
      im.fail("Resize before opset 11 is not supported");
    transform = im.attrString("coordinate_transformation_mode", "half_pixel");
    nearest = im.attrString("nearest_mode", "round_prefer_floor");
    im.attrFloat("cubic_coeff_a", -0.75f);
    if (im.attrInt("exclude_outside", 0) || im.attrInt("antialias", 0))
      im.fail("exclude_outside and antialias are not supported");
    if (im.hasAttr("axes") ||
        im.attrString("keep_aspect_ratio_policy", "stretch") != "stretch")
      im.fail("axes and keep_aspect_ratio_policy are not supported");
  }
  std::vector<double> scales;
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
    if (!(f >= 1 && f <= kMaxWindowAttr) || f != std::floor(f) ||
        (d < 2 && f != 1))
      im.fail("scales must be whole factors of the spatial axes; they are "
              "not supported as given");
    if (d >= 2)
      factors.push_back(static_cast<int64_t>(f));
  }
  double elements = 1;
  for (int64_t d = 1; d < rank; ++d)
    elements *= std::max<int64_t>(xs[d], 1) * (d >= 2 ? factors[d - 2] : 1);
  if (elements > double(int64_t(1) << 31))
    im.fail("the result would have " + std::to_string(elements) +
            " elements per sample");
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
                                 nearest == "round_prefer_floor")
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
    lo = scalarConstant(im, 1, "min");
  if (im.hasInput(2))
    hi = scalarConstant(im, 2, "max");
  if (lo != 0)
    im.fail("Clip with min " + std::to_string(lo) +
            " is not supported (min 0, a ReLU, is)");
  unary(im, [&](const SymbolicTensor &x) {
    return layers::ReLU(
        {.max_value = std::isinf(hi) ? std::nullopt : std::optional(hi)})(x);
  });
}

} // namespace

void onnximport::addElementwiseAndShapeMappers(
    std::map<std::string, NodeMapper> &mappers) {
  std::map<std::string, NodeMapper> more = {
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
  mappers.insert(more.begin(), more.end());
}
