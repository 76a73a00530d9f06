//===- Tile.cpp - The layer-tile pass -------------------------------------===//
//
// Tiling as a pass: the sizes of every register-blocked CPU kernel (vector
// lanes, register blocks, a matmul's cache panels and slices, when to pack)
// are chosen here from the target's description and written on the layer
// op as `layer.tile`; layer-to-linalg builds what the attribute says.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayerToLinalg/Builders.h"
#include "codegen/Passes.h"
#include "dialect/LayerOps.h"

namespace layerc {
#define GEN_PASS_DEF_LAYERTILE
#include "codegen/Passes.h.inc"
} // namespace layerc

using namespace mlir;
using namespace layerc;

namespace {
struct LayerTilePass : layerc::impl::LayerTileBase<LayerTilePass> {
  using LayerTileBase::LayerTileBase;

  void runOnOperation() override {
    if (failed(
            codegen::checkVectorBits(getOperation(), vectorBits, "layer-tile")))
      return signalPassFailure();
    if (l1Bytes < 1024 || l2Bytes < 1024) {
      getOperation().emitError()
          << "layer-tile: l1-bytes and l2-bytes must be at least 1024, not "
          << static_cast<int64_t>(l1Bytes) << " and "
          << static_cast<int64_t>(l2Bytes);
      return signalPassFailure();
    }
    if (vectorBits == 0)
      return;
    getOperation().walk([&](Operation *op) {
      if (!layer::isTiledOp(op) || op->getNumResults() != 1 ||
          op->hasAttr(layer::kTileAttrName))
        return;
      auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (!type || type.getRank() == 0)
        return;
      // On AVX-512 a matmul's register block spans 4 vectors of columns
      // where the columns allow: 6 rows by 4 vectors read 10 vectors a step
      // for 24 FMAs where 12 rows by 2 read 14 (Dense 1024 -> 1024 at batch
      // 1024: 0.90 -> 0.98x oneDNN's SGEMM, bench/sgemm.sh). The
      // convolutions keep 2 (the toy ResNet was slower with 4); AVX2 keeps
      // 6 rows by 2 (3 rows by 4 untried).
      int64_t maxVectors =
          vectorBits >= 512 && isa<layer::DenseOp, layer::MatmulOp>(op) ? 4 : 2;
      layer::TileAttr tile = codegen::chooseTiling(
          &getContext(), type.getElementType(), type.getShape().back(),
          vectorBits, l1Bytes, l2Bytes, maxVectors);
      if (!tile)
        return;
      if (winograd && paysForWinograd(op))
        tile = layer::TileAttr::get(
            &getContext(), tile.getLanes(), tile.getVectors(), tile.getBlock(),
            tile.getPanel(), tile.getSlice(), tile.getPackRows(),
            tile.getPackColumns(), /*winograd=*/2);
      op->setAttr(layer::kTileAttrName, tile);
    });
  }

  /// Whether F(2 x 2, 3 x 3) pays for its transforms on `op`: a
  /// convolution it applies to, of floats, summing over at least 8 channels
  /// (each tile's input transform is shared by every filter, its output
  /// transform by every channel), with an output of at least 2 x 2.
  static bool paysForWinograd(Operation *op) {
    if (!layer::isWinogradConv(op))
      return false;
    auto kernel = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    if (!kernel || out.getRank() != 4 || !isa<FloatType>(out.getElementType()))
      return false;
    // The sum runs over the kernel's input channels (axis 2) for a
    // convolution; a transposed convolution's kernel is (3, 3, filters,
    // in), an input gradient sums over the forward filters (axis 3).
    int64_t channels = kernel.getDimSize(isa<layer::ConvOp>(op) ? 2 : 3);
    return !ShapedType::isDynamic(channels) && channels >= 8 &&
           !out.isDynamicDim(1) && !out.isDynamicDim(2) &&
           out.getDimSize(1) >= 2 && out.getDimSize(2) >= 2;
  }
};
} // namespace
