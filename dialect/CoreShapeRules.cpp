//===- CoreShapeRules.cpp - Shape rules of the core layer ops -------------===//
//
// Dense, activations, dropout and matmul; normalization and embedding;
// the merges (add, ..., concatenate) and reshaping; and the gradient ops
// of these families (scale, slice, maximum_grad, embedding_grad,
// batch_norm_grad, moments_grad, activation_grad). See ShapeRules.h for
// how a rule serves both the verifier and shape inference.
//
//===----------------------------------------------------------------------===//

#include "dialect/ShapeRules.h"

#include "llvm/ADT/Sequence.h"

using namespace mlir;
using namespace layerc::layer;
using namespace layerc::layer::rules;

//===----------------------------------------------------------------------===//
// Core
//===----------------------------------------------------------------------===//

LAYER_SHAPE_RULE(DenseOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0], kernel = (*types)[1];
  if (input.getRank() < 2)
    return op.emitOpError()
           << "expects an input of rank >= 2 (batch, ..., features), got "
           << formatShape(input);
  if (kernel.getRank() != 2 ||
      !agree(op->getOperand(1), 0, op->getOperand(0), -1,
             "the kernel's input size must match the input's features"))
    return op.emitOpError() << "kernel of shape " << formatShape(kernel)
                            << " does not fit an input of shape "
                            << formatShape(input) << ": expected ("
                            << formatDim(input.getShape().back()) << ", units)";
  if (failed(checkElementTypes(op, ArrayRef(*types).drop_front(),
                               {"kernel", "bias"}, input.getElementType())))
    return failure();
  int64_t units = kernel.getDimSize(1);
  if (op.getBias()) {
    RankedTensorType bias = (*types)[2];
    if (bias.getRank() != 1 || !dimsAgree(bias.getDimSize(0), units))
      return op.emitOpError()
             << "bias of shape " << formatShape(bias) << " does not match "
             << "the kernel's " << units << " units: expected (" << units
             << ",)";
    units = joinDim(units, bias.getDimSize(0));
  }
  Shape shape(input.getShape());
  shape.back() = units;
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

/// The rule of ops whose result is their (first) input's type.
static FailureOr<SmallVector<Type>> sameAsInput(Operation *op) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  return SmallVector<Type>{(*types)[0]};
}

LAYER_SHAPE_RULE(ActivationOp) { return sameAsInput(op); }

LAYER_SHAPE_RULE(ThresholdOp) {
  double t = op.getThreshold().convertToDouble();
  if (!std::isfinite(t))
    return op.emitOpError() << "threshold must be finite, got " << t;
  return sameAsInput(op);
}

/// Dropout rates keep some of the inputs: 0 <= rate < 1.
static LogicalResult checkRate(Operation *op, llvm::APFloat rateAttr) {
  double rate = rateAttr.convertToDouble();
  if (!(rate >= 0.0 && rate < 1.0))
    return op->emitOpError() << "rate must be in [0, 1), got " << rate;
  return success();
}

/// A noise's parameters: a rate in [0, 1) for the dropouts, a finite
/// stddev >= 0 for gaussian_noise (and only there), and shared axes that
/// name distinct non-batch axes of `input`.
template <typename OpT> static LogicalResult checkNoise(OpT op, Value input) {
  bool additive = op.getNoise() == Noise::GaussianNoise;
  double stddev = op.getStddev().convertToDouble();
  if (additive) {
    if (op.getRate().convertToDouble() != 0.0)
      return op.emitOpError() << "gaussian_noise takes a stddev, not a rate";
    if (!(stddev >= 0.0 && std::isfinite(stddev)))
      return op.emitOpError()
             << "stddev must be finite and >= 0, got " << stddev;
  } else {
    if (failed(checkRate(op, op.getRate())))
      return failure();
    if (stddev != 0.0)
      return op.emitOpError() << "stddev is only for gaussian_noise, not "
                              << stringifyNoise(op.getNoise());
  }
  auto type = dyn_cast<RankedTensorType>(input.getType());
  llvm::SmallDenseSet<int64_t> seen;
  for (int64_t axis : op.getSharedAxes()) {
    if (axis < 1 || (type && axis >= type.getRank()))
      return op.emitOpError()
             << "shared axis " << axis << " is not a non-batch axis of "
             << (type ? formatShape(type) : std::string("the input"));
    if (!seen.insert(axis).second)
      return op.emitOpError() << "shared axis " << axis << " is named twice";
  }
  return success();
}

