//===- Recurrent.cpp - SimpleRNN, LSTM and GRU -----------------------------===//

#include "frontend/layers/Recurrent.h"
#include "frontend/MLIRGen.h"

#include "dialect/LayerOps.h"

using namespace layerc;

namespace {
const char *cellClass(RecurrentLayer::Cell cell) {
  switch (cell) {
  case RecurrentLayer::Cell::SimpleRNN:
    return "SimpleRNN";
  case RecurrentLayer::Cell::LSTM:
    return "LSTM";
  case RecurrentLayer::Cell::GRU:
    return "GRU";
  }
  return "RNN";
}

const char *cellOpName(RecurrentLayer::Cell cell) {
  switch (cell) {
  case RecurrentLayer::Cell::SimpleRNN:
    return "simple_rnn";
  case RecurrentLayer::Cell::LSTM:
    return "lstm";
  case RecurrentLayer::Cell::GRU:
    return "gru";
  }
  return "";
}
} // namespace

RecurrentLayer::RecurrentLayer(Cell cell, int64_t units,
                               RecurrentOptions options)
    : Layer(cellClass(cell), options.name), cell_(cell), units_(units),
      options_(std::move(options)) {
  if (units <= 0)
    throw Error("Layer " + name() + ": units must be a positive integer, got " +
                std::to_string(units));
  for (const std::string *act :
       {&options_.activation, &options_.recurrent_activation})
    if (!layer::parseActivation(*act) || *act == "softmax")
      throw Error("Layer " + name() + ": unknown activation '" + *act +
                  "' (expected an element-wise one of " +
                  layer::knownActivations() + ")");
}

std::string RecurrentLayer::className() const { return cellClass(cell_); }

int64_t RecurrentLayer::gates() const {
  return *layer::rnnGateCount(cellOpName(cell_));
}

std::vector<std::vector<int64_t>> RecurrentLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
  const std::vector<int64_t> &shape = in[0];
  if (shape.size() != 3)
    incompatible(0,
                 "expected ndim=3, found ndim=" + std::to_string(shape.size()),
                 shape);
  if (shape[2] <= 0)
    incompatible(0, "the last axis (features) must have a known size", shape);
  if (built() && weights()[0].value.dim(0) != shape[2])
    incompatible(0,
                 "expected axis -1 of input shape to have value " +
                     std::to_string(weights()[0].value.dim(0)) +
                     ", but received input with shape " + formatShape(shape),
                 shape);
  std::vector<std::vector<int64_t>> out;
  if (options_.return_sequences)
    out.push_back({shape[0], shape[1], units_});
  else
    out.push_back({shape[0], units_});
  if (options_.return_state) {
    out.push_back({shape[0], units_});
    if (cell_ == Cell::LSTM)
      out.push_back({shape[0], units_});
  }
  return out;
}

void RecurrentLayer::build(const std::vector<std::vector<int64_t>> &in) {
  int64_t g = gates();
  addWeight("kernel", {in[0][2], g * units_}, "glorot_uniform");
  addWeight("recurrent_kernel", {units_, g * units_}, "orthogonal");
  if (!options_.use_bias)
    return;
  if (cell_ == Cell::GRU && options_.reset_after)
    addWeight("bias", {2, g * units_}, "zeros");
  else
    // Keras's unit_forget_bias: the LSTM's forget gate starts at 1.
    addWeight("bias", {g * units_},
              cell_ == Cell::LSTM ? "unit_forget_bias" : "zeros");
}

void RecurrentLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  const auto &w = state.weights(*this);
  mlir::Value bias = w.size() > 2 ? w[2] : mlir::Value();
  int64_t batch = node.outputShapes[0][0];
  std::vector<mlir::Type> types{state.resultType(node, 0)};
  int numStates = cell_ == Cell::LSTM ? 2 : 1;
  for (int i = 0; i < numStates; ++i)
    types.push_back(state.tensorType({batch, units_}, node.dtype));
  auto op = layer::RnnOp::create(
      b, state.loc(*this), types, state.value(node.inputs[0]), w[0], w[1],
      bias, b.getStringAttr(cellOpName(cell_)),
      b.getStringAttr(options_.activation),
      b.getStringAttr(options_.recurrent_activation),
      options_.return_sequences, options_.go_backwards,
      cell_ == Cell::GRU && options_.reset_after);
  std::vector<mlir::Value> outputs{op.getOutput()};
  if (options_.return_state)
    for (mlir::Value s : op.getStates())
      outputs.push_back(s);
  state.define(node, outputs);
}

Json RecurrentLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> fields{
      {"name", name()}, {"units", units_}, {"activation", options_.activation}};
  if (cell_ != Cell::SimpleRNN)
    fields.emplace_back("recurrent_activation", options_.recurrent_activation);
  fields.emplace_back("use_bias", options_.use_bias);
  fields.emplace_back("return_sequences", options_.return_sequences);
  fields.emplace_back("return_state", options_.return_state);
  fields.emplace_back("go_backwards", options_.go_backwards);
  if (cell_ == Cell::GRU)
    fields.emplace_back("reset_after", options_.reset_after);
  return Json::object(std::move(fields));
}

void layerc::addRecurrentLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  using K = Json::Kind;
  for (RecurrentLayer::Cell cell :
       {RecurrentLayer::Cell::SimpleRNN, RecurrentLayer::Cell::LSTM,
        RecurrentLayer::Cell::GRU}) {
    std::string cls = cellClass(cell);
    out[cls] = [cell, cls](const Json &c) -> std::shared_ptr<Layer> {
      auto str = [&](const char *key, const std::string &fallback) {
        return c.get(key) ? configField(c, cls, key, K::String).asString()
                          : fallback;
      };
      auto flag = [&](const char *key, bool fallback) {
        return c.get(key) ? configField(c, cls, key, K::Bool).asBool()
                          : fallback;
      };
      const Json &units = configField(c, cls, "units", K::Number);
      if (!units.isInteger())
        throw Error("config of " + cls +
                    " layer: field 'units' must be an integer");
      RecurrentOptions o;
      o.activation = str("activation", "tanh");
      o.recurrent_activation = str("recurrent_activation", "sigmoid");
      o.use_bias = flag("use_bias", true);
      o.return_sequences = flag("return_sequences", false);
      o.return_state = flag("return_state", false);
      o.go_backwards = flag("go_backwards", false);
      o.reset_after = flag("reset_after", true);
      o.name = configField(c, cls, "name", K::String).asString();
      return std::make_shared<RecurrentLayer>(cell, units.asInt(), o);
    };
  }
}
