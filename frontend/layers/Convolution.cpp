//===- Convolution.cpp - Convolution, pooling and upsampling layers -------===//
//
// Output sizes come from the dialect's helpers (windowOutputSize,
// transposedOutputSize), the same code the ops' shape rules use, so a
// layer call and the verifier can never disagree.
//
//===----------------------------------------------------------------------===//

#include "frontend/layers/Convolution.h"
#include "frontend/MLIRGen.h"
#include "frontend/layers/ConvolutionUtil.h"

#include "dialect/LayerOps.h"

using namespace layerc;
using namespace layerc::conv;

std::vector<int64_t> IntTuple::expand(int64_t rank, const std::string &layer,
                                      const std::string &what,
                                      bool allowZero) const {
  if (values_.size() != 1 && static_cast<int64_t>(values_.size()) != rank)
    throw Error("Layer " + layer + ": " + what +
                " must be an integer or a "
                "tuple of " +
                std::to_string(rank) + " integers, got " +
                formatShape(values_));
  for (int64_t v : values_)
    if (v < 0 || (v == 0 && !allowZero))
      throw Error("Layer " + layer + ": " + what + " must be " +
                  (allowZero ? "non-negative" : "positive") + ", got " +
                  formatShape(values_));
  if (values_.size() == 1)
    return std::vector<int64_t>(rank, values_[0]);
  return values_;
}

namespace layerc::conv {

const char *suffix(int64_t rank) {
  return rank == 1 ? "1D" : rank == 2 ? "2D" : "3D";
}

Json intArray(const std::vector<int64_t> &v) {
  return Json::array(std::vector<Json>(v.begin(), v.end()));
}

/// Keras's input spec: ndim = rank + 2 (batch, spatial..., channels).
void checkSpatialInput(
    const Layer &l, int64_t rank, const std::vector<std::vector<int64_t>> &in,
    const std::function<void(int, const std::string &,
                             const std::vector<int64_t> &)> &incompatible) {
  if (in.size() != 1)
    throw Error("Layer " + l.name() + " expects 1 input, but it received " +
                std::to_string(in.size()) + " input tensors");
  if (static_cast<int64_t>(in[0].size()) != rank + 2)
    incompatible(0,
                 "expected ndim=" + std::to_string(rank + 2) +
                     ", found ndim=" + std::to_string(in[0].size()),
                 in[0]);
}

void checkPadding(const std::string &layer, const std::string &padding,
                  bool allowCausal) {
  if (padding != "valid" && padding != "same" &&
      !(allowCausal && padding == "causal"))
    throw Error("Layer " + layer + ": padding must be \"valid\"" +
                (allowCausal ? ", \"same\" or \"causal\"" : " or \"same\"") +
                ", got \"" + padding + "\"");
}

void checkStridesAndDilation(const std::string &layer,
                             const std::vector<int64_t> &strides,
                             const std::vector<int64_t> &dilation) {
  bool strided = false, dilated = false;
  for (size_t i = 0; i < strides.size(); ++i) {
    strided |= strides[i] > 1;
    dilated |= dilation[i] > 1;
  }
  if (strided && dilated)
    throw Error("Layer " + layer +
                ": strides > 1 are not supported together with "
                "dilation_rate > 1 (strides " +
                formatShape(strides) + ", dilation_rate " +
                formatShape(dilation) + ")");
}

mlir::Value causalPad(MLIRGenState &state, mlir::Value x, int64_t steps) {
  if (steps == 0)
    return x;
  auto &b = state.builder;
  mlir::Location loc = x.getLoc();
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  llvm::SmallVector<int64_t> shape(type.getShape());
  shape[1] = 1;
  auto slabType = mlir::RankedTensorType::get(shape, type.getElementType());
  mlir::Value slab = layer::ScaleOp::create(
      b, loc, slabType, layer::SliceOp::create(b, loc, slabType, x, 1, 0, 1),
      b.getF64FloatAttr(0.0));
  llvm::SmallVector<mlir::Value> parts(steps, slab);
  parts.push_back(x);
  shape[1] = type.isDynamicDim(1) ? mlir::ShapedType::kDynamic
                                  : type.getDimSize(1) + steps;
  return layer::ConcatenateOp::create(
      b, loc, mlir::RankedTensorType::get(shape, type.getElementType()), parts,
      1);
}

int64_t checkConvInput(const Layer &l, int64_t rank,
                       const std::vector<std::vector<int64_t>> &in,
                       const Incompatible &incompatible) {
  checkSpatialInput(l, rank, in, incompatible);
  int64_t channels = in[0].back();
  if (channels <= 0)
    incompatible(0, "the channel dimension of the inputs should be defined",
                 in[0]);
  return channels;
}

std::vector<int64_t>
windowedShape(const std::vector<int64_t> &shape,
              const std::vector<int64_t> &kernel,
              const std::vector<int64_t> &dilation,
              const std::function<int64_t(int64_t, int64_t, int64_t)> &size,
              const Incompatible &incompatible) {
  std::vector<int64_t> out{shape[0]};
  for (size_t i = 0; i < kernel.size(); ++i) {
    int64_t window = (kernel[i] - 1) * dilation[i] + 1;
    if (shape[i + 1] < 0) {
      out.push_back(-1);
      continue;
    }
    int64_t o = size(int64_t(i), shape[i + 1], window);
    if (o <= 0)
      incompatible(0,
                   "the kernel " + formatShape(kernel) + " (dilated size " +
                       std::to_string(window) + " on spatial axis " +
                       std::to_string(i) +
                       ") is larger than the input with padding=\"valid\"",
                   shape);
    out.push_back(o);
  }
  return out;
}

void checkActivationName(const std::string &layer, const std::string &name) {
  if (!layer::parseActivation(name))
    throw Error("Layer " + layer + ": unknown activation '" + name +
                "' (expected one of " + layer::knownActivations() + ")");
}

} // namespace layerc::conv

