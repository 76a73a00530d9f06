//===- Attention.cpp - Attention, AdditiveAttention, MultiHeadAttention ---===//
//
// Keras 3's formulas (keras/src/layers/attention/*.py), with inputs q
// (batch, Tq, dim), v (batch, Tv, dv), k (batch, Tv, dim):
//
//   Attention, "dot":     scores = q k^T, times `scale` with use_scale
//   Attention, "concat":  scores = concat_score_weight *
//                                  sum_d tanh(scale * (q_i + k_j))
//   AdditiveAttention:    scores = sum_d scale_d * tanh(q_i + k_j)
//   both:                 out = softmax(scores, -1) v
//
// q_i + k_j over every pair of steps is q repeated Tv times along a new
// axis 2 plus k repeated Tq times along a new axis 1 (both (batch, Tq, Tv,
// dim)); the sum over d is a matmul with a column of ones (or of `scale`).
//
// MultiHeadAttention (no attention_axes: the sequence axis attends):
//
//   Q = q Wq + bq, K = k Wk + bk, V = v Wv + bv   per head, (batch, T, H, .)
//   A = softmax((Q / sqrt(key_dim)) K^T)          per head, (batch, H, Tq, Tv)
//   out = (A V) Wo + bo                           summed over the heads
//
// Wq (dim, H, key_dim) is a (dim, H * key_dim) matrix by a layer.reshape
// (which keeps axis 0); Wo (H, value_dim, out) is transposed to (out, H,
// value_dim), reshaped to (out, H * value_dim) and transposed again.
//
//===----------------------------------------------------------------------===//

#include "frontend/layers/Attention.h"
#include "frontend/Ops.h"

#include <cmath>
#include <functional>

using namespace layerc;

namespace {

using K = Json::Kind;

[[noreturn]] void configError(const std::string &cls,
                              const std::string &message) {
  throw Error("config of " + cls + " layer: " + message);
}

void checkDropout(const std::string &cls, double dropout) {
  if (dropout != 0.0)
    configError(cls, "dropout " + std::to_string(dropout) +
                         " is not supported: only dropout=0.0");
}

/// The checks Keras's _validate_inputs and the products make: 2 or 3
/// inputs of rank 3, the key with the value's steps and the query's size
/// (`sameDim`).
void checkInputs(const Layer &layer, const std::string &cls,
                 const std::vector<std::vector<int64_t>> &shapes, bool sameDim,
                 const std::function<void(int, const std::string &,
                                          const std::vector<int64_t> &)> &bad) {
  if (shapes.size() < 2 || shapes.size() > 3)
    throw Error(cls +
                " layer accepts inputs list of length 2 or 3, namely "
                "[query, value] or [query, value, key]. Received "
                "length: " +
                std::to_string(shapes.size()) + ". (layer " + layer.name() +
                ")");
  for (size_t i = 0; i < shapes.size(); ++i)
    if (shapes[i].size() != 3)
      bad(static_cast<int>(i),
          cls + " expects inputs of shape (batch, steps, dim), found ndim=" +
              std::to_string(shapes[i].size()),
          shapes[i]);
  const auto &q = shapes[0], &v = shapes[1];
  const auto &k = shapes.size() > 2 ? shapes[2] : v;
  int ki = shapes.size() > 2 ? 2 : 1;
  if (shapes.size() > 2 && (k[1] != v[1] || k[0] != v[0]))
    bad(2,
        "All dimensions of `value` and `key`, except the last one, must be "
        "equal. Received: value_shape=" +
            formatShape(v) + " and key_shape=" + formatShape(k),
        k);
  if (sameDim && (q[2] < 0 || k[2] != q[2]))
    bad(ki,
        "the key's last dimension must be the query's, the query has shape " +
            formatShape(q),
        k);
}

/// ones (n, 1): a sum over the last axis as a matmul.
SymbolicTensor sumLast(const SymbolicTensor &x, const SymbolicTensor &column) {
  SymbolicTensor s = ops::matmul(x, column);
  std::vector<int64_t> shape(s.shape().begin() + 1, s.shape().end() - 1);
  return ops::reshape(s, shape);
}

} // namespace

//===----------------------------------------------------------------------===//
// Attention, AdditiveAttention
//===----------------------------------------------------------------------===//

AttentionLayer::AttentionLayer(std::string className,
                               layers::AttentionOptions options)
    : Layer(className, options.name), className_(std::move(className)),
      options_(std::move(options)) {
  if (options_.score_mode != "dot" && options_.score_mode != "concat")
    throw Error("Invalid value for argument score_mode. Expected one of "
                "{'dot', 'concat'}. Received: score_mode=" +
                options_.score_mode + " (layer " + name() + ")");
  checkDropout(className_, options_.dropout);
}

