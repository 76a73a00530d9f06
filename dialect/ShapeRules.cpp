//===- ShapeRules.cpp - Shared pieces of the layer ops' shape rules -------===//
//
// See ShapeRules.h. Also the run-time shape-check recorder (DimCheckScope):
// the helpers that decide whether sizes agree are the ones that record what
// only the run time can decide.
//
//===----------------------------------------------------------------------===//

#include "dialect/ShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace layerc::layer;
using namespace layerc::layer::rules;

namespace {

/// The shape-check recorder of this thread (see DimCheckScope).
thread_local SmallVectorImpl<DimCheck> *activeChecks = nullptr;

int64_t normalizedDim(Value v, int64_t d) {
  return d < 0 ? d + cast<RankedTensorType>(v.getType()).getRank() : d;
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
} // namespace

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

namespace layerc::layer::rules {

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

bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

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

int64_t joinDim(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) ? b : a;
}

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

FailureOr<Shape> joinAll(Operation *op, ArrayRef<RankedTensorType> types,
                         ArrayRef<StringRef> names, ValueRange values) {
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

std::string formatDim(int64_t d) {
  return ShapedType::isDynamic(d) ? "None" : std::to_string(d);
}

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

FailureOr<bool>
checkWindowAttrs(Operation *op, Padding padding, int64_t n,
                 ArrayRef<std::pair<StringRef, ArrayRef<int64_t>>> arrays) {
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
  return padding == Padding::Same;
}

int64_t satMul(int64_t a, int64_t b) {
  int64_t out;
  return llvm::MulOverflow(a, b, out) ? std::numeric_limits<int64_t>::max()
                                      : out;
}
int64_t satAdd(int64_t a, int64_t b) {
  int64_t out;
  return llvm::AddOverflow(a, b, out) ? std::numeric_limits<int64_t>::max()
                                      : out;
}

} // namespace layerc::layer::rules

//===----------------------------------------------------------------------===//
// DimCheckScope
//===----------------------------------------------------------------------===//

DimCheckScope::DimCheckScope(SmallVectorImpl<DimCheck> &checks)
    : previous(activeChecks) {
  activeChecks = &checks;
}

DimCheckScope::~DimCheckScope() { activeChecks = previous; }
