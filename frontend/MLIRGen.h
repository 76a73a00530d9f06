//===- MLIRGen.h - From a model's graph to the layer dialect ----*- C++ -*-===//
//
// Internal to the frontend (it includes MLIR): the state layers use to emit
// their ops, and the entry point that turns a Model into a module with one
// `predict` function whose parameters are function arguments marked
// `layer.param` and named "<layer>/<weight>". Every op is located at its
// layer's name, so diagnostics and IR dumps point back at `dense_1`.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_MLIRGEN_H
#define LAYERC_FRONTEND_MLIRGEN_H

#include "dialect/LayerOps.h"
#include "frontend/Layer.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>

namespace layerc {

class Model;

/// What a layer sees while emitting its op.
class MLIRGenState {
public:
  explicit MLIRGenState(mlir::MLIRContext *ctx) : builder(ctx) {}

  mlir::OpBuilder builder;
  /// The location of the layer being emitted: its name.
  mlir::Location loc(const Layer &layer);
  /// The value of a symbolic tensor emitted earlier.
  mlir::Value value(const SymbolicTensor &t) const;
  /// The function arguments holding `layer`'s weights, in order.
  const std::vector<mlir::Value> &weights(const Layer &layer) const;
  /// Builtin tensor type of a shape (-1 = dynamic) and dtype.
  mlir::RankedTensorType tensorType(const std::vector<int64_t> &shape,
                                    DType dtype);
  /// The result type of output `i` of `node`.
  mlir::RankedTensorType resultType(const Node &node, int i = 0);
  /// Records the values of `node`'s outputs.
  void define(const Node &node, mlir::ValueRange values);

  std::map<const Node *, std::vector<mlir::Value>> values;
  std::map<const Layer *, std::vector<mlir::Value>> weightArgs;
};

/// Emits `model` as a module holding `predict`. With `embedWeights` the
/// weights become constants of the function instead of arguments (a
/// self-contained inference library).
mlir::OwningOpRef<mlir::ModuleOp> emitModel(const Model &model,
                                            mlir::MLIRContext *ctx,
                                            bool embedWeights = false);

/// The kind attributes of the layer dialect from Keras names. A layer
/// checks its names when it is built; a name the dialect does not know
/// still throws layerc::Error here rather than emit an invalid op.
layer::ActivationAttr activationAttr(mlir::Builder &b, const std::string &name);
layer::PaddingAttr paddingAttr(mlir::Builder &b, const std::string &name);
layer::InterpolationAttr interpolationAttr(mlir::Builder &b,
                                           const std::string &name);

} // namespace layerc

#endif // LAYERC_FRONTEND_MLIRGEN_H
