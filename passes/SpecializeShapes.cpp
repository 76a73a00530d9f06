//===- SpecializeShapes.cpp - The layer-specialize-shapes pass ------------===//
//
// For each public function: give the leading arguments their shapes, make
// dimension 0 of dynamic tensor arguments the batch, reset the results of
// ops with a shape rule to unranked, and run the shape rules again in
// program order (operands are always defined before use in the single
// block of a layer function). The function type follows its return.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinTypes.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERSPECIALIZESHAPES
#include "passes/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;
using namespace layerc::layer;

namespace {

/// Parses "?x28x28" (every size a non-negative integer or ?); an empty
/// string is a rank-0 shape.
std::optional<SmallVector<int64_t>> parseShape(StringRef text) {
  SmallVector<int64_t> shape;
  if (text.trim().empty())
    return shape;
  SmallVector<StringRef> sizes;
  text.trim().split(sizes, 'x');
  for (StringRef size : sizes) {
    int64_t d;
    if (size == "?")
      d = ShapedType::kDynamic;
    else if (size.getAsInteger(10, d) || d < 0)
      return std::nullopt;
    shape.push_back(d);
  }
  return shape;
}

Type withBatch(Type type, int64_t batch) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (batch < 1 || !ranked || ranked.getRank() == 0 || !ranked.isDynamicDim(0))
    return type;
  SmallVector<int64_t> shape(ranked.getShape());
  shape[0] = batch;
  return RankedTensorType::get(shape, ranked.getElementType());
}

struct LayerSpecializeShapesPass
    : layerc::impl::LayerSpecializeShapesBase<LayerSpecializeShapesPass> {
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult specialize(func::FuncOp fn, ArrayRef<SmallVector<int64_t>>);
};

LogicalResult
LayerSpecializeShapesPass::specialize(func::FuncOp fn,
                                      ArrayRef<SmallVector<int64_t>> shapes) {
  if (!fn.getBody().hasOneBlock())
    return fn.emitError() << "layer-specialize-shapes expects functions of "
                             "one block, '"
                          << fn.getName() << "' has "
                          << fn.getBody().getBlocks().size();
  Block &entry = fn.getBody().front();
  if (shapes.size() > entry.getNumArguments())
    return fn.emitError() << "layer-specialize-shapes: " << shapes.size()
                          << " input shapes for the " << entry.getNumArguments()
                          << " arguments of '" << fn.getName() << "'";
  for (auto [i, shape] : llvm::enumerate(shapes)) {
    BlockArgument arg = entry.getArgument(i);
    auto tensor = dyn_cast<TensorType>(arg.getType());
    if (!tensor)
      return fn.emitError()
             << "layer-specialize-shapes: argument #" << i << " of '"
             << fn.getName() << "' is not a tensor but " << arg.getType();
    // A declared size stays: a given shape may only fill in unknown ones.
    SmallVector<int64_t> merged(shape);
    if (auto declared = dyn_cast<RankedTensorType>(tensor)) {
      if (declared.getRank() != static_cast<int64_t>(shape.size()))
        return fn.emitError()
               << "layer-specialize-shapes: argument #" << i << " of '"
               << fn.getName() << "' has rank " << declared.getRank()
               << ", the input shape " << shape.size();
      for (auto [d, size] : llvm::enumerate(declared.getShape())) {
        if (ShapedType::isDynamic(size))
          continue;
        if (!ShapedType::isDynamic(merged[d]) && merged[d] != size)
          return fn.emitError()
                 << "layer-specialize-shapes: argument #" << i << " of '"
                 << fn.getName() << "' has size " << size << " in dimension "
                 << d << ", the input shape " << merged[d];
        merged[d] = size;
      }
    }
    arg.setType(RankedTensorType::get(merged, tensor.getElementType()));
  }
  for (BlockArgument arg : entry.getArguments())
    arg.setType(withBatch(arg.getType(), batch));
  WalkResult result = fn.walk([&](ShapeInference op) {
    for (OpResult r : op->getResults())
      r.setType(UnrankedTensorType::get(
          cast<TensorType>(r.getType()).getElementType()));
    if (failed(op.inferShapes()))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  fn.setType(FunctionType::get(fn.getContext(), entry.getArgumentTypes(),
                               entry.getTerminator()->getOperandTypes()));
  return success();
}

void LayerSpecializeShapesPass::runOnOperation() {
  if (batch < 0) {
    getOperation().emitError()
        << "layer-specialize-shapes: batch must be at least 1 (or 0 to keep "
           "it), got "
        << batch.getValue();
    return signalPassFailure();
  }
  SmallVector<SmallVector<int64_t>> shapes;
  for (const std::string &text : inputShapes) {
    std::optional<SmallVector<int64_t>> shape = parseShape(text);
    if (!shape) {
      getOperation().emitError()
          << "layer-specialize-shapes: '" << text
          << "' is not a shape (sizes separated by x, ? for a dynamic one)";
      return signalPassFailure();
    }
    shapes.push_back(std::move(*shape));
  }
  for (auto fn : getOperation().getOps<func::FuncOp>())
    if (fn.isPublic() && !fn.isExternal() && failed(specialize(fn, shapes)))
      return signalPassFailure();
}

} // namespace
