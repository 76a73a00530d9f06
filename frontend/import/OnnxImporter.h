//===- OnnxImporter.h - ONNX graphs to functional models -------*- C++ -*-===//
//
// The importer behind Model::fromOnnx (docs/Import.md). It walks an ONNX
// graph in its (topological) order and calls, for each node, the Keras
// layers of the C++ API that compute the same thing; initializers become
// the layers' weights. The result is an ordinary Model.
//
// Layout. ONNX's spatial tensors are channels-first (N, C, D1.., Dk); the
// layers are channels-last (N, D1.., Dk, C). A value keeps the layout it
// was made in, and a node that needs the other one gets a Permute, made
// once per value: a convolution stack transposes at its two ends only, and
// the model takes and returns what the ONNX file says.
//
// Everything here is private to frontend/import; this header includes no
// protobuf header.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_IMPORT_ONNXIMPORTER_H
#define LAYERC_FRONTEND_IMPORT_ONNXIMPORTER_H

#include "frontend/Layer.h"
#include "runtime/Tensor.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace onnx {
class AttributeProto;
class GraphProto;
class NodeProto;
class TensorProto;
} // namespace onnx

namespace layerc::onnximport {

/// How a graph value's elements are laid out in its SymbolicTensor.
enum class Layout {
  /// As ONNX says (also every tensor of rank <= 2).
  Onnx,
  /// ONNX's (N, C, D1.., Dk) stored as (N, D1.., Dk, C).
  ChannelsLast,
  /// ONNX's time-major (T, N, ...) stored as (N, T, ...): the X of an ONNX
  /// LSTM/GRU/RNN (OnnxRecurrent.cpp), so that the Transpose [1, 0, 2] of a
  /// batch-first tensor before it costs nothing.
  TimeMajor,
  /// An LSTM/GRU/RNN's Y, ONNX's (T, D, N, H) stored as the layer's
  /// (N, T, D * H); D is Value::directions.
  RnnSequence,
  /// An LSTM/GRU/RNN's Y_h or Y_c, ONNX's (D, N, H) stored as (N, D * H).
  RnnState
};

/// Whether `layout` puts ONNX's first axis elsewhere than layerc's batch
/// axis (the layouts of OnnxRecurrent.cpp): no Permute converts it.
inline bool movesBatch(Layout layout) {
  return layout == Layout::TimeMajor || layout == Layout::RnnSequence ||
         layout == Layout::RnnState;
}

/// The batch size in Value::dims.
constexpr int64_t kBatchDim = -1;

/// A value of the graph: a constant (an initializer or a Constant node's
/// tensor, in ONNX's shape) or a symbolic tensor in one layout, with the
/// other layout made on demand and kept.
struct Value {
  std::optional<Tensor> constant;
  Layout layout = Layout::Onnx;
  SymbolicTensor tensor;
  std::optional<SymbolicTensor> other;
  /// RnnSequence and RnnState: the number of directions D.
  int64_t directions = 1;
  /// Instead of a tensor, integers computed from shapes (Shape, then
  /// Gather, Unsqueeze, Concat): a vector (a scalar when `scalar`) where
  /// kBatchDim stands for the batch size.
  std::optional<std::vector<int64_t>> dims;
  bool scalar = false;
  /// Instead of a tensor, float zeros of this ONNX shape (kBatchDim for the
  /// batch): ConstantOfShape of `dims`, the zero initial states PyTorch
  /// exports for its recurrent layers.
  std::optional<std::vector<int64_t>> zeros;
  /// Whether this is a graph tensor (not a constant, dims or zeros).
  bool isTensor() const { return !constant && !dims && !zeros; }
};

/// A Tensor from an ONNX TensorProto: float32, int64 and int32 data
/// (int32 and int64 are read as int64), inline or raw; `what` names it in
/// errors. Shapes and sizes are checked before anything is allocated.
Tensor tensorFromProto(const onnx::TensorProto &proto, const std::string &what);

class Importer;
/// Maps one node; `Importer::current()` is the node.
using NodeMapper = std::function<void(Importer &)>;
/// The mappers by ONNX operator type (OnnxOps.cpp).
const std::map<std::string, NodeMapper> &nodeMappers();
/// Adds the element-wise, activation and shape operators
/// (OnnxShapeOps.cpp) to `mappers`.
void addElementwiseAndShapeMappers(std::map<std::string, NodeMapper> &mappers);
/// Adds LSTM, GRU, RNN, Shape, ConstantOfShape and Slice to `mappers`, and
/// wraps Transpose, Squeeze, Unsqueeze, Reshape, Gather and Concat so that
/// they also take the time-major layouts and shape values of
/// OnnxRecurrent.cpp.
void addRecurrentMappers(std::map<std::string, NodeMapper> &mappers);

/// One import: the graph's values by name and the node being mapped.
class Importer {
public:
  /// `bound`: graph inputs that are constants instead (importOnnx).
  Importer(const onnx::GraphProto &graph, int64_t opset, std::string file,
           const std::map<std::string, Tensor> &bound);

