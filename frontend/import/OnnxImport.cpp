//===- OnnxImport.cpp - ONNX files to functional models -------------------===//
//
// Model::fromOnnx: reads the protobuf with ONNX's own classes (libonnx),
// checks what a hostile file could abuse (sizes, shapes, names, the order
// of the nodes), and maps the graph node by node (OnnxOps.cpp) onto the
// layers of the C++ API.
//
//===----------------------------------------------------------------------===//

#include "frontend/Model.h"
#include "frontend/import/Onnx.h"
#include "frontend/import/OnnxImporter.h"
#include "frontend/layers/Core.h"
#include "runtime/Error.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

using namespace layerc;
using namespace layerc::onnximport;

namespace {

/// Bounds a hostile file cannot push past: one tensor's elements, one
/// dimension, the nodes of a graph, the file.
constexpr int64_t kMaxElements = int64_t(1) << 31;
constexpr int64_t kMaxNodes = 100000;
constexpr int64_t kMaxFileBytes = (int64_t(1) << 31) - 1;

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") +
         (shape[i] < 0 ? std::string("None") : std::to_string(shape[i]));
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// The number of elements of `dims`, refusing negative, huge or
/// overflowing shapes.
int64_t checkedCount(const std::vector<int64_t> &dims,
                     const std::string &what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || d > kMaxElements)
      throw Error(what + ": dimension " + std::to_string(d) +
                  " is out of range");
    n *= d;
    if (n > kMaxElements)
      throw Error(what + ": shape " + shapeText(dims) + " is too large");
  }
  return n;
}

/// A C identifier made of `name` (input names reach the C header).
std::string identifier(const std::string &name, const std::string &fallback) {
  std::string s;
  for (char c : name)
    s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = fallback + (s.empty() ? "" : "_" + s);
  return s.substr(0, 64);
}

} // namespace

Tensor onnximport::tensorFromProto(const onnx::TensorProto &proto,
                                   const std::string &what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(what + ": data in an external file is not supported");
  if (proto.has_segment())
    throw Error(what + ": segmented tensors are not supported");
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  int64_t n = checkedCount(dims, what);
  const std::string &raw = proto.raw_data();
  bool hasRaw = proto.has_raw_data();
  auto checkCount = [&](int64_t have, int64_t elementBytes) {
    int64_t got = hasRaw ? static_cast<int64_t>(raw.size()) : have;
    int64_t want = hasRaw ? n * elementBytes : n;
    if (got != want)
      throw Error(what + ": holds " + std::to_string(got) +
                  (hasRaw ? " bytes" : " values") + " but its shape " +
                  shapeText(dims) + " needs " + std::to_string(want));
  };
  // Float32 and int64 data are stored as they are, raw or typed.
  auto copied = [&](const auto &typed, DType dtype, int64_t bytes) {
    checkCount(typed.size(), bytes);
    Tensor t(dims, dtype);
    if (hasRaw)
      std::memcpy(t.rawData(), raw.data(), raw.size());
    else if (!typed.empty())
      std::memcpy(t.rawData(), typed.data(), typed.size() * bytes);
    return t;
  };
  switch (proto.data_type()) {
  case onnx::TensorProto::FLOAT:
    return copied(proto.float_data(), DType::Float32, 4);
  case onnx::TensorProto::INT64:
    return copied(proto.int64_data(), DType::Int64, 8);
  case onnx::TensorProto::INT32: {
    checkCount(proto.int32_data_size(), 4);
    Tensor t(dims, DType::Int64);
    int64_t *out = t.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      int32_t v;
      if (hasRaw)
        std::memcpy(&v, raw.data() + 4 * i, 4);
      else
        v = proto.int32_data(static_cast<int>(i));
      out[i] = v;
    }
    return t;
  }
  case onnx::TensorProto::BOOL: {
    checkCount(proto.int32_data_size(), 1);
    Tensor t(dims, DType::UInt8);
    uint8_t *out = static_cast<uint8_t *>(t.rawData());
    for (int64_t i = 0; i < n; ++i)
      out[i] =
          hasRaw ? raw[i] != 0 : proto.int32_data(static_cast<int>(i)) != 0;
    return t;
  }
  default:
    throw Error(what + ": element type " + std::to_string(proto.data_type()) +
                " is not supported (float32, int64 and int32 are)");
  }
}