LAYER_SHAPE_RULE(DropoutOp) {
  if (failed(checkNoise(op, op.getInput())))
    return failure();
  return sameAsInput(op);
}

LAYER_SHAPE_RULE(MatmulOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType lhs = (*types)[0], rhs = (*types)[1];
  bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
  auto disagree = [&]() {
    return op.emitOpError()
           << "contraction dimensions disagree: lhs " << formatShape(lhs)
           << " and rhs " << formatShape(rhs);
  };
  // (..., K) x (K, N) -> (..., N), or x (N, K)^T: the last axis contracts.
  if (lhs.getRank() > 2 && rhs.getRank() == 2 && !ta) {
    if (!agree(op->getOperand(0), -1, op->getOperand(1), tb ? 1 : 0,
               "the contraction sizes must match"))
      return disagree();
    Shape shape(lhs.getShape().drop_back());
    shape.push_back(rhs.getDimSize(tb ? 0 : 1));
    return SmallVector<Type>{tensorOf(shape, lhs.getElementType())};
  }
  // (..., K)^T x (..., N) -> (K, N): every leading axis contracts.
  if (lhs.getRank() > 2 && rhs.getRank() == lhs.getRank() && ta && !tb) {
    for (int64_t i = 0; i + 1 < lhs.getRank(); ++i)
      if (!agree(op->getOperand(0), i, op->getOperand(1), i,
                 "the contraction sizes must match"))
        return disagree();
    return SmallVector<Type>{tensorOf(
        {lhs.getShape().back(), rhs.getShape().back()}, lhs.getElementType())};
  }
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return op.emitOpError()
           << "expects rank-2 operands, a higher-rank lhs with a rank-2 rhs, "
              "or (with transpose_lhs) two operands of one rank > 2; got "
           << formatShape(lhs) << " and " << formatShape(rhs);
  int64_t m = lhs.getDimSize(ta ? 1 : 0);
  int64_t n = rhs.getDimSize(tb ? 0 : 1);
  if (!agree(op->getOperand(0), ta ? 0 : 1, op->getOperand(1), tb ? 1 : 0,
             "the contraction sizes must match"))
    return disagree();
  return SmallVector<Type>{tensorOf({m, n}, lhs.getElementType())};
}

LAYER_SHAPE_RULE(BatchMatmulOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType lhs = (*types)[0], rhs = (*types)[1];
  bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
  int64_t rank = lhs.getRank();
  if (rank < 3 || rhs.getRank() != rank)
    return op.emitOpError()
           << "expects two operands of one rank >= 3 (batch, ..., rows, "
              "columns), got "
           << formatShape(lhs) << " and " << formatShape(rhs);
  Shape shape;
  for (int64_t i = 0; i + 2 < rank; ++i) {
    if (!agree(op->getOperand(0), i, op->getOperand(1), i,
               "the batch sizes must match"))
      return op.emitOpError()
             << "batch dimensions disagree: lhs " << formatShape(lhs)
             << " and rhs " << formatShape(rhs);
    shape.push_back(joinDim(lhs.getDimSize(i), rhs.getDimSize(i)));
  }
  if (!agree(op->getOperand(0), ta ? rank - 2 : rank - 1, op->getOperand(1),
             tb ? rank - 1 : rank - 2, "the contraction sizes must match"))
    return op.emitOpError()
           << "contraction dimensions disagree: lhs " << formatShape(lhs)
           << " and rhs " << formatShape(rhs);
  shape.push_back(lhs.getDimSize(ta ? rank - 1 : rank - 2));
  shape.push_back(rhs.getDimSize(tb ? rank - 2 : rank - 1));
  return SmallVector<Type>{tensorOf(shape, lhs.getElementType())};
}

