//===- HalideOps.cpp - Each op of the layer dialect as Halide Funcs -------===//
//
// Each value of the function is a Halide Func whose arguments are the
// tensor's axes innermost first (an NHWC tensor is f(c, x, y, n), as a
// Halide::Buffer over the same row-major memory). Windows read their input
// through a constant exterior where Keras pads. A weight is a Func too: of
// a function argument (the weights given at each call, as the C++ API and
// a library without --embed-weights pass them) or of a constant.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/HalideImpl.h"
#include "dialect/LayerOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace layerc;
using namespace layerc::halide;

namespace layerc::halide {

H::Expr activate(H::Expr v, layer::Activation kind) {
  using A = layer::Activation;
  auto sigmoid = [](H::Expr x) { return 1.0f / (1.0f + H::exp(-x)); };
  switch (kind) {
  case A::Linear:
    return v;
  case A::Relu:
    return H::max(v, 0.0f);
  case A::Sigmoid:
    return sigmoid(v);
  case A::Tanh:
    return H::tanh(v);
  case A::Elu:
    return H::select(v > 0.0f, v, H::exp(v) - 1.0f);
  case A::Selu:
    return 1.0507009873554805f *
           H::select(v > 0.0f, v, 1.6732632423543772f * (H::exp(v) - 1.0f));
  case A::Swish:
    return v * sigmoid(v);
  case A::Gelu:
    return 0.5f * v * (1.0f + H::erf(v * 0.7071067811865476f));
  case A::HardSigmoid:
    return H::clamp(v / 6.0f + 0.5f, 0.0f, 1.0f);
  case A::Softmax:
    break;
  }
  return v; // softmax is applied over an axis by the caller
}

} // namespace layerc::halide

LogicalResult HalideFunction::Impl::lowerConstant(arith::ConstantOp cst) {
  auto attr = dyn_cast<DenseElementsAttr>(cst.getValue());
  auto type = dyn_cast<RankedTensorType>(cst.getType());
  if (!attr || !type || !type.getElementType().isF32())
    return success(); // not a tensor of the function: an op that uses it fails
  std::vector<int> sizes;
  for (int64_t d : llvm::reverse(type.getShape()))
    sizes.push_back(static_cast<int>(d));
  H::Buffer<float> buf(sizes);
  float *data = buf.data();
  if (attr.isSplat()) {
    std::fill_n(data, buf.number_of_elements(), attr.getSplatValue<float>());
  } else {
    size_t i = 0;
    for (float x : attr.getValues<float>())
      data[i++] = x;
  }
  std::vector<H::Var> vars = lhs(axes(static_cast<int>(type.getRank())));
  H::Func f("constant");
  f(vars) = buf(std::vector<H::Expr>(vars.begin(), vars.end()));
  define(cst.getResult(), f);
  values[cst.getResult()].perBatch = false;
  return success();
}

FailureOr<HTensor> HalideFunction::Impl::weight(Operation *op, Value v,
                                                const char *what) {
  if (auto it = values.find(v); it != values.end())
    return it->second;
  return op->emitError() << "the Halide backend needs the " << what
                         << " as a float32 tensor";
}

LogicalResult HalideFunction::Impl::accumulate(Operation *op, Value bias,
                                               const std::vector<H::Var> &vars,
                                               H::Expr product,
                                               layer::Activation act,
                                               int64_t cols, Value result) {
  H::Func acc(op->getName().stripDialect().str() + "_acc");
  if (bias) {
    auto b = weight(op, bias, "bias");
    if (failed(b))
      return failure();
    acc(vars) = b->f(vars[0]);
  } else {
    acc(vars) = 0.0f;
  }
  acc(vars) += product;
  auto type = cast<RankedTensorType>(result.getType());
  int rank = static_cast<int>(vars.size());
  int64_t channels = type.getShape().back();
  if (act != layer::Activation::Softmax) {
    H::Func out = activated(acc, rank, channels, act);
    scheduleBlocked(out, acc, channels, cols, rank);
    define(result, out);
    return success();
  }
  // Softmax reads whole rows of channels: after the blocked sums.
  H::Func linear = activated(acc, rank, channels, layer::Activation::Linear);
  scheduleBlocked(linear, acc, channels, cols, rank);
  H::Func out = activated(linear, rank, channels, act);
  scheduleRoot(out, std::vector<int64_t>(type.getShape().begin(),
                                         type.getShape().end()));
  define(result, out);
  return success();
}

