//===- Abi.h - Calling compiled functions through the memref ABI -*- C++
//-*-===//
//
// Every function that layerc compiles is exported in destination-passing
// style with MLIR's C interface: `_mlir_ciface_<name>(in0*, ..., out0*, ...)`
// where each argument points to a strided memref descriptor
//   { T *allocated; T *aligned; int64_t offset; int64_t sizes[R];
//     int64_t strides[R]; }.
// The runtime calls it through the packed wrapper the JIT provides
// (`void fn(void **args)`, args[i] pointing at the i-th descriptor pointer).
// Dimension 0 of every dynamic argument is the batch, one size for all;
// any other dynamic size is checked by the compiled code itself (its
// status, kStatus*).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_ABI_H
#define LAYERC_RUNTIME_ABI_H

#include "runtime/Tensor.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace layerc {

/// Marks a dynamic dimension in a BufferSpec shape.
constexpr int64_t kDynamic = -1;

/// The status a compiled function returns: 0, out of memory (the same
/// number as the C header's <P>_ERROR_MEMORY), or kStatusCheckBase + k when
/// the run-time check k failed (its message is entry k of the module's
/// check messages; the header's <prefix>_error_message knows them too).
constexpr int32_t kStatusOk = 0;
constexpr int32_t kStatusOutOfMemory = 4;
/// The GPU is missing or failed (a CUDA target; <P>_ERROR_DEVICE).
constexpr int32_t kStatusDevice = 8;
constexpr int32_t kStatusCheckBase = 100;

/// What an argument or result of a compiled function holds, as the IR
/// records it (`layer.role`, written by layer-autodiff; in an inference
/// function `layer.param` and `layer.buffer` mark the weights). Drivers
/// find the weights, targets and optimizer state by role, never by
/// counting positions.
enum class Role {
  Input,        // a model input (x)
  Target,       // a training target (y)
  Param,        // a trainable weight
  Buffer,       // a non-trainable weight (BatchNormalization's statistics)
  State,        // an optimizer slot of a trainable weight
  Step,         // the optimizer's iteration count
  Output,       // a model output
  Loss,         // a loss value (the total, then per output)
  Gradient,     // d loss / d param (grad, grad_step, apply_step)
  Offset,       // grad_step's first sample of its shard in the global batch
  LearningRate, // the step's learning rate (layer-autodiff's
                // learning-rate-input: fit() computes it)
  SampleWeight, // one weight per sample for an output's loss
                // (layer-autodiff's sample-weights)
};

/// "input", "target", "param", ... as `layer.role` spells them.
const char *roleName(Role role);
/// The role `name` spells, if it is one.
std::optional<Role> parseRole(const std::string &name);

/// The type of one argument or result of a compiled function.
struct BufferSpec {
  std::string name{};
  DType dtype = DType::Float32;
  std::vector<int64_t> shape{}; // kDynamic for the batch dimension
  Role role = Role::Input;
  /// The shape with every dynamic dimension replaced by `batch`.
  std::vector<int64_t> resolve(int64_t batch) const;
  /// "tensor<?x784xf32>"-like text for messages: "(None, 784) float32".
  std::string str() const;
};

/// How many of `specs` have `role`.
int countRole(const std::vector<BufferSpec> &specs, Role role);

/// The packed entry point: args[i] points to a pointer to the i-th memref
/// descriptor (inputs first, then outputs); the last entry points to the
/// int32_t status the function writes.
using PackedFn = std::function<void(void **)>;

/// One compiled function with its signature.
struct CompiledFunction {
  std::string name{};
  std::vector<BufferSpec> inputs{};
  std::vector<BufferSpec> outputs{};
  PackedFn fn{};
  /// The messages of the module's run-time checks: status
  /// kStatusCheckBase + k means check k failed.
  std::shared_ptr<const std::vector<std::string>> checkMessages{};
  /// The scratch memory of one call (layer-plan-buffers' arena): arenaBytes
  /// + arenaBytesPerSample * batch bytes, allocated once and reused.
  int64_t arenaBytes = 0, arenaBytesPerSample = 0;

  /// Checks every input against its spec (dtype, rank, static dims, one batch
  /// size shared by all dynamic dims 0), allocates outputs with the resolved
  /// shapes (every dynamic dimension the batch) and calls the function; a
  /// size the function finds wrong at run time is thrown as its message. Throws
  /// layerc::Error naming the function, the argument and both shapes on a
  /// mismatch.
  std::vector<Tensor> operator()(const std::vector<const Tensor *> &in) const;
  /// The same, writing into caller-provided outputs (checked like inputs).
  void call(const std::vector<const Tensor *> &in,
            const std::vector<Tensor *> &out) const;
};

} // namespace layerc

#endif // LAYERC_RUNTIME_ABI_H