Json AttentionLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> members{
      {"name", Json(name())}, {"use_scale", Json(options_.use_scale)}};
  if (className_ == "Attention")
    members.emplace_back("score_mode", Json(options_.score_mode));
  members.emplace_back("dropout", Json(options_.dropout));
  members.emplace_back("seed",
                       options_.seed ? Json(*options_.seed) : Json(nullptr));
  if (options_.return_attention_scores)
    members.emplace_back("return_attention_scores", Json(true));
  return Json::object(std::move(members));
}

void AttentionLayer::build(const std::vector<std::vector<int64_t>> &shapes) {
  checkInputs(*this, className_, shapes, true,
              [this](int i, const std::string &what,
                     const std::vector<int64_t> &shape) {
                incompatible(i, what, shape);
              });
  if (className_ == "AdditiveAttention") {
    if (options_.use_scale)
      addWeight("scale", {shapes[0].back()}, "glorot_uniform");
    return;
  }
  if (options_.use_scale)
    addWeight("scale", {}, "ones");
  if (options_.score_mode == "concat")
    addWeight("concat_score_weight", {}, "ones");
}

SymbolicTensor AttentionLayer::pairSums(const SymbolicTensor &q,
                                        const SymbolicTensor &k) {
  int64_t tq = q.shape()[1], tv = k.shape()[1], d = q.shape()[2];
  if (tq < 0 || tv < 0)
    incompatible(tq < 0 ? 0 : 1,
                 className_ +
                     " needs known numbers of steps for its additive scores",
                 tq < 0 ? q.shape() : k.shape());
  SymbolicTensor qe = ops::reshape(q, {tq, 1, d});
  SymbolicTensor ke = ops::reshape(k, {1, tv, d});
  if (tv > 1)
    qe = ops::concat(std::vector<SymbolicTensor>(tv, qe), 2);
  if (tq > 1)
    ke = ops::concat(std::vector<SymbolicTensor>(tq, ke), 1);
  return qe + ke;
}

std::vector<SymbolicTensor>
AttentionLayer::call(const std::vector<SymbolicTensor> &inputs) {
  std::vector<std::vector<int64_t>> shapes;
  for (const SymbolicTensor &x : inputs)
    shapes.push_back(x.shape());
  checkInputs(*this, className_, shapes, true,
              [this](int i, const std::string &what,
                     const std::vector<int64_t> &shape) {
                incompatible(i, what, shape);
              });
  const SymbolicTensor &q = inputs[0], &v = inputs[1];
  const SymbolicTensor &k = inputs.size() > 2 ? inputs[2] : v;
  int64_t d = q.shape()[2];
  SymbolicTensor scores;
  if (className_ == "AdditiveAttention") {
    SymbolicTensor t = ops::tanh(pairSums(q, k));
    scores = sumLast(t, options_.use_scale ? ops::reshape(weight("scale"), {1})
                                           : ops::full({d, 1}, 1.0));
  } else if (options_.score_mode == "dot") {
    scores = ops::batchMatmul(q, k, false, true);
    if (options_.use_scale)
      scores = scores * weight("scale");
  } else {
    SymbolicTensor s = pairSums(q, k);
    if (options_.use_scale)
      s = s * weight("scale");
    scores = sumLast(ops::tanh(s), ops::full({d, 1}, 1.0)) *
             weight("concat_score_weight");
  }
  SymbolicTensor distribution = ops::softmax(scores);
  SymbolicTensor out = ops::batchMatmul(distribution, v);
  if (options_.return_attention_scores)
    return {out, distribution};
  return {out};
}

//===----------------------------------------------------------------------===//
// MultiHeadAttention
//===----------------------------------------------------------------------===//

MultiHeadAttentionLayer::MultiHeadAttentionLayer(
    int64_t numHeads, int64_t keyDim, layers::MultiHeadAttentionOptions options)
    : Layer("MultiHeadAttention", options.name), numHeads_(numHeads),
      keyDim_(keyDim), options_(std::move(options)) {
  if (numHeads_ <= 0)
    throw Error("Received an invalid value for argument `num_heads`, "
                "expected a positive integer. Received: num_heads=" +
                std::to_string(numHeads_));
  if (keyDim_ <= 0)
    throw Error("Received an invalid value for argument `key_dim`, expected "
                "a positive integer. Received: key_dim=" +
                std::to_string(keyDim_));
  if (options_.value_dim && *options_.value_dim <= 0)
    throw Error("Received an invalid value for argument `value_dim`, "
                "expected a positive integer or `None`. Received: "
                "value_dim=" +
                std::to_string(*options_.value_dim));
  if (options_.output_shape && *options_.output_shape <= 0)
    throw Error(
        "Invalid `output_shape`: " + std::to_string(*options_.output_shape) +
        ". When specified, the `output_shape` should be a positive "
        "integer.");
  checkDropout("MultiHeadAttention", options_.dropout);
}

