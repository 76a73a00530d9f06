//===- HalideLowering.cpp - The layer dialect as Halide pipelines ---------===//
//
// Each value of the function is a Halide Func whose arguments are the
// tensor's axes innermost first (an NHWC tensor is f(c, x, y, n), as a
// Halide::Buffer over the same row-major memory). Windows read their input
// through a constant exterior where Keras pads. Every op's result is
// computed at the root; convolutions, transposed convolutions and dense
// layers accumulate a block of output channels (whole vectors) by columns
// in registers with the reduction innermost, the way the LLVM path's
// register-blocked kernels do.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/HalideLowering.h"
#include "dialect/LayerOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <Halide.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

using namespace mlir;
using namespace layerc;
using namespace layerc::halide;
namespace H = Halide;

namespace {

/// A tensor of the function: its Func and its shape (batch -1).
struct HTensor {
  H::Func f;
  std::vector<int64_t> shape;
  int rank() const { return static_cast<int>(shape.size()); }
};

/// The Func's arguments for tensor axes `idx` (outermost first, as MLIR
/// writes them): reversed, innermost first.
std::vector<H::Expr> at(const std::vector<H::Expr> &idx) {
  return std::vector<H::Expr>(idx.rbegin(), idx.rend());
}

/// Vars for the axes of a rank-`rank` tensor, outermost first.
std::vector<H::Var> axes(int rank) {
  static const char *names[] = {"n", "y", "x", "c", "d5", "d6"};
  std::vector<H::Var> v;
  for (int i = 0; i < rank; ++i)
    v.emplace_back(rank == 2 && i == 1 ? "c" : names[i]);
  return v;
}

std::vector<H::Expr> exprs(const std::vector<H::Var> &v) {
  return std::vector<H::Expr>(v.begin(), v.end());
}

/// The pure arguments of a definition over `v` (outermost first).
std::vector<H::Var> lhs(const std::vector<H::Var> &v) {
  return std::vector<H::Var>(v.rbegin(), v.rend());
}

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

} // namespace

struct HalideFunction::Impl {
  std::vector<H::ImageParam> params;
  std::vector<HTensor> results;
  std::vector<H::Func> roots;
  std::optional<H::Pipeline> pipeline;
  H::Target target = H::get_jit_target_from_environment();
  int vec = 8;
  /// Whether layerc schedules (else an autoscheduler does, at the end).
  bool ownSchedule = true;
  /// Whether every op's result is computed per image, inside the result's
  /// loop over images (in parallel), rather than for the whole batch.
  bool perImage = false;
  /// The Funcs computed as stages of their own, in order.
  std::vector<H::Func> stages;
  /// The same function scheduled per image (perImage), which run() and the
  /// C glue use for batches of 2 and more.
  std::unique_ptr<Impl> images;
  void place(H::Func f) {
    f.compute_root();
    stages.push_back(f);
  }

  DenseMap<Value, HTensor> values;

  LogicalResult lowerOp(Operation *op);
  FailureOr<H::Buffer<float>> weight(Operation *op, Value v, const char *what);
  HTensor &get(Value v) { return values.find(v)->second; }
  void define(Value v, H::Func f) {
    auto type = cast<RankedTensorType>(v.getType());
    values[v] =
        HTensor{std::move(f), std::vector<int64_t>(type.getShape().begin(),
                                                   type.getShape().end())};
  }
  /// `f` with `act` applied (softmax over the last axis), scheduled as a
  /// root of its own when it is not cheap.
  H::Func activated(H::Func f, int rank, int64_t lastSize,
                    layer::Activation act);
  /// The register-blocked schedule of a Func `acc` accumulated over `r`
  /// into `out` (channels in axis 0 of `c` values, columns in axis 1 of
  /// `cols` values).
  void scheduleBlocked(H::Func out, H::Func acc, int64_t c, int64_t cols,
                       int rank);
  void scheduleRoot(H::Func f, const std::vector<int64_t> &shape);
  /// `result` = act(bias + sum of `product` over its RDom), over `vars`
  /// (innermost first: channels, then columns), register-blocked by
  /// `cols` columns.
  LogicalResult accumulate(Operation *op, Value bias,
                           const std::vector<H::Var> &vars, H::Expr product,
                           layer::Activation act, int64_t cols, Value result);
  /// An NHWC tensor with zeros around its spatial axes, copied once (a
  /// root), so that windows read it without a bounds test.
  H::Func zeroPadded(const HTensor &in);
};

