//===- Composite.cpp - Keras layers composed of ops:: primitives ----------===//
//
// Each layer checks and completes its Keras config once (normalized()),
// then call() composes the ops:: primitives that compute it. The identities
// used (all exact in real arithmetic):
//
//   leaky_relu(x, s)   = relu(x) - s * relu(-x)
//   elu(x, a)          = relu(x) + a * (elu(x) - relu(x))
//   min(y, m)          = y - relu(y - m)
//   min(a, b)          = a - relu(a - b)
//   softmax over axis a = swap(softmax(swap(x, a, last)), a, last)
//   dot (rank 3)       = batch_matmul, the dot axes as its contraction
//
//===----------------------------------------------------------------------===//

#include "frontend/layers/Composite.h"
#include "frontend/Ops.h"
#include "frontend/layers/Normalization.h"

#include <cmath>

using namespace layerc;

namespace {

using K = Json::Kind;
using layers::Crop;

[[noreturn]] void configError(const std::string &cls,
                              const std::string &message) {
  throw Error("config of " + cls + " layer: " + message);
}

/// A number field, `fallback` when absent or null.
double numberOr(const Json &config, const std::string &cls, const char *key,
                double fallback) {
  const Json *v = config.get(key);
  if (!v || v->isNull())
    return fallback;
  if (!v->isNumber() || !std::isfinite(v->asDouble()))
    configError(cls, std::string("field '") + key + "' must be a number");
  return v->asDouble();
}

/// A cropping or padding argument (`key`) as Keras accepts it, one
/// (start, end) pair per spatial axis: an int (every side), one int per
/// axis (both sides), or one pair per axis; for one axis, one pair.
Json edgesOf(const Json &config, const std::string &cls, const char *key,
             int rank, Crop fallback) {
  std::vector<Crop> edges(rank, fallback);
  const Json *v = config.get(key);
  std::string form = std::string("'") + key + "' must be an int, " +
                     std::to_string(rank) + " ints or pairs of ints";
  auto amount = [&](const Json &n) {
    if (!n.isInteger() || n.asInt() < 0 || n.asInt() > (int64_t(1) << 31))
      configError(cls, std::string("'") + key +
                           "' must hold non-negative integers below 2^31");
    return n.asInt();
  };
  if (v && !v->isNull()) {
    if (v->isNumber()) {
      edges.assign(rank, {amount(*v), amount(*v)});
    } else if (v->isArray() && rank == 1 && v->items().size() == 2) {
      edges = {{amount(v->items()[0]), amount(v->items()[1])}};
    } else if (v->isArray() && static_cast<int>(v->items().size()) == rank) {
      for (int i = 0; i < rank; ++i) {
        const Json &item = v->items()[i];
        if (item.isNumber())
          edges[i] = {amount(item), amount(item)};
        else if (item.isArray() && item.items().size() == 2)
          edges[i] = {amount(item.items()[0]), amount(item.items()[1])};
        else
          configError(cls, form);
      }
    } else {
      configError(cls, form);
    }
  }
  std::vector<Json> pairs;
  for (const Crop &c : edges)
    pairs.push_back(Json::array({Json(c.first), Json(c.second)}));
  return Json::array(std::move(pairs));
}

/// 1, 2 or 3 for Cropping<n>D and ZeroPadding<n>D; 0 otherwise.
int spatialRank(const std::string &cls) {
  for (const char *prefix : {"Cropping", "ZeroPadding"}) {
    std::string p = prefix;
    if (cls.size() == p.size() + 2 && cls.compare(0, p.size(), p) == 0 &&
        cls.back() == 'D' && cls[p.size()] >= '1' && cls[p.size()] <= '3')
      return cls[p.size()] - '0';
  }
  return 0;
}

/// The config of `cls` with every argument checked and Keras's defaults
/// filled in: what getConfig() returns and call() reads.
Json normalized(const std::string &cls, const Json &config) {
  if (!config.isObject())
    configError(cls, "expected a JSON object");
  const Json *nameField = config.get("name");
  std::string name =
      nameField && nameField->isString() ? nameField->asString() : "";
  std::vector<std::pair<std::string, Json>> out{{"name", Json(name)}};
  auto number = [&](const char *key, double fallback) {
    out.emplace_back(key, Json(numberOr(config, cls, key, fallback)));
  };
  const Json *format = config.get("data_format");
  if (format && format->isString() && format->asString() != "channels_last")
    configError(cls, "only data_format=\"channels_last\" is supported, got \"" +
                         format->asString() + "\"");
  if (cls == "LeakyReLU") {
    number("negative_slope", 0.3);
  } else if (cls == "ELU") {
    number("alpha", 1.0);
  } else if (cls == "ReLU") {
    const Json *max = config.get("max_value");
    if (max && !max->isNull()) {
      double m = numberOr(config, cls, "max_value", 0);
      if (m < 0)
        configError(cls, "max_value must be >= 0, got " + std::to_string(m));
      out.emplace_back("max_value", Json(m));
    } else {
      out.emplace_back("max_value", Json(nullptr));
    }
    double slope = numberOr(config, cls, "negative_slope", 0.0);
    if (slope < 0)
      configError(cls,
                  "negative_slope must be >= 0, got " + std::to_string(slope));
    out.emplace_back("negative_slope", Json(slope));
    double threshold = numberOr(config, cls, "threshold", 0.0);
    if (!(threshold >= 0.0 && std::isfinite(threshold)))
      configError(cls, "threshold of a ReLU layer cannot be None or a "
                       "negative value. Received: threshold=" +
                           std::to_string(threshold));
    out.emplace_back("threshold", Json(threshold));
  } else if (cls == "PReLU") {
    // Keras: None, an int or a list of ints (1-based, the batch excluded).
    const Json *shared = config.get("shared_axes");
    std::vector<Json> axes;
    if (shared && shared->isInteger())
      axes.push_back(*shared);
    else if (shared && shared->isArray())
      axes = shared->items();
    else if (shared && !shared->isNull())
      configError(cls, "'shared_axes' must be null, an int or a list of ints");
    for (const Json &a : axes)
      if (!a.isInteger() || a.asInt() < 1)
        configError(cls, "'shared_axes' must hold axes >= 1 (axis 0, the "
                         "batch, cannot be shared), got " +
                             a.dump());
    out.emplace_back("shared_axes",
                     axes.empty() ? Json(nullptr) : Json::array(axes));
  } else if (cls == "Softmax") {
    const Json *axis = config.get("axis");
    if (axis && axis->isArray() && axis->items().size() == 1)
      axis = &axis->items()[0];
    if (axis && !axis->isNull() && !axis->isInteger())
      configError(cls, "'axis' must be one integer (several axes are not "
                       "supported)");
    out.emplace_back(
        "axis", Json(axis && axis->isInteger() ? axis->asInt() : int64_t(-1)));
  } else if (cls == "RepeatVector") {
    const Json &n = configField(config, cls, "n", K::Number);
    if (!n.isInteger() || n.asInt() < 1)
      configError(cls, "field 'n' must be a positive integer");
    out.emplace_back("n", n);
  } else if (cls.rfind("Cropping", 0) == 0) {
    int rank = spatialRank(cls);
    out.emplace_back("cropping", edgesOf(config, cls, "cropping", rank,
                                         rank == 2 ? Crop{0, 0} : Crop{1, 1}));
  } else if (cls.rfind("ZeroPadding", 0) == 0) {
    out.emplace_back("padding", edgesOf(config, cls, "padding",
                                        spatialRank(cls), Crop{1, 1}));
  } else if (cls == "Dot") {
    const Json *axes = config.get("axes");
    bool ok = axes && axes->isInteger();
    if (axes && axes->isArray() && axes->items().size() == 2)
      ok = axes->items()[0].isInteger() && axes->items()[1].isInteger();
    if (!ok)
      configError(cls, "'axes' must be an integer or a list of 2 integers");
    out.emplace_back("axes", *axes);
    const Json *normalize = config.get("normalize");
    if (normalize && !normalize->isNull() && !normalize->isBool())
      configError(cls, "'normalize' must be a boolean");
    out.emplace_back("normalize", Json(normalize && normalize->isBool() &&
                                       normalize->asBool()));
  } else if (cls == "Rescaling") {
    out.emplace_back(
        "scale", Json(configField(config, cls, "scale", K::Number).asDouble()));
    number("offset", 0.0);
  } else if (cls != "Minimum") {
    throw Error("internal error: no composite layer '" + cls + "'");
  }
  return Json::object(std::move(out));
}

std::string nameIn(const Json &config) {
  const Json *name = config.get("name");
  return name && name->isString() ? name->asString() : "";
}

} // namespace