Json MultiHeadAttentionLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> members{
      {"name", Json(name())},
      {"num_heads", Json(numHeads_)},
      {"key_dim", Json(keyDim_)},
      {"value_dim", Json(valueDim())},
      {"dropout", Json(options_.dropout)},
      {"use_bias", Json(options_.use_bias)},
      {"output_shape", options_.output_shape
                           ? Json::array({Json(*options_.output_shape)})
                           : Json(nullptr)},
      {"attention_axes", Json(nullptr)},
      {"kernel_initializer", options_.kernel_initializer.toConfig()},
      {"bias_initializer", options_.bias_initializer.toConfig()}};
  if (options_.return_attention_scores)
    members.emplace_back("return_attention_scores", Json(true));
  return Json::object(std::move(members));
}

void MultiHeadAttentionLayer::build(
    const std::vector<std::vector<int64_t>> &shapes) {
  auto bad = [this](int i, const std::string &what,
                    const std::vector<int64_t> &shape) {
    incompatible(i, what, shape);
  };
  checkInputs(*this, "MultiHeadAttention", shapes, false, bad);
  const auto &q = shapes[0], &v = shapes[1];
  const auto &k = shapes.size() > 2 ? shapes[2] : v;
  for (size_t i = 0; i < shapes.size(); ++i)
    for (size_t d = 1; d < 3; ++d)
      if (shapes[i][d] < 0)
        bad(static_cast<int>(i),
            "MultiHeadAttention needs known numbers of steps and features",
            shapes[i]);
  int64_t out = options_.output_shape.value_or(q.back());
  const auto &ki = options_.kernel_initializer;
  const auto &bi = options_.bias_initializer;
  struct Projection {
    const char *name;
    int64_t dim, size;
  };
  for (const Projection &p : {Projection{"query", q.back(), keyDim_},
                              Projection{"key", k.back(), keyDim_},
                              Projection{"value", v.back(), valueDim()}}) {
    addWeight(std::string(p.name) + "/kernel", {p.dim, numHeads_, p.size}, ki);
    if (options_.use_bias)
      addWeight(std::string(p.name) + "/bias", {numHeads_, p.size}, bi);
  }
  addWeight("attention_output/kernel", {numHeads_, valueDim(), out}, ki);
  if (options_.use_bias)
    addWeight("attention_output/bias", {out}, bi);
}

SymbolicTensor MultiHeadAttentionLayer::project(const SymbolicTensor &x,
                                                const std::string &name,
                                                int64_t size) {
  int64_t steps = x.shape()[1];
  SymbolicTensor y = ops::matmul(
      x, ops::reshape(weight(name + "/kernel"), {numHeads_ * size}));
  y = ops::reshape(y, {steps, numHeads_, size});
  if (options_.use_bias)
    y = y + weight(name + "/bias");
  return y;
}

std::vector<SymbolicTensor>
MultiHeadAttentionLayer::call(const std::vector<SymbolicTensor> &inputs) {
  const SymbolicTensor &q = inputs[0], &v = inputs[1];
  const SymbolicTensor &k = inputs.size() > 2 ? inputs[2] : v;
  int64_t tq = q.shape()[1], h = numHeads_, dv = valueDim();
  const std::vector<int64_t> heads{0, 2, 1, 3};
  // (batch, T, H, size) -> (batch, H, T, size), the query scaled first.
  SymbolicTensor qh =
      ops::transpose(ops::scale(project(q, "query", keyDim_),
                                1.0 / std::sqrt(static_cast<double>(keyDim_))),
                     heads);
  SymbolicTensor kh = ops::transpose(project(k, "key", keyDim_), heads);
  SymbolicTensor vh = ops::transpose(project(v, "value", dv), heads);
  SymbolicTensor scores = ops::softmax(ops::batchMatmul(qh, kh, false, true));
  SymbolicTensor o = ops::reshape(
      ops::transpose(ops::batchMatmul(scores, vh), heads), {tq, h * dv});
  // Wo (H, dv, out) as an (H * dv, out) matrix.
  SymbolicTensor wo = ops::transpose(
      ops::reshape(ops::transpose(weight("attention_output/kernel"), {2, 0, 1}),
                   {h * dv}),
      {1, 0});
  SymbolicTensor y = ops::matmul(o, wo);
  if (options_.use_bias)
    y = y + weight("attention_output/bias");
  if (options_.return_attention_scores)
    return {y, scores};
  return {y};
}

//===----------------------------------------------------------------------===//
// Factories and handles
//===----------------------------------------------------------------------===//