HalideFunction::HalideFunction(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
HalideFunction::~HalideFunction() = default;

FailureOr<H::Buffer<float>> HalideFunction::Impl::weight(Operation *op, Value v,
                                                         const char *what) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto attr = cst ? dyn_cast<DenseElementsAttr>(cst.getValue()) : nullptr;
  auto type = cast<RankedTensorType>(v.getType());
  if (!attr || !type.getElementType().isF32())
    return op->emitError() << "the Halide backend needs the " << what
                           << " as a float32 constant (--embed-weights)";
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
  return buf;
}

void HalideFunction::Impl::scheduleRoot(H::Func f,
                                        const std::vector<int64_t> &shape) {
  if (!ownSchedule)
    return;
  int rank = static_cast<int>(shape.size());
  std::vector<H::Var> v = axes(rank);
  place(f);
  if (shape.back() >= vec)
    f.vectorize(v.back(), vec);
  if (perImage)
    return;
  if (rank >= 3) {
    H::Var yn("yn");
    f.fuse(v[1], v[0], yn).parallel(yn);
  } else {
    f.parallel(v[0]);
  }
}

void HalideFunction::Impl::scheduleBlocked(H::Func out, H::Func acc, int64_t c,
                                           int64_t cols, int rank) {
  if (!ownSchedule)
    return;
  std::vector<H::Var> v = axes(rank);
  H::Var cv = v.back(), xv = v[rank - 2];
  H::Var co("co"), ci("ci"), xo("xo"), xi("xi");
  place(out);
  if (c % vec == 0) {
    // Accumulators: 24 of the 32 vector registers of AVX-512, 12 of the 16
    // of AVX2; as many channel vectors as divide the channels, up to 4.
    int64_t registers = vec >= 16 ? 24 : 12;
    int64_t vectors = c % (4 * vec) == 0 ? 4 : c % (2 * vec) == 0 ? 2 : 1;
    int64_t block = vectors * vec;
    int64_t colBlock =
        std::max<int64_t>(1, std::min<int64_t>(cols, registers / vectors));
    if (perImage && rank == 2)
      colBlock = 1; // the rows of a matrix are the images
    out.split(cv, co, ci, static_cast<int>(block))
        .split(xv, xo, xi, static_cast<int>(colBlock))
        .reorder(ci, xi, xo, co)
        .vectorize(ci, vec)
        .unroll(ci)
        .unroll(xi);
    acc.compute_at(out, xo).vectorize(cv, vec).unroll(cv).unroll(xv);
    std::vector<H::VarOrRVar> order{cv, xv};
    for (const H::RVar &r : acc.rvars(0))
      order.push_back(r);
    acc.update().reorder(order).vectorize(cv, vec).unroll(cv).unroll(xv);
  }
  if (rank >= 3) {
    H::Var yn("yn");
    out.fuse(v[1], v[0], yn);
    if (!perImage)
      out.parallel(yn);
    if (c % vec != 0) {
      // Too few channels for a vector: a row at a time, columns in vectors.
      if (cols >= vec)
        out.vectorize(xv, vec);
      acc.compute_at(out, yn);
    }
  } else if (c % vec == 0) {
    if (!perImage)
      out.parallel(xo);
  } else {
    acc.compute_at(out, v[0]);
    if (!perImage)
      out.parallel(v[0]);
  }
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
    H::Buffer<float> values = *b;
    acc(vars) = values(vars[0]);
  } else {
    acc(vars) = 0.0f;
  }
  acc(vars) += product;
  auto type = cast<RankedTensorType>(result.getType());
  int rank = static_cast<int>(vars.size());
  int64_t channels = type.getShape().back();
  H::Func out = activated(acc, rank, channels, act);
  scheduleBlocked(out, acc, channels, cols, rank);
  define(result, out);
  return success();
}

