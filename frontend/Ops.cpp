//===- Ops.cpp - Primitive tensor ops for custom layers -------------------===//
//
// Shape rules (errors name the op node and both shapes), the JSON config,
// and the emission of each primitive as one layer-dialect op.
//
//===----------------------------------------------------------------------===//

#include "frontend/Ops.h"
#include "frontend/MLIRGen.h"

#include "dialect/LayerOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>
#include <limits>

using namespace layerc;

namespace {

struct OpInfo {
  OpLayer::Kind kind;
  const char *name;
  int inputs; // -1: one or more
};

constexpr OpInfo kOps[] = {
    {OpLayer::Kind::Matmul, "matmul", 2},
    {OpLayer::Kind::Add, "add", 2},
    {OpLayer::Kind::Subtract, "subtract", 2},
    {OpLayer::Kind::Multiply, "multiply", 2},
    {OpLayer::Kind::Activation, "activation", 1},
    {OpLayer::Kind::Slice, "slice", 1},
    {OpLayer::Kind::Concat, "concat", -1},
    {OpLayer::Kind::Reshape, "reshape", 1},
    {OpLayer::Kind::Zeros, "zeros", 0},
    {OpLayer::Kind::Scale, "scale", 1},
    {OpLayer::Kind::Full, "full", 0},
    {OpLayer::Kind::BatchMatmul, "batch_matmul", 2},
    {OpLayer::Kind::Transpose, "transpose", 1},
    {OpLayer::Kind::Threshold, "threshold", 1},
};

const OpInfo &info(OpLayer::Kind kind) {
  for (const OpInfo &op : kOps)
    if (op.kind == kind)
      return op;
  throw Error("internal error: unknown op kind");
}

std::vector<int64_t> intsOf(const Json &array) {
  std::vector<int64_t> out;
  for (const Json &item : array.items())
    out.push_back(item.asInt());
  return out;
}

Json jsonInts(const std::vector<int64_t> &values) {
  std::vector<Json> items;
  for (int64_t v : values)
    items.emplace_back(v);
  return Json::array(std::move(items));
}

/// -1 (unknown) agrees with anything.
bool agree(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }

} // namespace

OpLayer::OpLayer(Kind kind, Json attrs, const std::string &name)
    : Layer("OpLambda", name.empty() ? uniqueLayerName(std::string("ops.") +
                                                       info(kind).name)
                                     : name),
      kind_(kind), attrs_(std::move(attrs)) {
  if (kind_ == Kind::Activation &&
      !layer::parseActivation(attrs_.get("activation")->asString()))
    throw Error("ops.activation: unknown activation '" +
                attrs_.get("activation")->asString() + "' (expected one of " +
                layer::knownActivations() + ")");
  // ops::full and a config's "full" alike: the constant is a float32.
  if (kind_ == Kind::Full) {
    double value = attrs_.get("value")->asDouble();
    if (!std::isfinite(value) ||
        std::fabs(value) > std::numeric_limits<float>::max())
      throw Error("ops.full: the value " + std::to_string(value) +
                  " is not a finite float32");
  }
}

int OpLayer::expectedInputs() const { return info(kind_).inputs; }

int64_t OpLayer::attr(const char *key) const {
  return attrs_.get(key)->asInt();
}

