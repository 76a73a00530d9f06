//===- MLIRGen.cpp - From a model's graph to the layer dialect
//-------------===//
//
// One function, `predict(inputs..., params...) -> outputs...`: inputs are
// named after their Input layers, weights "<layer>/<weight>" and marked
// `layer.param` (trainable: what layer-autodiff differentiates) or
// `layer.buffer` (not trainable: BatchNormalization's moving statistics,
// which train_step updates by other means). Nodes are emitted in
// the model's topological order, each by its own layer.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"
#include "frontend/Model.h"

#include "dialect/LayerOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <set>

using namespace layerc;

mlir::Location MLIRGenState::loc(const Layer &layer) {
  return mlir::NameLoc::get(builder.getStringAttr(layer.name()));
}

mlir::Value MLIRGenState::value(const SymbolicTensor &t) const {
  auto it = values.find(t.node().get());
  if (it == values.end())
    throw Error("internal error: tensor used before its layer was emitted");
  return it->second.at(t.index());
}

const std::vector<mlir::Value> &
MLIRGenState::weights(const Layer &layer) const {
  static const std::vector<mlir::Value> none;
  auto it = weightArgs.find(&layer);
  return it == weightArgs.end() ? none : it->second;
}

mlir::RankedTensorType
MLIRGenState::tensorType(const std::vector<int64_t> &shape, DType dtype) {
  std::vector<int64_t> dims;
  for (int64_t d : shape)
    dims.push_back(d < 0 ? mlir::ShapedType::kDynamic : d);
  mlir::Type element;
  switch (dtype) {
  case DType::Float32:
    element = builder.getF32Type();
    break;
  case DType::Float64:
    element = builder.getF64Type();
    break;
  case DType::Int32:
    element = builder.getI32Type();
    break;
  default:
    throw Error(std::string("MLIRGen: dtype ") + dtypeName(dtype) +
                " is not supported");
  }
  return mlir::RankedTensorType::get(dims, element);
}

mlir::RankedTensorType MLIRGenState::resultType(const Node &node, int i) {
  return tensorType(node.outputShapes.at(i), node.dtype);
}

void MLIRGenState::define(const Node &node, mlir::ValueRange results) {
  values[&node] = std::vector<mlir::Value>(results.begin(), results.end());
}

void InputLayer::emit(MLIRGenState &, const Node &) const {
  // Inputs are function arguments, bound by emitModel().
}

void WeightReadLayer::emit(MLIRGenState &state, const Node &node) const {
  const std::vector<mlir::Value> &args = state.weights(*owner_);
  if (index_ >= args.size())
    throw Error("internal error: weight " + name() +
                " is read but its layer is not among the model's weight "
                "layers");
  state.define(node, args[index_]);
}

/// `v` as a value of `type` (a static size where the graph has an unknown
/// one, or the reverse) through tensor.cast.
static mlir::Value castTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          mlir::Type type) {
  if (v.getType() == type)
    return v;
  return mlir::tensor::CastOp::create(b, loc, type, v);
}

/// Emits `node`'s layer, then Keras's activity regularizer (when it has
/// one) of each float output: a layer.activity_regularization.
static void emitNode(MLIRGenState &state, const Node &node) {
  const Layer &layer = *node.layer;
  layer.emit(state, node);
  const Regularizer &reg = layer.activityRegularizer();
  if (reg.empty())
    return;
  for (mlir::Value &v : state.values[&node]) {
    auto type = mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
    if (!type || !mlir::isa<mlir::FloatType>(type.getElementType()))
      continue;
    v = layer::ActivityRegularizationOp::create(
        state.builder, state.loc(layer), type, v,
        state.builder.getF64FloatAttr(reg.l1),
        state.builder.getF64FloatAttr(reg.l2));
  }
}