namespace {

std::string kindName(PoolingLayer::Kind kind) {
  return kind == PoolingLayer::Kind::Max ? "Max" : "Average";
}

} // namespace

//===----------------------------------------------------------------------===//
// Conv and ConvTranspose
//===----------------------------------------------------------------------===//

ConvLayer::ConvLayer(int64_t rank, int64_t filters, const IntTuple &kernelSize,
                     const ConvOptions &o)
    : Layer(std::string("Conv") + suffix(rank), o.name), rank_(rank),
      filters_(filters), transposed_(false),
      kernel_(kernelSize.expand(rank, name(), "kernel_size")),
      strides_(o.strides.expand(rank, name(), "strides")),
      dilation_(o.dilation_rate.expand(rank, name(), "dilation_rate")),
      padding_(o.padding), activation_(o.activation), groups_(o.groups),
      useBias_(o.use_bias), kernelInit_(o.kernel_initializer),
      biasInit_(o.bias_initializer), kernelReg_(o.kernel_regularizer),
      biasReg_(o.bias_regularizer), kernelConstraint_(o.kernel_constraint),
      biasConstraint_(o.bias_constraint) {
  validate();
  setActivityRegularizer(o.activity_regularizer);
  if (groups_ <= 0 || filters_ % groups_ != 0)
    throw Error("Layer " + name() + ": the number of filters (" +
                std::to_string(filters_) + ") must be divisible by groups (" +
                std::to_string(groups_) + ")");
}

ConvLayer::ConvLayer(int64_t rank, int64_t filters, const IntTuple &kernelSize,
                     const ConvTransposeOptions &o)
    : Layer(std::string("Conv") + suffix(rank) + "Transpose", o.name),
      rank_(rank), filters_(filters), transposed_(true),
      kernel_(kernelSize.expand(rank, name(), "kernel_size")),
      strides_(o.strides.expand(rank, name(), "strides")),
      dilation_(o.dilation_rate.expand(rank, name(), "dilation_rate")),
      padding_(o.padding), activation_(o.activation), useBias_(o.use_bias),
      kernelInit_(o.kernel_initializer), biasInit_(o.bias_initializer),
      kernelReg_(o.kernel_regularizer), biasReg_(o.bias_regularizer),
      kernelConstraint_(o.kernel_constraint),
      biasConstraint_(o.bias_constraint) {
  validate();
  setActivityRegularizer(o.activity_regularizer);
  if (o.output_padding) {
    outputPadding_ =
        o.output_padding->expand(rank, name(), "output_padding", true);
    for (int64_t i = 0; i < rank; ++i)
      if (outputPadding_[i] >= strides_[i])
        throw Error("Layer " + name() + ": output_padding " +
                    formatShape(outputPadding_) +
                    " must be smaller than the strides " +
                    formatShape(strides_));
  }
}