//===----------------------------------------------------------------------===//
// Normalization and embedding
//===----------------------------------------------------------------------===//

/// Checks that each of `vectors` (named by `names`) is a rank-1 tensor of
/// the channels (last axis) of `input`, with its element type.
static LogicalResult checkChannelVectors(Operation *op, RankedTensorType input,
                                         ArrayRef<RankedTensorType> vectors,
                                         ArrayRef<StringRef> names) {
  if (input.getRank() < 2)
    return op->emitOpError()
           << "expects an input of rank >= 2, got " << formatShape(input);
  int64_t channels = input.getShape().back();
  for (auto [t, name] : llvm::zip(vectors, names)) {
    if (t.getElementType() != input.getElementType())
      return op->emitOpError()
             << name << " has element type " << t.getElementType()
             << " but the input has " << input.getElementType();
    if (t.getRank() != 1 || !dimsAgree(t.getDimSize(0), channels))
      return op->emitOpError()
             << name << " of shape " << formatShape(t) << " does not match the "
             << formatDim(channels) << " channels of the input "
             << formatShape(input);
  }
  return success();
}

static LogicalResult checkEpsilon(Operation *op, APFloat epsilon) {
  if (!(epsilon.convertToDouble() > 0.0))
    return op->emitOpError()
           << "epsilon must be positive, got " << epsilon.convertToDouble();
  return success();
}

LAYER_SHAPE_RULE(BatchNormOp) {
  if (failed(checkEpsilon(op, op.getEpsilon())))
    return failure();
  double momentum = op.getMomentum().convertToDouble();
  if (!(momentum >= 0.0 && momentum <= 1.0))
    return op.emitOpError() << "momentum must be in [0, 1], got " << momentum;
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  SmallVector<StringRef> names{"moving_mean", "moving_variance"};
  if (op.getGamma())
    names.push_back("gamma");
  if (op.getBeta())
    names.push_back("beta");
  if (failed(
          checkChannelVectors(op, input, ArrayRef(*types).drop_front(), names)))
    return failure();
  return SmallVector<Type>{input};
}

/// The channel vector type of `input` (rank >= 2, last axis known).
static FailureOr<RankedTensorType> channelVectorOf(Operation *op,
                                                   RankedTensorType input) {
  if (input.getRank() < 2)
    return op->emitOpError()
           << "expects an input of rank >= 2, got " << formatShape(input);
  if (ShapedType::isDynamic(input.getShape().back()))
    return op->emitOpError()
           << "needs a known number of channels (last axis), got "
           << formatShape(input);
  return RankedTensorType::get({input.getShape().back()},
                               input.getElementType());
}

LAYER_SHAPE_RULE(MomentsOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  auto channels = channelVectorOf(op, (*types)[0]);
  if (failed(channels))
    return failure();
  return SmallVector<Type>{*channels, *channels};
}
/// normalize and normalize_grad: `axis` in [1, rank), `groups` dividing a
/// known last axis, a non-negative epsilon.
static LogicalResult checkNormalizeAttrs(Operation *op, RankedTensorType input,
                                         int64_t axis, int64_t groups,
                                         double epsilon) {
  if (input.getRank() < 2)
    return op->emitOpError()
           << "expects an input of rank >= 2, got " << formatShape(input);
  if (axis < 1 || axis >= input.getRank())
    return op->emitOpError()
           << "axis " << axis << " is out of range [1, " << input.getRank()
           << ") for an input of shape " << formatShape(input);
  if (groups < 1)
    return op->emitOpError() << "groups must be positive, got " << groups;
  int64_t last = input.getShape().back();
  if (groups > 1 && ShapedType::isDynamic(last))
    return op->emitOpError() << "needs a known last axis to split into "
                             << groups << " groups, got " << formatShape(input);
  if (groups > 1 && last % groups != 0)
    return op->emitOpError()
           << "groups (" << groups << ") must divide the last axis of "
           << formatShape(input);
  if (!(epsilon >= 0.0))
    return op->emitOpError() << "epsilon must be non-negative, got " << epsilon;
  return success();
}