void Layer::emit(MLIRGenState &state, const Node &node) const {
  if (!node.body)
    throw Error("internal error: layer " + name() + " has no op to emit");
  const Graph &body = *node.body;
  mlir::Location loc = state.loc(*this);
  // The body's nodes may already have values (a model called twice, or
  // both called and used directly): emit them afresh, then restore.
  std::vector<mlir::Value> inputs;
  for (const SymbolicTensor &in : node.inputs)
    inputs.push_back(state.value(in));
  auto saved = state.values;
  for (const auto &inner : body.nodes)
    state.values.erase(inner.get());
  for (size_t i = 0; i < body.inputs.size(); ++i) {
    const SymbolicTensor &in = body.inputs[i];
    state.define(*in.node(), castTo(state.builder, loc, inputs.at(i),
                                    state.tensorType(in.shape(), in.dtype())));
  }
  for (const auto &inner : body.nodes)
    if (!state.values.count(inner.get()))
      emitNode(state, *inner);
  std::vector<mlir::Value> results;
  for (size_t i = 0; i < body.outputs.size(); ++i)
    results.push_back(castTo(
        state.builder, loc, state.value(body.outputs[i]),
        state.tensorType(node.outputShapes.at(i), body.outputs[i].dtype())));
  state.values = std::move(saved);
  state.define(node, results);
}

/// A weight as an arith.constant (float32 weights only, as layers create).
static mlir::Value constantOf(mlir::OpBuilder &b, const Tensor &value,
                              MLIRGenState &state) {
  if (value.dtype() != DType::Float32)
    throw Error(std::string("cannot embed a weight of dtype ") +
                dtypeName(value.dtype()));
  auto type = state.tensorType(value.shape(), value.dtype());
  llvm::ArrayRef<float> data(value.data<float>(),
                             static_cast<size_t>(value.numel()));
  return mlir::arith::ConstantOp::create(
      b, b.getUnknownLoc(), mlir::DenseElementsAttr::get(type, data));
}

namespace {
/// The layer.regularizer and layer.constraint attributes of a trainable
/// weight's argument (what layer-autodiff compiles into train_step).
void setRegularization(mlir::OpBuilder &b, mlir::func::FuncOp fn, unsigned i,
                       const Weight &w, const std::string &name) {
  if (!w.regularizer.empty())
    fn.setArgAttr(
        i, "layer.regularizer",
        b.getDictionaryAttr(
            {b.getNamedAttr("l1", b.getF64FloatAttr(w.regularizer.l1)),
             b.getNamedAttr("l2", b.getF64FloatAttr(w.regularizer.l2))}));
  if (w.constraint.empty())
    return;
  const Constraint &c = w.constraint;
  fn.setArgAttr(
      i, "layer.constraint",
      b.getDictionaryAttr(
          {b.getNamedAttr("kind", b.getStringAttr(c.kind())),
           b.getNamedAttr("axes", b.getDenseI64ArrayAttr(c.axesFor(
                                      w.value.rank(), "Weight " + name))),
           b.getNamedAttr("min_value", b.getF64FloatAttr(c.min_value)),
           b.getNamedAttr("max_value", b.getF64FloatAttr(c.max_value)),
           b.getNamedAttr("rate", b.getF64FloatAttr(c.rate))}));
}
} // namespace

