//===- Header.cpp - The C header of an AOT-compiled model
//------------------===//
//
// Each memref argument is passed as MLIR's strided descriptor
//   { void *allocated, *aligned; int64_t offset, sizes[R], strides[R]; }
// built in the inline wrapper from the caller's contiguous buffer. Buffer
// sizes are given as element counts and checked against the shapes (the
// batch dimension is the `batch` argument), so a wrong size is refused
// instead of read past.
//
//===----------------------------------------------------------------------===//

#include "codegen/Header.h"

#include <cctype>
#include <set>
#include <sstream>

using namespace layerc;

std::string layerc::exportedSymbol(const std::string &prefix,
                                   const std::string &function) {
  return "layerc_" + prefix + "_" + cIdentifier(function);
}

std::string layerc::cIdentifier(const std::string &name) {
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out = "_" + out;
  return out;
}

namespace {

/// Words a parameter may not be called: C and C++ keywords and the names
/// the generated code itself uses.
bool isReserved(const std::string &name) {
  static const std::set<std::string> words = {
      "auto",     "break",     "case",     "char",    "const",     "continue",
      "default",  "do",        "double",   "else",    "enum",      "extern",
      "float",    "for",       "goto",     "if",      "inline",    "int",
      "long",     "register",  "restrict", "return",  "short",     "signed",
      "sizeof",   "static",    "struct",   "switch",  "typedef",   "union",
      "unsigned", "void",      "volatile", "while",   "bool",      "true",
      "false",    "class",     "new",      "delete",  "this",      "template",
      "typename", "namespace", "operator", "private", "protected", "public",
      "virtual",  "friend",    "try",      "catch",   "throw",     "using",
      "explicit", "mutable",   "export",   "nullptr", "and",       "or",
      "not",      "xor",       "batch",    "NULL"};
  return words.count(name) > 0 || name.rfind("layerc_", 0) == 0;
}

const char *cType(DType dtype) {
  switch (dtype) {
  case DType::Float32:
    return "float";
  case DType::Float64:
    return "double";
  case DType::Int32:
    return "int32_t";
  case DType::Int64:
    return "int64_t";
  case DType::UInt8:
    return "uint8_t";
  }
  return "void";
}

std::string upper(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string shapeComment(const BufferSpec &spec) {
  std::string text = "(";
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    if (i)
      text += ", ";
    text += spec.shape[i] == kDynamic ? "batch" : std::to_string(spec.shape[i]);
  }
  return text + (spec.shape.size() == 1 ? ",)" : ")") + " " +
         dtypeName(spec.dtype);
}

/// "batch * 784" as a C expression of type int64_t.
std::string countExpr(const BufferSpec &spec) {
  std::string text = "(int64_t)1";
  for (int64_t d : spec.shape)
    text += d == kDynamic ? " * batch" : " * " + std::to_string(d);
  return text;
}

bool hasDynamic(const CompiledFunction &f) {
  for (const auto *list : {&f.inputs, &f.outputs})
    for (const BufferSpec &s : *list)
      for (int64_t d : s.shape)
        if (d == kDynamic)
          return true;
  return false;
}

void emitFunction(std::ostringstream &os, const CompiledFunction &f,
                  const std::string &prefix) {
  std::string P = upper(prefix), entry = prefix + "_" + cIdentifier(f.name);
  std::string symbol = "_mlir_ciface_" + exportedSymbol(prefix, f.name);
  std::vector<const BufferSpec *> all;
  for (const BufferSpec &s : f.inputs)
    all.push_back(&s);
  for (const BufferSpec &s : f.outputs)
    all.push_back(&s);
  // One C parameter name per buffer: an output named like an input (a
  // parameter and its update in train_step) gets "_out", and any other
  // clash a number.
  // Each parameter <n> comes with <n>_count: both must be free.
  std::vector<std::string> names;
  std::set<std::string> used;
  auto taken = [&](const std::string &n) {
    return isReserved(n) || used.count(n) || used.count(n + "_count");
  };
  for (size_t i = 0; i < all.size(); ++i) {
    std::string base = cIdentifier(all[i]->name);
    if (isReserved(base))
      base += "_";
    if (i >= f.inputs.size() && taken(base))
      base += "_out";
    std::string n = base;
    for (int k = 2; taken(n); ++k)
      n = base + "_" + std::to_string(k);
    used.insert(n);
    used.insert(n + "_count");
    names.push_back(n);
  }

  os << "/* " << entry << ": runs `" << f.name << "`.\n *\n * Inputs:\n";
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == f.inputs.size())
      os << " * Outputs (written, never read):\n";
    os << " *   " << names[i] << ": " << shapeComment(*all[i]) << "\n";
  }
  os << " * Each buffer is contiguous (row-major) and comes with its element\n"
        " * count, which must equal the product of its shape"
     << (hasDynamic(f) ? " (batch >= 1)" : "") << ".\n * Returns " << P
     << "_OK, or an error code; nothing is read or written then.\n */\n";

  os << "#define " << upper(entry) << "_NUM_INPUTS " << f.inputs.size()
     << "\n#define " << upper(entry) << "_NUM_OUTPUTS " << f.outputs.size()
     << "\n";
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t d = 0; d < all[i]->shape.size(); ++d)
      if (all[i]->shape[d] != kDynamic)
        os << "#define " << upper(entry + "_" + names[i]) << "_DIM" << d << " "
           << all[i]->shape[d] << "\n";

  os << "void " << symbol << "(";
  for (size_t i = 0; i < all.size(); ++i)
    os << (i ? ", " : "") << "void *";
  os << ");\n\n";

  os << "static inline int " << entry << "(int64_t batch";
  for (size_t i = 0; i < all.size(); ++i)
    os << ",\n    " << (i < f.inputs.size() ? "const " : "")
       << cType(all[i]->dtype) << " *" << names[i] << ", size_t " << names[i]
       << "_count";
  os << ") {\n";
  if (hasDynamic(f))
    os << "  if (batch < 1)\n    return " << P << "_ERROR_BATCH;\n";
  else
    os << "  (void)batch;\n";
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string &n = names[i];
    os << "  if (!" << n << ")\n    return " << P << "_ERROR_NULL;\n";
    // Refuse a batch whose element count would overflow before computing it.
    int64_t staticCount = 1;
    bool dynamic = false;
    for (int64_t d : all[i]->shape) {
      if (d == kDynamic)
        dynamic = true;
      else
        staticCount *= d;
    }
    if (dynamic && staticCount > 0)
      os << "  if (batch > INT64_MAX / " << staticCount << ")\n    return " << P
         << "_ERROR_SIZE;\n";
    os << "  if (" << n << "_count > (size_t)INT64_MAX || (int64_t)" << n
       << "_count != " << countExpr(*all[i]) << ")\n    return " << P
       << "_ERROR_SIZE;\n";
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const BufferSpec &s = *all[i];
    size_t rank = s.shape.size();
    const std::string &n = names[i];
    os << "  " << prefix << "_memref" << rank << " layerc_d" << i
       << " = {(void *)" << n << ", (void *)" << n << ", 0";
    if (rank) {
      os << ", {";
      for (size_t d = 0; d < rank; ++d)
        os << (d ? ", " : "")
           << (s.shape[d] == kDynamic ? std::string("batch")
                                      : std::to_string(s.shape[d]));
      os << "}, {";
      for (size_t d = 0; d < rank; ++d) {
        std::string stride = "(int64_t)1";
        for (size_t e = d + 1; e < rank; ++e)
          stride += s.shape[e] == kDynamic ? " * batch"
                                           : " * " + std::to_string(s.shape[e]);
        os << (d ? ", " : "") << stride;
      }
      os << "}";
    }
    os << "};\n";
  }
  os << "  " << symbol << "(";
  for (size_t i = 0; i < all.size(); ++i)
    os << (i ? ", " : "") << "&layerc_d" << i;
  os << ");\n  return " << P << "_OK;\n}\n\n";
}

} // namespace