CompositeLayer::CompositeLayer(std::string className, Json config)
    : Layer(className, nameIn(config)), className_(std::move(className)),
      config_(normalized(className_, config)) {}

Json CompositeLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> members{{"name", Json(name())}};
  for (const auto &[key, value] : config_.members())
    if (key != "name")
      members.emplace_back(key, value);
  return Json::object(std::move(members));
}

int CompositeLayer::expectedInputs() const {
  return className_ == "Minimum" ? -1 : className_ == "Dot" ? 2 : 1;
}

double CompositeLayer::number(const char *key) const {
  return config_.get(key)->asDouble();
}

/// PReLU's shared axes (1-based), empty when none.
static std::vector<int64_t> sharedAxes(const Json &config) {
  std::vector<int64_t> axes;
  const Json *shared = config.get("shared_axes");
  if (shared && shared->isArray())
    for (const Json &a : shared->items())
      axes.push_back(a.asInt());
  return axes;
}

void CompositeLayer::build(const std::vector<std::vector<int64_t>> &shapes) {
  if (className_ != "PReLU")
    return;
  // Keras: alpha has the input's shape without the batch, 1 on the shared
  // axes (whose size may be unknown); the other sizes must be known.
  const std::vector<int64_t> &in = shapes[0];
  std::vector<int64_t> alpha(in.begin() + 1, in.end());
  for (int64_t a : sharedAxes(config_)) {
    if (a >= static_cast<int64_t>(in.size()))
      incompatible(0,
                   "shared_axes " + config_.get("shared_axes")->dump() +
                       " name axis " + std::to_string(a) +
                       ", but the input has ndim=" + std::to_string(in.size()),
                   in);
    alpha[a - 1] = 1;
  }
  for (size_t d = 0; d < alpha.size(); ++d)
    if (in[d + 1] < 0 && alpha[d] != 1)
      incompatible(0,
                   "PReLU needs the size of every axis that is not shared to "
                   "be known (axis " +
                       std::to_string(d + 1) + " is not)",
                   in);
  addWeight("alpha", alpha, "zeros");
}