namespace {

/// The whole file, refusing what protobuf cannot hold.
std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw Error(path + ": cannot open the file");
  std::streamoff size = in.tellg();
  if (size < 0 || size > kMaxFileBytes)
    throw Error(path + ": the file is larger than an ONNX protobuf can be");
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size))
    throw Error(path + ": cannot read the file");
  return bytes;
}

} // namespace

Tensor layerc::readOnnxTensor(const std::string &path) {
  onnx::TensorProto proto;
  std::string bytes = readFile(path);
  if (!proto.ParseFromString(bytes))
    throw Error(path + ": not an ONNX TensorProto");
  Tensor t = tensorFromProto(proto, path);
  return t;
}

std::vector<int64_t> onnximport::toChannelsLastDims(int64_t rank) {
  std::vector<int64_t> dims;
  for (int64_t i = 2; i < rank; ++i)
    dims.push_back(i);
  dims.push_back(1);
  return dims;
}

std::vector<int64_t> onnximport::toChannelsFirstDims(int64_t rank) {
  std::vector<int64_t> dims{rank - 1};
  for (int64_t i = 1; i < rank - 1; ++i)
    dims.push_back(i);
  return dims;
}

Tensor onnximport::transposed(const Tensor &t,
                              const std::vector<int64_t> &perm) {
  const std::vector<int64_t> &in = t.shape();
  int64_t rank = t.rank();
  std::vector<int64_t> out(rank), inStrides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * in[i + 1];
  for (int64_t i = 0; i < rank; ++i)
    out[i] = in[perm[i]];
  Tensor result(out, t.dtype());
  size_t bytes = dtypeSize(t.dtype());
  const char *src = static_cast<const char *>(t.rawData());
  char *dst = static_cast<char *>(result.rawData());
  std::vector<int64_t> index(rank, 0);
  for (int64_t e = 0, n = t.numel(); e < n; ++e) {
    int64_t from = 0;
    for (int64_t i = 0; i < rank; ++i)
      from += index[i] * inStrides[perm[i]];
    std::memcpy(dst + e * bytes, src + from * bytes, bytes);
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < out[i])
        break;
      index[i] = 0;
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Importer
//===----------------------------------------------------------------------===//

Importer::Importer(const onnx::GraphProto &graph, int64_t opset,
                   std::string file, const std::map<std::string, Tensor> &bound)
    : graph_(graph), bound_(bound), opset_(opset), file_(std::move(file)) {}

void Importer::fail(const std::string &message) const {
  std::string where = file_ + ": ";
  if (node_)
    where += "node '" + node_->name() + "' (" + node_->op_type() + ", opset " +
             std::to_string(opset_) + "): ";
  throw Error(where + message);
}

const std::string &Importer::inputName(int i) const { return node_->input(i); }

int Importer::numInputs() const {
  int n = node_->input_size();
  while (n > 0 && node_->input(n - 1).empty())
    --n;
  return n;
}

bool Importer::hasInput(int i) const {
  return i < node_->input_size() && !node_->input(i).empty();
}

Value &Importer::value(int i) {
  if (!hasInput(i))
    fail("input " + std::to_string(i) + " is missing");
  const std::string &name = inputName(i);
  auto it = values_.find(name);
  if (it != values_.end())
    return it->second;
  auto init = initializers_.find(name);
  if (init == initializers_.end())
    fail("input '" + name +
         "' is not defined before this node (ONNX graphs are in "
         "topological order; a cycle or a missing initializer?)");
  Value v;
  v.constant = tensorFromProto(*init->second, "initializer '" + name + "'");
  return values_.emplace(name, std::move(v)).first->second;
}

bool Importer::isConstant(int i) { return value(i).constant.has_value(); }

namespace {
const char *kShapeValue =
    "') is computed from the batch size (Shape, ConstantOfShape); layerc "
    "takes such values only as shapes and as zero initial states of LSTM, "
    "GRU and RNN";
} // namespace

const Tensor &Importer::constant(int i, const std::string &what) {
  Value &v = value(i);
  if (v.dims || v.zeros)
    fail(what + " ('" + inputName(i) + kShapeValue);
  if (!v.constant)
    fail(what + " ('" + inputName(i) +
         "') must be a constant (an initializer or a Constant node); it is "
         "computed by the graph");
  return *v.constant;
}

std::vector<int64_t> Importer::constantInts(int i, const std::string &what) {
  const Tensor &t = constant(i, what);
  if (t.dtype() != DType::Int64)
    fail(what + " must hold integers");
  return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
}

SymbolicTensor Importer::tensor(int i, Layout layout) {
  Value &v = value(i);
  if (v.constant)
    fail("input '" + inputName(i) +
         "' is a constant here; layerc takes this operand from the graph "
         "only (a constant operand of this kind is not supported)");
  if (v.dims || v.zeros)
    fail("input ('" + inputName(i) + kShapeValue);
  if (v.layout != layout && (movesBatch(v.layout) || movesBatch(layout)))
    fail("input '" + inputName(i) + "' is " +
         (movesBatch(v.layout)
              ? "time-major (an LSTM/GRU/RNN's input or output, whose first "
                "axis is not the batch)"
              : "batch-first") +
         " and is needed " +
         (movesBatch(layout) ? "time-major" : "batch-first") +
         " here; layerc keeps the batch on the first axis, so only "
         "Transpose, Squeeze, Gather and Slice that bring the batch back "
         "first are supported on time-major tensors");
  int64_t rank = static_cast<int64_t>(v.tensor.shape().size());
  if (v.layout == layout || rank <= 2)
    return v.tensor;
  if (v.other)
    return *v.other;
  std::vector<int64_t> dims = layout == Layout::ChannelsLast
                                  ? toChannelsLastDims(rank)
                                  : toChannelsFirstDims(rank);
  // Spatial sizes of one, or one channel, move no data: a reshape.
  const std::vector<int64_t> &s = v.tensor.shape();
  bool first = v.layout == Layout::Onnx;
  bool spatialOnes = true;
  for (int64_t d = first ? 2 : 1; d < (first ? rank : rank - 1); ++d)
    spatialOnes = spatialOnes && s[d] == 1;
  bool ones =
      (spatialOnes || s[first ? 1 : rank - 1] == 1) &&
      std::none_of(s.begin() + 1, s.end(), [](int64_t d) { return d < 0; });
  if (ones) {
    std::vector<int64_t> target;
    for (int64_t d : dims)
      target.push_back(s[d]);
    v.other = layers::Reshape(target)(v.tensor);
  } else {
    v.other = layers::Permute(dims)(v.tensor);
  }
  return *v.other;
}

SymbolicTensor Importer::tensorAsIs(int i, Layout &layout) {
  Value &v = value(i);
  if (!v.isTensor() || v.layout == Layout::RnnSequence ||
      v.layout == Layout::RnnState)
    return tensor(i, Layout::Onnx); // fails, naming the input
  if (v.layout == Layout::ChannelsLast || !v.other) {
    layout = v.layout;
    return v.tensor;
  }
  layout = Layout::ChannelsLast;
  return *v.other;
}

std::vector<int64_t> Importer::shape(int i) {
  Value &v = value(i);
  if (v.constant)
    return v.constant->shape();
  if (v.zeros)
    return *v.zeros;
  if (v.dims)
    return v.scalar
               ? std::vector<int64_t>{}
               : std::vector<int64_t>{static_cast<int64_t>(v.dims->size())};
  std::vector<int64_t> s = v.tensor.shape();
  if (v.layout == Layout::TimeMajor)
    std::swap(s[0], s[1]);
  if (v.layout == Layout::RnnSequence)
    return {s[1], v.directions, s[0], s[2] < 0 ? -1 : s[2] / v.directions};
  if (v.layout == Layout::RnnState)
    return {v.directions, s[0], s[1] < 0 ? -1 : s[1] / v.directions};
  if (v.layout == Layout::ChannelsLast && s.size() > 2) {
    int64_t c = s.back();
    s.pop_back();
    s.insert(s.begin() + 1, c);
  }
  return s;
}

void Importer::define(int i, SymbolicTensor t, Layout layout) {
  if (i >= node_->output_size() || node_->output(i).empty())
    return;
  Value v;
  v.tensor = std::move(t);
  v.layout =
      v.tensor.shape().size() > 2 || movesBatch(layout) ? layout : Layout::Onnx;
  defineValue(i, std::move(v));
}

void Importer::defineValue(int i, Value v) {
  if (i >= node_->output_size() || node_->output(i).empty())
    return;
  if (!values_.emplace(node_->output(i), std::move(v)).second)
    fail("output '" + node_->output(i) + "' is defined twice");
}

void Importer::defineConstant(int i, Tensor t) {
  if (i >= node_->output_size() || node_->output(i).empty())
    return;
  Value v;
  v.constant = std::move(t);
  if (!values_.emplace(node_->output(i), std::move(v)).second)
    fail("output '" + node_->output(i) + "' is defined twice");
}

void Importer::alias(int output, int input) {
  Value v = value(input);
  if (output >= node_->output_size() || node_->output(output).empty())
    return;
  if (!values_.emplace(node_->output(output), std::move(v)).second)
    fail("output '" + node_->output(output) + "' is defined twice");
}

const onnx::AttributeProto *Importer::attr(const std::string &name) {
  for (const onnx::AttributeProto &a : node_->attribute())
    if (a.name() == name) {
      readAttrs_.insert(name);
      return &a;
    }
  return nullptr;
}

bool Importer::hasAttr(const std::string &name) const {
  for (const onnx::AttributeProto &a : node_->attribute())
    if (a.name() == name)
      return true;
  return false;
}

int64_t Importer::attrInt(const std::string &name, int64_t otherwise) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return otherwise;
  if (a->type() != onnx::AttributeProto::INT)
    fail("attribute '" + name + "' must be an integer");
  return a->i();
}

