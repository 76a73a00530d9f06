//===- ConvolutionUtil.h - Helpers shared by the convolution layers -*- C++
//-*-===//
//
// Argument checks, Keras's messages and config readers used by
// Convolution.cpp and DepthwiseConvolution.cpp (not part of the public
// API).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_CONVOLUTIONUTIL_H
#define LAYERC_FRONTEND_LAYERS_CONVOLUTIONUTIL_H

#include "frontend/layers/Convolution.h"

#include <functional>

#include "mlir/IR/Value.h"

namespace layerc {
class MLIRGenState;
}

namespace layerc::conv {

/// "1D", "2D" or "3D".
const char *suffix(int64_t rank);
Json intArray(const std::vector<int64_t> &v);
/// Keras's input spec: ndim = rank + 2 (batch, spatial..., channels).
void checkSpatialInput(
    const Layer &l, int64_t rank, const std::vector<std::vector<int64_t>> &in,
    const std::function<void(int, const std::string &,
                             const std::vector<int64_t> &)> &incompatible);
using Incompatible =
    std::function<void(int, const std::string &, const std::vector<int64_t> &)>;
/// checkSpatialInput, then Keras's check that the channel axis is known;
/// returns the number of channels.
int64_t checkConvInput(const Layer &l, int64_t rank,
                       const std::vector<std::vector<int64_t>> &in,
                       const Incompatible &incompatible);
/// (batch, spatial output sizes...) of a window of `kernel` dilated by
/// `dilation` over each spatial axis of `shape`: `size(i, inputSize,
/// window)` gives one axis's output size (-1 stays -1); a size below 1 is
/// Keras's "larger than the input" error.
std::vector<int64_t>
windowedShape(const std::vector<int64_t> &shape,
              const std::vector<int64_t> &kernel,
              const std::vector<int64_t> &dilation,
              const std::function<int64_t(int64_t, int64_t, int64_t)> &size,
              const Incompatible &incompatible);
/// "valid" or "same", and "causal" where `allowCausal` (Conv1D).
void checkPadding(const std::string &layer, const std::string &padding,
                  bool allowCausal = false);
void checkActivationName(const std::string &layer, const std::string &name);
/// Keras refuses strides > 1 together with dilation_rate > 1.
void checkStridesAndDilation(const std::string &layer,
                             const std::vector<int64_t> &strides,
                             const std::vector<int64_t> &dilation);

/// x (batch, steps, channels) with `steps` zeros before its steps (Keras's
/// causal padding), built from layer ops (slice, scale, concatenate) so
/// that its gradient needs no rule of its own.
mlir::Value causalPad(MLIRGenState &state, mlir::Value x, int64_t steps);

/// Config readers: an integer or a list of integers (Keras stores tuples as
/// lists), a string, a bool, an integer.
IntTuple tupleField(const Json &c, const std::string &cls,
                    const std::string &key);
std::string stringField(const Json &c, const std::string &cls,
                        const std::string &key);
bool boolField(const Json &c, const std::string &cls, const std::string &key);
int64_t intField(const Json &c, const std::string &cls, const std::string &key);

} // namespace layerc::conv

#endif // LAYERC_FRONTEND_LAYERS_CONVOLUTIONUTIL_H