mlir::OwningOpRef<mlir::ModuleOp> layerc::emitModel(const Model &model,
                                                    mlir::MLIRContext *ctx,
                                                    bool embedWeights) {
  ctx->loadDialect<layer::LayerDialect, mlir::func::FuncDialect,
                   mlir::arith::ArithDialect, mlir::tensor::TensorDialect>();
  MLIRGenState state(ctx);
  mlir::OpBuilder &b = state.builder;
  auto module =
      mlir::ModuleOp::create(mlir::NameLoc::get(b.getStringAttr(model.name())));

  std::vector<mlir::Type> argTypes;
  std::vector<std::string> argNames;
  /// Per argument: 0 an input, 1 a trainable weight, 2 a non-trainable one.
  std::vector<int> weightKind;
  std::vector<const Weight *> argWeight;
  for (const SymbolicTensor &in : model.inputs()) {
    argTypes.push_back(state.tensorType(in.shape(), in.dtype()));
    argNames.push_back(in.node()->layer->name());
    weightKind.push_back(0);
    argWeight.push_back(nullptr);
  }
  if (!embedWeights)
    for (const auto &layer : model.weightLayers())
      for (const Weight &w : layer->weights()) {
        argTypes.push_back(state.tensorType(w.value.shape(), w.value.dtype()));
        argNames.push_back(layer->name() + "/" + w.name);
        weightKind.push_back(w.trainable ? 1 : 2);
        argWeight.push_back(&w);
      }
  std::vector<mlir::Type> resultTypes;
  for (const SymbolicTensor &out : model.outputs())
    resultTypes.push_back(state.tensorType(out.shape(), out.dtype()));

  b.setInsertionPointToEnd(module.getBody());
  auto fn = mlir::func::FuncOp::create(
      b, module.getLoc(), "predict", b.getFunctionType(argTypes, resultTypes));
  for (size_t i = 0; i < argNames.size(); ++i) {
    fn.setArgAttr(i, "layer.name", b.getStringAttr(argNames[i]));
    if (weightKind[i] == 1) {
      fn.setArgAttr(i, "layer.param", b.getUnitAttr());
      setRegularization(b, fn, i, *argWeight[i], argNames[i]);
    } else if (weightKind[i] == 2)
      fn.setArgAttr(i, "layer.buffer", b.getUnitAttr());
  }
  // Outputs carry the model's output names, as inputs carry their Input
  // layers': the header, the IR and errors all say "dense_2", and
  // train_step's targets and per-output losses follow ("dense_2_target",
  // "dense_2_loss").
  // Two outputs of one layer (an LSTM's sequence and state) would share a
  // name: the later ones get their output index ("lstm_2").
  std::vector<std::string> outputNames = model.outputNames();
  std::set<std::string> usedNames;
  for (size_t i = 0; i < outputNames.size(); ++i) {
    std::string name = outputNames[i];
    while (!usedNames.insert(name).second)
      name += "_" + std::to_string(i);
    fn.setResultAttr(i, "layer.name", b.getStringAttr(name));
  }
  mlir::Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);

  size_t arg = 0;
  for (const SymbolicTensor &in : model.inputs())
    state.define(*in.node(), entry->getArgument(arg++));
  for (const auto &layer : model.weightLayers())
    for (const Weight &w : layer->weights())
      state.weightArgs[layer.get()].push_back(
          embedWeights ? constantOf(b, w.value, state)
                       : mlir::Value(entry->getArgument(arg++)));

  for (const auto &node : model.nodes())
    if (!state.values.count(node.get()))
      emitNode(state, *node);

  std::vector<mlir::Value> results;
  for (const SymbolicTensor &out : model.outputs())
    results.push_back(state.value(out));
  mlir::func::ReturnOp::create(b, module.getLoc(), results);
  return module;
}

layer::ActivationAttr layerc::activationAttr(mlir::Builder &b,
                                             const std::string &name) {
  std::optional<layer::Activation> kind = layer::parseActivation(name);
  if (!kind)
    throw Error("unknown activation '" + name + "' (expected one of " +
                layer::knownActivations() + ")");
  return layer::ActivationAttr::get(b.getContext(), *kind);
}

layer::PaddingAttr layerc::paddingAttr(mlir::Builder &b,
                                       const std::string &name) {
  std::optional<layer::Padding> kind = layer::symbolizePadding(name);
  if (!kind)
    throw Error("padding must be \"valid\" or \"same\", got \"" + name + "\"");
  return layer::PaddingAttr::get(b.getContext(), *kind);
}

layer::InterpolationAttr layerc::interpolationAttr(mlir::Builder &b,
                                                   const std::string &name) {
  std::optional<layer::Interpolation> kind =
      layer::symbolizeInterpolation(name);
  if (!kind)
    throw Error("interpolation must be \"nearest\" or \"bilinear\", got \"" +
                name + "\"");
  return layer::InterpolationAttr::get(b.getContext(), *kind);
}