LAYER_SHAPE_RULE(NormalizeOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if (failed(checkNormalizeAttrs(op, (*types)[0],
                                 static_cast<int64_t>(op.getAxis()),
                                 static_cast<int64_t>(op.getGroups()),
                                 op.getEpsilon().convertToDouble())))
    return failure();
  return SmallVector<Type>{(*types)[0]};
}

LAYER_SHAPE_RULE(EmbeddingOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType indices = (*types)[0], table = (*types)[1];
  if (table.getRank() != 2)
    return op.emitOpError() << "expects a table of shape (input_dim, "
                               "output_dim), got "
                            << formatShape(table);
  Shape shape(indices.getShape());
  shape.push_back(table.getDimSize(1));
  return SmallVector<Type>{tensorOf(shape, table.getElementType())};
}

//===----------------------------------------------------------------------===//
// Merging and reshaping
//===----------------------------------------------------------------------===//

/// Element-wise merges (add, multiply): operands of one shape.
static FailureOr<SmallVector<Type>> sameShapeMergeTypes(Operation *op) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if ((*types)[0].getRank() != (*types)[1].getRank())
    return op->emitOpError()
           << "operands must have the same rank, got "
           << formatShape((*types)[0]) << " and " << formatShape((*types)[1]);
  FailureOr<Shape> shape =
      joinAll(op, *types, {"lhs", "rhs"}, op->getOperands());
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, (*types)[0].getElementType())};
}

/// add, subtract, multiply: operands of one shape, or an rhs of lower rank
/// matching the lhs's trailing dimensions (a bias broadcast over the
/// leading ones, as `x + b` in a custom layer).
static FailureOr<SmallVector<Type>> broadcastMergeTypes(Operation *op) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType lhs = (*types)[0], rhs = (*types)[1];
  if (rhs.getRank() >= lhs.getRank())
    return sameShapeMergeTypes(op);
  int64_t lead = lhs.getRank() - rhs.getRank();
  Shape shape(lhs.getShape());
  for (int64_t i = 0; i < rhs.getRank(); ++i) {
    int64_t &d = shape[lead + i];
    int64_t r = rhs.getDimSize(i);
    if (!agree(op->getOperand(1), i, op->getOperand(0), lead + i,
               "the rhs must match the lhs's trailing sizes"))
      return op->emitOpError()
             << "cannot broadcast rhs " << formatShape(rhs) << " to lhs "
             << formatShape(lhs) << ": the trailing dimensions must be equal";
    if (ShapedType::isDynamic(d))
      d = r;
  }
  return SmallVector<Type>{tensorOf(shape, lhs.getElementType())};
}

LAYER_SHAPE_RULE(AddOp) { return broadcastMergeTypes(op); }

LAYER_SHAPE_RULE(MultiplyOp) { return broadcastMergeTypes(op); }

LAYER_SHAPE_RULE(SubtractOp) { return broadcastMergeTypes(op); }

LAYER_SHAPE_RULE(MaximumOp) { return sameShapeMergeTypes(op); }