/// Keras's ReLU: x where x > threshold (relu(x) for threshold 0), clipped
/// to max_value, minus negative_slope * relu(threshold - x).
SymbolicTensor CompositeLayer::relu(const SymbolicTensor &x) const {
  double threshold = number("threshold");
  SymbolicTensor y =
      threshold != 0 ? ops::threshold(x, threshold) : ops::relu(x);
  const Json *max = config_.get("max_value");
  if (max && !max->isNull())
    y = y - ops::relu(y + ops::full({}, -max->asDouble()));
  double slope = number("negative_slope");
  if (slope != 0) {
    SymbolicTensor below = ops::scale(x, -1.0);
    if (threshold != 0)
      below = below + ops::full({}, threshold);
    y = y - ops::scale(ops::relu(below), slope);
  }
  return y;
}

SymbolicTensor CompositeLayer::prelu(const SymbolicTensor &x) {
  std::vector<int64_t> shared = sharedAxes(config_);
  SymbolicTensor alpha = weight("alpha");
  if (shared.empty())
    return ops::relu(x) - ops::relu(ops::scale(x, -1.0)) * alpha;
  // alpha is 1 on the shared axes: move them right after the batch (in x)
  // and last (in alpha, then dropped by a reshape), so that alpha has x's
  // trailing shape and broadcasts over the batch and the shared axes.
  int64_t rank = static_cast<int64_t>(x.shape().size());
  std::vector<bool> isShared(rank, false);
  for (int64_t a : shared)
    isShared[a] = true;
  std::vector<int64_t> perm{0}, kept, ones;
  for (int64_t d = 1; d < rank; ++d)
    if (isShared[d])
      perm.push_back(d);
  for (int64_t d = 1; d < rank; ++d)
    if (!isShared[d]) {
      perm.push_back(d);
      kept.push_back(d - 1);
    }
  if (kept.empty()) {
    // Every axis shared: alpha is one number, spread over the last axis
    // (whose size must then be known) and multiplied without a transpose.
    int64_t last = x.shape().back();
    if (last < 0)
      incompatible(0,
                   "PReLU with every axis shared needs the size of the last "
                   "axis to be known",
                   x.shape());
    SymbolicTensor one = ops::reshape(alpha, {1}); // (1, 1)
    if (last > 1)
      one = ops::concat(std::vector<SymbolicTensor>(last, one), 1); // (1, n)
    alpha = ops::reshape(ops::transpose(one, {1, 0}), {});          // (n)
    return ops::relu(x) - ops::relu(ops::scale(x, -1.0)) * alpha;
  }
  std::vector<int64_t> alphaPerm = kept, sampleShape;
  for (int64_t a : shared)
    alphaPerm.push_back(a - 1);
  for (size_t i = 1; i < kept.size(); ++i)
    sampleShape.push_back(alpha.shape()[kept[i]]);
  bool identity = true;
  for (size_t i = 0; i < alphaPerm.size(); ++i)
    identity = identity && alphaPerm[i] == static_cast<int64_t>(i);
  if (!identity)
    alpha = ops::transpose(alpha, alphaPerm);
  alpha = ops::reshape(alpha, sampleShape);
  identity = true;
  for (int64_t d = 0; d < rank; ++d)
    identity = identity && perm[d] == d;
  SymbolicTensor t = identity ? x : ops::transpose(x, perm);
  SymbolicTensor y = ops::relu(t) - ops::relu(ops::scale(t, -1.0)) * alpha;
  if (identity)
    return y;
  std::vector<int64_t> inverse(rank);
  for (int64_t d = 0; d < rank; ++d)
    inverse[perm[d]] = d;
  return ops::transpose(y, inverse);
}

