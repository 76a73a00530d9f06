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

#include <string>
#include <vector>

namespace layerc {

/// The symbol the generated code exports for function `function` of a
/// library named `prefix` (its C-interface wrapper is `_mlir_ciface_` +
/// this).
std::string exportedSymbol(const std::string &prefix,
                           const std::string &function);

/// `name` made a C identifier: "dense/kernel" -> "dense_kernel".
std::string cIdentifier(const std::string &name);

/// The header for `functions`, whose entry points are `<prefix>_<name>`.
std::string emitCHeader(const std::vector<CompiledFunction> &functions,
                        const std::string &prefix, const std::string &source);

} // namespace layerc

#endif // LAYERC_CODEGEN_HEADER_H
