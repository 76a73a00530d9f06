//===- Tiling.cpp - The layer.tile attribute and its checks ---------------===//
//
// A TileAttr (LayerEnums.td) is checked twice: on its own (sizes that a
// register-blocked kernel can be built with) and against the op that
// carries it (an op with such a kernel, whose output's last axis the
// vectors divide). Invalid tilings are diagnostics, so layer-to-linalg
// only ever sees tilings it can build.
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"

#include "llvm/ADT/bit.h"

using namespace mlir;
using namespace layerc::layer;

/// Accumulators a register block may hold: AVX-512 has 32 vector
/// registers, and a block needs a few more for its operands.
static constexpr int64_t kMaxAccumulators = 28;

LogicalResult TileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t lanes, int64_t vectors, int64_t block,
                               int64_t panel, int64_t slice, int64_t packRows,
                               int64_t packColumns, int64_t winograd) {
  if (lanes < 1 || lanes > 64 || !llvm::has_single_bit<uint64_t>(lanes))
    return emitError() << "lanes must be a power of two from 1 to 64, not "
                       << lanes;
  if (vectors < 1 || block < 1 || vectors * block > kMaxAccumulators)
    return emitError() << "vectors (" << vectors << ") times block (" << block
                       << ") must be from 1 to " << kMaxAccumulators
                       << " accumulators";
  if (panel < lanes * vectors || panel % (lanes * vectors) != 0)
    return emitError() << "panel (" << panel
                       << ") must be a multiple of lanes x vectors ("
                       << lanes * vectors << ")";
  if (slice < 1 || packRows < 1 || packColumns < 1)
    return emitError() << "slice, pack_rows and pack_columns must be positive";
  if (winograd != 0 && winograd != 2 && winograd != 4)
    return emitError() << "winograd must be 0 (none), 2 (F(2 x 2, 3 x 3)) or "
                          "4 (F(4 x 4, 3 x 3)), not "
                       << winograd;
  return success();
}

bool layerc::layer::isTiledOp(Operation *op) {
  return isa<DenseOp, MatmulOp, ConvOp, ConvTransposeOp, ConvInputGradOp,
             ConvFilterGradOp>(op);
}

bool layerc::layer::isWinogradConv(Operation *op) {
  // The attributes are read raw: this also runs (from the tile's verifier)
  // on ops whose own verifier has not run yet.
  if (!isa<ConvOp, ConvTransposeOp, ConvInputGradOp>(op) ||
      op->getNumOperands() < 2)
    return false;
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides");
  auto dilations = op->getAttrOfType<DenseI64ArrayAttr>("dilations");
  auto groups = op->getAttrOfType<IntegerAttr>("groups");
  auto kernel = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
  auto ones = [](DenseI64ArrayAttr a) {
    return a && llvm::all_of(a.asArrayRef(), [](int64_t v) { return v == 1; });
  };
  return (!groups || groups.getInt() == 1) && ones(strides) &&
         ones(dilations) && kernel && kernel.getRank() == 4 &&
         kernel.getDimSize(0) == 3 && kernel.getDimSize(1) == 3;
}

LogicalResult LayerDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  if (attr.getName() != kTileAttrName)
    return success();
  auto tile = dyn_cast<TileAttr>(attr.getValue());
  if (!tile)
    return op->emitOpError() << kTileAttrName << " must be a #layer.tile";
  if (tile.getWinograd() != 0 && !isWinogradConv(op))
    return op->emitOpError()
           << kTileAttrName
           << ": winograd is for a 2-D convolution, transposed convolution "
              "or input gradient with a 3 x 3 kernel, stride 1, dilation 1 "
              "and one group";
  if (!isTiledOp(op) || op->getNumResults() != 1)
    return op->emitOpError()
           << "has no register-blocked kernel to tile (" << kTileAttrName
           << " is for Dense, MatMul and the convolutions)";
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || type.getRank() == 0 || !type.getElementType().isIntOrFloat())
    return success(); // shapes not inferred yet: checked when they are
  int64_t bits = type.getElementType().getIntOrFloatBitWidth();
  if (tile.getLanes() * bits > 512)
    return op->emitOpError()
           << kTileAttrName << ": " << tile.getLanes() << " lanes of " << bits
           << " bits exceed the widest vector (512 bits)";
  int64_t axis = type.getShape().back();
  if (ShapedType::isDynamic(axis))
    return success();
  int64_t width = tile.getLanes() * tile.getVectors();
  if (axis % width != 0)
    return op->emitOpError()
           << kTileAttrName << ": the output's last axis (" << axis
           << ") is not a multiple of lanes x vectors (" << width << ")";
  return success();
}