std::vector<Crop> CompositeLayer::edges(const char *key,
                                        const SymbolicTensor &x) const {
  std::vector<Crop> out;
  for (const Json &pair : config_.get(key)->items())
    out.push_back({pair.items()[0].asInt(), pair.items()[1].asInt()});
  size_t rank = out.size() + 2;
  if (x.shape().size() != rank)
    incompatible(0,
                 "expected ndim=" + std::to_string(rank) +
                     ", found ndim=" + std::to_string(x.shape().size()),
                 x.shape());
  return out;
}

SymbolicTensor CompositeLayer::crop(const SymbolicTensor &x) const {
  std::vector<Crop> crops = edges("cropping", x);
  SymbolicTensor y = x;
  for (int64_t axis = 1; axis <= int64_t(crops.size()); ++axis) {
    auto [begin, end] = crops[axis - 1];
    int64_t size = x.shape()[axis];
    if (size < 0)
      incompatible(0,
                   className_ + " needs the size of axis " +
                       std::to_string(axis) + " to be known",
                   x.shape());
    if (begin + end >= size)
      incompatible(0,
                   "cropping (" + std::to_string(begin) + ", " +
                       std::to_string(end) + ") leaves nothing of axis " +
                       std::to_string(axis) + " (size " + std::to_string(size) +
                       ")",
                   x.shape());
    if (begin + end > 0)
      y = ops::slice(y, axis, begin, size - begin - end);
  }
  return y;
}

