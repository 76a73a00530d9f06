//===- LayerOps.cpp - Verifiers and shape rules of layer ops
//---------------===//
//
// Each op has one shape rule, `computeResultTypes`, used twice: by the
// verifier (a declared ranked result must agree with it) and by the
// ShapeInference interface (which writes it into the result types). A rule
// returns an empty list when some operand is still unranked, and emits a
// diagnostic naming the operand and both shapes when the operands disagree.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

using namespace mlir;
using namespace layerc::layer;

#include "dialect/LayerInterfaces.cpp.inc"
#include "dialect/LayerOpsDialect.cpp.inc"

void LayerDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/LayerOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Vocabulary
//===----------------------------------------------------------------------===//

std::optional<Activation> layerc::layer::parseActivation(StringRef name) {
  return llvm::StringSwitch<std::optional<Activation>>(name)
      .Case("linear", Activation::Linear)
      .Case("relu", Activation::Relu)
      .Case("sigmoid", Activation::Sigmoid)
      .Case("tanh", Activation::Tanh)
      .Case("softmax", Activation::Softmax)
      .Case("gelu", Activation::Gelu)
      .Case("elu", Activation::Elu)
      .Case("selu", Activation::Selu)
      .Cases({"swish", "silu"}, Activation::Swish)
      .Case("hard_sigmoid", Activation::HardSigmoid)
      .Default(std::nullopt);
}

const char *layerc::layer::knownActivations() {
  return "linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish, "
         "hard_sigmoid";
}

std::optional<Loss> layerc::layer::parseLoss(StringRef name) {
  return llvm::StringSwitch<std::optional<Loss>>(name)
      .Case("sparse_categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy)
      .Case("categorical_crossentropy", Loss::CategoricalCrossentropy)
      .Case("binary_crossentropy", Loss::BinaryCrossentropy)
      .Case("mean_squared_error", Loss::MeanSquaredError)
      .Case("mean_absolute_error", Loss::MeanAbsoluteError)
      .Default(std::nullopt);
}

const char *layerc::layer::knownLosses() {
  return "sparse_categorical_crossentropy, categorical_crossentropy, "
         "binary_crossentropy, mean_squared_error, mean_absolute_error";
}

std::string layerc::layer::formatShape(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return "<unranked>";
  std::string text = "(";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(ranked.getShape(), os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "None";
    else
      os << d;
  });
  if (ranked.getRank() == 1)
    os << ",";
  os << ")";
  return text;
}

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

namespace {
using Shape = SmallVector<int64_t>;

/// The ranked types of `values`, or std::nullopt if any is unranked.
std::optional<SmallVector<RankedTensorType>> rankedTypes(ValueRange values) {
  SmallVector<RankedTensorType> types;
  for (Value v : values) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t)
      return std::nullopt;
    types.push_back(t);
  }
  return types;
}

/// Two dimensions agree when equal or when either is dynamic.
bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The shape-check recorder of this thread (see DimCheckScope).
thread_local SmallVectorImpl<DimCheck> *activeChecks = nullptr;

int64_t normalizedDim(Value v, int64_t d) {
  return d < 0 ? d + cast<RankedTensorType>(v.getType()).getRank() : d;
}

/// dimsAgree on dimension `da` of `a` and `db` of `b` (negative: from the
/// back). When a size is dynamic they agree for now, and a DimCheckScope
/// records that they must be equal at run time.
bool agree(Value a, int64_t da, Value b, int64_t db, StringRef what) {
  da = normalizedDim(a, da);
  db = normalizedDim(b, db);
  int64_t x = cast<RankedTensorType>(a.getType()).getDimSize(da);
  int64_t y = cast<RankedTensorType>(b.getType()).getDimSize(db);
  if (!dimsAgree(x, y))
    return false;
  if (activeChecks && (ShapedType::isDynamic(x) || ShapedType::isDynamic(y)) &&
      !(a == b && da == db))
    activeChecks->push_back(DimCheck{
        {a, {da}, 1}, DimCheck::Relation::Equal, {b, {db}, 1}, what.str()});
  return true;
}

/// Records that the product of dimensions `dims` of `v` must relate to
/// `bound` as `relation` says, when one of them is dynamic.
void requireDims(Value v, ArrayRef<int64_t> dims, DimCheck::Relation relation,
                 int64_t bound, StringRef what) {
  auto type = cast<RankedTensorType>(v.getType());
  if (!activeChecks ||
      llvm::none_of(dims, [&](int64_t d) { return type.isDynamicDim(d); }))
    return;
  activeChecks->push_back(DimCheck{{v, SmallVector<int64_t, 1>(dims), 1},
                                   relation,
                                   {Value(), {}, bound},
                                   what.str()});
}

/// The most static of two agreeing dimensions.
int64_t joinDim(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) ? b : a;
}

/// Joins two shapes of equal rank; std::nullopt if they disagree.
std::optional<Shape> joinShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return std::nullopt;
  Shape out;
  for (auto [x, y] : llvm::zip_equal(a, b)) {
    if (!dimsAgree(x, y))
      return std::nullopt;
    out.push_back(joinDim(x, y));
  }
  return out;
}

/// Joins the shapes of every type in `types` (same element type assumed).
/// Emits "<what> must have the same shape, got A and B" on a mismatch.
/// With `values` (whose types are `types`), sizes left to the run time are
/// recorded as checks against the first value.
FailureOr<Shape> joinAll(Operation *op, ArrayRef<RankedTensorType> types,
                         ArrayRef<StringRef> names, ValueRange values = {}) {
  Shape shape(types.front().getShape());
  for (size_t i = 1; i < types.size(); ++i) {
    std::optional<Shape> joined = joinShapes(shape, types[i].getShape());
    if (!joined)
      return op->emitOpError()
             << names[i] << " of shape " << formatShape(types[i])
             << " does not match " << names[0] << " of shape "
             << formatShape(types[0]);
    if (!values.empty())
      for (int64_t d = 0; d < types[i].getRank(); ++d)
        (void)agree(values[i], d, values[0], d,
                    (names[i] + " must match " + names[0]).str());
    shape = *joined;
  }
  return shape;
}

/// A dimension as Keras prints it: "None" when dynamic.
std::string formatDim(int64_t d) {
  return ShapedType::isDynamic(d) ? "None" : std::to_string(d);
}

/// Every operand must have `element` as its element type.
LogicalResult checkElementTypes(Operation *op, ArrayRef<RankedTensorType> types,
                                ArrayRef<StringRef> names, Type element) {
  for (auto [t, name] : llvm::zip(types, names))
    if (t.getElementType() != element)
      return op->emitOpError()
             << name << " has element type " << t.getElementType()
             << " but the input has " << element;
  return success();
}

RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type element) {
  return RankedTensorType::get(shape, element);
}