namespace {

std::string nameIn(const Json &c) {
  const Json *name = c.get("name");
  return name && name->isString() ? name->asString() : "";
}

/// A field that may be absent or null: `fallback` then.
const Json *optional(const Json &c, const char *key) {
  const Json *v = c.get(key);
  return v && !v->isNull() ? v : nullptr;
}

bool boolOr(const Json &c, const std::string &cls, const char *key,
            bool fallback) {
  const Json *v = optional(c, key);
  if (!v)
    return fallback;
  if (!v->isBool())
    configError(cls, std::string("field '") + key + "' must be a boolean");
  return v->asBool();
}

double numberOr(const Json &c, const std::string &cls, const char *key,
                double fallback) {
  const Json *v = optional(c, key);
  if (!v)
    return fallback;
  if (!v->isNumber())
    configError(cls, std::string("field '") + key + "' must be a number");
  return v->asDouble();
}

std::optional<int64_t> intOr(const Json &c, const std::string &cls,
                             const char *key) {
  const Json *v = optional(c, key);
  if (v && v->isArray() && v->items().size() == 1)
    v = &v->items()[0];
  if (!v)
    return std::nullopt;
  if (!v->isInteger())
    configError(cls, std::string("field '") + key + "' must be an integer");
  return v->asInt();
}

/// Keras arguments layerc does not implement: refused unless absent, null
/// or their default.
void refuseSet(const Json &c, const std::string &cls,
               std::initializer_list<const char *> keys) {
  for (const char *key : keys) {
    const Json *v = optional(c, key);
    if (v && !(v->isBool() && !v->asBool()))
      configError(cls, std::string("'") + key + "' is not supported yet");
  }
}

} // namespace

void layerc::addAttentionLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  for (const char *cls : {"Attention", "AdditiveAttention"})
    out[cls] = [cls](const Json &c) -> std::shared_ptr<Layer> {
      bool additive = std::string(cls) == "AdditiveAttention";
      layers::AttentionOptions o;
      o.use_scale = boolOr(c, cls, "use_scale", additive);
      if (!additive) {
        const Json *mode = optional(c, "score_mode");
        if (mode && !mode->isString())
          configError(cls, "field 'score_mode' must be a string");
        o.score_mode = mode ? mode->asString() : "dot";
      }
      o.dropout = numberOr(c, cls, "dropout", 0.0);
      o.seed = intOr(c, cls, "seed");
      o.return_attention_scores =
          boolOr(c, cls, "return_attention_scores", false);
      o.name = nameIn(c);
      return std::make_shared<AttentionLayer>(cls, o);
    };
  out["MultiHeadAttention"] = [](const Json &c) -> std::shared_ptr<Layer> {
    const char *cls = "MultiHeadAttention";
    const Json &heads = configField(c, cls, "num_heads", K::Number);
    const Json &keyDim = configField(c, cls, "key_dim", K::Number);
    if (!heads.isInteger() || !keyDim.isInteger())
      configError(cls, "'num_heads' and 'key_dim' must be integers");
    refuseSet(c, cls,
              {"attention_axes", "use_gate", "sliding_window",
               "kernel_regularizer", "bias_regularizer", "activity_regularizer",
               "kernel_constraint", "bias_constraint"});
    const Json *shape = optional(c, "output_shape");
    if (shape && shape->isArray() && shape->items().size() != 1)
      configError(cls, "only an output_shape of one dimension is supported, "
                       "got " +
                           shape->dump());
    layers::MultiHeadAttentionOptions o;
    o.value_dim = intOr(c, cls, "value_dim");
    o.dropout = numberOr(c, cls, "dropout", 0.0);
    o.use_bias = boolOr(c, cls, "use_bias", true);
    o.output_shape = intOr(c, cls, "output_shape");
    o.kernel_initializer =
        initializerIn(c, cls, "kernel_initializer", "glorot_uniform");
    o.bias_initializer = initializerIn(c, cls, "bias_initializer", "zeros");
    o.return_attention_scores =
        boolOr(c, cls, "return_attention_scores", false);
    o.name = nameIn(c);
    return std::make_shared<MultiHeadAttentionLayer>(heads.asInt(),
                                                     keyDim.asInt(), o);
  };
}

layers::Attention::Attention(AttentionOptions o)
    : LayerHandle(std::make_shared<AttentionLayer>("Attention", std::move(o))) {
}

layers::AdditiveAttention::AdditiveAttention(AdditiveAttentionOptions o)
    : LayerHandle(std::make_shared<AttentionLayer>(
          "AdditiveAttention",
          AttentionOptions{o.use_scale, "dot", o.dropout, std::nullopt,
                           o.return_attention_scores, o.name})) {}

layers::MultiHeadAttention::MultiHeadAttention(int64_t num_heads,
                                               int64_t key_dim,
                                               MultiHeadAttentionOptions o)
    : LayerHandle(std::make_shared<MultiHeadAttentionLayer>(num_heads, key_dim,
                                                            std::move(o))) {}