H::Func HalideFunction::Impl::zeroPadded(const HTensor &in) {
  H::Var n("n"), y("y"), x("x"), c("c");
  int h = static_cast<int>(in.shape[1]), w = static_cast<int>(in.shape[2]);
  H::Func padded("padded");
  padded(c, x, y, n) =
      H::select(x >= 0 && x < w && y >= 0 && y < h,
                in.f(c, H::clamp(x, 0, w - 1), H::clamp(y, 0, h - 1), n), 0.0f);
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
  H::Expr zero = 0.0f;
  if (auto conv = dyn_cast<layer::ConvOp>(op)) {
    HTensor &in = get(conv.getInput());
    if (in.rank() != 4 || conv.getGroups() != 1)
      return op->emitError("the Halide backend lowers 2-D ungrouped "
                           "convolutions only");
    auto w = weight(op, conv.getKernel(), "kernel");
    if (failed(w))
      return failure();
    auto outType = cast<RankedTensorType>(conv.getType());
    ArrayRef<int64_t> s = conv.getStrides(), d = conv.getDilations();
    int64_t kh = w->dim(3).extent(), kw = w->dim(2).extent(),
            cin = w->dim(1).extent();
    int64_t ow = outType.getDimSize(2);
    int64_t ph = 0, pw = 0;
    H::Func src = in.f;
    if (conv.getPadding() == layer::Padding::Same) {
      ph = layer::samePaddingBefore(in.shape[1], (kh - 1) * d[0] + 1, s[0]);
      pw = layer::samePaddingBefore(in.shape[2], (kw - 1) * d[1] + 1, s[1]);
      if (ph || pw)
        src = zeroPadded(in);
    }
    H::Var n("n"), y("y"), x("x"), c("c");
    H::RDom r(0, (int)cin, 0, (int)kw, 0, (int)kh);
    H::Buffer<float> kernel = *w;
    H::Expr product = kernel(c, r.x, r.y, r.z) *
                      src(r.x, x * (int)s[1] + r.y * (int)d[1] - (int)pw,
                          y * (int)s[0] + r.z * (int)d[0] - (int)ph, n);
    return accumulate(op, conv.getBias(), {c, x, y, n}, product,
                      conv.getActivation(), ow, conv.getResult());
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
    int64_t kh = w->dim(3).extent(), kw = w->dim(2).extent(),
            cin = w->dim(0).extent();
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
    H::Buffer<float> kernel = *w;
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
    int64_t k = w->dim(1).extent();
    H::Var n("n"), c("c");
    H::RDom r(0, (int)k);
    H::Buffer<float> kernel = *w;
    return accumulate(op, dense.getBias(), {c, n}, kernel(c, r) * in.f(r, n),
                      dense.getActivation(), 4, dense.getResult());
  }
  if (auto pool = dyn_cast<layer::PoolOp>(op)) {
    HTensor &in = get(pool.getInput());
    if (in.rank() != 4)
      return op->emitError("the Halide backend lowers 2-D pooling only");
    auto outType = cast<RankedTensorType>(pool.getType());
    ArrayRef<int64_t> k = pool.getPoolSize(), s = pool.getStrides();
    bool max = pool.getKind() == layer::PoolKind::Max;
    int64_t oh = outType.getDimSize(1), ow = outType.getDimSize(2);
    int64_t ph = 0, pw = 0;
    if (pool.getPadding() == layer::Padding::Same) {
      ph = layer::samePaddingBefore(in.shape[1], k[0], s[0]);
      pw = layer::samePaddingBefore(in.shape[2], k[1], s[1]);
    }
    H::Var n("n"), y("y"), x("x"), c("c");
    H::RDom r(0, (int)k[1], 0, (int)k[0]);
    H::Expr ix = x * (int)s[1] + r.x - (int)pw,
            iy = y * (int)s[0] + r.y - (int)ph;
    H::Expr inside =
        ix >= 0 && ix < (int)in.shape[2] && iy >= 0 && iy < (int)in.shape[1];
    H::Expr v = in.f(c, H::clamp(ix, 0, (int)in.shape[2] - 1),
                     H::clamp(iy, 0, (int)in.shape[1] - 1), n);
    H::Func out("pool");
    if (max) {
      out(c, x, y, n) = H::maximum(H::select(inside, v, H::Float(32).min()));
    } else {
      out(c, x, y, n) = H::sum(H::select(inside, v, zero)) /
                        H::cast<float>(H::sum(H::select(inside, 1, 0)));
    }
    scheduleRoot(out, {-1, oh, ow, in.shape[3]});
    define(pool.getResult(), out);
    return success();
  }
  if (auto pool = dyn_cast<layer::GlobalPoolOp>(op)) {
    HTensor &in = get(pool.getInput());
    auto outType = cast<RankedTensorType>(pool.getType());
    if (in.rank() != 4)
      return op->emitError("the Halide backend lowers 2-D global pooling "
                           "only");
    H::Var n("n"), c("c"), x("x"), y("y");
    H::RDom r(0, (int)in.shape[2], 0, (int)in.shape[1]);
    bool max = pool.getKind() == layer::PoolKind::Max;
    H::Expr v = in.f(c, r.x, r.y, n);
    H::Expr value =
        max ? H::maximum(v) : H::sum(v) / (float)(in.shape[1] * in.shape[2]);
    H::Func out("global_pool");
    if (outType.getRank() == 2)
      out(c, n) = value;
    else
      out(c, x, y, n) = value;
    scheduleRoot(out, std::vector<int64_t>(outType.getShape().begin(),
                                           outType.getShape().end()));
    define(pool.getResult(), out);
    return success();
  }
  if (auto up = dyn_cast<layer::UpsampleOp>(op)) {
    HTensor &in = get(up.getInput());
    if (in.rank() != 4 ||
        up.getInterpolation() != layer::Interpolation::Nearest)
      return op->emitError("the Halide backend lowers 2-D nearest "
                           "upsampling only");
    ArrayRef<int64_t> size = up.getSize();
    H::Var n("n"), y("y"), x("x"), c("c");
    H::Func out("upsample");
    out(c, x, y, n) = in.f(c, x / (int)size[1], y / (int)size[0], n);
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
    int channels = mean->dim(0).extent();
    H::Buffer<float> scale(channels), shift(channels);
    std::optional<H::Buffer<float>> gamma, beta;
    if (bn.getGamma()) {
      auto g = weight(op, bn.getGamma(), "gamma");
      if (failed(g))
        return failure();
      gamma = *g;
    }
    if (bn.getBeta()) {
      auto b = weight(op, bn.getBeta(), "beta");
      if (failed(b))
        return failure();
      beta = *b;
    }
    for (int c = 0; c < channels; ++c) {
      float k = 1.0f /
                std::sqrt((*var)(c) + (float)bn.getEpsilon().convertToDouble());
      scale(c) = k * (gamma ? (*gamma)(c) : 1.0f);
      shift(c) = (beta ? (*beta)(c) : 0.0f) - (*mean)(c)*scale(c);
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

namespace {
/// The pipeline of `fn` with one schedule (HalideFunction::lower).
FailureOr<std::unique_ptr<HalideFunction::Impl>>
build(func::FuncOp fn, const std::string &schedule, int64_t batchEstimate,
      bool perImage);
} // namespace

FailureOr<std::unique_ptr<HalideFunction>>
HalideFunction::lower(func::FuncOp fn, const std::string &schedule,
                      int64_t batchEstimate) {
  auto impl = build(fn, schedule, batchEstimate, /*perImage=*/false);
  if (failed(impl))
    return failure();
  if (schedule == "layerc" && fn.getNumResults() == 1) {
    auto images = build(fn, schedule, batchEstimate, /*perImage=*/true);
    if (failed(images))
      return failure();
    (*impl)->images = std::move(*images);
  }
  return std::unique_ptr<HalideFunction>(new HalideFunction(std::move(*impl)));
}

namespace {
FailureOr<std::unique_ptr<HalideFunction::Impl>>
build(func::FuncOp fn, const std::string &schedule, int64_t batchEstimate,
      bool perImage) {
  using Impl = HalideFunction::Impl;
  static const std::map<std::string, std::string> autoschedulers = {
      {"mullapudi2016", "Mullapudi2016"},
      {"adams2019", "Adams2019"},
      {"li2018", "Li2018"}};
  auto autoscheduler = autoschedulers.find(schedule);
  if (schedule != "layerc" && autoscheduler == autoschedulers.end())
    return fn.emitError() << "no Halide schedule '" << schedule
                          << "' (layerc, mullapudi2016, adams2019, li2018)";
  auto impl = std::make_unique<Impl>();
  impl->vec = impl->target.natural_vector_size<float>();
  impl->ownSchedule = schedule == "layerc";
  impl->perImage = perImage;
  try {
    for (BlockArgument arg : fn.getArguments()) {
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || !type.getElementType().isF32())
        return fn.emitError("the Halide backend takes float32 tensors");
      for (int64_t i = 1; i < type.getRank(); ++i)
        if (type.isDynamicDim(i))
          return fn.emitError("the Halide backend needs every size but the "
                              "batch known");
      H::ImageParam param(H::Float(32), static_cast<int>(type.getRank()),
                          "input" + std::to_string(arg.getArgNumber()));
      impl->params.push_back(param);
      impl->values[arg] =
          HTensor{H::Func(param), std::vector<int64_t>(type.getShape().begin(),
                                                       type.getShape().end())};
    }
    for (Operation &op : fn.getBody().front()) {
      if (isa<arith::ConstantOp>(op))
        continue;
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (Value v : ret.getOperands()) {
          HTensor &t = impl->get(v);
          // Results are their own Funcs (an input returned as it is, or a
          // reshape computed inline, still needs one).
          std::vector<H::Var> vars = axes(t.rank());
          H::Func out("result" + std::to_string(impl->results.size()));
          out(lhs(vars)) = t.f(at(exprs(vars)));
          impl->results.push_back(HTensor{out, t.shape});
          impl->roots.push_back(out);
        }
        continue;
      }
      if (failed(impl->lowerOp(&op)))
        return failure();
    }
    if (impl->perImage && impl->results.size() == 1) {
      // Each image runs the whole network while its data is in cache.
      H::Func result = impl->roots[0];
      H::Var n = result.args().back();
      for (H::Func &f : impl->stages)
        f.compute_at(result, n);
      result.parallel(n);
    }
    impl->pipeline.emplace(impl->roots);
    if (!impl->ownSchedule) {
      // The autoscheduler plans for the static sizes and this batch.
      auto estimates = [&](const std::vector<int64_t> &shape) {
        H::Region region;
        for (int64_t d : llvm::reverse(shape))
          region.emplace_back(0, static_cast<int>(d < 0 ? batchEstimate : d));
        return region;
      };
      for (size_t i = 0; i < impl->params.size(); ++i) {
        auto type = cast<RankedTensorType>(fn.getArgument(i).getType());
        impl->params[i].set_estimates(estimates(std::vector<int64_t>(
            type.getShape().begin(), type.getShape().end())));
      }
      for (size_t i = 0; i < impl->results.size(); ++i)
        impl->roots[i].set_estimates(estimates(impl->results[i].shape));
      H::load_plugin(std::string(LAYERC_HALIDE_PLUGIN_DIR) +
                     "/libautoschedule_" + schedule + ".so");
      impl->pipeline->auto_schedule(autoscheduler->second, impl->target,
                                    H::MachineParams::generic());
    }
  } catch (const H::Error &e) {
    return fn.emitError() << "Halide: " << e.what();
  }
  return impl;
}
} // namespace

std::vector<Tensor> HalideFunction::run(const std::vector<Tensor> &inputs) {
  bool batched =
      !inputs.empty() && inputs[0].rank() > 0 && inputs[0].dim(0) > 1;
  Impl &m = batched && impl_->images ? *impl_->images : *impl_;
  if (inputs.size() != m.params.size())
    throw Error("the Halide function takes " + std::to_string(m.params.size()) +
                " inputs, given " + std::to_string(inputs.size()));
  int64_t batch = inputs.empty() ? 1 : inputs[0].dim(0);
  try {
    std::vector<H::Buffer<float>> in;
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::vector<int> sizes;
      for (int64_t d : llvm::reverse(inputs[i].shape()))
        sizes.push_back(static_cast<int>(d));
      in.emplace_back(const_cast<float *>(inputs[i].data<float>()), sizes);
      m.params[i].set(in.back());
    }
    std::vector<Tensor> outs;
    std::vector<H::Buffer<>> bufs;
    for (const HTensor &r : m.results) {
      std::vector<int64_t> shape = r.shape;
      shape[0] = batch;
      outs.emplace_back(shape, DType::Float32);
      std::vector<int> sizes;
      for (int64_t d : llvm::reverse(shape))
        sizes.push_back(static_cast<int>(d));
      bufs.emplace_back(H::Buffer<float>(outs.back().data<float>(), sizes));
    }
    m.pipeline->realize(H::Realization(bufs), m.target);
    return outs;
  } catch (const H::Error &e) {
    throw Error(std::string("Halide: ") + e.what());
  }
}

std::vector<std::string>
HalideFunction::compileToObjects(const std::string &pathPrefix,
                                 const std::string &name) {
  std::vector<std::string> paths;
  try {
    int k = 0;
    for (Impl *m : {impl_.get(), impl_->images.get()}) {
      if (!m)
        continue;
      std::vector<H::Argument> args(m->params.begin(), m->params.end());
      H::Target target = H::get_host_target();
      if (k > 0) // one copy of Halide's runtime
        target = target.with_feature(H::Target::NoRuntime);
      paths.push_back(pathPrefix + "." + std::to_string(k) + ".o");
      m->pipeline->compile_to_object(paths.back(), args,
                                     k ? name + "_images" : name, target);
      ++k;
    }
  } catch (const H::Error &e) {
    throw Error(std::string("Halide: ") + e.what());
  }
  return paths;
}

std::string HalideFunction::cShim(const std::string &prefix,
                                  const std::string &name) const {
  std::vector<int> ranks;
  for (const H::ImageParam &p : impl_->params)
    ranks.push_back(p.dimensions());
  for (const HTensor &t : impl_->results)
    ranks.push_back(t.rank());
  return glueSource(prefix, name, ranks, impl_->images != nullptr);
}