/// Every static shape must have a byte size that int64 can count, so that
/// no later size computation (the lowering's, the header's, the runtime's)
/// can wrap around.
LogicalResult checkElementCount(Operation *op, Type type, StringRef what) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return success();
  int64_t bytes = std::max<int64_t>(
      1, llvm::divideCeil(ranked.getElementTypeBitWidth(), 8));
  for (int64_t d : ranked.getShape())
    if (!ShapedType::isDynamic(d) && llvm::MulOverflow(bytes, d, bytes))
      return op->emitOpError()
             << what << " of shape " << formatShape(ranked)
             << " has more bytes than a 64-bit size can count";
  return success();
}

/// Shared verifier: when the shape rule produced types, every declared
/// ranked result must agree with them.
LogicalResult verifyAgainstRule(Operation *op,
                                FailureOr<SmallVector<Type>> inferred) {
  if (failed(inferred))
    return failure();
  for (Type t : *inferred)
    if (failed(checkElementCount(op, t, "the result")))
      return failure();
  for (auto [result, want] : llvm::zip(op->getResults(), *inferred)) {
    auto have = dyn_cast<RankedTensorType>(result.getType());
    if (!have)
      continue;
    auto wantRanked = cast<RankedTensorType>(want);
    if (have.getElementType() != wantRanked.getElementType())
      return op->emitOpError()
             << "result #" << result.getResultNumber() << " has element type "
             << have.getElementType() << " but the operands give "
             << wantRanked.getElementType();
    if (failed(verifyCompatibleShape(have.getShape(), wantRanked.getShape())))
      return op->emitOpError()
             << "result #" << result.getResultNumber() << " has shape "
             << formatShape(have) << " but the operands give "
             << formatShape(wantRanked);
  }
  return success();
}

/// Shared inferShapes: writes the rule's types into the results.
LogicalResult applyRule(Operation *op, FailureOr<SmallVector<Type>> inferred) {
  if (failed(inferred))
    return failure();
  if (inferred->empty())
    return op->emitOpError("cannot infer the result shape: an operand is "
                           "still unranked");
  for (Type t : *inferred)
    if (failed(checkElementCount(op, t, "the result")))
      return failure();
  for (auto [result, type] : llvm::zip(op->getResults(), *inferred))
    result.setType(type);
  return success();
}

LogicalResult checkActivation(Operation *op, StringRef name) {
  if (!parseActivation(name))
    return op->emitOpError() << "unknown activation '" << name
                             << "'; expected one of " << knownActivations();
  return success();
}
} // namespace

// Every op gets the same verify/inferShapes pair around its rule.
#define LAYER_SHAPE_RULE(OpClass)                                              \
  static FailureOr<SmallVector<Type>> computeResultTypes(OpClass op);          \
  LogicalResult OpClass::verify() {                                            \
    return verifyAgainstRule(getOperation(), computeResultTypes(*this));       \
  }                                                                            \
  LogicalResult OpClass::inferShapes() {                                       \
    return applyRule(getOperation(), computeResultTypes(*this));               \
  }                                                                            \
  static FailureOr<SmallVector<Type>> computeResultTypes(OpClass op)

//===----------------------------------------------------------------------===//
// Core
//===----------------------------------------------------------------------===//

LAYER_SHAPE_RULE(DenseOp) {
  if (failed(checkActivation(op, op.getActivation())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1];
  if (input.getRank() < 2)
    return op.emitOpError()
           << "expects an input of rank >= 2 (batch, ..., features), got "
           << formatShape(input);
  if (kernel.getRank() != 2 ||
      !agree(op->getOperand(1), 0, op->getOperand(0), -1,
             "the kernel's input size must match the input's features"))
    return op.emitOpError() << "kernel of shape " << formatShape(kernel)
                            << " does not fit an input of shape "
                            << formatShape(input) << ": expected ("
                            << formatDim(input.getShape().back()) << ", units)";
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "bias"}, input.getElementType())))
    return failure();
  int64_t units = kernel.getDimSize(1);
  if (op.getBias()) {
    RankedTensorType bias = (*types)[2];
    if (bias.getRank() != 1 || !dimsAgree(bias.getDimSize(0), units))
      return op.emitOpError()
             << "bias of shape " << formatShape(bias) << " does not match "
             << "the kernel's " << units << " units: expected (" << units
             << ",)";
    units = joinDim(units, bias.getDimSize(0));
  }
  Shape shape(input.getShape());
  shape.back() = units;
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

/// The rule of ops whose result is their (first) input's type.
static FailureOr<SmallVector<Type>> sameAsInput(Operation *op) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  return SmallVector<Type>{(*types)[0]};
}

LAYER_SHAPE_RULE(ActivationOp) {
  if (failed(checkActivation(op, op.getActivation())))
    return failure();
  return sameAsInput(op);
}

/// Dropout rates keep some of the inputs: 0 <= rate < 1.
static LogicalResult checkRate(Operation *op, llvm::APFloat rateAttr) {
  double rate = rateAttr.convertToDouble();
  if (!(rate >= 0.0 && rate < 1.0))
    return op->emitOpError() << "rate must be in [0, 1), got " << rate;
  return success();
}

LAYER_SHAPE_RULE(DropoutOp) {
  if (failed(checkRate(op, op.getRate())))
    return failure();
  return sameAsInput(op);
}

LAYER_SHAPE_RULE(MatmulOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType lhs = (*types)[0], rhs = (*types)[1];
  bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
  auto disagree = [&]() {
    return op.emitOpError()
           << "contraction dimensions disagree: lhs " << formatShape(lhs)
           << " and rhs " << formatShape(rhs);
  };
  // (..., K) x (K, N) -> (..., N), or x (N, K)^T: the last axis contracts.
  if (lhs.getRank() > 2 && rhs.getRank() == 2 && !ta) {
    if (!agree(op->getOperand(0), -1, op->getOperand(1), tb ? 1 : 0,
               "the contraction sizes must match"))
      return disagree();
    Shape shape(lhs.getShape().drop_back());
    shape.push_back(rhs.getDimSize(tb ? 0 : 1));
    return SmallVector<Type>{tensorOf(shape, lhs.getElementType())};
  }
  // (..., K)^T x (..., N) -> (K, N): every leading axis contracts.
  if (lhs.getRank() > 2 && rhs.getRank() == lhs.getRank() && ta && !tb) {
    for (int64_t i = 0; i + 1 < lhs.getRank(); ++i)
      if (!agree(op->getOperand(0), i, op->getOperand(1), i,
                 "the contraction sizes must match"))
        return disagree();
    return SmallVector<Type>{tensorOf(
        {lhs.getShape().back(), rhs.getShape().back()}, lhs.getElementType())};
  }
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return op.emitOpError()
           << "expects rank-2 operands, a higher-rank lhs with a rank-2 rhs, "
              "or (with transpose_lhs) two operands of one rank > 2; got "
           << formatShape(lhs) << " and " << formatShape(rhs);
  int64_t m = lhs.getDimSize(ta ? 1 : 0);
  int64_t kl = lhs.getDimSize(ta ? 0 : 1);
  int64_t kr = rhs.getDimSize(tb ? 1 : 0);
  int64_t n = rhs.getDimSize(tb ? 0 : 1);
  if (!agree(op->getOperand(0), ta ? 0 : 1, op->getOperand(1), tb ? 1 : 0,
             "the contraction sizes must match"))
    return disagree();
  return SmallVector<Type>{tensorOf({m, n}, lhs.getElementType())};
}