void ConvLayer::validate() {
  if (filters_ <= 0)
    throw Error("Layer " + name() +
                ": filters must be a positive integer, got " +
                std::to_string(filters_));
  checkPadding(name(), padding_, rank_ == 1 && !transposed_);
  checkActivationName(name(), activation_);
  checkStridesAndDilation(name(), strides_, dilation_);
}

std::string ConvLayer::className() const {
  return std::string("Conv") + suffix(rank_) + (transposed_ ? "Transpose" : "");
}

std::vector<std::vector<int64_t>>
ConvLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  auto fail = [this](int i, const std::string &w,
                     const std::vector<int64_t> &s) { incompatible(i, w, s); };
  int64_t channels = checkConvInput(*this, rank_, in, fail);
  const std::vector<int64_t> &shape = in[0];
  if (!transposed_ && channels % groups_ != 0)
    incompatible(0,
                 "the number of input channels (" + std::to_string(channels) +
                     ") must be divisible by groups (" +
                     std::to_string(groups_) + ")",
                 shape);
  if (built()) {
    int64_t want = weights()[0].value.dim(rank_ + (transposed_ ? 1 : 0)) *
                   (transposed_ ? 1 : groups_);
    if (channels != want)
      incompatible(0,
                   "expected axis -1 of input shape to have value " +
                       std::to_string(want) +
                       ", but received input with shape " + formatShape(shape),
                   shape);
  }
  bool same = padding_ == "same";
  std::vector<int64_t> out = windowedShape(
      shape, kernel_, dilation_,
      [&](int64_t i, int64_t size, int64_t window) {
        if (transposed_)
          return layer::transposedOutputSize(
              size, window, strides_[i], same,
              outputPadding_.empty()
                  ? std::nullopt
                  : std::optional<int64_t>(outputPadding_[i]));
        // Causal: the input padded on the left by the window minus one.
        if (padding_ == "causal")
          size += window - 1;
        return layer::windowOutputSize(size, window, strides_[i], same);
      },
      fail);
  out.push_back(filters_);
  return {out};
}

void ConvLayer::build(const std::vector<std::vector<int64_t>> &in) {
  std::vector<int64_t> shape = kernel_;
  int64_t channels = in[0].back();
  if (transposed_) {
    shape.push_back(filters_);
    shape.push_back(channels);
  } else {
    shape.push_back(channels / groups_);
    shape.push_back(filters_);
  }
  addWeight("kernel", shape, kernelInit_, kernelReg_, kernelConstraint_);
  if (useBias_)
    addWeight("bias", {filters_}, biasInit_, biasReg_, biasConstraint_);
}

void ConvLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  const auto &w = state.weights(*this);
  mlir::Value bias = w.size() > 1 ? w[1] : mlir::Value();
  mlir::Value x = state.value(node.inputs[0]);
  std::string padding = padding_;
  if (padding == "causal") {
    // Keras pads the steps on the left with (kernel_size - 1) * dilation
    // zeros and convolves with "valid": the padding is a concatenation of
    // zero slabs, so the gradient needs no rule of its own.
    x = causalPad(state, x, (kernel_[0] - 1) * dilation_[0]);
    padding = "valid";
  }
  mlir::Operation *op;
  if (transposed_)
    op = layer::ConvTransposeOp::create(
        b, state.loc(*this), state.resultType(node), x, w[0], bias,
        b.getDenseI64ArrayAttr(strides_), paddingAttr(b, padding_),
        b.getDenseI64ArrayAttr(dilation_),
        b.getDenseI64ArrayAttr(outputPadding_), activationAttr(b, activation_));
  else
    op = layer::ConvOp::create(
        b, state.loc(*this), state.resultType(node), x, w[0], bias,
        mlir::Value(), b.getDenseI64ArrayAttr(strides_),
        paddingAttr(b, padding), b.getDenseI64ArrayAttr(dilation_),
        b.getI64IntegerAttr(groups_), activationAttr(b, activation_));
  state.define(node, op->getResults());
}