float Importer::attrFloat(const std::string &name, float otherwise) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return otherwise;
  if (a->type() != onnx::AttributeProto::FLOAT)
    fail("attribute '" + name + "' must be a float");
  return a->f();
}

std::string Importer::attrString(const std::string &name,
                                 const std::string &otherwise) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return otherwise;
  if (a->type() != onnx::AttributeProto::STRING)
    fail("attribute '" + name + "' must be a string");
  return a->s();
}

std::vector<std::string>
Importer::attrStrings(const std::string &name,
                      std::vector<std::string> otherwise) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return otherwise;
  if (a->type() != onnx::AttributeProto::STRINGS)
    fail("attribute '" + name + "' must be a list of strings");
  return std::vector<std::string>(a->strings().begin(), a->strings().end());
}

std::vector<int64_t> Importer::attrInts(const std::string &name,
                                        std::vector<int64_t> otherwise) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return otherwise;
  if (a->type() != onnx::AttributeProto::INTS)
    fail("attribute '" + name + "' must be a list of integers");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

const onnx::TensorProto *Importer::attrTensor(const std::string &name) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return nullptr;
  if (a->type() != onnx::AttributeProto::TENSOR)
    fail("attribute '" + name + "' must be a tensor");
  return &a->t();
}

void Importer::setWeights(const std::shared_ptr<Layer> &layer,
                          const std::vector<Tensor> &weights) {
  try {
    layer->setWeights(weights);
  } catch (const Error &e) {
    fail(std::string("its weights do not fit the layer: ") + e.what());
  }
}