//===----------------------------------------------------------------------===//
// Saturating size arithmetic
//===----------------------------------------------------------------------===//

// Sizes come from someone else's model file: a product or sum that does not
// fit int64 saturates at INT64_MAX instead of wrapping, and the element-count
// check of every result (checkElementCount) then refuses the shape.
static int64_t satMul(int64_t a, int64_t b) {
  int64_t out;
  return llvm::MulOverflow(a, b, out) ? std::numeric_limits<int64_t>::max()
                                      : out;
}
static int64_t satAdd(int64_t a, int64_t b) {
  int64_t out;
  return llvm::AddOverflow(a, b, out) ? std::numeric_limits<int64_t>::max()
                                      : out;
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

int64_t layerc::layer::windowOutputSize(int64_t size, int64_t window,
                                        int64_t stride, bool same) {
  if (ShapedType::isDynamic(size))
    return ShapedType::kDynamic;
  if (same)
    return satAdd(size, stride - 1) / stride;
  return size < window ? 0 : (size - window) / stride + 1;
}

int64_t layerc::layer::samePaddingBefore(int64_t size, int64_t window,
                                         int64_t stride) {
  int64_t out = satAdd(size, stride - 1) / stride;
  int64_t total =
      std::max<int64_t>(satAdd(satMul(out - 1, stride), window) - size, 0);
  return total / 2;
}

int64_t layerc::layer::transposedOutputSize(int64_t size, int64_t window,
                                            int64_t stride, bool same,
                                            std::optional<int64_t> outPad) {
  if (ShapedType::isDynamic(size))
    return ShapedType::kDynamic;
  if (!outPad)
    return same ? satMul(size, stride)
                : satAdd(satMul(size, stride),
                         std::max<int64_t>(window - stride, 0));
  int64_t pad = same ? window / 2 : 0;
  return satAdd(satAdd(satMul(size - 1, stride), window) - 2 * pad, *outPad);
}

/// Checks `padding` is valid/same and every array attribute has `n` positive
/// entries. Returns true for "same".
static FailureOr<bool>
checkWindowAttrs(Operation *op, StringRef padding, int64_t n,
                 ArrayRef<std::pair<StringRef, ArrayRef<int64_t>>> arrays) {
  if (padding != "valid" && padding != "same")
    return op->emitOpError() << "padding must be \"valid\" or \"same\", got \""
                             << padding << "\"";
  for (auto [name, values] : arrays) {
    if (static_cast<int64_t>(values.size()) != n)
      return op->emitOpError()
             << name << " has " << values.size()
             << " entries but the input has " << n << " spatial dimensions";
    for (int64_t v : values)
      if (v <= 0)
        return op->emitOpError()
               << name << " entries must be positive, got " << v;
  }
  return padding == "same";
}

/// A channels-last input with 1 to 3 spatial axes.
static LogicalResult checkSpatialInput(Operation *op, RankedTensorType input) {
  if (input.getRank() < 3 || input.getRank() > 5)
    return op->emitOpError()
           << "expects a channels-last input (batch, spatial..., channels) "
              "with 1 to 3 spatial dimensions, got "
           << formatShape(input);
  return success();
}

/// The shared rule of conv and conv_transpose. `transposed` reads the
/// kernel as (k..., filters, in) instead of (k..., in / groups, filters).
template <typename OpTy>
static FailureOr<SmallVector<Type>> convResultTypes(OpTy op, int64_t groups,
                                                    bool transposed) {
  if (failed(checkActivation(op, op.getActivation())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  if (kernel.getRank() != n + 2)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel) << " must have rank "
           << n + 2 << " for an input of shape " << formatShape(input);
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "bias"}, input.getElementType())))
    return failure();
  SmallVector<std::pair<StringRef, ArrayRef<int64_t>>> arrays{
      {"strides", op.getStrides()}, {"dilations", op.getDilations()}};
  FailureOr<bool> same = checkWindowAttrs(op, op.getPadding(), n, arrays);
  if (failed(same))
    return failure();
  if (groups <= 0)
    return op.emitOpError() << "groups must be positive, got " << groups;
  int64_t channels = input.getShape().back();
  int64_t kernelIn = kernel.getDimSize(transposed ? n + 1 : n);
  int64_t filters = kernel.getDimSize(transposed ? n : n + 1);
  if (channels % groups != 0 || filters % groups != 0)
    return op.emitOpError()
           << "groups (" << groups << ") must divide the input channels ("
           << channels << ") and the filters (" << filters << ")";
  if (kernelIn * groups != channels)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input)
           << ": expected " << channels / groups << " input channels per group";
  if (op.getBias()) {
    RankedTensorType bias = (*types)[2];
    if (bias.getRank() != 1 || bias.getDimSize(0) != filters)
      return op.emitOpError() << "bias of shape " << formatShape(bias)
                              << " does not match " << filters << " filters";
  }
  Shape shape{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t size = input.getDimSize(i + 1);
    int64_t d = op.getDilations()[i], s = op.getStrides()[i];
    int64_t window = satAdd(satMul(kernel.getDimSize(i) - 1, d), 1);
    int64_t out;
    if constexpr (std::is_same_v<OpTy, ConvTransposeOp>) {
      std::optional<int64_t> outPad;
      if (!op.getOutputPadding().empty())
        outPad = op.getOutputPadding()[i];
      out = transposedOutputSize(size, window, s, *same, outPad);
    } else {
      out = windowOutputSize(size, window, s, *same);
      if (!*same)
        requireDims(op->getOperand(0), {i + 1}, DimCheck::Relation::AtLeast,
                    window,
                    "the input must be at least as large as the "
                    "dilated kernel");
    }
    if (out <= 0 && !ShapedType::isDynamic(out))
      return op.emitOpError()
             << "kernel of shape " << formatShape(kernel) << " (dilated size "
             << window << " on spatial axis " << i
             << ") is larger than the unpadded input of shape "
             << formatShape(input);
    shape.push_back(out);
  }
  shape.push_back(filters);
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(ConvOp) {
  return convResultTypes(op, static_cast<int64_t>(op.getGroups()), false);
}

LAYER_SHAPE_RULE(ConvTransposeOp) {
  ArrayRef<int64_t> outPad = op.getOutputPadding();
  auto types = rankedTypes(op->getOperands());
  if (types && !outPad.empty()) {
    int64_t n = (*types)[0].getRank() - 2;
    if (static_cast<int64_t>(outPad.size()) != n)
      return op.emitOpError()
             << "output_padding has " << outPad.size()
             << " entries but the input has " << n << " spatial dimensions";
    for (int64_t i = 0; i < n; ++i) {
      int64_t s = op.getStrides().size() > static_cast<size_t>(i)
                      ? op.getStrides()[i]
                      : 1;
      if (outPad[i] < 0 || outPad[i] >= s)
        return op.emitOpError() << "output_padding " << outPad[i]
                                << " must be in [0, stride " << s << ")";
    }
  }
  return convResultTypes(op, 1, true);
}