H::Func HalideFunction::Impl::zeroPadded(const HTensor &in) {
  std::vector<H::Var> v = axes(in.rank());
  std::vector<H::Expr> idx = exprs(v);
  H::Expr inside = H::Internal::const_true();
  for (int i = 1; i + 1 < in.rank(); ++i) {
    int size = static_cast<int>(in.shape[i]);
    inside = inside && v[i] >= 0 && v[i] < size;
    idx[i] = H::clamp(v[i], 0, size - 1);
  }
  H::Func padded("padded");
  padded(lhs(v)) = H::select(inside, in.f(at(idx)), 0.0f);
  scheduleRoot(padded, in.shape);
  return padded;
}

H::Func HalideFunction::Impl::activated(H::Func f, int rank, int64_t lastSize,
                                        layer::Activation act) {
  std::vector<H::Var> v = axes(rank);
  H::Func out;
  if (act != layer::Activation::Softmax) {
    out(lhs(v)) = activate(f(at(exprs(v))), act);
    return out;
  }
  // Softmax over the last (channel) axis.
  H::RDom r(0, static_cast<int>(lastSize));
  std::vector<H::Expr> idx = exprs(v);
  std::vector<H::Expr> ridx = idx;
  ridx.back() = r;
  H::Func mx, sum;
  std::vector<H::Var> outerVars(v.begin(), v.end() - 1);
  std::vector<H::Expr> outer = exprs(outerVars);
  mx(lhs(outerVars)) = H::maximum(f(at(ridx)));
  sum(lhs(outerVars)) = H::sum(H::exp(f(at(ridx)) - mx(at(outer))));
  if (ownSchedule) {
    place(mx);
    place(sum);
  }
  out(lhs(v)) = H::exp(f(at(idx)) - mx(at(outer))) / sum(at(outer));
  return out;
}