Json ConvLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> fields{
      {"name", name()},
      {"filters", filters_},
      {"kernel_size", intArray(kernel_)},
      {"strides", intArray(strides_)},
      {"padding", padding_}};
  if (transposed_)
    fields.emplace_back("output_padding", outputPadding_.empty()
                                              ? Json(nullptr)
                                              : intArray(outputPadding_));
  fields.emplace_back("dilation_rate", intArray(dilation_));
  if (!transposed_)
    fields.emplace_back("groups", groups_);
  fields.emplace_back("activation", activation_);
  fields.emplace_back("use_bias", useBias_);
  fields.emplace_back("kernel_initializer", kernelInit_.toConfig());
  fields.emplace_back("bias_initializer", biasInit_.toConfig());
  fields.emplace_back("kernel_regularizer", kernelReg_.toConfig());
  fields.emplace_back("bias_regularizer", biasReg_.toConfig());
  fields.emplace_back("activity_regularizer", activityRegularizer().toConfig());
  fields.emplace_back("kernel_constraint", kernelConstraint_.toConfig());
  fields.emplace_back("bias_constraint", biasConstraint_.toConfig());
  return Json::object(std::move(fields));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

PoolingLayer::PoolingLayer(int64_t rank, Kind kind, const IntTuple &poolSize,
                           const PoolingOptions &o)
    : Layer(kindName(kind) + "Pooling" + suffix(rank), o.name), rank_(rank),
      kind_(kind), pool_(poolSize.expand(rank, name(), "pool_size")),
      strides_(o.strides ? o.strides->expand(rank, name(), "strides") : pool_),
      padding_(o.padding) {
  checkPadding(name(), padding_);
}

std::string PoolingLayer::className() const {
  return kindName(kind_) + "Pooling" + suffix(rank_);
}

std::vector<std::vector<int64_t>>
PoolingLayer::computeOutputShapes(const std::vector<std::vector<int64_t>> &in) {
  checkSpatialInput(
      *this, rank_, in,
      [this](int i, const std::string &w, const std::vector<int64_t> &s) {
        incompatible(i, w, s);
      });
  const std::vector<int64_t> &shape = in[0];
  std::vector<int64_t> out{shape[0]};
  for (int64_t i = 0; i < rank_; ++i) {
    if (shape[i + 1] < 0) {
      out.push_back(-1);
      continue;
    }
    int64_t o = layer::windowOutputSize(shape[i + 1], pool_[i], strides_[i],
                                        padding_ == "same");
    if (o <= 0)
      incompatible(0,
                   "pool_size " + formatShape(pool_) +
                       " is larger than the input with padding=\"valid\"",
                   shape);
    out.push_back(o);
  }
  out.push_back(shape.back());
  return {out};
}

void PoolingLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  auto op = layer::PoolOp::create(
      b, state.loc(*this), state.resultType(node), state.value(node.inputs[0]),
      layer::PoolKindAttr::get(b.getContext(), kind_ == Kind::Max
                                                   ? layer::PoolKind::Max
                                                   : layer::PoolKind::Average),
      b.getDenseI64ArrayAttr(pool_), b.getDenseI64ArrayAttr(strides_),
      paddingAttr(b, padding_));
  state.define(node, op->getResults());
}

Json PoolingLayer::getConfig() const {
  return Json::object({{"name", name()},
                       {"pool_size", intArray(pool_)},
                       {"strides", intArray(strides_)},
                       {"padding", padding_}});
}

GlobalPoolingLayer::GlobalPoolingLayer(int64_t rank, PoolingLayer::Kind kind,
                                       GlobalPoolingOptions o)
    : Layer("Global" + kindName(kind) + "Pooling" + suffix(rank), o.name),
      rank_(rank), kind_(kind), keepdims_(o.keepdims) {}

std::string GlobalPoolingLayer::className() const {
  return "Global" + kindName(kind_) + "Pooling" + suffix(rank_);
}

std::vector<std::vector<int64_t>> GlobalPoolingLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkSpatialInput(
      *this, rank_, in,
      [this](int i, const std::string &w, const std::vector<int64_t> &s) {
        incompatible(i, w, s);
      });
  std::vector<int64_t> out{in[0][0]};
  if (keepdims_)
    out.insert(out.end(), rank_, 1);
  out.push_back(in[0].back());
  return {out};
}

void GlobalPoolingLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  const std::vector<int64_t> &outShape = node.outputShapes[0];
  std::vector<int64_t> pooled{outShape[0], outShape.back()};
  mlir::Value y = layer::GlobalPoolOp::create(
      b, state.loc(*this), state.tensorType(pooled, node.dtype),
      state.value(node.inputs[0]),
      layer::PoolKindAttr::get(b.getContext(), kind_ == PoolingLayer::Kind::Max
                                                   ? layer::PoolKind::Max
                                                   : layer::PoolKind::Average));
  if (keepdims_)
    y = layer::ReshapeOp::create(b, state.loc(*this), state.resultType(node), y,
                                 b.getDenseI64ArrayAttr(std::vector<int64_t>(
                                     outShape.begin() + 1, outShape.end())));
  state.define(node, y);
}

Json GlobalPoolingLayer::getConfig() const {
  return Json::object({{"name", name()}, {"keepdims", keepdims_}});
}

//===----------------------------------------------------------------------===//
// UpSampling
//===----------------------------------------------------------------------===//

UpSamplingLayer::UpSamplingLayer(int64_t rank, const IntTuple &size,
                                 const UpSamplingOptions &o)
    : Layer(std::string("UpSampling") + suffix(rank), o.name), rank_(rank),
      size_(size.expand(rank, name(), "size")),
      interpolation_(o.interpolation) {
  if (interpolation_ != "nearest" && interpolation_ != "bilinear")
    throw Error("Layer " + name() +
                ": interpolation must be \"nearest\" or "
                "\"bilinear\", got \"" +
                interpolation_ + "\"");
  if (interpolation_ == "bilinear" && rank != 2)
    throw Error("Layer " + name() +
                ": bilinear interpolation is supported by UpSampling2D only");
}

std::string UpSamplingLayer::className() const {
  return std::string("UpSampling") + suffix(rank_);
}

std::vector<std::vector<int64_t>> UpSamplingLayer::computeOutputShapes(
    const std::vector<std::vector<int64_t>> &in) {
  checkSpatialInput(
      *this, rank_, in,
      [this](int i, const std::string &w, const std::vector<int64_t> &s) {
        incompatible(i, w, s);
      });
  std::vector<int64_t> out = in[0];
  for (int64_t i = 0; i < rank_; ++i)
    if (out[i + 1] > 0)
      out[i + 1] *= size_[i];
  return {out};
}

void UpSamplingLayer::emit(MLIRGenState &state, const Node &node) const {
  auto &b = state.builder;
  auto op = layer::UpsampleOp::create(
      b, state.loc(*this), state.resultType(node), state.value(node.inputs[0]),
      b.getDenseI64ArrayAttr(size_), interpolationAttr(b, interpolation_));
  state.define(node, op->getResults());
}

Json UpSamplingLayer::getConfig() const {
  std::vector<std::pair<std::string, Json>> fields{{"name", name()}};
  // Keras's UpSampling1D stores an integer, the others a tuple.
  fields.emplace_back("size", rank_ == 1 ? Json(size_[0]) : intArray(size_));
  if (rank_ == 2)
    fields.emplace_back("interpolation", interpolation_);
  return Json::object(std::move(fields));
}

//===----------------------------------------------------------------------===//
// Factories
//===----------------------------------------------------------------------===//

namespace layerc::conv {

IntTuple tupleField(const Json &c, const std::string &cls,
                    const std::string &key) {
  const Json *v = c.isObject() ? c.get(key) : nullptr;
  if (v && v->isInteger())
    return IntTuple(v->asInt());
  std::vector<int64_t> values;
  for (const Json &d : configField(c, cls, key, Json::Kind::Array).items()) {
    if (!d.isInteger())
      throw Error("config of " + cls + " layer: field '" + key +
                  "' must hold integers");
    values.push_back(d.asInt());
  }
  return IntTuple(std::move(values));
}

std::string stringField(const Json &c, const std::string &cls,
                        const std::string &key) {
  return configField(c, cls, key, Json::Kind::String).asString();
}

bool boolField(const Json &c, const std::string &cls, const std::string &key) {
  return configField(c, cls, key, Json::Kind::Bool).asBool();
}

int64_t intField(const Json &c, const std::string &cls,
                 const std::string &key) {
  const Json &v = configField(c, cls, key, Json::Kind::Number);
  if (!v.isInteger())
    throw Error("config of " + cls + " layer: field '" + key +
                "' must be an integer");
  return v.asInt();
}

} // namespace layerc::conv