static LogicalResult checkPoolKind(Operation *op, StringRef kind) {
  if (kind != "max" && kind != "average")
    return op->emitOpError()
           << "kind must be \"max\" or \"average\", got \"" << kind << "\"";
  return success();
}

LAYER_SHAPE_RULE(PoolOp) {
  if (failed(checkPoolKind(op, op.getKind())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  SmallVector<std::pair<StringRef, ArrayRef<int64_t>>> arrays{
      {"pool_size", op.getPoolSize()}, {"strides", op.getStrides()}};
  FailureOr<bool> same = checkWindowAttrs(op, op.getPadding(), n, arrays);
  if (failed(same))
    return failure();
  Shape shape{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t out = windowOutputSize(input.getDimSize(i + 1), op.getPoolSize()[i],
                                   op.getStrides()[i], *same);
    if (!*same)
      requireDims(op->getOperand(0), {i + 1}, DimCheck::Relation::AtLeast,
                  op.getPoolSize()[i],
                  "the input must be at least as large as the pool");
    if (out <= 0 && !ShapedType::isDynamic(out))
      return op.emitOpError()
             << "pool_size " << op.getPoolSize()[i] << " on spatial axis " << i
             << " is larger than the unpadded input of shape "
             << formatShape(input);
    shape.push_back(out);
  }
  shape.push_back(input.getShape().back());
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(GlobalPoolOp) {
  if (failed(checkPoolKind(op, op.getKind())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  return SmallVector<Type>{tensorOf(
      {input.getDimSize(0), input.getShape().back()}, input.getElementType())};
}

LAYER_SHAPE_RULE(UpsampleOp) {
  StringRef interp = op.getInterpolation();
  if (interp != "nearest" && interp != "bilinear")
    return op.emitOpError() << "interpolation must be \"nearest\" or "
                               "\"bilinear\", got \""
                            << interp << "\"";
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  if (failed(checkWindowAttrs(op, "valid", n, {{"size", op.getSize()}})))
    return failure();
  if (interp == "bilinear" && n != 2)
    return op.emitOpError()
           << "bilinear interpolation needs 2 spatial dimensions, got "
           << formatShape(input);
  Shape shape(input.getShape());
  for (int64_t i = 0; i < n; ++i)
    if (!ShapedType::isDynamic(shape[i + 1]))
      shape[i + 1] = satMul(shape[i + 1], op.getSize()[i]);
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

//===----------------------------------------------------------------------===//
// Recurrent
//===----------------------------------------------------------------------===//

std::optional<int64_t> layerc::layer::rnnGateCount(StringRef cell) {
  return llvm::StringSwitch<std::optional<int64_t>>(cell)
      .Case("simple_rnn", 1)
      .Case("lstm", 4)
      .Case("gru", 3)
      .Default(std::nullopt);
}

LAYER_SHAPE_RULE(RnnOp) {
  std::optional<int64_t> gates = rnnGateCount(op.getCell());
  if (!gates)
    return op.emitOpError() << "unknown cell '" << op.getCell()
                            << "'; expected simple_rnn, lstm or gru";
  for (StringRef act : {op.getActivation(), op.getRecurrentActivation()}) {
    if (failed(checkActivation(op, act)))
      return failure();
    if (act == "softmax")
      return op.emitOpError("softmax is not an element-wise activation");
  }
  if (op.getResetAfter() && op.getCell() != "gru")
    return op.emitOpError("reset_after applies to a gru cell only");
  int64_t numStates = op.getCell() == "lstm" ? 2 : 1;
  if (static_cast<int64_t>(op->getNumResults()) != 1 + numStates)
    return op.emitOpError()
           << "a " << op.getCell() << " cell has " << 1 + numStates
           << " results (the output and the final states), "
              "got "
           << op->getNumResults();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1],
                   recurrent = (*types)[2];
  if (input.getRank() != 3)
    return op.emitOpError() << "expects an input of shape (batch, timesteps, "
                               "features), got "
                            << formatShape(input);
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "recurrent_kernel", "bias"},
                               input.getElementType())))
    return failure();
  if (recurrent.getRank() != 2 ||
      recurrent.getDimSize(1) != *gates * recurrent.getDimSize(0))
    return op.emitOpError()
           << "recurrent_kernel of shape " << formatShape(recurrent)
           << " must be (units, " << *gates << " * units)";
  int64_t units = recurrent.getDimSize(0);
  if (kernel.getRank() != 2 ||
      !agree(op->getOperand(1), 0, op->getOperand(0), 2,
             "the kernel's input size must match the input's features") ||
      kernel.getDimSize(1) != *gates * units)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input)
           << " and " << units << " units: expected ("
           << formatDim(input.getDimSize(2)) << ", " << *gates * units << ")";
  if (op.getBias()) {
    RankedTensorType bias = (*types)[3];
    Shape want{*gates * units};
    if (op.getResetAfter())
      want.insert(want.begin(), 2);
    if (bias.getShape() != ArrayRef<int64_t>(want))
      return op.emitOpError()
             << "bias of shape " << formatShape(bias) << " must be "
             << formatShape(RankedTensorType::get(want, bias.getElementType()));
  }
  Type et = input.getElementType();
  int64_t batch = input.getDimSize(0);
  SmallVector<Type> results;
  results.push_back(op.getReturnSequences()
                        ? tensorOf({batch, input.getDimSize(1), units}, et)
                        : tensorOf({batch, units}, et));
  for (int64_t i = 0; i < numStates; ++i)
    results.push_back(tensorOf({batch, units}, et));
  return results;
}