std::vector<std::vector<int64_t>>
OpLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  std::string op = name();
  auto fail =
      [&](const std::string &what) -> std::vector<std::vector<int64_t>> {
    throw Error(op + ": " + what);
  };
  auto axisOf = [&](int64_t axis, size_t rank, bool inserting) {
    int64_t r = static_cast<int64_t>(rank) + (inserting ? 1 : 0);
    int64_t a = axis < 0 ? axis + r : axis;
    if (a < 1 || a >= r)
      fail("axis " + std::to_string(axis) + " is out of range for " +
           (inserting ? "a result" : "an input") + " of rank " +
           std::to_string(r) + " (axis 0, the batch, cannot be used)");
    return a;
  };
  switch (kind_) {
  case Kind::Matmul: {
    const auto &a = in[0], &b = in[1];
    if (a.size() < 2 || b.size() != 2)
      return fail("expects a of rank >= 2 and b of rank 2, got " +
                  formatShape(a) + " and " + formatShape(b));
    if (!agree(a.back(), b[0]))
      return fail("cannot multiply " + formatShape(a) + " by " +
                  formatShape(b) + ": the inner dimensions differ");
    std::vector<int64_t> out(a.begin(), a.end() - 1);
    out.push_back(b[1]);
    return {out};
  }
  case Kind::Add:
  case Kind::Subtract:
  case Kind::Multiply: {
    const auto &a = in[0], &b = in[1];
    bool ok = b.size() <= a.size();
    size_t lead = ok ? a.size() - b.size() : 0;
    std::vector<int64_t> out = a;
    for (size_t i = 0; ok && i < b.size(); ++i) {
      ok = agree(a[lead + i], b[i]);
      if (out[lead + i] < 0)
        out[lead + i] = b[i];
    }
    if (!ok)
      return fail("cannot broadcast " + formatShape(b) + " to " +
                  formatShape(a) +
                  " (the second operand must have the shape of the first, or "
                  "of its trailing dimensions)");
    return {out};
  }
  case Kind::Activation:
  case Kind::Scale:
  case Kind::Threshold:
    return {in[0]};
  case Kind::Slice: {
    int64_t axis = axisOf(attr("axis"), in[0].size(), false);
    int64_t begin = attr("begin"), size = attr("size"), dim = in[0][axis];
    if (begin < 0 || size < 1 || (dim >= 0 && begin + size > dim))
      return fail("elements [" + std::to_string(begin) + ", " +
                  std::to_string(begin + size) + ") along axis " +
                  std::to_string(axis) + " are outside " + formatShape(in[0]));
    std::vector<int64_t> out = in[0];
    out[axis] = size;
    return {out};
  }
  case Kind::Concat: {
    int64_t axis = axisOf(attr("axis"), in[0].size(), false);
    std::vector<int64_t> out = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      bool ok = in[i].size() == out.size();
      for (size_t d = 0; ok && d < out.size(); ++d)
        ok = static_cast<int64_t>(d) == axis || agree(in[i][d], out[d]);
      if (!ok)
        return fail("cannot join " + formatShape(in[0]) + " and " +
                    formatShape(in[i]) + " along axis " + std::to_string(axis));
      out[axis] =
          out[axis] < 0 || in[i][axis] < 0 ? -1 : out[axis] + in[i][axis];
    }
    return {out};
  }
  case Kind::Reshape: {
    std::vector<int64_t> target = intsOf(*attrs_.get("shape"));
    int64_t have = 1, want = 1;
    for (size_t d = 1; d < in[0].size(); ++d)
      have = in[0][d] < 0 || have < 0 ? -1 : have * in[0][d];
    for (int64_t d : target)
      want *= d;
    if (in[0].empty() || (have >= 0 && have != want))
      return fail("cannot reshape " + formatShape(in[0]) + " to (batch, " +
                  formatShape(target).substr(1));
    std::vector<int64_t> out{in[0][0]};
    out.insert(out.end(), target.begin(), target.end());
    return {out};
  }
  case Kind::Zeros:
  case Kind::Full:
    return {intsOf(*attrs_.get("shape"))};
  case Kind::BatchMatmul: {
    const auto &a = in[0], &b = in[1];
    bool ta = attrs_.get("transpose_a")->asBool();
    bool tb = attrs_.get("transpose_b")->asBool();
    size_t r = a.size();
    if (r < 3 || b.size() != r)
      return fail("expects a and b of one rank >= 3, got " + formatShape(a) +
                  " and " + formatShape(b));
    std::vector<int64_t> out;
    for (size_t d = 0; d + 2 < r; ++d) {
      if (!agree(a[d], b[d]))
        return fail("cannot multiply " + formatShape(a) + " by " +
                    formatShape(b) + ": the batch dimensions differ");
      out.push_back(a[d] < 0 ? b[d] : a[d]);
    }
    if (!agree(a[ta ? r - 2 : r - 1], b[tb ? r - 1 : r - 2]))
      return fail("cannot multiply " + formatShape(a) + " by " +
                  formatShape(b) + ": the inner dimensions differ");
    out.push_back(a[ta ? r - 1 : r - 2]);
    out.push_back(b[tb ? r - 2 : r - 1]);
    return {out};
  }
  case Kind::Transpose: {
    std::vector<int64_t> perm = intsOf(*attrs_.get("permutation"));
    std::vector<bool> seen(in[0].size(), false);
    bool ok = perm.size() == in[0].size();
    for (size_t i = 0; ok && i < perm.size(); ++i) {
      ok = perm[i] >= 0 && perm[i] < static_cast<int64_t>(perm.size()) &&
           !seen[perm[i]];
      if (ok)
        seen[perm[i]] = true;
    }
    if (!ok)
      return fail(formatShape(perm) + " is not a permutation of the axes of " +
                  formatShape(in[0]));
    std::vector<int64_t> out;
    for (int64_t p : perm)
      out.push_back(in[0][p]);
    return {out};
  }
  }
  return {};
}