SymbolicTensor CompositeLayer::pad(const SymbolicTensor &x) const {
  std::vector<Crop> pads = edges("padding", x);
  SymbolicTensor y = x;
  for (int64_t axis = 1; axis <= int64_t(pads.size()); ++axis) {
    auto [before, after] = pads[axis - 1];
    if (before + after == 0)
      continue;
    // A slab of zeros one element thick along `axis`, of y's other sizes
    // (the batch included, known or not), repeated.
    SymbolicTensor slab = ops::zerosLike(ops::slice(y, axis, 0, 1));
    std::vector<SymbolicTensor> parts(before, slab);
    parts.push_back(y);
    parts.insert(parts.end(), after, slab);
    y = ops::concat(parts, axis);
  }
  return y;
}

/// x with axes `a` and `b` swapped (a permutation that is its own inverse).
static SymbolicTensor swapAxes(const SymbolicTensor &x, int64_t a, int64_t b) {
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < static_cast<int64_t>(x.shape().size()); ++d)
    perm.push_back(d == a ? b : d == b ? a : d);
  return ops::transpose(x, perm);
}

SymbolicTensor CompositeLayer::softmax(const SymbolicTensor &x) const {
  int64_t rank = static_cast<int64_t>(x.shape().size());
  int64_t axis = config_.get("axis")->asInt();
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 1 || a >= rank)
    incompatible(0,
                 "axis " + std::to_string(axis) +
                     " is out of range for an input of rank " +
                     std::to_string(rank) +
                     " (axis 0, the batch, is not supported)",
                 x.shape());
  if (a == rank - 1)
    return ops::softmax(x);
  // Softmax over `a`: moved last, normalized, and moved back.
  return swapAxes(ops::softmax(swapAxes(x, a, rank - 1)), a, rank - 1);
}

SymbolicTensor CompositeLayer::dot(const SymbolicTensor &x,
                                   const SymbolicTensor &y) const {
  size_t rank = x.shape().size();
  if (rank != 2 && rank != 3)
    incompatible(0,
                 "Dot supports inputs of rank 2 or 3 only, found ndim=" +
                     std::to_string(rank),
                 x.shape());
  if (y.shape().size() != rank)
    incompatible(1,
                 "Dot needs two inputs of one rank, the first has ndim=" +
                     std::to_string(rank) +
                     ", found ndim=" + std::to_string(y.shape().size()),
                 y.shape());
  // Keras: an int `axes` is used for both inputs; negative ones count from
  // the end of each.
  const Json &axes = *config_.get("axes");
  int64_t ax[2];
  for (int i = 0; i < 2; ++i) {
    int64_t a = axes.isInteger() ? axes.asInt() : axes.items()[i].asInt();
    ax[i] = a < 0 ? a + static_cast<int64_t>(rank) : a;
    if (ax[i] < 1 || ax[i] >= static_cast<int64_t>(rank))
      incompatible(i,
                   "Dot axes " + axes.dump() +
                       " are out of range for ndim=" + std::to_string(rank) +
                       " (axis 0, the batch, cannot be used)",
                   (i == 0 ? x : y).shape());
  }
  int64_t d1 = x.shape()[ax[0]], d2 = y.shape()[ax[1]];
  if (d1 < 0 || d2 != d1)
    throw Error("Incompatible input shapes: axis values " +
                (d1 < 0 ? std::string("None") : std::to_string(d1)) +
                " (at axis " + std::to_string(ax[0]) +
                ") != " + (d2 < 0 ? std::string("None") : std::to_string(d2)) +
                " (at axis " + std::to_string(ax[1]) +
                "). Full input shapes: " + formatShape(x.shape()) + ", " +
                formatShape(y.shape()) + " (layer " + name() + ")");
  SymbolicTensor a = x, b = y;
  if (config_.get("normalize")->asBool()) {
    // keras.ops.normalize along each dot axis: moved last, unit-normalized.
    auto unit = [&](const SymbolicTensor &t, int64_t axis) {
      int64_t last = static_cast<int64_t>(rank) - 1;
      auto norm =
          std::make_shared<UnitNormalizationLayer>(UnitNormalizationOptions{});
      if (axis == last)
        return norm->apply({t}).front();
      return swapAxes(norm->apply({swapAxes(t, axis, last)}).front(), axis,
                      last);
    };
    a = unit(a, ax[0]);
    b = unit(b, ax[1]);
  }
  if (rank == 2)
    // sum_j a_j b_j as a matmul with a column of ones: (batch, 1).
    return ops::matmul(a * b, ops::full({d1, 1}, 1.0));
  // (batch, m, k) x (batch, k, n): a contracts axis 2 (or 1, transposed),
  // b axis 1 (or 2, transposed).
  return ops::batchMatmul(a, b, ax[0] == 1, ax[1] == 2);
}

