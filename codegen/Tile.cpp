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
    if (winogradTile != 0 && winogradTile != 2 && winogradTile != 4) {
      getOperation().emitError()
          << "layer-tile: winograd-tile must be 0 (chosen per convolution), 2 "
             "or 4, not "
          << static_cast<int64_t>(winogradTile);
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
            tile.getPackColumns(), /*winograd=*/winogradTileOf(op, tile));
      op->setAttr(layer::kTileAttrName, tile);
    });
  }

  /// The output tile m of `op`'s Winograd convolution, tiled by `tile`:
  /// the pass's `winograd-tile`, or 4 where one image's 4 x 4 tiles fill a
  /// register block of tiles, else 2. F(4 x 4, 3 x 3) takes 36 products
  /// per 16 outputs where F(2 x 2, 3 x 3) takes 64, but a small image
  /// leaves its blocks part empty at batch 1 (the toy ResNet's 9 x 9
  /// layers: 9 tiles of 4 x 4 for a block of 12; as fast as 25 of 2 x 2 at
  /// batch 1, 7 x 7 slower) and its transforms are costlier. In float32 it
  /// errs by about 4x the direct kernel (error up to 2e-5 of the output's
  /// scale over 576 products, where F(2, 3) and the direct kernel reach
  /// 6e-6).
  int64_t winogradTileOf(Operation *op, layer::TileAttr tile) {
    if (winogradTile != 0)
      return winogradTile;
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t tiles =
        ((out.getDimSize(1) + 3) / 4) * ((out.getDimSize(2) + 3) / 4);
    return out.getDimSize(1) >= 4 && out.getDimSize(2) >= 4 &&
                   tiles >= tile.getBlock()
               ? 4
               : 2;
  }

  /// Whether Winograd pays for its transforms on `op`: a
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