void OpLayer::emit(MLIRGenState &state, const Node &node) const {
  mlir::OpBuilder &b = state.builder;
  mlir::Location loc = state.loc(*this);
  mlir::RankedTensorType type = state.resultType(node);
  auto in = [&](size_t i) { return state.value(node.inputs.at(i)); };
  mlir::Value result;
  switch (kind_) {
  case Kind::Matmul:
    if (node.inputs[0].shape().size() == 2)
      result =
          layer::MatmulOp::create(b, loc, type, in(0), in(1), false, false);
    else
      result = layer::DenseOp::create(
          b, loc, type, in(0), in(1), mlir::Value(),
          layer::ActivationAttr::get(b.getContext(),
                                     layer::Activation::Linear));
    break;
  case Kind::Add:
    result = layer::AddOp::create(b, loc, type, in(0), in(1));
    break;
  case Kind::Subtract:
    result = layer::SubtractOp::create(b, loc, type, in(0), in(1));
    break;
  case Kind::Multiply:
    result = layer::MultiplyOp::create(b, loc, type, in(0), in(1));
    break;
  case Kind::Activation:
    result = layer::ActivationOp::create(
        b, loc, type, in(0),
        activationAttr(b, attrs_.get("activation")->asString()));
    break;
  case Kind::Scale:
    result = layer::ScaleOp::create(
        b, loc, type, in(0),
        b.getF64FloatAttr(attrs_.get("factor")->asDouble()));
    break;
  case Kind::Threshold:
    result = layer::ThresholdOp::create(
        b, loc, type, in(0),
        b.getF64FloatAttr(attrs_.get("threshold")->asDouble()));
    break;
  case Kind::Slice: {
    int64_t rank = static_cast<int64_t>(node.inputs[0].shape().size());
    int64_t axis = attr("axis") < 0 ? attr("axis") + rank : attr("axis");
    result = layer::SliceOp::create(b, loc, type, in(0), axis, attr("begin"),
                                    attr("size"));
    break;
  }
  case Kind::Concat: {
    std::vector<mlir::Value> values;
    for (size_t i = 0; i < node.inputs.size(); ++i)
      values.push_back(in(i));
    int64_t rank = static_cast<int64_t>(node.inputs[0].shape().size());
    int64_t axis = attr("axis") < 0 ? attr("axis") + rank : attr("axis");
    result = layer::ConcatenateOp::create(b, loc, type, values, axis);
    break;
  }
  case Kind::Reshape:
    result = layer::ReshapeOp::create(
        b, loc, type, in(0),
        b.getDenseI64ArrayAttr(intsOf(*attrs_.get("shape"))));
    break;
  case Kind::Zeros:
  case Kind::Full: {
    const Json *value = attrs_.get("value");
    float fill = value ? static_cast<float>(value->asDouble()) : 0.0f;
    result = mlir::arith::ConstantOp::create(
        b, loc, mlir::DenseElementsAttr::get(type, b.getF32FloatAttr(fill)));
    break;
  }
  case Kind::BatchMatmul:
    result = layer::BatchMatmulOp::create(b, loc, type, in(0), in(1),
                                          attrs_.get("transpose_a")->asBool(),
                                          attrs_.get("transpose_b")->asBool());
    break;
  case Kind::Transpose:
    result = layer::TransposeOp::create(
        b, loc, type, in(0),
        b.getDenseI64ArrayAttr(intsOf(*attrs_.get("permutation"))));
    break;
  }
  state.define(node, result);
}

Json OpLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> members{
      {"name", name()}, {"op", Json(info(kind_).name)}};
  for (const auto &[key, value] : attrs_.members())
    members.emplace_back(key, value);
  return Json::object(std::move(members));
}