void Importer::addInput(const std::string &name, const void *info) {
  const auto &vi = *static_cast<const onnx::ValueInfoProto *>(info);
  std::string what = file_ + ": graph input '" + name + "'";
  if (!vi.type().has_tensor_type())
    throw Error(what + " is not a tensor");
  const auto &tt = vi.type().tensor_type();
  DType dtype;
  switch (tt.elem_type()) {
  case onnx::TensorProto::FLOAT:
    dtype = DType::Float32;
    break;
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::INT32:
    dtype = DType::Int32;
    break;
  default:
    throw Error(what + " has element type " + std::to_string(tt.elem_type()) +
                "; float32 and integer inputs are supported");
  }
  if (!tt.has_shape() || tt.shape().dim_size() == 0)
    throw Error(what + " needs a shape whose first axis is the batch");
  std::vector<int64_t> sample;
  for (int d = 1; d < tt.shape().dim_size(); ++d) {
    const auto &dim = tt.shape().dim(d);
    int64_t size = dim.has_dim_value() ? dim.dim_value() : -1;
    if (size == 0 || size > kMaxElements)
      throw Error(what + ": axis " + std::to_string(d) + " has size " +
                  std::to_string(size));
    sample.push_back(size);
  }
  std::vector<int64_t> known;
  for (int64_t s : sample)
    known.push_back(s < 0 ? 1 : s);
  checkedCount(known, what);
  std::string id = identifier(name, "input");
  while (!usedNames_.insert(id).second)
    id += "_";
  Value v;
  v.tensor = Input(sample, {.name = id, .dtype = dtype});
  inputs.push_back(v.tensor);
  values_.emplace(name, std::move(v));
}

