//===- Header.h - The C header of an AOT-compiled model ---------*- C++ -*-===//
//
// A plain C99 header (usable from C++) for the functions of one compiled
// module: shapes as comments and constants, error codes with messages, and
// one static inline entry point per function that checks every buffer's
// element count before calling the generated code through MLIR's C
// interface. Nothing else is needed at run time but libc and libm.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_HEADER_H
#define LAYERC_CODEGEN_HEADER_H

#include "runtime/Abi.h"

#include <optional>
#include <string>
#include <vector>

namespace layerc {

/// The symbol the generated code exports for function `function` of a
/// library named `prefix` (its C-interface wrapper is `_mlir_ciface_` +
/// this).
std::string exportedSymbol(const std::string &prefix,
                           const std::string &function);

/// `name` made a C identifier: "dense/kernel" -> "dense_kernel". Every
/// identifier the header declares is built from this form.
std::string cIdentifier(const std::string &name);

/// Whether `text` has the form [A-Za-z_][A-Za-z0-9_]*.
bool isCIdentifier(const std::string &text);

/// `text` as a C string literal, quotes included: printable ASCII is kept,
/// `"`, `\` and `?` (trigraphs) are escaped, every other byte is written
/// as a three-digit octal escape. Every string of the model (a weight's or
/// a check's name) reaches the header through this function.
std::string cStringLiteral(const std::string &text);

/// `text` made safe inside a C block comment: no `*/` or `/*`, no
/// trigraphs, control and non-ASCII bytes as \xNN. Every name or path that
/// a header comment shows goes through this function.
std::string cCommentText(const std::string &text);

/// The header for `functions`, whose entry points are `<prefix>_<name>`.
/// Why `functions` cannot get a C interface, if they cannot: an output
/// with an unknown size besides the batch, or an input with more than one
/// (an input's one unknown size, a sequence length, is derived from its
/// buffer's element count).
std::optional<std::string>
checkCInterface(const std::vector<CompiledFunction> &functions);

/// What the header needs to know about a saved model to emit its context
/// API: which arguments are inputs, targets, weights and optimizer state.
struct ModelLayout {
  int numInputs = 1, numTargets = 1, numOutputs = 1;
  /// The weights as the .lcm names them ("dense/kernel"), in argument order.
  std::vector<std::string> weightNames;
  std::vector<std::vector<int64_t>> weightShapes;
  /// Compiled in (--embed-weights): predict takes no weight arguments.
  bool embedded = false;
};

/// The layout of a model read from the roles of its functions' arguments:
/// the inputs, weights and outputs of `predict`, the targets of train_step
/// or evaluate (one per output without them). A saved model compiled with
/// its weights as arguments and a .mlir model get the same layout. Fails
/// with the reason when the functions do not have the shape the context
/// API calls (predict(inputs..., weights...), float32 weights of static
/// shape; train_step(inputs..., targets..., weights..., state..., step)):
/// then `why` says which. (Plain C++, like the whole header writer.)
std::optional<ModelLayout>
layoutFromRoles(const std::vector<CompiledFunction> &functions,
                std::string &why);

/// The C header of a library. Without `layout` (a .mlir input) it declares
/// one checked entry point per function, `<prefix>_<function>`. With it
/// those become `<prefix>_<function>_raw` and the header adds the context
/// API: `<prefix>_create/destroy`, weight access by name, and
/// `<prefix>_predict(ctx, ...)` (plus `_train_step` / `_evaluate` when the
/// functions include them), and, with LAYERC_WITH_RUNTIME,
/// `<prefix>_load_weights/save_weights` through liblayerc_runtime.
/// `checkMessages` are the module's run-time checks: a function returns
/// kStatusCheckBase + k (<P>_ERROR_CHECK + k) when check k fails, and
/// `<prefix>_error_message` gives its message. With `cuda` (a library for
/// a CUDA target) `<prefix>_create` first checks that the GPU is usable
/// (<P>_ERROR_DEVICE otherwise) and `_error_message` says why not.
/// Samples per call of a model's `predict` in the header's context API (0:
/// the whole batch in one call): a larger batch runs as equal calls of at
/// most this many, so that activations stay in cache between layers.
int64_t predictSamplesPerCall(const CompiledFunction &f);

std::string emitCHeader(const std::vector<CompiledFunction> &functions,
                        const std::string &prefix, const std::string &source,
                        const ModelLayout *layout = nullptr,
                        const std::vector<std::string> &checkMessages = {},
                        bool cuda = false);

} // namespace layerc

#endif // LAYERC_CODEGEN_HEADER_H