std::vector<SymbolicTensor>
CompositeLayer::call(const std::vector<SymbolicTensor> &inputs) {
  const SymbolicTensor &x = inputs[0];
  if (className_ != "Minimum" && className_ != "RepeatVector" &&
      !isFloat(x.dtype()))
    incompatible(0, className_ + " needs a float input", x.shape());
  if (className_ == "LeakyReLU") {
    double slope = number("negative_slope");
    return {ops::relu(x) - ops::scale(ops::relu(ops::scale(x, -1.0)), slope)};
  }
  if (className_ == "ELU") {
    double alpha = number("alpha");
    if (alpha == 1.0)
      return {ops::activation(x, "elu")};
    SymbolicTensor positive = ops::relu(x);
    return {positive + ops::scale(ops::activation(x, "elu") - positive, alpha)};
  }
  if (className_ == "ReLU")
    return {relu(x)};
  if (className_ == "PReLU")
    return {prelu(x)};
  if (className_ == "Softmax")
    return {softmax(x)};
  if (className_ == "Minimum") {
    if (inputs.size() < 2)
      throw Error("A merge layer (" + name() +
                  ") should be called on a list of at least 2 inputs. Got " +
                  std::to_string(inputs.size()) + " inputs.");
    SymbolicTensor y = inputs[0];
    for (size_t i = 1; i < inputs.size(); ++i) {
      if (inputs[i].shape() != y.shape())
        incompatible(static_cast<int>(i),
                     "all inputs of Minimum must have one shape, the first "
                     "is " +
                         formatShape(y.shape()),
                     inputs[i].shape());
      y = y - ops::relu(y - inputs[i]);
    }
    return {y};
  }
  if (className_ == "RepeatVector") {
    if (x.shape().size() != 2)
      incompatible(
          0, "expected ndim=2, found ndim=" + std::to_string(x.shape().size()),
          x.shape());
    int64_t n = config_.get("n")->asInt();
    return {ops::stack(std::vector<SymbolicTensor>(n, x), 1)};
  }
  if (className_ == "Dot")
    return {dot(x, inputs[1])};
  if (className_.rfind("ZeroPadding", 0) == 0)
    return {pad(x)};
  if (className_ == "Rescaling") {
    SymbolicTensor y = ops::scale(x, number("scale"));
    double offset = number("offset");
    return {offset == 0 ? y : y + ops::full({}, offset)};
  }
  return {crop(x)};
}

void layerc::addCompositeLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  for (const char *cls :
       {"LeakyReLU", "ELU", "ReLU", "PReLU", "Softmax", "Minimum",
        "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Dot", "Rescaling"})
    out[cls] = [cls](const Json &config) -> std::shared_ptr<Layer> {
      return std::make_shared<CompositeLayer>(cls, config);
    };
}

//===----------------------------------------------------------------------===//
// Handles
//===----------------------------------------------------------------------===//

namespace {
std::shared_ptr<CompositeLayer>
make(const char *cls, std::vector<std::pair<std::string, Json>> members) {
  return std::make_shared<CompositeLayer>(cls,
                                          Json::object(std::move(members)));
}
Json cropsJson(const std::vector<Crop> &crops) {
  std::vector<Json> pairs;
  for (const Crop &c : crops)
    pairs.push_back(Json::array({Json(c.first), Json(c.second)}));
  return Json::array(std::move(pairs));
}
} // namespace

layers::LeakyReLU::LeakyReLU(LeakyReLUOptions o)
    : LayerHandle(
          make("LeakyReLU", {{"name", Json(o.name)},
                             {"negative_slope", Json(o.negative_slope)}})) {}