LogicalResult HalideFunction::Impl::lowerOp(Operation *op) {
  opPerBatch = false;
  for (Value v : op->getOperands()) {
    if (!values.count(v))
      return op->emitError() << "has an operand of type " << v.getType()
                             << " that the Halide backend does not lower";
    opPerBatch |= get(v).perBatch;
  }
  H::Expr zero = 0.0f;
  if (auto sum = dyn_cast<layer::ReduceSumOp>(op)) {
    // The sum over one axis of static size, which disappears.
    HTensor &in = get(sum.getInput());
    int64_t axis = sum.getAxis();
    if (axis < 0 || axis >= in.rank() || in.shape[axis] < 0)
      return op->emitError("the Halide backend sums over an axis of static "
                           "size only");
    std::vector<H::Var> v = axes(in.rank() - 1);
    H::RDom r(0, static_cast<int>(in.shape[axis]));
    std::vector<H::Expr> idx = exprs(v);
    idx.insert(idx.begin() + axis, r);
    H::Func out("reduce_sum");
    out(lhs(v)) = H::sum(in.f(at(idx)));
    auto type = cast<RankedTensorType>(sum.getType());
    scheduleRoot(out, std::vector<int64_t>(type.getShape().begin(),
                                           type.getShape().end()));
    define(sum.getResult(), out);
    return success();
  }
  if (auto conv = dyn_cast<layer::ConvOp>(op)) {
    // 1-D, 2-D or 3-D: out(c, spatial..., n) = sum over (input channel,
    // window innermost first) of kernel * input.
    HTensor &in = get(conv.getInput());
    int rank = in.rank(), spatial = rank - 2;
    if (spatial < 1 || spatial > 3 || conv.getGroups() != 1)
      return op->emitError("the Halide backend lowers ungrouped 1-D, 2-D and "
                           "3-D convolutions only");
    auto w = weight(op, conv.getKernel(), "kernel");
    if (failed(w))
      return failure();
    auto outType = cast<RankedTensorType>(conv.getType());
    ArrayRef<int64_t> s = conv.getStrides(), d = conv.getDilations();
    // Kernel (k_1, ..., k_S, in, filters).
    int64_t cin = w->shape[spatial];
    std::vector<int64_t> pad(spatial, 0);
    H::Func src = in.f;
    if (conv.getPadding() == layer::Padding::Same) {
      // Read through zeros wherever a window passes an edge, before or
      // after (TensorFlow puts the odd cell after: a stride-2 window over
      // an even size pads only there).
      bool any = false;
      for (int i = 0; i < spatial; ++i) {
        int64_t window = (w->shape[i] - 1) * d[i] + 1;
        pad[i] = layer::samePaddingBefore(in.shape[1 + i], window, s[i]);
        any |=
            (outType.getDimSize(1 + i) - 1) * s[i] + window > in.shape[1 + i];
      }
      if (any)
        src = zeroPadded(in);
    }
    std::vector<H::Var> v = axes(rank);
    H::Region window{{0, static_cast<int>(cin)}};
    for (int i = spatial - 1; i >= 0; --i)
      window.emplace_back(0, static_cast<int>(w->shape[i]));
    H::RDom r(window);
    std::vector<H::Expr> kidx(rank), xidx(rank);
    for (int i = 0; i < spatial; ++i) {
      H::Expr ri = r[spatial - i];
      kidx[i] = ri;
      xidx[1 + i] = v[1 + i] * (int)s[i] + ri * (int)d[i] - (int)pad[i];
    }
    kidx[spatial] = r[0];
    kidx[spatial + 1] = v.back();
    xidx[0] = v[0];
    xidx[rank - 1] = r[0];
    H::Expr product = w->f(at(kidx)) * src(at(xidx));
    if (failed(accumulate(op, conv.getBias(), lhs(v), product,
                          conv.getActivation(), outType.getDimSize(rank - 2),
                          conv.getResult())))
      return failure();
    if (Value residual = conv.getResidual()) {
      // layer-fuse's shortcut add, after the activation.
      HTensor &r = get(residual);
      if (r.shape != get(conv.getResult()).shape)
        return op->emitError("the residual's shape must be the result's");
      H::Func sum("conv_residual");
      std::vector<H::Expr> idx = at(exprs(v));
      sum(lhs(v)) = get(conv.getResult()).f(idx) + r.f(idx);
      scheduleRoot(sum, r.shape);
      define(conv.getResult(), sum);
    }
    return success();
  }
  if (auto convT = dyn_cast<layer::ConvTransposeOp>(op)) {
    HTensor &in = get(convT.getInput());
    if (in.rank() != 4)
      return op->emitError("the Halide backend lowers 2-D transposed "
                           "convolutions only");
    auto w = weight(op, convT.getKernel(), "kernel");
    if (failed(w))
      return failure();
    auto outType = cast<RankedTensorType>(convT.getType());
    ArrayRef<int64_t> s = convT.getStrides(), d = convT.getDilations();
    // Kernel (kh, kw, filters, in) as w(ci, c, kx, ky).
    int64_t kh = w->shape[0], kw = w->shape[1], cin = w->shape[3];
    int64_t oh = outType.getDimSize(1), ow = outType.getDimSize(2);
    bool same = convT.getPadding() == layer::Padding::Same;
    // out[y] = sum_k in[x] w[k] over y = x * s + k * d - before.
    auto before = [&](int64_t size, int64_t out, int64_t k, int64_t i) {
      int64_t window = (k - 1) * d[i] + 1;
      return same ? std::max<int64_t>((size - 1) * s[i] + window - out, 0) / 2
                  : 0;
    };
    int64_t bh = before(in.shape[1], oh, kh, 0),
            bw = before(in.shape[2], ow, kw, 1);
    H::Func src = zeroPadded(in);
    H::Var n("n"), y("y"), x("x"), c("c");
    H::RDom r(0, (int)cin, 0, (int)kw, 0, (int)kh);
    H::Func kernel = w->f;
    H::Expr px = x + (int)bw - r.y * (int)d[1],
            py = y + (int)bh - r.z * (int)d[0];
    H::Expr value =
        kernel(r.x, c, r.y, r.z) * src(r.x, px / (int)s[1], py / (int)s[0], n);
    if (s[0] != 1 || s[1] != 1)
      value =
          H::select(px % (int)s[1] == 0 && py % (int)s[0] == 0, value, zero);
    return accumulate(op, convT.getBias(), {c, x, y, n}, value,
                      convT.getActivation(), ow, convT.getResult());
  }
  if (auto dense = dyn_cast<layer::DenseOp>(op)) {
    HTensor &in = get(dense.getInput());
    if (in.rank() != 2)
      return op->emitError("the Halide backend lowers dense layers on "
                           "matrices only");
    auto w = weight(op, dense.getKernel(), "kernel");
    if (failed(w))
      return failure();
    int64_t k = w->shape[0];
    H::Var n("n"), c("c");
    H::RDom r(0, (int)k);
    return accumulate(op, dense.getBias(), {c, n}, w->f(c, r) * in.f(r, n),
                      dense.getActivation(), 4, dense.getResult());
  }
  if (auto pool = dyn_cast<layer::PoolOp>(op)) {
    // 1-D, 2-D or 3-D windows; cells outside the input ("same") are
    // skipped: -inf for max, not counted for average.
    HTensor &in = get(pool.getInput());
    int rank = in.rank(), spatial = rank - 2;
    if (spatial < 1 || spatial > 3)
      return op->emitError("the Halide backend lowers 1-D, 2-D and 3-D "
                           "pooling only");
    auto outType = cast<RankedTensorType>(pool.getType());
    ArrayRef<int64_t> k = pool.getPoolSize(), s = pool.getStrides();
    bool max = pool.getKind() == layer::PoolKind::Max;
    std::vector<H::Var> v = axes(rank);
    H::Region window;
    for (int i = spatial - 1; i >= 0; --i)
      window.emplace_back(0, static_cast<int>(k[i]));
    H::RDom r(window);
    std::vector<H::Expr> idx = exprs(v);
    H::Expr inside = H::Internal::const_true();
    for (int i = 0; i < spatial; ++i) {
      int64_t pad = pool.getPadding() == layer::Padding::Same
                        ? layer::samePaddingBefore(in.shape[1 + i], k[i], s[i])
                        : 0;
      int size = static_cast<int>(in.shape[1 + i]);
      H::Expr at_ = v[1 + i] * (int)s[i] + r[spatial - 1 - i] - (int)pad;
      inside = inside && at_ >= 0 && at_ < size;
      idx[1 + i] = H::clamp(at_, 0, size - 1);
    }
    H::Expr value = in.f(at(idx));
    H::Func out("pool");
    if (max)
      out(lhs(v)) = H::maximum(H::select(inside, value, H::Float(32).min()));
    else
      out(lhs(v)) = H::sum(H::select(inside, value, zero)) /
                    H::cast<float>(H::sum(H::select(inside, 1, 0)));
    scheduleRoot(out, std::vector<int64_t>(outType.getShape().begin(),
                                           outType.getShape().end()));
    define(pool.getResult(), out);
    return success();
  }
  if (auto pool = dyn_cast<layer::GlobalPoolOp>(op)) {
    HTensor &in = get(pool.getInput());
    auto outType = cast<RankedTensorType>(pool.getType());
    int rank = in.rank(), spatial = rank - 2;
    if (spatial < 1 || spatial > 3)
      return op->emitError("the Halide backend lowers 1-D, 2-D and 3-D "
                           "global pooling only");
    H::Region window;
    int64_t cells = 1;
    for (int i = spatial - 1; i >= 0; --i) {
      window.emplace_back(0, static_cast<int>(in.shape[1 + i]));
      cells *= in.shape[1 + i];
    }
    H::RDom r(window);
    std::vector<H::Var> v = axes(static_cast<int>(outType.getRank()));
    std::vector<H::Expr> idx(rank);
    idx[0] = v[0];
    idx[rank - 1] = v.back();
    for (int i = 0; i < spatial; ++i)
      idx[1 + i] = r[spatial - 1 - i];
    H::Expr x = in.f(at(idx));
    H::Func out("global_pool");
    out(lhs(v)) = pool.getKind() == layer::PoolKind::Max
                      ? H::maximum(x)
                      : H::sum(x) / static_cast<float>(cells);
    scheduleRoot(out, std::vector<int64_t>(outType.getShape().begin(),
                                           outType.getShape().end()));
    define(pool.getResult(), out);
    return success();
  }
  if (auto up = dyn_cast<layer::UpsampleOp>(op)) {
    HTensor &in = get(up.getInput());
    int rank = in.rank();
    if (rank < 3 || rank > 5 ||
        up.getInterpolation() != layer::Interpolation::Nearest)
      return op->emitError("the Halide backend lowers nearest 1-D, 2-D and "
                           "3-D upsampling only");
    ArrayRef<int64_t> size = up.getSize();
    std::vector<H::Var> v = axes(rank);
    std::vector<H::Expr> idx = exprs(v);
    for (int i = 1; i + 1 < rank; ++i)
      idx[i] = v[i] / (int)size[i - 1];
    H::Func out("upsample");
    out(lhs(v)) = in.f(at(idx));
    auto outType = cast<RankedTensorType>(up.getType());
    scheduleRoot(out, std::vector<int64_t>(outType.getShape().begin(),
                                           outType.getShape().end()));
    define(up.getResult(), out);
    return success();
  }
  if (isa<layer::AddOp, layer::SubtractOp, layer::MultiplyOp, layer::MaximumOp,
          layer::AverageOp>(op)) {
    // Keras's merge layers: tensors of one shape, element by element.
    std::vector<HTensor *> ins;
    for (Value v : op->getOperands())
      ins.push_back(&get(v));
    for (HTensor *t : ins)
      if (t->shape != ins[0]->shape)
        return op->emitError("the Halide backend merges tensors of one "
                             "shape only");
    std::vector<H::Var> v = axes(ins[0]->rank());
    std::vector<H::Expr> idx = at(exprs(v));
    H::Expr value = ins[0]->f(idx);
    for (size_t i = 1; i < ins.size(); ++i) {
      H::Expr x = ins[i]->f(idx);
      value = isa<layer::SubtractOp>(op)   ? value - x
              : isa<layer::MultiplyOp>(op) ? value * x
              : isa<layer::MaximumOp>(op)  ? H::max(value, x)
                                           : value + x;
    }
    if (isa<layer::AverageOp>(op))
      value = value / static_cast<float>(ins.size());
    H::Func out(op->getName().stripDialect().str());
    out(lhs(v)) = value;
    scheduleRoot(out, ins[0]->shape);
    define(op->getResult(0), out);
    return success();
  }
  if (auto cat = dyn_cast<layer::ConcatenateOp>(op)) {
    int rank = get(cat.getInputs()[0]).rank();
    int64_t axis = static_cast<int64_t>(cat.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis < 1 || axis >= rank)
      return op->emitError("the Halide backend concatenates along an axis "
                           "after the batch");
    std::vector<H::Var> v = axes(rank);
    std::vector<H::Expr> idx = exprs(v);
    // Each input's elements from its offset on, a later input over an
    // earlier one.
    int64_t offset = 0;
    std::vector<std::pair<int64_t, HTensor *>> parts;
    for (Value in : cat.getInputs()) {
      parts.emplace_back(offset, &get(in));
      offset += get(in).shape[axis];
    }
    H::Expr value;
    for (auto it = parts.begin(); it != parts.end(); ++it) {
      std::vector<H::Expr> shifted = idx;
      shifted[axis] = H::clamp(idx[axis] - (int)it->first, 0,
                               (int)it->second->shape[axis] - 1);
      H::Expr x = it->second->f(at(shifted));
      value = value.defined() ? H::select(idx[axis] >= (int)it->first, x, value)
                              : x;
    }
    H::Func out("concatenate");
    out(lhs(v)) = value;
    auto type = cast<RankedTensorType>(cat.getType());
    scheduleRoot(out, std::vector<int64_t>(type.getShape().begin(),
                                           type.getShape().end()));
    define(cat.getResult(), out);
    return success();
  }
  if (auto tr = dyn_cast<layer::TransposeOp>(op)) {
    HTensor &in = get(tr.getInput());
    ArrayRef<int64_t> perm = tr.getPermutation();
    std::vector<H::Var> v = axes(in.rank());
    std::vector<H::Expr> idx(in.rank());
    for (int i = 0; i < in.rank(); ++i)
      idx[perm[i]] = v[i];
    H::Func out("transpose");
    out(lhs(v)) = in.f(at(idx));
    auto type = cast<RankedTensorType>(tr.getType());
    scheduleRoot(out, std::vector<int64_t>(type.getShape().begin(),
                                           type.getShape().end()));
    define(tr.getResult(), out);
    return success();
  }
  if (auto bn = dyn_cast<layer::BatchNormOp>(op)) {
    // (x - mean) / sqrt(var + epsilon) * gamma + beta as x * scale + shift,
    // over the last axis.
    HTensor &in = get(bn.getInput());
    auto mean = weight(op, bn.getMovingMean(), "moving mean");
    auto var = weight(op, bn.getMovingVariance(), "moving variance");
    if (failed(mean) || failed(var))
      return failure();
    H::Var c("c");
    H::Expr k =
        1.0f / H::sqrt(var->f(c) + (float)bn.getEpsilon().convertToDouble());
    if (bn.getGamma()) {
      auto g = weight(op, bn.getGamma(), "gamma");
      if (failed(g))
        return failure();
      k = k * g->f(c);
    }
    H::Func scale("bn_scale"), shift("bn_shift");
    scale(c) = k;
    H::Expr b = -mean->f(c) * scale(c);
    if (bn.getBeta()) {
      auto beta = weight(op, bn.getBeta(), "beta");
      if (failed(beta))
        return failure();
      b = beta->f(c) + b;
    }
    shift(c) = b;
    if (ownSchedule) {
      // Once per call (per image in the per-image schedule): a vector of
      // channels.
      place(scale, /*perBatch=*/false);
      place(shift, /*perBatch=*/false);
    }
    std::vector<H::Var> v = axes(in.rank());
    H::Func out("batch_norm");
    out(lhs(v)) = in.f(at(exprs(v))) * scale(v.back()) + shift(v.back());
    scheduleRoot(out, in.shape);
    define(bn.getResult(), out);
    return success();
  }
  if (auto act = dyn_cast<layer::ActivationOp>(op)) {
    HTensor &in = get(act.getInput());
    H::Func out =
        activated(in.f, in.rank(), in.shape.back(), act.getActivation());
    scheduleRoot(out, in.shape);
    define(act.getResult(), out);
    return success();
  }
  if (auto drop = dyn_cast<layer::DropoutOp>(op)) {
    values[drop.getResult()] = get(drop.getInput()); // off in predict
    return success();
  }
  if (auto reshape = dyn_cast<layer::ReshapeOp>(op)) {
    HTensor &in = get(reshape.getInput());
    auto outType = cast<RankedTensorType>(reshape.getType());
    int rank = static_cast<int>(outType.getRank());
    std::vector<H::Var> v = axes(rank);
    // The linear position within a sample, then the input's axes.
    H::Expr linear = 0;
    for (int i = 1; i < rank; ++i)
      linear = linear * (int)outType.getDimSize(i) + v[i];
    std::vector<H::Expr> idx(in.rank());
    idx[0] = v[0];
    for (int i = in.rank() - 1; i >= 1; --i) {
      idx[i] = linear % (int)in.shape[i];
      linear = linear / (int)in.shape[i];
    }
    H::Func out("reshape");
    out(lhs(v)) = in.f(at(idx));
    define(reshape.getResult(), out);
    return success();
  }
  return op->emitError("has no Halide lowering yet (docs/Backends.md)");
}