std::shared_ptr<Layer> OpLayer::fromConfig(const Json &config) {
  const char *cls = "OpLambda";
  std::string name =
      configField(config, cls, "name", Json::Kind::String).asString();
  std::string op =
      configField(config, cls, "op", Json::Kind::String).asString();
  auto number = [&](const char *key) {
    return Json(configField(config, cls, key, Json::Kind::Number).asInt());
  };
  auto ints = [&](const char *key) {
    const Json &a = configField(config, cls, key, Json::Kind::Array);
    for (const Json &item : a.items())
      if (!item.isInteger() || item.asInt() < 1)
        throw Error("config of OpLambda layer " + name + ": '" + key +
                    "' must hold positive integers");
    return a;
  };
  for (const OpInfo &i : kOps) {
    if (op != i.name)
      continue;
    std::vector<std::pair<std::string, Json>> attrs;
    switch (i.kind) {
    case Kind::Activation:
      attrs.emplace_back("activation", configField(config, cls, "activation",
                                                   Json::Kind::String));
      break;
    case Kind::Scale:
      attrs.emplace_back(
          "factor", Json(configField(config, cls, "factor", Json::Kind::Number)
                             .asDouble()));
      break;
    case Kind::Threshold:
      attrs.emplace_back("threshold", Json(configField(config, cls, "threshold",
                                                       Json::Kind::Number)
                                               .asDouble()));
      break;
    case Kind::Slice:
      attrs = {{"axis", number("axis")},
               {"begin", number("begin")},
               {"size", number("size")}};
      break;
    case Kind::Concat:
      attrs = {{"axis", number("axis")}};
      break;
    case Kind::Reshape:
    case Kind::Zeros:
      attrs = {{"shape", ints("shape")}};
      break;
    case Kind::BatchMatmul:
      for (const char *key : {"transpose_a", "transpose_b"}) {
        const Json *flag = config.get(key);
        attrs.emplace_back(key, Json(flag && flag->isBool() && flag->asBool()));
      }
      break;
    case Kind::Transpose: {
      const Json &perm =
          configField(config, cls, "permutation", Json::Kind::Array);
      for (const Json &item : perm.items())
        if (!item.isInteger() || item.asInt() < 0)
          throw Error("config of OpLambda layer " + name +
                      ": 'permutation' must hold axes (integers >= 0)");
      attrs = {{"permutation", perm}};
      break;
    }
    case Kind::Full:
      attrs = {
          {"shape", ints("shape")},
          {"value", Json(configField(config, cls, "value", Json::Kind::Number)
                             .asDouble())}};
      break;
    default:
      break;
    }
    return std::make_shared<OpLayer>(i.kind, Json::object(std::move(attrs)),
                                     name);
  }
  throw Error("config of OpLambda layer " + name + ": unknown op '" + op + "'");
}

//===----------------------------------------------------------------------===//
// ops::
//===----------------------------------------------------------------------===//

namespace {
SymbolicTensor apply(OpLayer::Kind kind, std::vector<SymbolicTensor> inputs,
                     std::vector<std::pair<std::string, Json>> attrs = {}) {
  auto layer = std::make_shared<OpLayer>(kind, Json::object(std::move(attrs)));
  return layer->apply(inputs).front();
}
} // namespace