  /// Every node mapped in order; the inputs and outputs of the model.
  std::vector<SymbolicTensor> inputs, outputs;
  void run();

  // For the mappers.
  const onnx::NodeProto &current() const { return *node_; }
  int64_t opset() const { return opset_; }
  /// Throws an Error naming the file, the node, its operator and the
  /// opset.
  [[noreturn]] void fail(const std::string &message) const;

  /// Input `i`'s value as it is (any layout or kind).
  Value &value(int i);
  /// Output `i` of the node, given whole.
  void defineValue(int i, Value v);

  /// Number of inputs given (trailing empty names do not count).
  int numInputs() const;
  /// Whether input `i` is given (not absent, not "").
  bool hasInput(int i) const;
  /// Input `i` as a graph tensor in `layout` (a constant is refused).
  SymbolicTensor tensor(int i, Layout layout);
  /// Input `i` in the layout it has (ChannelsLast preferred when both
  /// exist), with that layout in `layout`.
  SymbolicTensor tensorAsIs(int i, Layout &layout);
  /// Input `i`'s ONNX shape (batch -1 when unknown).
  std::vector<int64_t> shape(int i);
  bool isConstant(int i);
  /// Input `i`, which must be a constant (`what` names it in the error).
  const Tensor &constant(int i, const std::string &what);
  /// Constant input `i` as integers (int64 tensors).
  std::vector<int64_t> constantInts(int i, const std::string &what);

  /// Output `i` of the node.
  void define(int i, SymbolicTensor t, Layout layout = Layout::Onnx);
  void defineConstant(int i, Tensor t);
  /// Output 0 is input 0 (Identity, Dropout at inference).
  void alias(int output, int input);

  /// Attributes; each read marks it understood, and a node with an
  /// attribute that no mapper read is refused, never silently ignored.
  bool hasAttr(const std::string &name) const;
  int64_t attrInt(const std::string &name, int64_t otherwise);
  float attrFloat(const std::string &name, float otherwise);
  std::string attrString(const std::string &name, const std::string &other);
  std::vector<std::string> attrStrings(const std::string &name,
                                       std::vector<std::string> otherwise);
  std::vector<int64_t> attrInts(const std::string &name,
                                std::vector<int64_t> otherwise);
  /// The TensorProto of a tensor attribute (Constant's value).
  const onnx::TensorProto *attrTensor(const std::string &name);

  /// Sets `layer`'s weights (each checked against the layer's shapes).
  void setWeights(const std::shared_ptr<Layer> &layer,
                  const std::vector<Tensor> &weights);

private:
  const onnx::AttributeProto *attr(const std::string &name);
  const std::string &inputName(int i) const;
  void addInput(const std::string &name, const void *valueInfo);

  const onnx::GraphProto &graph_;
  const std::map<std::string, Tensor> &bound_;
  int64_t opset_;
  std::string file_;
  std::map<std::string, const onnx::TensorProto *> initializers_;
  std::map<std::string, Value> values_;
  std::set<std::string> usedNames_;
  const onnx::NodeProto *node_ = nullptr;
  std::set<std::string> readAttrs_;
};

/// The largest pad, stride, dilation or resize factor an attribute may
/// give: far above what models use, small enough that no size derived
/// from it overflows or asks for a huge graph.
constexpr int64_t kMaxWindowAttr = 4096;

// Helpers the mapper files share (OnnxOps.cpp).
/// "[1, 2, 3]".
std::string text(const std::vector<int64_t> &v);
/// Zeros around the spatial axes of a channels-last tensor: `pads` holds
/// the begin of each spatial axis, then the ends.
SymbolicTensor zeroPad(const SymbolicTensor &x,
                       const std::vector<int64_t> &pads);
/// Input `i` as a float32 constant, or an error naming `what`. The tensor
/// is the graph's: clone() it before changing it.
const Tensor &floatConstant(Importer &im, int i, const std::string &what);
/// Input `i` as a float32 scalar constant (one element, any rank).
double scalarConstant(Importer &im, int i, const std::string &what);

/// The permutation of Keras's Permute layer (1-based, the batch left out)
/// that moves an (N, C, D1.., Dk) tensor to channels-last, or back.
std::vector<int64_t> toChannelsLastDims(int64_t rank);
std::vector<int64_t> toChannelsFirstDims(int64_t rank);
/// `t`'s elements with its axes permuted (`perm[i]` is the axis of `t` that
/// becomes axis i), copied.
Tensor transposed(const Tensor &t, const std::vector<int64_t> &perm);

} // namespace layerc::onnximport

#endif // LAYERC_FRONTEND_IMPORT_ONNXIMPORTER_H