std::string layerc::emitCHeader(const std::vector<CompiledFunction> &functions,
                                const std::string &prefix,
                                const std::string &source) {
  std::string P = upper(prefix);
  std::set<size_t> ranks;
  for (const CompiledFunction &f : functions)
    for (const auto *list : {&f.inputs, &f.outputs})
      for (const BufferSpec &s : *list)
        ranks.insert(s.shape.size());

  std::ostringstream os;
  os << "/* " << prefix << ".h - generated by layerc from " << source
     << ". Do not edit.\n *\n"
        " * Plain C99 (usable from C++). Link the matching object or library\n"
        " * and libm; nothing else is needed at run time.\n *\n"
        " * Thread safety: every function is reentrant. It keeps no state\n"
        " * between calls and allocates its temporaries per call, so calls "
        "may\n"
        " * run concurrently as long as their output buffers are distinct and\n"
        " * no output buffer is also an input.\n */\n"
     << "#ifndef " << P << "_H\n#define " << P << "_H\n\n"
     << "#include <stddef.h>\n#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  os << "enum {\n  " << P << "_OK = 0,\n  " << P
     << "_ERROR_NULL = 1,  /* a buffer pointer is NULL */\n  " << P
     << "_ERROR_SIZE = 2,  /* a buffer's count does not match its shape */\n  "
     << P << "_ERROR_BATCH = 3 /* batch is < 1 */\n};\n\n";
  os << "static inline const char *" << prefix
     << "_error_message(int code) {\n  switch (code) {\n"
     << "  case " << P << "_OK:\n    return \"ok\";\n"
     << "  case " << P
     << "_ERROR_NULL:\n    return \"a buffer pointer is "
        "NULL\";\n"
     << "  case " << P
     << "_ERROR_SIZE:\n    return \"a buffer's element count "
        "does not match its shape\";\n"
     << "  case " << P
     << "_ERROR_BATCH:\n    return \"batch must be at least "
        "1\";\n"
     << "  default:\n    return \"unknown error code\";\n  }\n}\n\n";
  for (size_t rank : ranks) {
    os << "typedef struct {\n  void *allocated;\n  void *aligned;\n"
          "  int64_t offset;\n";
    if (rank)
      os << "  int64_t sizes[" << rank << "];\n  int64_t strides[" << rank
         << "];\n";
    os << "} " << prefix << "_memref" << rank << ";\n\n";
  }
  for (const CompiledFunction &f : functions)
    emitFunction(os, f, prefix);
  os << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif /* " << P
     << "_H */\n";
  return os.str();
}
