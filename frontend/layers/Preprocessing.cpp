//===- Preprocessing.cpp - Keras preprocessing layers ---------------------===//
//
// Normalization emits, per call, a transpose that puts the kept axes last
// (none for the usual axis=-1), then `(x - mean) * r` (or `x * s + mean`)
// as a layer.subtract and a layer.multiply against constants of the kept
// axes' shape, which broadcast over the batch and the reduced axes, and
// the transpose back. r = 1 / max(sqrt(variance), 1e-7) and s = 1 / r are
// computed here in double: no layer op takes a square root of a tensor, so
// the constants come from the values the layer holds when it is emitted
// (Keras's finalize_state() snapshot; Preprocessing.h).
//
//===----------------------------------------------------------------------===//

#include "frontend/layers/Preprocessing.h"
#include "dialect/LayerOps.h"
#include "frontend/MLIRGen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace layerc;

namespace {

/// Keras's epsilon (backend.epsilon()), the floor of the divisor.
constexpr double kEpsilon = 1e-7;

/// Python's repr of a tuple of ints: "(-1,)", "(1, 2)", "()".
std::string pyTuple(const std::vector<int64_t> &v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

/// The shape and the values (row-major) of a number or a nested list.
void parseArray(const Json &v, const std::string &what,
                std::vector<int64_t> &shape, std::vector<double> &values) {
  shape.clear();
  values.clear();
  std::function<void(const Json &, size_t)> walk = [&](const Json &j,
                                                       size_t depth) {
    if (j.isNumber()) {
      if (depth != shape.size())
        throw Error("config of Normalization layer: '" + what +
                    "' is not a rectangular array");
      values.push_back(j.asDouble());
      return;
    }
    if (!j.isArray())
      throw Error("config of Normalization layer: '" + what +
                  "' must be a number or a (nested) list of numbers");
    int64_t n = static_cast<int64_t>(j.items().size());
    if (depth == shape.size() && values.empty())
      shape.push_back(n);
    else if (depth >= shape.size() || shape[depth] != n)
      throw Error("config of Normalization layer: '" + what +
                  "' is not a rectangular array");
    for (const Json &item : j.items())
      walk(item, depth + 1);
  };
  walk(v, 0);
}

Json valuesJson(const std::vector<double> &v) {
  if (v.size() == 1)
    return Json(v[0]);
  return Json::array(std::vector<Json>(v.begin(), v.end()));
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace

NormalizationLayer::NormalizationLayer(NormalizationOptions o)
    : Layer("Normalization", o.name), axis_(std::move(o.axis)),
      invert_(o.invert) {
  setGiven(o.mean ? valuesJson(*o.mean) : Json(nullptr),
           o.variance ? valuesJson(*o.variance) : Json(nullptr));
}

void NormalizationLayer::setGiven(Json mean, Json variance) {
  if (mean.isNull() != variance.isNull())
    throw Error("Normalization layer \"" + name() +
                "\": When setting values directly, both `mean` and "
                "`variance` must be set. Received: mean=" +
                (mean.isNull() ? "None" : mean.dump()) + " and variance=" +
                (variance.isNull() ? "None" : variance.dump()));
  meanConfig_ = std::move(mean);
  varianceConfig_ = std::move(variance);
  givenShape_.reset();
  if (meanConfig_.isNull())
    return;
  std::vector<int64_t> shape, other;
  parseArray(meanConfig_, "mean", shape, givenMean_);
  parseArray(varianceConfig_, "variance", other, givenVariance_);
  if (shape != other)
    throw Error("Normalization layer \"" + name() +
                "\": When setting values directly, `mean` and `variance` "
                "must have the same shape. Received: mean shape " +
                pyTuple(shape) + " and variance shape " + pyTuple(other));
  if (shape.size() > axis_.size())
    throw Error("Normalization layer \"" + name() +
                "\": The rank of `mean` must be less than or equal to the "
                "number of axes (" +
                std::to_string(axis_.size()) + "). Received: mean shape " +
                pyTuple(shape) + " for axis " + pyTuple(axis_));
  givenShape_ = shape;
}

static NormalizationOptions optionsOf(const Json &c) {
  if (!c.isObject())
    throw Error("config of Normalization layer: expected a JSON object");
  NormalizationOptions o;
  if (const Json *name = c.get("name"); name && name->isString())
    o.name = name->asString();
  if (const Json *axis = c.get("axis")) {
    o.axis.clear();
    if (axis->isInteger())
      o.axis.push_back(axis->asInt());
    else if (axis->isArray())
      for (const Json &a : axis->items()) {
        if (!a.isInteger())
          throw Error("config of Normalization layer: 'axis' must be null, "
                      "an int or a list of ints");
        o.axis.push_back(a.asInt());
      }
    else if (!axis->isNull())
      throw Error("config of Normalization layer: 'axis' must be null, an "
                  "int or a list of ints");
  }
  if (const Json *invert = c.get("invert"); invert && !invert->isNull())
    o.invert =
        configField(c, "Normalization", "invert", Json::Kind::Bool).asBool();
  return o;
}

NormalizationLayer::NormalizationLayer(const Json &config)
    : NormalizationLayer(optionsOf(config)) {
  // Keras's values as written (numbers or nested lists).
  const Json *m = config.get("mean"), *v = config.get("variance");
  setGiven(m ? *m : Json(nullptr), v ? *v : Json(nullptr));
}

Json NormalizationLayer::getConfig() const {
  return Json::object(
      {{"name", name()},
       {"axis", Json::array(std::vector<Json>(axis_.begin(), axis_.end()))},
       {"invert", invert_},
       {"mean", meanConfig_},
       {"variance", varianceConfig_}});
}

std::vector<int64_t>
NormalizationLayer::keptAxes(const std::vector<int64_t> &shape) const {
  int64_t ndim = static_cast<int64_t>(shape.size());
  std::vector<int64_t> kept;
  for (int64_t a : axis_) {
    if (a < -ndim || a >= ndim)
      incompatible(0,
                   "All `axis` values must be in the range [-ndim, ndim). "
                   "Received inputs with ndim=" +
                       std::to_string(ndim) + ", while axis=" + pyTuple(axis_),
                   shape);
    kept.push_back(a < 0 ? a + ndim : a);
  }
  std::sort(kept.begin(), kept.end());
  if (std::adjacent_find(kept.begin(), kept.end()) != kept.end())
    incompatible(0, "axis=" + pyTuple(axis_) + " names an axis twice", shape);
  for (int64_t d : kept) {
    if (shape[d] < 0)
      incompatible(0,
                   "All `axis` values to be kept must have a known shape. "
                   "Received axis=" +
                       pyTuple(axis_) + ", inputs.shape=" + formatShape(shape) +
                       ", with unknown axis at index " + std::to_string(d),
                   shape);
    if (d == 0)
      incompatible(0,
                   "keeping axis 0 (the batch) is not supported: axis=" +
                       pyTuple(axis_),
                   shape);
  }
  return kept;
}

std::vector<std::vector<int64_t>> NormalizationLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  std::vector<int64_t> kept = keptAxes(in[0]);
  if (buildShape_) {
    // Built by adapt() (or an earlier call): the kept sizes must agree.
    bool ok = kept == kept_;
    for (size_t i = 0; ok && i < kept.size(); ++i)
      ok = in[0][kept[i]] == keptShape_[i];
    if (!ok)
      incompatible(
          0,
          "the layer was built with input_shape=" + formatShape(*buildShape_) +
              ", whose kept axes differ from this input's",
          in[0]);
  }
  return {in[0]};
}

void NormalizationLayer::build(const std::vector<std::vector<int64_t>> &in) {
  if (buildShape_)
    return;
  kept_ = keptAxes(in[0]);
  keptShape_.clear();
  for (int64_t d : kept_)
    keptShape_.push_back(in[0][d]);
  if (givenShape_) {
    // Keras: the given values align with the kept axes from the right, and
    // each size is the kept axis's or 1.
    const std::vector<int64_t> &g = *givenShape_;
    for (size_t i = 1; i <= g.size(); ++i) {
      int64_t want = keptShape_[keptShape_.size() - i];
      if (g[g.size() - i] != 1 && g[g.size() - i] != want)
        incompatible(0,
                     "mean and variance of shape " + pyTuple(g) +
                         " cannot be broadcast to the kept axes' shape " +
                         pyTuple(keptShape_),
                     in[0]);
    }
  } else {
    addWeight("mean", keptShape_, "zeros", /*trainable=*/false);
    addWeight("variance", keptShape_, "ones", /*trainable=*/false);
    // Keras's count: an int32 scalar, left at 0.
    weights().push_back({"count", Tensor({}, DType::Int32), false});
  }
  buildShape_ = in[0];
}

void NormalizationLayer::adapt(const Tensor &data) {
  if (givenShape_)
    throw Error("Normalization layer \"" + name() +
                "\": adapt() needs a layer without a given mean and variance");
  std::vector<int64_t> shape = data.shape();
  if (!buildShape_) {
    build({shape});
  } else {
    bool ok = shape.size() == buildShape_->size();
    for (size_t i = 0; ok && i < kept_.size(); ++i)
      ok = shape[kept_[i]] == keptShape_[i];
    if (!ok)
      throw Error("Normalization layer \"" + name() +
                  "\": The layer was built with input_shape=" +
                  formatShape(*buildShape_) +
                  ", but adapt() is being called with data with an "
                  "incompatible shape, data.shape=" +
                  data.shapeString());
  }
  int64_t total = data.numel(), groups = product(keptShape_);
  if (total == 0)
    throw Error("Normalization layer \"" + name() +
                "\": adapt() received no data (shape " + data.shapeString() +
                ")");
  Tensor x = data.astype(DType::Float64);
  const double *v = x.data<double>();
  // The kept index of each element: its indices along the kept axes.
  int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> stride(rank, 1), keptStride(rank, 0);
  for (int64_t d = rank - 2; d >= 0; --d)
    stride[d] = stride[d + 1] * shape[d + 1];
  int64_t step = 1;
  for (size_t i = kept_.size(); i-- > 0;) {
    keptStride[kept_[i]] = step;
    step *= keptShape_[i];
  }
  auto group = [&](int64_t flat) {
    int64_t k = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (keptStride[d])
        k += (flat / stride[d] % shape[d]) * keptStride[d];
    return k;
  };
  // Two passes in double: the mean, then the mean squared deviation
  // (np.var's population variance).
  std::vector<double> mean(groups, 0.0), var(groups, 0.0);
  double count = static_cast<double>(total / groups);
  for (int64_t i = 0; i < total; ++i)
    mean[group(i)] += v[i];
  for (double &m : mean)
    m /= count;
  for (int64_t i = 0; i < total; ++i) {
    int64_t k = group(i);
    var[k] += (v[i] - mean[k]) * (v[i] - mean[k]);
  }
  // In place: compiled models hold views of the weights' storage.
  float *meanOut = weights()[0].value.data<float>();
  float *varOut = weights()[1].value.data<float>();
  for (int64_t k = 0; k < groups; ++k) {
    meanOut[k] = static_cast<float>(mean[k]);
    varOut[k] = static_cast<float>(var[k] / count);
  }
}

void NormalizationLayer::statistics(std::vector<double> &mean,
                                    std::vector<double> &variance) const {
  int64_t groups = product(keptShape_);
  mean.assign(groups, 0.0);
  variance.assign(groups, 1.0);
  if (!givenShape_) {
    const float *m = weights()[0].value.data<float>();
    const float *v = weights()[1].value.data<float>();
    for (int64_t k = 0; k < groups; ++k) {
      mean[k] = m[k];
      variance[k] = v[k];
    }
    return;
  }
  // Broadcast the given values (aligned right, sizes 1 repeated).
  const std::vector<int64_t> &g = *givenShape_;
  size_t nk = keptShape_.size(), offset = nk - g.size();
  for (int64_t k = 0; k < groups; ++k) {
    int64_t rest = k, index = 0, gStride = 1;
    for (size_t i = nk; i-- > 0;) {
      int64_t at = rest % keptShape_[i];
      rest /= keptShape_[i];
      if (i < offset)
        continue;
      int64_t size = g[i - offset];
      index += (size == 1 ? 0 : at) * gStride;
      gStride *= size;
    }
    mean[k] = givenMean_[index];
    variance[k] = givenVariance_[index];
  }
}

void NormalizationLayer::emit(MLIRGenState &state, const Node &node) const {
  mlir::OpBuilder &b = state.builder;
  mlir::Location loc = state.loc(*this);
  const std::vector<int64_t> &shape = node.inputs[0].shape();
  int64_t rank = static_cast<int64_t>(shape.size());
  // The kept axes last, in order; the reduced ones after the batch.
  std::vector<bool> isKept(rank, false);
  for (int64_t d : kept_)
    isKept[d] = true;
  std::vector<int64_t> perm{0}, inverse(rank), permuted{shape[0]};
  for (int64_t pass = 0; pass < 2; ++pass)
    for (int64_t d = 1; d < rank; ++d)
      if (isKept[d] == (pass == 1)) {
        perm.push_back(d);
        permuted.push_back(shape[d]);
      }
  bool identity = true;
  for (int64_t d = 0; d < rank; ++d) {
    inverse[perm[d]] = d;
    identity = identity && perm[d] == d;
  }
  mlir::RankedTensorType outType = state.resultType(node);
  mlir::Type et = outType.getElementType();
  mlir::Value x = state.value(node.inputs[0]);
  mlir::RankedTensorType xType = outType;
  if (!identity) {
    xType = state.tensorType(permuted, node.dtype);
    x = layer::TransposeOp::create(b, loc, xType, x,
                                   b.getDenseI64ArrayAttr(perm));
  }

  std::vector<double> mean, variance;
  statistics(mean, variance);
  std::vector<double> factor(mean.size());
  for (size_t k = 0; k < mean.size(); ++k) {
    double s = std::max(std::sqrt(variance[k]), kEpsilon);
    factor[k] = invert_ ? s : 1.0 / s;
  }
  auto constant = [&](const std::vector<double> &values) -> mlir::Value {
    auto type = mlir::RankedTensorType::get(keptShape_, et);
    mlir::DenseElementsAttr attr;
    if (et.isF64()) {
      attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<double>(values));
    } else {
      std::vector<float> f(values.begin(), values.end());
      attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(f));
    }
    return mlir::arith::ConstantOp::create(b, loc, attr);
  };
  mlir::Value m = constant(mean), f = constant(factor), y;
  if (invert_) {
    y = layer::MultiplyOp::create(b, loc, xType, x, f);
    y = layer::AddOp::create(b, loc, xType, y, m);
  } else {
    y = layer::SubtractOp::create(b, loc, xType, x, m);
    y = layer::MultiplyOp::create(b, loc, xType, y, f);
  }
  if (!identity)
    y = layer::TransposeOp::create(b, loc, outType, y,
                                   b.getDenseI64ArrayAttr(inverse));
  state.define(node, y);
}

void layerc::addPreprocessingLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  out["Normalization"] = [](const Json &c) -> std::shared_ptr<Layer> {
    return std::make_shared<NormalizationLayer>(c);
  };
}

layers::Normalization::Normalization(NormalizationOptions options)
    : LayerHandle(std::make_shared<NormalizationLayer>(std::move(options))) {}