LAYER_SHAPE_RULE(ConvLstmOp) {
  for (StringRef act : {op.getActivation(), op.getRecurrentActivation()}) {
    if (failed(checkActivation(op, act)))
      return failure();
    if (act == "softmax")
      return op.emitOpError("softmax is not an element-wise activation");
  }
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1],
                   recurrent = (*types)[2];
  if (input.getRank() < 4 || input.getRank() > 6)
    return op.emitOpError() << "expects an input of shape (batch, timesteps, "
                               "spatial..., channels) with 1 to 3 spatial "
                               "dimensions, got "
                            << formatShape(input);
  int64_t n = input.getRank() - 3;
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "recurrent_kernel", "bias"},
                               input.getElementType())))
    return failure();
  SmallVector<std::pair<StringRef, ArrayRef<int64_t>>> arrays{
      {"strides", op.getStrides()}, {"dilations", op.getDilations()}};
  FailureOr<bool> same = checkWindowAttrs(op, op.getPadding(), n, arrays);
  if (failed(same))
    return failure();
  if (recurrent.getRank() != n + 2 ||
      recurrent.getDimSize(n + 1) != 4 * recurrent.getDimSize(n))
    return op.emitOpError()
           << "recurrent_kernel of shape " << formatShape(recurrent)
           << " must be (k..., filters, 4 * filters) with " << n
           << " kernel axes";
  int64_t filters = recurrent.getDimSize(n);
  if (kernel.getRank() != n + 2 ||
      !agree(op->getOperand(1), n, op->getOperand(0), -1,
             "the kernel's input channels must match the input's") ||
      kernel.getDimSize(n + 1) != 4 * filters)
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input)
           << " and " << filters << " filters";
  if (op.getBias()) {
    RankedTensorType bias = (*types)[3];
    if (bias.getRank() != 1 || bias.getDimSize(0) != 4 * filters)
      return op.emitOpError() << "bias of shape " << formatShape(bias)
                              << " must be (" << 4 * filters << ",)";
  }
  Shape state{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i) {
    int64_t window =
        satAdd(satMul(kernel.getDimSize(i) - 1, op.getDilations()[i]), 1);
    int64_t out = windowOutputSize(input.getDimSize(i + 2), window,
                                   op.getStrides()[i], *same);
    if (out <= 0 && !ShapedType::isDynamic(out))
      return op.emitOpError() << "kernel of shape " << formatShape(kernel)
                              << " is larger than the unpadded input of shape "
                              << formatShape(input);
    state.push_back(out);
  }
  state.push_back(filters);
  Type et = input.getElementType();
  Shape output = state;
  if (op.getReturnSequences())
    output.insert(output.begin() + 1, input.getDimSize(1));
  return SmallVector<Type>{tensorOf(output, et), tensorOf(state, et),
                           tensorOf(state, et)};
}

//===----------------------------------------------------------------------===//
// Normalization and embedding
//===----------------------------------------------------------------------===//

/// Checks that each of `vectors` (named by `names`) is a rank-1 tensor of
/// the channels (last axis) of `input`, with its element type.
static LogicalResult checkChannelVectors(Operation *op, RankedTensorType input,
                                         ArrayRef<RankedTensorType> vectors,
                                         ArrayRef<StringRef> names) {
  if (input.getRank() < 2)
    return op->emitOpError()
           << "expects an input of rank >= 2, got " << formatShape(input);
  int64_t channels = input.getShape().back();
  for (auto [t, name] : llvm::zip(vectors, names)) {
    if (t.getElementType() != input.getElementType())
      return op->emitOpError()
             << name << " has element type " << t.getElementType()
             << " but the input has " << input.getElementType();
    if (t.getRank() != 1 || !dimsAgree(t.getDimSize(0), channels))
      return op->emitOpError()
             << name << " of shape " << formatShape(t) << " does not match the "
             << formatDim(channels) << " channels of the input "
             << formatShape(input);
  }
  return success();
}

static LogicalResult checkEpsilon(Operation *op, APFloat epsilon) {
  if (!(epsilon.convertToDouble() > 0.0))
    return op->emitOpError()
           << "epsilon must be positive, got " << epsilon.convertToDouble();
  return success();
}

LAYER_SHAPE_RULE(BatchNormOp) {
  if (failed(checkEpsilon(op, op.getEpsilon())))
    return failure();
  double momentum = op.getMomentum().convertToDouble();
  if (!(momentum >= 0.0 && momentum <= 1.0))
    return op.emitOpError() << "momentum must be in [0, 1], got " << momentum;
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  SmallVector<StringRef> names{"moving_mean", "moving_variance"};
  if (op.getGamma())
    names.push_back("gamma");
  if (op.getBeta())
    names.push_back("beta");
  if (failed(
          checkChannelVectors(op, input, ArrayRef(*types).drop_front(), names)))
    return failure();
  return SmallVector<Type>{input};
}

/// The channel vector type of `input` (rank >= 2, last axis known).
static FailureOr<RankedTensorType> channelVectorOf(Operation *op,
                                                   RankedTensorType input) {
  if (input.getRank() < 2)
    return op->emitOpError()
           << "expects an input of rank >= 2, got " << formatShape(input);
  if (ShapedType::isDynamic(input.getShape().back()))
    return op->emitOpError()
           << "needs a known number of channels (last axis), got "
           << formatShape(input);
  return RankedTensorType::get({input.getShape().back()},
                               input.getElementType());
}

LAYER_SHAPE_RULE(MomentsOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  auto channels = channelVectorOf(op, (*types)[0]);
  if (failed(channels))
    return failure();
  return SmallVector<Type>{*channels, *channels};
}
LAYER_SHAPE_RULE(EmbeddingOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType indices = (*types)[0], table = (*types)[1];
  if (table.getRank() != 2)
    return op.emitOpError() << "expects a table of shape (input_dim, "
                               "output_dim), got "
                            << formatShape(table);
  Shape shape(indices.getShape());
  shape.push_back(table.getDimSize(1));
  return SmallVector<Type>{tensorOf(shape, table.getElementType())};
}

//===----------------------------------------------------------------------===//
// Merging and reshaping
//===----------------------------------------------------------------------===//

/// Element-wise merges (add, multiply): operands of one shape.
static FailureOr<SmallVector<Type>> sameShapeMergeTypes(Operation *op) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if ((*types)[0].getRank() != (*types)[1].getRank())
    return op->emitOpError()
           << "operands must have the same rank, got "
           << formatShape((*types)[0]) << " and " << formatShape((*types)[1]);
  FailureOr<Shape> shape =
      joinAll(op, *types, {"lhs", "rhs"}, op->getOperands());
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, (*types)[0].getElementType())};
}

/// add, subtract, multiply: operands of one shape, or an rhs of lower rank
/// matching the lhs's trailing dimensions (a bias broadcast over the
/// leading ones, as `x + b` in a custom layer).
static FailureOr<SmallVector<Type>> broadcastMergeTypes(Operation *op) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType lhs = (*types)[0], rhs = (*types)[1];
  if (rhs.getRank() >= lhs.getRank())
    return sameShapeMergeTypes(op);
  int64_t lead = lhs.getRank() - rhs.getRank();
  Shape shape(lhs.getShape());
  for (int64_t i = 0; i < rhs.getRank(); ++i) {
    int64_t &d = shape[lead + i];
    int64_t r = rhs.getDimSize(i);
    if (!agree(op->getOperand(1), i, op->getOperand(0), lead + i,
               "the rhs must match the lhs's trailing sizes"))
      return op->emitOpError()
             << "cannot broadcast rhs " << formatShape(rhs) << " to lhs "
             << formatShape(lhs) << ": the trailing dimensions must be equal";
    if (ShapedType::isDynamic(d))
      d = r;
  }
  return SmallVector<Type>{tensorOf(shape, lhs.getElementType())};
}

LAYER_SHAPE_RULE(AddOp) { return broadcastMergeTypes(op); }

