//===- HeaderWriter.h - Shared pieces of the C header writer ----*- C++ -*-===//
//
// Internal to Header.cpp (the raw entry points) and HeaderContext.cpp (the
// context API over them): C spellings of types, names and element counts.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_CODEGEN_HEADERWRITER_H
#define LAYERC_CODEGEN_HEADERWRITER_H

#include "codegen/Header.h"

#include <sstream>
#include <string>
#include <vector>

namespace layerc::header {

/// The C element type of `dtype` ("float", "int32_t", ...).
const char *cType(DType dtype);

/// `s` in upper case (macro names).
std::string upper(std::string s);

/// "batch * 784" as a C expression of type int64_t: the element count of a
/// buffer of `spec` named `name`.
std::string countExpr(const BufferSpec &spec, const std::string &name = "");

/// The function called `name`, or null.
const CompiledFunction *findFunction(const std::vector<CompiledFunction> &fs,
                                     const std::string &name);

/// One C parameter name per buffer of `f` (inputs then outputs), free of
/// clashes with each other and with every reserved name.
std::vector<std::string> parameterNames(const CompiledFunction &f,
                                        const std::string &prefix);

/// "c_type *name, size_t name_count" for parameters [begin, end) of `f`.
std::string passThroughParams(const CompiledFunction &f,
                              const std::vector<std::string> &names,
                              size_t begin, size_t end);

/// "name, name_count" for parameters [begin, end).
std::string passThroughArgs(const std::vector<std::string> &names, size_t begin,
                            size_t end);

/// The context API over the raw entry points (see emitCHeader).
/// With `cuda`, _create fails with <P>_ERROR_DEVICE when the GPU is not
/// usable.
void emitContext(std::ostringstream &os,
                 const std::vector<CompiledFunction> &functions,
                 const std::string &prefix, const ModelLayout &layout,
                 bool cuda);

} // namespace layerc::header

#endif // LAYERC_CODEGEN_HEADERWRITER_H