void layerc::addConvolutionLayerFactories(
    std::map<std::string, LayerFactory> &out) {
  for (int64_t rank = 1; rank <= 3; ++rank) {
    std::string conv = std::string("Conv") + suffix(rank);
    out[conv] = [rank, conv](const Json &c) -> std::shared_ptr<Layer> {
      ConvOptions o;
      o.strides = tupleField(c, conv, "strides");
      o.padding = stringField(c, conv, "padding");
      o.dilation_rate = tupleField(c, conv, "dilation_rate");
      o.groups = c.get("groups") ? intField(c, conv, "groups") : 1;
      o.activation = stringField(c, conv, "activation");
      o.use_bias = boolField(c, conv, "use_bias");
      o.name = stringField(c, conv, "name");
      o.kernel_initializer =
          initializerIn(c, conv, "kernel_initializer", "glorot_uniform");
      o.bias_initializer = initializerIn(c, conv, "bias_initializer", "zeros");
      o.kernel_regularizer = regularizerIn(c, conv, "kernel_regularizer");
      o.bias_regularizer = regularizerIn(c, conv, "bias_regularizer");
      o.kernel_constraint = constraintIn(c, conv, "kernel_constraint");
      o.bias_constraint = constraintIn(c, conv, "bias_constraint");
      o.activity_regularizer = regularizerIn(c, conv, "activity_regularizer");
      return std::make_shared<ConvLayer>(rank, intField(c, conv, "filters"),
                                         tupleField(c, conv, "kernel_size"), o);
    };
    std::string tconv = conv + "Transpose";
    out[tconv] = [rank, tconv](const Json &c) -> std::shared_ptr<Layer> {
      ConvTransposeOptions o;
      o.strides = tupleField(c, tconv, "strides");
      o.padding = stringField(c, tconv, "padding");
      const Json *outPad = c.get("output_padding");
      if (outPad && !outPad->isNull())
        o.output_padding = tupleField(c, tconv, "output_padding");
      o.dilation_rate = tupleField(c, tconv, "dilation_rate");
      o.activation = stringField(c, tconv, "activation");
      o.use_bias = boolField(c, tconv, "use_bias");
      o.name = stringField(c, tconv, "name");
      o.kernel_initializer =
          initializerIn(c, tconv, "kernel_initializer", "glorot_uniform");
      o.bias_initializer = initializerIn(c, tconv, "bias_initializer", "zeros");
      o.kernel_regularizer = regularizerIn(c, tconv, "kernel_regularizer");
      o.bias_regularizer = regularizerIn(c, tconv, "bias_regularizer");
      o.kernel_constraint = constraintIn(c, tconv, "kernel_constraint");
      o.bias_constraint = constraintIn(c, tconv, "bias_constraint");
      o.activity_regularizer = regularizerIn(c, tconv, "activity_regularizer");
      return std::make_shared<ConvLayer>(rank, intField(c, tconv, "filters"),
                                         tupleField(c, tconv, "kernel_size"),
                                         o);
    };
    for (PoolingLayer::Kind kind :
         {PoolingLayer::Kind::Max, PoolingLayer::Kind::Average}) {
      std::string pool = kindName(kind) + "Pooling" + suffix(rank);
      out[pool] = [rank, kind, pool](const Json &c) -> std::shared_ptr<Layer> {
        PoolingOptions o;
        o.strides = tupleField(c, pool, "strides");
        o.padding = stringField(c, pool, "padding");
        o.name = stringField(c, pool, "name");
        return std::make_shared<PoolingLayer>(
            rank, kind, tupleField(c, pool, "pool_size"), o);
      };
      std::string global = "Global" + pool;
      out[global] = [rank, kind,
                     global](const Json &c) -> std::shared_ptr<Layer> {
        GlobalPoolingOptions o;
        o.keepdims =
            c.get("keepdims") ? boolField(c, global, "keepdims") : false;
        o.name = stringField(c, global, "name");
        return std::make_shared<GlobalPoolingLayer>(rank, kind, o);
      };
    }
    std::string up = std::string("UpSampling") + suffix(rank);
    out[up] = [rank, up](const Json &c) -> std::shared_ptr<Layer> {
      UpSamplingOptions o;
      if (c.get("interpolation"))
        o.interpolation = stringField(c, up, "interpolation");
      o.name = stringField(c, up, "name");
      return std::make_shared<UpSamplingLayer>(rank, tupleField(c, up, "size"),
                                               o);
    };
  }
}