LAYER_SHAPE_RULE(MultiplyOp) { return broadcastMergeTypes(op); }

LAYER_SHAPE_RULE(SubtractOp) { return broadcastMergeTypes(op); }

LAYER_SHAPE_RULE(MaximumOp) { return sameShapeMergeTypes(op); }

LAYER_SHAPE_RULE(AverageOp) {
  if (op->getNumOperands() < 1)
    return op.emitOpError("expects at least one input");
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  SmallVector<std::string> storage;
  SmallVector<StringRef> names;
  for (size_t i = 0; i < types->size(); ++i)
    storage.push_back("input #" + std::to_string(i));
  for (const std::string &name : storage)
    names.push_back(name);
  for (RankedTensorType t : *types)
    if (t.getRank() != (*types)[0].getRank())
      return op.emitOpError()
             << "inputs must have the same rank, got "
             << formatShape((*types)[0]) << " and " << formatShape(t);
  FailureOr<Shape> shape = joinAll(op, *types, names, op->getOperands());
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(ConcatenateOp) {
  if (op->getNumOperands() < 1)
    return op.emitOpError("expects at least one input");
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  int64_t rank = (*types)[0].getRank();
  int64_t given = static_cast<int64_t>(op.getAxis());
  int64_t axis = given < 0 ? given + rank : given;
  if (axis < 1 || axis >= rank)
    return op.emitOpError()
           << "axis " << given << " is out of range for inputs of shape "
           << formatShape((*types)[0])
           << " (the batch axis cannot be concatenated)";
  Shape shape((*types)[0].getShape());
  for (size_t i = 1; i < types->size(); ++i) {
    RankedTensorType t = (*types)[i];
    bool ok = t.getRank() == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      if (d != axis) {
        ok = dimsAgree(shape[d], t.getDimSize(d)) &&
             agree(op->getOperand(i), d, op->getOperand(0), d,
                   "inputs must match off the concatenation axis");
        shape[d] = joinDim(shape[d], t.getDimSize(d));
      }
    if (!ok)
      return op.emitOpError()
             << "a concatenate layer requires inputs with matching shapes "
                "except for the concatenation axis "
             << given << ", got " << formatShape((*types)[0]) << " and "
             << formatShape(t) << " (input #" << i << ")";
    shape[axis] = ShapedType::isDynamic(shape[axis]) ||
                          ShapedType::isDynamic(t.getDimSize(axis))
                      ? ShapedType::kDynamic
                      : shape[axis] + t.getDimSize(axis);
  }
  return SmallVector<Type>{tensorOf(shape, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(DropoutMaskOp) {
  if (failed(checkRate(op, op.getRate())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if ((*types)[1].getRank() != 0)
    return op.emitOpError()
           << "expects a scalar step, got " << formatShape((*types)[1]);
  return SmallVector<Type>{(*types)[0]};
}

LAYER_SHAPE_RULE(ReshapeOp) {
  ArrayRef<int64_t> target = op.getTargetShape();
  for (int64_t d : target)
    if (d <= 0)
      return op.emitOpError() << "target_shape dimensions must be positive, "
                                 "got "
                              << d;
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (input.getRank() < 1)
    return op.emitOpError() << "expects a batched input, got a scalar";
  ArrayRef<int64_t> sample = input.getShape().drop_front();
  if (llvm::none_of(sample, ShapedType::isDynamic)) {
    int64_t have = 1, want = 1;
    bool overflow = false;
    for (int64_t d : sample)
      overflow |= __builtin_mul_overflow(have, d, &have);
    for (int64_t d : target)
      overflow |= __builtin_mul_overflow(want, d, &want);
    if (overflow)
      return op.emitOpError() << "the element count of the input or of "
                                 "target_shape overflows 64 bits";
    if (have != want)
      return op.emitOpError()
             << "cannot reshape input of shape " << formatShape(input) << " ("
             << have << " elements per sample) to target_shape with " << want
             << " elements";
  }
  int64_t want = 1;
  for (int64_t d : target)
    want = satMul(want, d);
  requireDims(op->getOperand(0),
              llvm::to_vector(llvm::seq<int64_t>(1, input.getRank())),
              DimCheck::Relation::Equal, want,
              "the input's elements per sample must match target_shape");
  Shape shape{input.getDimSize(0)};
  shape.append(target.begin(), target.end());
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(ReduceSumOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  int64_t axis = static_cast<int64_t>(op.getAxis());
  if (axis < 0 || axis >= input.getRank())
    return op.emitOpError()
           << "axis " << axis << " is out of range for an input of shape "
           << formatShape(input);
  Shape shape(input.getShape());
  shape.erase(shape.begin() + axis);
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// The shape rule shared by layer.loss and layer.loss_grad: checks the
/// target against the predictions for the given loss kind.
static LogicalResult checkLossOperands(Operation *op, StringRef lossName,
                                       RankedTensorType pred,
                                       RankedTensorType target) {
  std::optional<Loss> loss = parseLoss(lossName);
  if (!loss)
    return op->emitOpError() << "unknown loss '" << lossName
                             << "'; expected one of " << knownLosses();
  if (pred.getRank() < 1)
    return op->emitOpError() << "expects batched predictions, got a scalar";
  if (*loss == Loss::SparseCategoricalCrossentropy) {
    if (!target.getElementType().isSignlessInteger())
      return op->emitOpError() << lossName << " expects integer labels, got "
                               << target.getElementType();
    ArrayRef<int64_t> want = pred.getShape().drop_back();
    if (target.getRank() != pred.getRank() - 1 ||
        !joinShapes(want, target.getShape()))
      return op->emitOpError()
             << "labels of shape " << formatShape(target)
             << " do not match predictions of shape " << formatShape(pred)
             << ": expected one label per sample, "
             << formatShape(RankedTensorType::get(want, pred.getElementType()));
    return success();
  }
  if (target.getElementType() != pred.getElementType())
    return op->emitOpError()
           << lossName << " expects targets of type " << pred.getElementType()
           << ", got " << target.getElementType();
  if (!joinShapes(pred.getShape(), target.getShape()))
    return op->emitOpError()
           << "targets of shape " << formatShape(target)
           << " do not match predictions of shape " << formatShape(pred);
  return success();
}

LAYER_SHAPE_RULE(LossOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types) {
    if (!parseLoss(op.getLoss()))
      return op.emitOpError() << "unknown loss '" << op.getLoss()
                              << "'; expected one of " << knownLosses();
    return SmallVector<Type>{};
  }
  if (failed(checkLossOperands(op, op.getLoss(), (*types)[0], (*types)[1])))
    return failure();
  // The targets' sizes are the predictions' (without the class axis for
  // sparse labels): what checkLossOperands could not decide is checked at
  // run time.
  for (int64_t d = 0; d < (*types)[1].getRank(); ++d)
    (void)agree(op->getOperand(1), d, op->getOperand(0), d,
                "the targets must match the predictions");
  return SmallVector<Type>{tensorOf({}, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(LossGradOp) {
  if (!parseLoss(op.getLoss()))
    return op.emitOpError() << "unknown loss '" << op.getLoss()
                            << "'; expected one of " << knownLosses();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if (failed(checkLossOperands(op, op.getLoss(), (*types)[0], (*types)[1])))
    return failure();
  if ((*types)[2].getRank() != 0)
    return op.emitOpError()
           << "dloss must be a scalar, got " << formatShape((*types)[2]);
  return SmallVector<Type>{(*types)[0]};
}

//===----------------------------------------------------------------------===//
// Gradients and optimizers
//===----------------------------------------------------------------------===//

/// The gradient ops of windows: `grad` must have the shape the forward op
/// gives for `like` (recomputed with its rule), and the result is `like`.
static FailureOr<SmallVector<Type>>
windowGradTypes(Operation *op, Value like, Value grad,
                RankedTensorType forwardOut) {
  auto likeType = cast<RankedTensorType>(like.getType());
  auto gradType = cast<RankedTensorType>(grad.getType());
  if (failed(verifyCompatibleShape(gradType.getShape(), forwardOut.getShape())))
    return op->emitOpError() << "grad of shape " << formatShape(gradType)
                             << " does not match the forward output shape "
                             << formatShape(forwardOut);
  return SmallVector<Type>{likeType};
}

/// The output shape of a channels-last window op over `input` (spatial
/// axes 1..n) with `window[i]` elements per axis and `channels` out.
static FailureOr<RankedTensorType>
windowOutputType(Operation *op, RankedTensorType input,
                 ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                 StringRef padding, int64_t channels) {
  if (failed(checkSpatialInput(op, input)))
    return failure();
  int64_t n = input.getRank() - 2;
  FailureOr<bool> same = checkWindowAttrs(
      op, padding, n, {{"window", window}, {"strides", strides}});
  if (failed(same))
    return failure();
  Shape shape{input.getDimSize(0)};
  for (int64_t i = 0; i < n; ++i)
    shape.push_back(windowOutputSize(input.getDimSize(i + 1), window[i],
                                     strides[i], *same));
  shape.push_back(channels);
  return tensorOf(shape, input.getElementType());
}

template <typename OpTy>
static FailureOr<SmallVector<Type>>
convGradTypes(OpTy op, RankedTensorType input, RankedTensorType kernel,
              Value like, Value grad) {
  int64_t n = input.getRank() - 2;
  if (kernel.getRank() != n + 2 || !kernel.hasStaticShape())
    return op.emitOpError() << "kernel of shape " << formatShape(kernel)
                            << " must be static of rank " << n + 2;
  if (op.getDilations().size() != static_cast<size_t>(n))
    return op.emitOpError()
           << "dilations has " << op.getDilations().size()
           << " entries but the input has " << n << " spatial dimensions";
  if (kernel.getDimSize(n) != input.getShape().back())
    return op.emitOpError()
           << "kernel of shape " << formatShape(kernel)
           << " does not fit an input of shape " << formatShape(input);
  SmallVector<int64_t> window;
  for (int64_t i = 0; i < n; ++i)
    window.push_back(
        satAdd(satMul(kernel.getDimSize(i) - 1, op.getDilations()[i]), 1));
  FailureOr<RankedTensorType> out =
      windowOutputType(op, input, window, op.getStrides(), op.getPadding(),
                       kernel.getDimSize(n + 1));
  if (failed(out))
    return failure();
  return windowGradTypes(op, like, grad, *out);
}

LAYER_SHAPE_RULE(ConvInputGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  return convGradTypes(op, (*types)[2], (*types)[1], op.getLike(),
                       op.getGrad());
}

LAYER_SHAPE_RULE(ConvFilterGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  return convGradTypes(op, (*types)[0], (*types)[2], op.getLike(),
                       op.getGrad());
}

LAYER_SHAPE_RULE(PoolGradOp) {
  if (failed(checkPoolKind(op, op.getKind())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  FailureOr<RankedTensorType> out =
      windowOutputType(op, input, op.getPoolSize(), op.getStrides(),
                       op.getPadding(), input.getShape().back());
  if (failed(out))
    return failure();
  return windowGradTypes(op, op.getInput(), op.getGrad(), *out);
}

LAYER_SHAPE_RULE(GlobalPoolGradOp) {
  if (failed(checkPoolKind(op, op.getKind())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkSpatialInput(op, input)))
    return failure();
  RankedTensorType pooled = tensorOf(
      {input.getDimSize(0), input.getShape().back()}, input.getElementType());
  for (auto [t, name] : llvm::zip(ArrayRef(*types).drop_front(),
                                  ArrayRef<StringRef>{"output", "grad"}))
    if (failed(verifyCompatibleShape(t.getShape(), pooled.getShape())))
      return op.emitOpError() << name << " of shape " << formatShape(t)
                              << " must be " << formatShape(pooled);
  return SmallVector<Type>{input};
}

LAYER_SHAPE_RULE(UpsampleGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType like = (*types)[1];
  if (failed(checkSpatialInput(op, like)))
    return failure();
  int64_t n = like.getRank() - 2;
  if (failed(checkWindowAttrs(op, "valid", n, {{"size", op.getSize()}})))
    return failure();
  StringRef interp = op.getInterpolation();
  if (interp != "nearest" && (interp != "bilinear" || n != 2))
    return op.emitOpError() << "interpolation must be \"nearest\", or "
                               "\"bilinear\" with 2 spatial dimensions, got \""
                            << interp << "\" with " << n;
  Shape up(like.getShape());
  for (int64_t i = 0; i < n; ++i)
    if (!ShapedType::isDynamic(up[i + 1]))
      up[i + 1] = satMul(up[i + 1], op.getSize()[i]);
  return windowGradTypes(op, op.getLike(), op.getGrad(),
                         tensorOf(up, like.getElementType()));
}

LAYER_SHAPE_RULE(ScaleOp) { return sameAsInput(op); }

LAYER_SHAPE_RULE(SliceOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  int64_t axis = static_cast<int64_t>(op.getAxis());
  int64_t offset = static_cast<int64_t>(op.getOffset());
  int64_t size = static_cast<int64_t>(op.getSize());
  if (axis < 0 || axis >= input.getRank())
    return op.emitOpError()
           << "axis " << axis << " is out of range for an input of shape "
           << formatShape(input);
  int64_t extent = input.getDimSize(axis);
  if (offset < 0 || size < 1 ||
      (!ShapedType::isDynamic(extent) && satAdd(offset, size) > extent))
    return op.emitOpError()
           << "slice [" << offset << ", " << offset + size
           << ") is outside axis " << axis << " of " << formatShape(input);
  requireDims(op->getOperand(0), {axis}, DimCheck::Relation::AtLeast,
              satAdd(offset, size), "the slice must lie inside the input");
  Shape shape(input.getShape());
  shape[axis] = size;
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(MaximumGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  FailureOr<Shape> shape = joinAll(op, *types, {"lhs", "rhs", "grad"});
  if (failed(shape))
    return failure();
  Type t = tensorOf(*shape, (*types)[0].getElementType());
  return SmallVector<Type>{t, t};
}

LAYER_SHAPE_RULE(EmbeddingGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType ids = (*types)[0], grad = (*types)[1], like = (*types)[2];
  if (like.getRank() != 2)
    return op.emitOpError() << "expects a table, got " << formatShape(like);
  Shape want(ids.getShape());
  want.push_back(like.getDimSize(1));
  if (!joinShapes(want, grad.getShape()))
    return op.emitOpError() << "grad of shape " << formatShape(grad)
                            << " does not match indices " << formatShape(ids)
                            << " and a table " << formatShape(like);
  return SmallVector<Type>{like};
}

LAYER_SHAPE_RULE(BatchNormGradOp) {
  if (failed(checkEpsilon(op, op.getEpsilon())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType dy = (*types)[0], input = (*types)[1];
  std::optional<Shape> shape = joinShapes(input.getShape(), dy.getShape());
  if (!shape)
    return op.emitOpError()
           << "output_grad of shape " << formatShape(dy)
           << " does not match the input " << formatShape(input);
  SmallVector<StringRef> names{"mean", "variance"};
  if (op.getGamma())
    names.push_back("gamma");
  if (failed(checkChannelVectors(op, input, ArrayRef(*types).drop_front(2),
                                 names)))
    return failure();
  auto channels = channelVectorOf(op, input);
  if (failed(channels))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, input.getElementType()), *channels,
                           *channels, *channels, *channels};
}

LAYER_SHAPE_RULE(MomentsGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkChannelVectors(op, input, ArrayRef(*types).drop_front(),
                                 {"mean", "mean_grad", "variance_grad"})))
    return failure();
  return SmallVector<Type>{input};
}

LAYER_SHAPE_RULE(RnnGradOp) {
  std::optional<int64_t> gates = rnnGateCount(op.getCell());
  if (!gates)
    return op.emitOpError() << "unknown cell '" << op.getCell() << "'";
  int64_t numStates = op.getCell() == "lstm" ? 2 : 1;
  if (static_cast<int64_t>(op.getResultGrads().size()) != 1 + numStates)
    return op.emitOpError()
           << "expects " << 1 + numStates << " result gradients, got "
           << op.getResultGrads().size();
  size_t numGrads = op.getBias() ? 4 : 3;
  if (op->getNumResults() != numGrads)
    return op.emitOpError()
           << "has " << numGrads << " results, got " << op->getNumResults();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  SmallVector<Type> results;
  for (size_t i = 0; i < numGrads; ++i)
    results.push_back((*types)[i]);
  return results;
}

LAYER_SHAPE_RULE(ActivationGradOp) {
  if (failed(checkActivation(op, op.getActivation())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  FailureOr<Shape> shape = joinAll(op, *types, {"grad", "input", "output"});
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, (*types)[0].getElementType())};
}

/// Optimizer updates: the parameter, its gradient and its slots share one
/// shape (checked by name); the operands after them are scalars (the
/// step). The results are the new parameter and slots.
static FailureOr<SmallVector<Type>>
optimizerResultTypes(Operation *op, ArrayRef<StringRef> slotNames,
                     ArrayRef<double> unitRangeValues,
                     ArrayRef<StringRef> unitRangeNames, bool hasStep,
                     double weightDecay, double decaySteps, double decayRate) {
  for (auto [value, name] : llvm::zip(unitRangeValues, unitRangeNames))
    if (!(value >= 0.0 && value < 1.0))
      return op->emitOpError() << name << " must be in [0, 1), got " << value;
  if (!(weightDecay >= 0.0 && std::isfinite(weightDecay)))
    return op->emitOpError()
           << "weight_decay must be finite and >= 0, got " << weightDecay;
  if (!(decaySteps >= 0.0 && std::isfinite(decaySteps)) ||
      !(decayRate > 0.0 && std::isfinite(decayRate)))
    return op->emitOpError() << "needs decay_steps >= 0 and decay_rate > 0, "
                                "got "
                             << decaySteps << " and " << decayRate;
  if (decaySteps > 0.0 && !hasStep)
    return op->emitOpError()
           << "a decaying learning rate (decay_steps > 0) needs the step "
              "operand";
  size_t expected = slotNames.size() - 1; // the parameter and its slots
  if (op->getNumResults() != expected)
    return op->emitOpError() << "expects " << expected
                             << " results (the parameter and its slots), got "
                             << op->getNumResults();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  ArrayRef<RankedTensorType> slots =
      ArrayRef<RankedTensorType>(*types).take_front(slotNames.size());
  FailureOr<Shape> shape = joinAll(op, slots, slotNames);
  if (failed(shape))
    return failure();
  for (RankedTensorType scalar : ArrayRef(*types).drop_front(slots.size()))
    if (scalar.getRank() != 0)
      return op->emitOpError()
             << "expects a scalar step, got " << formatShape(scalar);
  Type type = tensorOf(*shape, slots.front().getElementType());
  return SmallVector<Type>(op->getNumResults(), type);
}

LAYER_SHAPE_RULE(SGDUpdateOp) {
  return optimizerResultTypes(op, {"param", "grad", "velocity"},
                              {op.getMomentum().convertToDouble()},
                              {"momentum"}, op.getStep() != nullptr,
                              op.getWeightDecay().convertToDouble(),
                              op.getDecaySteps().convertToDouble(),
                              op.getDecayRate().convertToDouble());
}

LAYER_SHAPE_RULE(RMSpropUpdateOp) {
  SmallVector<StringRef> slots{"param", "grad", "average"};
  if (op.getAverageGrad())
    slots.push_back("average_grad");
  return optimizerResultTypes(op, slots, {op.getRho().convertToDouble()},
                              {"rho"}, op.getStep() != nullptr,
                              op.getWeightDecay().convertToDouble(),
                              op.getDecaySteps().convertToDouble(),
                              op.getDecayRate().convertToDouble());
}

LAYER_SHAPE_RULE(AdamUpdateOp) {
  SmallVector<StringRef> slots{"param", "grad", "m", "v"};
  if (op.getVHat())
    slots.push_back("v_hat");
  return optimizerResultTypes(
      op, slots,
      {op.getBeta_1().convertToDouble(), op.getBeta_2().convertToDouble()},
      {"beta_1", "beta_2"}, true, op.getWeightDecay().convertToDouble(),
      op.getDecaySteps().convertToDouble(),
      op.getDecayRate().convertToDouble());
}

#define GET_OP_CLASSES
#include "dialect/LayerOps.cpp.inc"

//===----------------------------------------------------------------------===//
// DimCheckScope
//===----------------------------------------------------------------------===//

DimCheckScope::DimCheckScope(SmallVectorImpl<DimCheck> &checks)
    : previous(activeChecks) {
  activeChecks = &checks;
}

DimCheckScope::~DimCheckScope() { activeChecks = previous; }
