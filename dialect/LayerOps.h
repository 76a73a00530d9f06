//===- LayerOps.h - Ops of the layer dialect --------------------*- C++ -*-===//
//
// The generated op classes plus the small vocabulary shared by every stage
// that handles them: activation and loss kinds, and the Keras-style shape
// printing used in diagnostics.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_DIALECT_LAYEROPS_H
#define LAYERC_DIALECT_LAYEROPS_H

#include "dialect/LayerDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <string>

namespace layerc::layer {
/// What layer-autodiff's clone of an inference function carries from op to
/// op (TrainingCloneOpInterface).
struct TrainingCloneState {
  /// train_step's step: dropout masks its input with a mask drawn from it.
  /// Null: dropout is the identity, as in inference.
  mlir::Value step;
  /// grad_step's sample offset: the shard's first sample in the global
  /// batch, so that dropout draws the global batch's masks. Null: 0.
  mlir::Value offset;
  /// Normalize by the batch's statistics and update the moving ones.
  bool batchStatistics = false;
  /// Dropout layers cloned so far; each draws its own mask stream.
  unsigned dropoutCount = 0;
  /// The latest value of each buffer the clone updates (BatchNormalization's
  /// moving statistics), keyed by the buffer's value in the new function.
  llvm::DenseMap<mlir::Value, mlir::Value> updatedBuffers;
  /// The penalties of the activity regularizers cloned so far (rank 0), for
  /// the loss.
  llvm::SmallVector<mlir::Value> activityPenalties;
};
} // namespace layerc::layer

#include "dialect/LayerInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialect/LayerOps.h.inc"

namespace layerc::layer {

/// The discardable attribute (a TileAttr) through which `layer-tile` tells
/// `layer-to-linalg` how to tile an op's register-blocked kernel.
inline constexpr llvm::StringLiteral kTileAttrName = "layer.tile";
/// Whether `op` is one of the ops whose kernel a TileAttr tiles (Dense,
/// MatMul, and the convolutions and their gradients).
bool isTiledOp(mlir::Operation *op);
/// Whether `op` is a convolution that a Winograd tile may compute: a 2-D
/// layer.conv, layer.conv_transpose or layer.conv_input_grad with a 3 x 3
/// kernel, stride 1, dilation 1 and one group.
bool isWinogradConv(mlir::Operation *op);

/// Parses a Keras activation name, aliases included ("silu"); std::nullopt
/// for an unknown one.
std::optional<Activation> parseActivation(llvm::StringRef name);
/// "linear, relu, ..., swish", for error messages.
const char *knownActivations();

/// Parses a Keras loss name (LayerEnums.td); std::nullopt for an unknown
/// one.
std::optional<Loss> parseLoss(llvm::StringRef name);
const char *knownLosses();

/// Keras's conv/pool output length along one axis for a window of
/// `window` elements (the dilated kernel size): `valid` gives
/// floor((size - window) / stride) + 1 (0 when the window does not fit),
/// `same` gives ceil(size / stride). Dynamic in, dynamic out.
int64_t windowOutputSize(int64_t size, int64_t window, int64_t stride,
                         bool same);
/// The padding before the first element for `same` (TensorFlow's split:
/// the odd element goes after).
int64_t samePaddingBefore(int64_t size, int64_t window, int64_t stride);
/// Keras's deconv_output_length; `outPad` empty when output_padding is not
/// given.
int64_t transposedOutputSize(int64_t size, int64_t window, int64_t stride,
                             bool same, std::optional<int64_t> outPad);

/// The number of gates of a recurrent cell (simple_rnn 1, lstm 4, gru 3).
int64_t rnnGateCount(Cell cell);

/// Formats a shape as Keras prints it: "(None, 784)"; "<unranked>" for an
/// unranked type.
std::string formatShape(mlir::Type type);

/// A relation between sizes that an op's shape rule could not decide at
/// compile time because a size is dynamic: `lhs == rhs` or `lhs >= rhs`,
/// where each side is the product of some dimensions of a value (times a
/// constant), or a constant alone when the value is null. The shape rules
/// are the one place that knows what an op needs of its operands; they
/// decide what they can and, inside a DimCheckScope, record the rest, which
/// the layer-shape-checks pass turns into run-time checks.
struct DimCheck {
  struct Side {
    mlir::Value value;
    llvm::SmallVector<int64_t, 1> dims;
    int64_t constant = 1;
  };
  enum class Relation { Equal, AtLeast };
  Side lhs;
  Relation relation = Relation::Equal;
  Side rhs;
  /// What is checked, for the message: "the kernel's input size".
  std::string what;
};

/// While alive, the shape rules run on this thread (inferShapes, verify)
/// append the relations they cannot decide to `checks`.
class DimCheckScope {
public:
  explicit DimCheckScope(llvm::SmallVectorImpl<DimCheck> &checks);
  ~DimCheckScope();
  DimCheckScope(const DimCheckScope &) = delete;
  DimCheckScope &operator=(const DimCheckScope &) = delete;

private:
  llvm::SmallVectorImpl<DimCheck> *previous;
};

} // namespace layerc::layer

#endif // LAYERC_DIALECT_LAYEROPS_H
