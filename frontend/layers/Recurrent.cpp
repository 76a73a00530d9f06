//===- Recurrent.cpp - SimpleRNN, LSTM and GRU
//-----------------------------===//

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

layer::Cell cellOf(RecurrentLayer::Cell cell) {
  switch (cell) {
  case RecurrentLayer::Cell::SimpleRNN:
    return layer::Cell::SimpleRnn;
  case RecurrentLayer::Cell::LSTM:
    return layer::Cell::Lstm;
  case RecurrentLayer::Cell::GRU:
    return layer::Cell::Gru;
  }
  return layer::Cell::SimpleRnn;
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
  return layer::rnnGateCount(cellOf(cell_));
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
      b, state.loc(*this), types, state.value(node.inputs[0]), w[0], w[1], bias,
      cellOf(cell_), activationAttr(b, options_.activation).getValue(),
      activationAttr(b, options_.recurrent_activation).getValue(),
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

//===----------------------------------------------------------------------===//
// ConvLSTM
//===----------------------------------------------------------------------===//

namespace {
const char *spatialSuffix(int64_t rank) {
  return rank == 1 ? "1D" : rank == 2 ? "2D" : "3D";
}
} // namespace

ConvLSTMLayer::ConvLSTMLayer(int64_t rank, int64_t filters,
                             const IntTuple &kernelSize,
                             ConvLSTMOptions options)
    : Layer(std::string("ConvLSTM") + spatialSuffix(rank), options.name),
      rank_(rank), filters_(filters),
      kernel_(kernelSize.expand(rank, name(), "kernel_size")),
      strides_(options.strides.expand(rank, name(), "strides")),
      dilation_(options.dilation_rate.expand(rank, name(), "dilation_rate")),
      options_(std::move(options)) {
  if (filters <= 0)
    throw Error("Layer " + name() +
                ": filters must be a positive integer, got " +
                std::to_string(filters));
  if (options_.padding != "valid" && options_.padding != "same")
    throw Error("Layer " + name() +
                ": padding must be \"valid\" or \"same\", got \"" +
                options_.padding + "\"");
  for (const std::string *act :
       {&options_.activation, &options_.recurrent_activation})
    if (!layer::parseActivation(*act) || *act == "softmax")
      throw Error("Layer " + name() + ": unknown activation '" + *act +
                  "' (expected an element-wise one of " +
                  layer::knownActivations() + ")");
  bool strided = false, dilated = false;
  for (int64_t i = 0; i < rank; ++i) {
    strided |= strides_[i] > 1;
    dilated |= dilation_[i] > 1;
  }
  if (strided && dilated)
    throw Error("Layer " + name() +
                ": strides > 1 are not supported together with "
                "dilation_rate > 1");
}

std::string ConvLSTMLayer::className() const {
  return std::string("ConvLSTM") + spatialSuffix(rank_);
}

std::vector<std::vector<int64_t>> ConvLSTMLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  if (in.size() != 1)
    throw Error("Layer " + name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
  const std::vector<int64_t> &shape = in[0];
  if (static_cast<int64_t>(shape.size()) != rank_ + 3)
    incompatible(0,
                 "expected ndim=" + std::to_string(rank_ + 3) +
                     ", found ndim=" + std::to_string(shape.size()),
                 shape);
  if (shape.back() <= 0)
    incompatible(0, "the channel dimension of the inputs should be defined",
                 shape);
  if (built() && weights()[0].value.dim(rank_) != shape.back())
    incompatible(0,
                 "expected axis -1 of input shape to have value " +
                     std::to_string(weights()[0].value.dim(rank_)) +
                     ", but received input with shape " + formatShape(shape),
                 shape);
  std::vector<int64_t> state{shape[0]};
  for (int64_t i = 0; i < rank_; ++i) {
    int64_t size = shape[i + 2];
    if (size < 0) {
      state.push_back(-1);
      continue;
    }
    int64_t window = (kernel_[i] - 1) * dilation_[i] + 1;
    int64_t o = layer::windowOutputSize(size, window, strides_[i],
                                        options_.padding == "same");
    if (o <= 0)
      incompatible(0,
                   "the kernel " + formatShape(kernel_) +
                       " is larger than the input with padding=\"valid\"",
                   shape);
    state.push_back(o);
  }
  state.push_back(filters_);
  std::vector<int64_t> output = state;
  if (options_.return_sequences)
    output.insert(output.begin() + 1, shape[1]);
  std::vector<std::vector<int64_t>> out{output};
  if (options_.return_state) {
    out.push_back(state);
    out.push_back(state);
  }
  return out;
}

void ConvLSTMLayer::build(const std::vector<std::vector<int64_t>> &in) {
  std::vector<int64_t> k = kernel_, rk = kernel_;
  k.push_back(in[0].back());
  k.push_back(4 * filters_);
  rk.push_back(filters_);
  rk.push_back(4 * filters_);
  addWeight("kernel", k, "glorot_uniform");
  addWeight("recurrent_kernel", rk, "orthogonal");
  if (options_.use_bias)
    addWeight("bias", {4 * filters_}, "unit_forget_bias");
}

void ConvLSTMLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  const auto &w = state.weights(*this);
  mlir::Value bias = w.size() > 2 ? w[2] : mlir::Value();
  std::vector<int64_t> stateShape = node.outputShapes[0];
  if (options_.return_sequences)
    stateShape.erase(stateShape.begin() + 1);
  mlir::Type stateType = state.tensorType(stateShape, node.dtype);
  auto op = layer::ConvLstmOp::create(
      b, state.loc(*this),
      mlir::TypeRange{state.resultType(node, 0), stateType, stateType},
      state.value(node.inputs[0]), w[0], w[1], bias, strides_,
      paddingAttr(b, options_.padding).getValue(), dilation_,
      activationAttr(b, options_.activation).getValue(),
      activationAttr(b, options_.recurrent_activation).getValue(),
      options_.return_sequences, options_.go_backwards);
  std::vector<mlir::Value> outputs{op.getOutput()};
  if (options_.return_state) {
    outputs.push_back(op.getH());
    outputs.push_back(op.getC());
  }
  state.define(node, outputs);
}