void Importer::run() {
  if (graph_.node_size() > kMaxNodes)
    throw Error(file_ + ": the graph has " +
                std::to_string(graph_.node_size()) + " nodes (at most " +
                std::to_string(kMaxNodes) + ")");
  for (const onnx::TensorProto &init : graph_.initializer())
    if (!initializers_.emplace(init.name(), &init).second)
      throw Error(file_ + ": initializer '" + init.name() + "' is given twice");
  if (graph_.sparse_initializer_size())
    throw Error(file_ + ": sparse initializers are not supported");
  // Inputs with an initializer are weights with a default (IR < 4).
  for (const onnx::ValueInfoProto &in : graph_.input())
    if (!initializers_.count(in.name())) {
      if (values_.count(in.name()))
        throw Error(file_ + ": graph input '" + in.name() + "' is given twice");
      auto constant = bound_.find(in.name());
      if (constant != bound_.end())
        values_[in.name()].constant = constant->second;
      else
        addInput(in.name(), &in);
    }
  if (inputs.empty())
    throw Error(file_ + ": the graph has no input besides its initializers");

  const auto &mappers = nodeMappers();
  for (const onnx::NodeProto &node : graph_.node()) {
    node_ = &node;
    readAttrs_.clear();
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      fail("operators of domain '" + node.domain() + "' are not supported");
    auto mapper = mappers.find(node.op_type());
    if (mapper == mappers.end())
      fail("operator " + node.op_type() + " is not supported");
    try {
      mapper->second(*this);
    } catch (const Error &e) {
      std::string what = e.what();
      if (what.rfind(file_ + ": ", 0) == 0)
        throw;
      fail(what);
    }
    for (const onnx::AttributeProto &a : node.attribute())
      if (!readAttrs_.count(a.name()))
        fail("attribute '" + a.name() + "' is not supported");
  }
  node_ = nullptr;
  for (const onnx::ValueInfoProto &out : graph_.output()) {
    auto it = values_.find(out.name());
    if (it == values_.end())
      throw Error(file_ + ": graph output '" + out.name() +
                  "' is not computed by any node");
    if (it->second.constant)
      throw Error(file_ + ": graph output '" + out.name() +
                  "' is a constant; layerc models compute their outputs");
    Value &v = it->second;
    if (v.dims || v.zeros)
      throw Error(file_ + ": graph output '" + out.name() +
                  "' is computed from shapes (Shape, ConstantOfShape); "
                  "layerc models compute their outputs from their inputs");
    if (movesBatch(v.layout))
      throw Error(file_ + ": graph output '" + out.name() +
                  "' is time-major (its first axis is not the batch); "
                  "layerc models return batch-first tensors (transpose it, "
                  "or use an LSTM/GRU/RNN with layout 1)");
    SymbolicTensor t = v.tensor;
    if (v.layout != Layout::Onnx && t.shape().size() > 2) {
      if (!v.other) {
        int64_t rank = static_cast<int64_t>(t.shape().size());
        v.other = layers::Permute(toChannelsFirstDims(rank))(t);
      }
      t = *v.other;
    }
    outputs.push_back(t);
  }
  if (outputs.empty())
    throw Error(file_ + ": the graph has no output");
}