LAYER_SHAPE_RULE(AverageOp) {
  if (op->getNumOperands() < 1)
    return op.emitOpError("expects at least one input");
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  SmallVector<std::string> storage;
  SmallVector<StringRef> names;
  for (size_t i = 0; i < types->size(); ++i)
    storage.push_back("input #" + std::to_string(i));
  for (const std::string &name : storage)
    names.push_back(name);
  for (RankedTensorType t : *types)
    if (t.getRank() != (*types)[0].getRank())
      return op.emitOpError()
             << "inputs must have the same rank, got "
             << formatShape((*types)[0]) << " and " << formatShape(t);
  FailureOr<Shape> shape = joinAll(op, *types, names, op->getOperands());
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(ConcatenateOp) {
  if (op->getNumOperands() < 1)
    return op.emitOpError("expects at least one input");
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  int64_t rank = (*types)[0].getRank();
  int64_t given = static_cast<int64_t>(op.getAxis());
  int64_t axis = given < 0 ? given + rank : given;
  if (axis < 1 || axis >= rank)
    return op.emitOpError()
           << "axis " << given << " is out of range for inputs of shape "
           << formatShape((*types)[0])
           << " (the batch axis cannot be concatenated)";
  Shape shape((*types)[0].getShape());
  for (size_t i = 1; i < types->size(); ++i) {
    RankedTensorType t = (*types)[i];
    bool ok = t.getRank() == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      if (d != axis) {
        ok = dimsAgree(shape[d], t.getDimSize(d)) &&
             agree(op->getOperand(i), d, op->getOperand(0), d,
                   "inputs must match off the concatenation axis");
        shape[d] = joinDim(shape[d], t.getDimSize(d));
      }
    if (!ok)
      return op.emitOpError()
             << "a concatenate layer requires inputs with matching shapes "
                "except for the concatenation axis "
             << given << ", got " << formatShape((*types)[0]) << " and "
             << formatShape(t) << " (input #" << i << ")";
    shape[axis] = ShapedType::isDynamic(shape[axis]) ||
                          ShapedType::isDynamic(t.getDimSize(axis))
                      ? ShapedType::kDynamic
                      : shape[axis] + t.getDimSize(axis);
  }
  return SmallVector<Type>{tensorOf(shape, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(DropoutMaskOp) {
  if (failed(checkNoise(op, op.getLike())))
    return failure();
  if (op.getShift() && op.getNoise() != Noise::AlphaDropout)
    return op.emitOpError() << "shift is only for alpha_dropout";
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  if ((*types)[1].getRank() != 0)
    return op.emitOpError()
           << "expects a scalar step, got " << formatShape((*types)[1]);
  if (op.getOffset() && (*types)[2].getRank() != 0)
    return op.emitOpError()
           << "expects a scalar offset, got " << formatShape((*types)[2]);
  return SmallVector<Type>{(*types)[0]};
}

LAYER_SHAPE_RULE(ReshapeOp) {
  ArrayRef<int64_t> target = op.getTargetShape();
  for (int64_t d : target)
    if (d <= 0)
      return op.emitOpError() << "target_shape dimensions must be positive, "
                                 "got "
                              << d;
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (input.getRank() < 1)
    return op.emitOpError() << "expects a batched input, got a scalar";
  ArrayRef<int64_t> sample = input.getShape().drop_front();
  if (llvm::none_of(sample, ShapedType::isDynamic)) {
    int64_t have = 1, want = 1;
    bool overflow = false;
    for (int64_t d : sample)
      overflow |= __builtin_mul_overflow(have, d, &have);
    for (int64_t d : target)
      overflow |= __builtin_mul_overflow(want, d, &want);
    if (overflow)
      return op.emitOpError() << "the element count of the input or of "
                                 "target_shape overflows 64 bits";
    if (have != want)
      return op.emitOpError()
             << "cannot reshape input of shape " << formatShape(input) << " ("
             << have << " elements per sample) to target_shape with " << want
             << " elements";
  }
  int64_t want = 1;
  for (int64_t d : target)
    want = satMul(want, d);
  requireDims(op->getOperand(0),
              llvm::to_vector(llvm::seq<int64_t>(1, input.getRank())),
              DimCheck::Relation::Equal, want,
              "the input's elements per sample must match target_shape");
  Shape shape{input.getDimSize(0)};
  shape.append(target.begin(), target.end());
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(ReduceSumOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  int64_t axis = static_cast<int64_t>(op.getAxis());
  if (axis < 0 || axis >= input.getRank())
    return op.emitOpError()
           << "axis " << axis << " is out of range for an input of shape "
           << formatShape(input);
  Shape shape(input.getShape());
  shape.erase(shape.begin() + axis);
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(TransposeOp) {
  ArrayRef<int64_t> perm = op.getPermutation();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  int64_t rank = input.getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid) {
    auto diag = op.emitOpError() << "permutation [";
    llvm::interleaveComma(perm, diag);
    return diag << "] is not a permutation of the " << rank
                << " axes of an input of shape " << formatShape(input);
  }
  Shape shape;
  for (int64_t p : perm)
    shape.push_back(input.getDimSize(p));
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

LAYER_SHAPE_RULE(ScaleOp) { return sameAsInput(op); }

LAYER_SHAPE_RULE(SliceOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  int64_t axis = static_cast<int64_t>(op.getAxis());
  int64_t offset = static_cast<int64_t>(op.getOffset());
  int64_t size = static_cast<int64_t>(op.getSize());
  if (axis < 0 || axis >= input.getRank())
    return op.emitOpError()
           << "axis " << axis << " is out of range for an input of shape "
           << formatShape(input);
  int64_t extent = input.getDimSize(axis);
  if (offset < 0 || size < 1 ||
      (!ShapedType::isDynamic(extent) && satAdd(offset, size) > extent))
    return op.emitOpError()
           << "slice [" << offset << ", " << offset + size
           << ") is outside axis " << axis << " of " << formatShape(input);
  requireDims(op->getOperand(0), {axis}, DimCheck::Relation::AtLeast,
              satAdd(offset, size), "the slice must lie inside the input");
  Shape shape(input.getShape());
  shape[axis] = size;
  return SmallVector<Type>{tensorOf(shape, input.getElementType())};
}

LAYER_SHAPE_RULE(MaximumGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  FailureOr<Shape> shape = joinAll(op, *types, {"lhs", "rhs", "grad"});
  if (failed(shape))
    return failure();
  Type t = tensorOf(*shape, (*types)[0].getElementType());
  return SmallVector<Type>{t, t};
}

LAYER_SHAPE_RULE(EmbeddingGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType ids = (*types)[0], grad = (*types)[1], like = (*types)[2];
  if (like.getRank() != 2)
    return op.emitOpError() << "expects a table, got " << formatShape(like);
  Shape want(ids.getShape());
  want.push_back(like.getDimSize(1));
  if (!joinShapes(want, grad.getShape()))
    return op.emitOpError() << "grad of shape " << formatShape(grad)
                            << " does not match indices " << formatShape(ids)
                            << " and a table " << formatShape(like);
  return SmallVector<Type>{like};
}

LAYER_SHAPE_RULE(BatchNormGradOp) {
  if (failed(checkEpsilon(op, op.getEpsilon())))
    return failure();
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType dy = (*types)[0], input = (*types)[1];
  std::optional<Shape> shape = joinShapes(input.getShape(), dy.getShape());
  if (!shape)
    return op.emitOpError()
           << "output_grad of shape " << formatShape(dy)
           << " does not match the input " << formatShape(input);
  SmallVector<StringRef> names{"mean", "variance"};
  if (op.getGamma())
    names.push_back("gamma");
  if (failed(checkChannelVectors(op, input, ArrayRef(*types).drop_front(2),
                                 names)))
    return failure();
  auto channels = channelVectorOf(op, input);
  if (failed(channels))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, input.getElementType()), *channels,
                           *channels, *channels, *channels};
}

LAYER_SHAPE_RULE(MomentsGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[0];
  if (failed(checkChannelVectors(op, input, ArrayRef(*types).drop_front(),
                                 {"mean", "mean_grad", "variance_grad"})))
    return failure();
  return SmallVector<Type>{input};
}

LAYER_SHAPE_RULE(ActivationGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  FailureOr<Shape> shape = joinAll(op, *types, {"grad", "input", "output"});
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, (*types)[0].getElementType())};
}

LAYER_SHAPE_RULE(NormalizeGradOp) {
  auto types = rankedTypes(op->getOperands());
  if (!types)
    return SmallVector<Type>{};
  RankedTensorType input = (*types)[1];
  if (failed(checkNormalizeAttrs(op, input, static_cast<int64_t>(op.getAxis()),
                                 static_cast<int64_t>(op.getGroups()),
                                 op.getEpsilon().convertToDouble())))
    return failure();
  FailureOr<Shape> shape =
      joinAll(op, *types, {"output_grad", "input"}, op->getOperands());
  if (failed(shape))
    return failure();
  return SmallVector<Type>{tensorOf(*shape, input.getElementType())};
}