SymbolicTensor ops::matmul(const SymbolicTensor &a, const SymbolicTensor &b) {
  return apply(OpLayer::Kind::Matmul, {a, b});
}
SymbolicTensor ops::batchMatmul(const SymbolicTensor &a,
                                const SymbolicTensor &b, bool transposeA,
                                bool transposeB) {
  return apply(
      OpLayer::Kind::BatchMatmul, {a, b},
      {{"transpose_a", Json(transposeA)}, {"transpose_b", Json(transposeB)}});
}
SymbolicTensor ops::transpose(const SymbolicTensor &x,
                              const std::vector<int64_t> &permutation) {
  return apply(OpLayer::Kind::Transpose, {x},
               {{"permutation", jsonInts(permutation)}});
}
SymbolicTensor ops::add(const SymbolicTensor &a, const SymbolicTensor &b) {
  return apply(OpLayer::Kind::Add, {a, b});
}
SymbolicTensor ops::subtract(const SymbolicTensor &a, const SymbolicTensor &b) {
  return apply(OpLayer::Kind::Subtract, {a, b});
}
SymbolicTensor ops::multiply(const SymbolicTensor &a, const SymbolicTensor &b) {
  return apply(OpLayer::Kind::Multiply, {a, b});
}
SymbolicTensor ops::activation(const SymbolicTensor &x,
                               const std::string &name) {
  return apply(OpLayer::Kind::Activation, {x}, {{"activation", Json(name)}});
}
SymbolicTensor ops::tanh(const SymbolicTensor &x) {
  return activation(x, "tanh");
}
SymbolicTensor ops::sigmoid(const SymbolicTensor &x) {
  return activation(x, "sigmoid");
}
SymbolicTensor ops::relu(const SymbolicTensor &x) {
  return activation(x, "relu");
}
SymbolicTensor ops::softmax(const SymbolicTensor &x) {
  return activation(x, "softmax");
}
SymbolicTensor ops::scale(const SymbolicTensor &x, double factor) {
  return apply(OpLayer::Kind::Scale, {x}, {{"factor", Json(factor)}});
}
SymbolicTensor ops::threshold(const SymbolicTensor &x, double threshold) {
  if (!std::isfinite(threshold))
    throw Error("ops::threshold: the threshold must be finite, got " +
                std::to_string(threshold));
  return apply(OpLayer::Kind::Threshold, {x}, {{"threshold", Json(threshold)}});
}
SymbolicTensor ops::slice(const SymbolicTensor &x, int64_t axis, int64_t begin,
                          int64_t size) {
  return apply(
      OpLayer::Kind::Slice, {x},
      {{"axis", Json(axis)}, {"begin", Json(begin)}, {"size", Json(size)}});
}
SymbolicTensor ops::take(const SymbolicTensor &x, int64_t axis, int64_t index) {
  SymbolicTensor part = slice(x, axis, index, 1);
  std::vector<int64_t> shape = part.shape();
  int64_t a = axis < 0 ? axis + static_cast<int64_t>(shape.size()) : axis;
  std::vector<int64_t> sample;
  for (size_t d = 1; d < shape.size(); ++d)
    if (static_cast<int64_t>(d) != a)
      sample.push_back(shape[d]);
  return reshape(part, sample);
}
SymbolicTensor ops::concat(const std::vector<SymbolicTensor> &xs,
                           int64_t axis) {
  if (xs.empty())
    throw Error("ops.concat: needs at least one tensor");
  return apply(OpLayer::Kind::Concat, xs, {{"axis", Json(axis)}});
}
SymbolicTensor ops::stack(const std::vector<SymbolicTensor> &xs, int64_t axis) {
  if (xs.empty())
    throw Error("ops.stack: needs at least one tensor");
  int64_t rank = static_cast<int64_t>(xs[0].shape().size()) + 1;
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 1 || a >= rank)
    throw Error("ops.stack: axis " + std::to_string(axis) +
                " is out of range for a result of rank " +
                std::to_string(rank) + " (axis 0, the batch, cannot be used)");
  std::vector<SymbolicTensor> parts;
  for (const SymbolicTensor &x : xs) {
    if (x.shape() != xs[0].shape())
      throw Error("ops.stack: every tensor must have one shape, got " +
                  xs[0].shapeString() + " and " + x.shapeString());
    std::vector<int64_t> sample(x.shape().begin() + 1, x.shape().end());
    sample.insert(sample.begin() + (a - 1), 1);
    parts.push_back(reshape(x, sample));
  }
  return parts.size() == 1 ? parts[0] : concat(parts, a);
}
SymbolicTensor ops::reshape(const SymbolicTensor &x,
                            const std::vector<int64_t> &sampleShape) {
  for (int64_t d : sampleShape)
    if (d < 1)
      throw Error("ops.reshape: every size of the new shape must be known "
                  "and positive, got " +
                  formatShape(sampleShape));
  return apply(OpLayer::Kind::Reshape, {x}, {{"shape", jsonInts(sampleShape)}});
}
SymbolicTensor ops::zeros(const std::vector<int64_t> &shape) {
  for (int64_t d : shape)
    if (d < 1)
      throw Error("ops.zeros: the shape " + formatShape(shape) +
                  " is not static; give every size (an Input with a static "
                  "batch_size), or use ops::zerosLike");
  return apply(OpLayer::Kind::Zeros, {}, {{"shape", jsonInts(shape)}});
}
SymbolicTensor ops::zerosLike(const SymbolicTensor &x) { return scale(x, 0.0); }
SymbolicTensor ops::full(const std::vector<int64_t> &shape, double value) {
  for (int64_t d : shape)
    if (d < 1)
      throw Error("ops.full: the shape " + formatShape(shape) +
                  " is not static; give every size");
  return apply(OpLayer::Kind::Full, {},
               {{"shape", jsonInts(shape)}, {"value", Json(value)}});
}

SymbolicTensor layerc::operator+(const SymbolicTensor &a,
                                 const SymbolicTensor &b) {
  return ops::add(a, b);
}
SymbolicTensor layerc::operator-(const SymbolicTensor &a,
                                 const SymbolicTensor &b) {
  return ops::subtract(a, b);
}
SymbolicTensor layerc::operator*(const SymbolicTensor &a,
                                 const SymbolicTensor &b) {
  return ops::multiply(a, b);
}