Json ConvLSTMLayer::getConfig() const {
  auto ints = [](const std::vector<int64_t> &v) {
    return Json::array(std::vector<Json>(v.begin(), v.end()));
  };
  return Json::object({{"name", name()},
                       {"filters", filters_},
                       {"kernel_size", ints(kernel_)},
                       {"strides", ints(strides_)},
                       {"padding", options_.padding},
                       {"dilation_rate", ints(dilation_)},
                       {"activation", options_.activation},
                       {"recurrent_activation", options_.recurrent_activation},
                       {"use_bias", options_.use_bias},
                       {"return_sequences", options_.return_sequences},
                       {"return_state", options_.return_state},
                       {"go_backwards", options_.go_backwards}});
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
  for (int64_t rank = 1; rank <= 3; ++rank) {
    std::string cls = std::string("ConvLSTM") + spatialSuffix(rank);
    out[cls] = [rank, cls](const Json &c) -> std::shared_ptr<Layer> {
      auto tuple = [&](const char *key) {
        const Json &v = configField(c, cls, key, K::Array);
        std::vector<int64_t> values;
        for (const Json &d : v.items()) {
          if (!d.isInteger())
            throw Error("config of " + cls + " layer: field '" + key +
                        "' must hold integers");
          values.push_back(d.asInt());
        }
        return IntTuple(std::move(values));
      };
      auto str = [&](const char *key) {
        return configField(c, cls, key, K::String).asString();
      };
      auto flag = [&](const char *key) {
        return configField(c, cls, key, K::Bool).asBool();
      };
      const Json &filters = configField(c, cls, "filters", K::Number);
      if (!filters.isInteger())
        throw Error("config of " + cls +
                    " layer: field 'filters' must be an integer");
      ConvLSTMOptions o;
      o.strides = tuple("strides");
      o.padding = str("padding");
      o.dilation_rate = tuple("dilation_rate");
      o.activation = str("activation");
      o.recurrent_activation = str("recurrent_activation");
      o.use_bias = flag("use_bias");
      o.return_sequences = flag("return_sequences");
      o.return_state = flag("return_state");
      o.go_backwards = flag("go_backwards");
      o.name = str("name");
      return std::make_shared<ConvLSTMLayer>(rank, filters.asInt(),
                                             tuple("kernel_size"), o);
    };
  }
}