//===----------------------------------------------------------------------===//
// Model::fromOnnx
//===----------------------------------------------------------------------===//

namespace {

/// The model of `path`, with what every import needs checked: a graph, an
/// opset of the default domain the importer reads, no local functions.
onnx::ModelProto readModel(const std::string &path, int64_t &opset) {
  std::string bytes = readFile(path);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    throw Error(path + ": not an ONNX model (the protobuf does not parse)");
  if (!model.has_graph())
    throw Error(path + ": the model has no graph");
  opset = -1;
  for (const auto &op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx")
      opset = op.version();
  if (opset < 0)
    throw Error(path + ": the model imports no opset of the default domain");
  if (opset < kMinOnnxOpset || opset > kMaxOnnxOpset)
    throw Error(path + ": opset " + std::to_string(opset) +
                " is not supported (" + std::to_string(kMinOnnxOpset) + " to " +
                std::to_string(kMaxOnnxOpset) + " are)");
  if (model.functions_size())
    throw Error(path + ": model-local functions are not supported");
  return model;
}

} // namespace

std::vector<std::string> layerc::onnxOperatorTypes(const std::string &path) {
  int64_t opset;
  onnx::ModelProto model = readModel(path, opset);
  std::vector<std::string> ops;
  for (const onnx::NodeProto &node : model.graph().node())
    ops.push_back(node.op_type());
  return ops;
}

std::vector<std::string> layerc::onnxInputNames(const std::string &path) {
  int64_t opset;
  onnx::ModelProto model = readModel(path, opset);
  std::set<std::string> initializers;
  for (const onnx::TensorProto &init : model.graph().initializer())
    initializers.insert(init.name());
  std::vector<std::string> names;
  for (const onnx::ValueInfoProto &in : model.graph().input())
    if (!initializers.count(in.name()))
      names.push_back(in.name());
  return names;
}

std::vector<std::string> layerc::supportedOnnxOperators() {
  std::vector<std::string> ops;
  for (const auto &entry : nodeMappers())
    ops.push_back(entry.first);
  return ops;
}

Model Model::fromOnnx(const std::string &path) { return importOnnx(path, {}); }

Model layerc::importOnnx(const std::string &path,
                         const std::map<std::string, Tensor> &constants) {
  int64_t opset;
  onnx::ModelProto model = readModel(path, opset);
  Importer importer(model.graph(), opset, path, constants);
  importer.run();
  std::string name = identifier(model.graph().name(), "onnx");
  return Model(importer.inputs, importer.outputs, name);
}