layers::ELU::ELU(ELUOptions o)
    : LayerHandle(
          make("ELU", {{"name", Json(o.name)}, {"alpha", Json(o.alpha)}})) {}

layers::ReLU::ReLU(ReLUOptions o)
    : LayerHandle(make("ReLU", {{"name", Json(o.name)},
                                {"max_value", o.max_value ? Json(*o.max_value)
                                                          : Json(nullptr)},
                                {"negative_slope", Json(o.negative_slope)},
                                {"threshold", Json(o.threshold)}})) {}

layers::PReLU::PReLU(PReLUOptions o)
    : LayerHandle(
          make("PReLU", {{"name", Json(o.name)},
                         {"shared_axes", o.shared_axes.empty()
                                             ? Json(nullptr)
                                             : Json::array(std::vector<Json>(
                                                   o.shared_axes.begin(),
                                                   o.shared_axes.end()))}})) {}

layers::Softmax::Softmax(SoftmaxOptions o)
    : LayerHandle(
          make("Softmax", {{"name", Json(o.name)}, {"axis", Json(o.axis)}})) {}

SymbolicTensor layers::minimum(const std::vector<SymbolicTensor> &inputs,
                               const std::string &name) {
  return make("Minimum", {{"name", Json(name)}})->apply(inputs).front();
}

layers::RepeatVector::RepeatVector(int64_t n, RepeatVectorOptions o)
    : LayerHandle(
          make("RepeatVector", {{"name", Json(o.name)}, {"n", Json(n)}})) {}

layers::Cropping1D::Cropping1D(Crop cropping, CroppingOptions o)
    : LayerHandle(make("Cropping1D",
                       {{"name", Json(o.name)},
                        {"cropping", Json::array({Json(cropping.first),
                                                  Json(cropping.second)})}})) {}

layers::Cropping2D::Cropping2D(std::vector<Crop> cropping, CroppingOptions o)
    : LayerHandle(make("Cropping2D", {{"name", Json(o.name)},
                                      {"cropping", cropsJson(cropping)}})) {}

layers::Cropping3D::Cropping3D(std::vector<Crop> cropping, CroppingOptions o)
    : LayerHandle(make("Cropping3D", {{"name", Json(o.name)},
                                      {"cropping", cropsJson(cropping)}})) {}

layers::ZeroPadding1D::ZeroPadding1D(Crop padding, PaddingOptions o)
    : LayerHandle(make("ZeroPadding1D",
                       {{"name", Json(o.name)},
                        {"padding", Json::array({Json(padding.first),
                                                 Json(padding.second)})}})) {}

layers::ZeroPadding2D::ZeroPadding2D(std::vector<Crop> padding,
                                     PaddingOptions o)
    : LayerHandle(make("ZeroPadding2D", {{"name", Json(o.name)},
                                         {"padding", cropsJson(padding)}})) {}

layers::ZeroPadding3D::ZeroPadding3D(std::vector<Crop> padding,
                                     PaddingOptions o)
    : LayerHandle(make("ZeroPadding3D", {{"name", Json(o.name)},
                                         {"padding", cropsJson(padding)}})) {}

SymbolicTensor layers::dot(const std::vector<SymbolicTensor> &inputs,
                           int64_t axes, const std::string &name,
                           bool normalize) {
  return make("Dot", {{"name", Json(name)},
                      {"axes", Json(axes)},
                      {"normalize", Json(normalize)}})
      ->apply(inputs)
      .front();
}

SymbolicTensor layers::dot(const std::vector<SymbolicTensor> &inputs,
                           std::pair<int64_t, int64_t> axes,
                           const std::string &name, bool normalize) {
  return make("Dot",
              {{"name", Json(name)},
               {"axes", Json::array({Json(axes.first), Json(axes.second)})},
               {"normalize", Json(normalize)}})
      ->apply(inputs)
      .front();
}

layers::Rescaling::Rescaling(double scale, RescalingOptions o)
    : LayerHandle(make("Rescaling", {{"name", Json(o.name)},
                                     {"scale", Json(scale)},
                                     {"offset", Json(o.offset)}})) {}
