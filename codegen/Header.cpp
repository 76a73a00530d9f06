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
#include "codegen/HeaderWriter.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>

using namespace layerc;
using namespace layerc::header;

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

bool layerc::isCIdentifier(const std::string &text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])))
    return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u < 0x80 && (std::isalnum(u) || c == '_');
  });
}

std::string layerc::cStringLiteral(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '?') {
      // '?' too: "??/" is a trigraph for a backslash in C99.
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      // Three octal digits always end the escape, whatever follows.
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\%03o", u);
      out += buf;
    }
  }
  return out + "\"";
}

std::string layerc::cCommentText(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    unsigned char u = static_cast<unsigned char>(c);
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (u < 0x20 || u >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else if (c == '\\') {
      out += "\\\\";
    } else if ((c == '/' || c == '*') && !out.empty() &&
               out.back() == (c == '/' ? '*' : '/')) {
      // Neither "*/" (ends the comment) nor "/*" (-Wcomment) may appear.
      out += '\\';
      out += c;
    } else if (c == '?' && next == '?') {
      out += "?\\"; // no trigraph
    } else {
      out += c;
    }
  }
  return out;
}

namespace layerc::header {

/// Words a parameter may not be called: C and C++ keywords, names the
/// standard headers the header includes define (types, macros, the
/// functions its bodies call), names predefined in GNU modes, the locals of
/// the generated bodies, and the names the header itself declares (every
/// name starting with the prefix or "layerc_").
bool isReserved(const std::string &name, const std::string &prefix) {
  static const std::set<std::string> words = {
      // C99/C11 keywords
      "auto", "break", "case", "char", "const", "continue", "default", "do",
      "double", "else", "enum", "extern", "float", "for", "goto", "if",
      "inline", "int", "long", "register", "restrict", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
      "unsigned", "void", "volatile", "while", "_Bool", "_Complex",
      "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn",
      "_Static_assert", "_Thread_local",
      // C++ keywords and alternative tokens
      "bool", "true", "false", "class", "new", "delete", "this", "template",
      "typename", "namespace", "operator", "private", "protected", "public",
      "virtual", "friend", "try", "catch", "throw", "using", "explicit",
      "mutable", "export", "nullptr", "and", "or", "not", "xor", "and_eq",
      "bitand", "bitor", "compl", "not_eq", "or_eq", "xor_eq", "alignas",
      "alignof", "char8_t", "char16_t", "char32_t", "concept", "consteval",
      "constexpr", "constinit", "const_cast", "co_await", "co_return",
      "co_yield", "decltype", "dynamic_cast", "noexcept", "reinterpret_cast",
      "requires", "static_assert", "static_cast", "thread_local", "typeid",
      "wchar_t",
      // from <stddef.h>, <stdint.h>, <stdlib.h>, <string.h>
      "NULL", "size_t", "ptrdiff_t", "int8_t", "int16_t", "int32_t", "int64_t",
      "uint8_t", "uint16_t", "uint32_t", "uint64_t", "intptr_t", "uintptr_t",
      "INT64_MAX", "SIZE_MAX", "malloc", "calloc", "free", "memcpy", "strcmp",
      "offsetof",
      // predefined as macros with -std=gnu99
      "linux", "unix", "i386",
      // the generated bodies' own names
      "batch", "ctx", "loss", "rc", "step", "c", "s", "i", "name", "values",
      "count", "path", "error", "error_size", "code", "shapes"};
  if (words.count(name) || name.rfind("layerc_", 0) == 0 ||
      name.rfind("_mlir", 0) == 0)
    return true;
  // A name starting with an underscore and a capital letter or a second
  // underscore is reserved to the implementation.
  if (name.size() >= 2 && name[0] == '_' &&
      (name[1] == '_' || std::isupper(static_cast<unsigned char>(name[1]))))
    return true;
  // A name without a lower-case letter may be a macro of the standard
  // headers (INT32_MAX, EXIT_SUCCESS, WCHAR_MIN, ...): a parameter so
  // named would be replaced by a number.
  if (std::none_of(name.begin(), name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) != 0;
      }))
    return true;
  // A type name from the standard headers ("*_t") or a name of the header's
  // own file-scope declarations ("<prefix>_...").
  if (name.size() > 2 && name.compare(name.size() - 2, 2, "_t") == 0)
    return true;
  std::string lower = name, prefixLower = prefix;
  for (char &ch : lower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (char &ch : prefixLower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return !prefix.empty() && lower.rfind(prefixLower + "_", 0) == 0;
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

/// The C expression of dimension `d` of a buffer named `name`: the batch
/// (dimension 0 when unknown), `<name>_len` (another unknown dimension of
/// an input: a sequence length, derived from the buffer's count), or the
/// number.
std::string dimExpr(const BufferSpec &spec, size_t d, const std::string &name) {
  if (spec.shape[d] != kDynamic)
    return std::to_string(spec.shape[d]);
  return d == 0 ? "batch" : name + "_len";
}

/// The unknown dimension of `spec` besides the batch, if any.
std::optional<size_t> lengthDim(const BufferSpec &spec) {
  for (size_t d = 1; d < spec.shape.size(); ++d)
    if (spec.shape[d] == kDynamic)
      return d;
  return std::nullopt;
}

std::string shapeComment(const BufferSpec &spec, const std::string &name) {
  std::string text = "(";
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    if (i)
      text += ", ";
    text += dimExpr(spec, i, name);
  }
  return text + (spec.shape.size() == 1 ? ",)" : ")") + " " +
         dtypeName(spec.dtype);
}

/// "batch * 784" as a C expression of type int64_t.
std::string countExpr(const BufferSpec &spec, const std::string &name) {
  std::string text = "(int64_t)1";
  for (size_t d = 0; d < spec.shape.size(); ++d)
    text += " * " + dimExpr(spec, d, name);
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

std::string lowered(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// `base` (already a C identifier) made free of every reserved name:
/// "size_t" -> "size_t_", "int" -> "int_", "m_predict" -> "pm_predict_",
/// "INT32_MAX" -> "pINT32_MAX_".
std::string unreserved(std::string base, const std::string &prefix) {
  if (isReserved(base, prefix) ||
      (base.size() > 2 && base.compare(base.size() - 2, 2, "_t") == 0))
    base += "_";
  while (isReserved(base, prefix))
    base = "p" + base;
  return base;
}

/// One C parameter name per buffer of `f` (inputs then outputs): an output
/// named like an input (a parameter and its update in train_step) gets
/// "_out", and any other clash a number. Each parameter <n> comes with
/// <n>_count: both must be free. Names differ even ignoring case, since
/// they also name upper-case macros.
std::vector<std::string> parameterNames(const CompiledFunction &f,
                                        const std::string &prefix) {
  std::vector<const BufferSpec *> all;
  for (const BufferSpec &s : f.inputs)
    all.push_back(&s);
  for (const BufferSpec &s : f.outputs)
    all.push_back(&s);
  std::vector<std::string> names;
  std::set<std::string> used;
  auto taken = [&](const std::string &n) {
    return isReserved(n, prefix) || used.count(lowered(n)) ||
           used.count(lowered(n + "_count"));
  };
  for (size_t i = 0; i < all.size(); ++i) {
    // A suffix can make a name reserved ("_" + "_2" starts with "__"):
    // every candidate goes through unreserved.
    std::string base = unreserved(cIdentifier(all[i]->name), prefix);
    if (i >= f.inputs.size() && taken(base))
      base = unreserved(base + "_out", prefix);
    std::string n = base;
    for (int k = 2; taken(n); ++k)
      n = unreserved(base + "_" + std::to_string(k), prefix);
    used.insert(lowered(n));
    used.insert(lowered(n + "_count"));
    names.push_back(n);
  }
  return names;
}

/// The entry point `<prefix>_<f>` + `suffix` over the library's symbol for
/// `f` + `symbolSuffix` (a CUDA library's `_host` or `_device`, GpuMapping).
/// With `device` (after the host's entry `hostEntry`) the buffers are
/// device pointers, and the macros are the host entry's.
/// With `chunk` (> 0), a batch larger than `chunk` runs as calls of
/// `chunk` samples (the last shorter): every buffer with a batch is one
/// sample after the other, so a call's part of each is a contiguous slice.
void emitFunction(std::ostringstream &os, const CompiledFunction &f,
                  const std::string &prefix, const std::string &suffix,
                  std::set<std::string> &macros,
                  const std::string &symbolSuffix = "", bool device = false,
                  const std::string &hostEntry = "", int64_t chunk = 0) {
  std::string P = upper(prefix),
              entry = prefix + "_" + cIdentifier(f.name) + suffix;
  std::string symbol =
      "_mlir_ciface_" + exportedSymbol(prefix, f.name) + symbolSuffix;
  std::vector<const BufferSpec *> all;
  for (const BufferSpec &s : f.inputs)
    all.push_back(&s);
  for (const BufferSpec &s : f.outputs)
    all.push_back(&s);
  std::vector<std::string> names = parameterNames(f, prefix);
  if (device)
    os << "/* " << entry << ": " << hostEntry
       << " on buffers in GPU memory: every pointer\n"
          " * is a device address (cudaMalloc's, or a CUdeviceptr cast to a "
          "pointer) on\n"
          " * device 0, whose primary context the library uses; counts, "
          "shapes and\n"
          " * status as there. The inputs must be written when it is called "
          "(synchronize\n"
          " * the stream that wrote them); the outputs are when it returns. "
          "*/\n";
  else
    os << "/* " << entry << ": runs `" << cCommentText(f.name)
       << "`.\n *\n * Inputs:\n";
  for (size_t i = 0; i < all.size() && !device; ++i) {
    if (i == f.inputs.size())
      os << " * Outputs (written, never read):\n";
    os << " *   " << names[i] << ": " << shapeComment(*all[i], names[i])
       << "\n";
  }
  if (!device)
    os << " * Each buffer is contiguous (row-major) and comes with its "
          "element\n"
          " * count, which must equal the product of its shape"
       << (hasDynamic(f) ? " (batch >= 1)" : "") << ".\n * Returns " << P
       << "_OK, or an error code: " << P
       << "_ERROR_NULL, _SIZE or _BATCH\n"
          " * before anything runs; "
       << P << "_ERROR_MEMORY, or " << P
       << "_ERROR_CHECK + k when a size\n"
          " * that only the inputs fix is wrong (then the outputs are "
          "unspecified).\n */\n";

  // The shape macros keep the function's name (no "_raw").
  // Names joined by '_' can spell one macro twice ("a" + "b_c" and "a_b" +
  // "c"): the first definition stands, the later is left out.
  std::string base = prefix + "_" + cIdentifier(f.name);
  auto define = [&](const std::string &macro, int64_t value) {
    if (device)
      return;
    if (macros.insert(macro).second)
      os << "#define " << macro << " " << value << "\n";
    else
      os << "/* " << macro << " is defined above */\n";
  };
  define(upper(base) + "_NUM_INPUTS", static_cast<int64_t>(f.inputs.size()));
  define(upper(base) + "_NUM_OUTPUTS", static_cast<int64_t>(f.outputs.size()));
  // Scratch memory of a call: ARENA_BYTES + ARENA_BYTES_PER_SAMPLE * batch,
  // allocated by the library on first use and kept for the next call.
  define(upper(base) + "_ARENA_BYTES", f.arenaBytes);
  define(upper(base) + "_ARENA_BYTES_PER_SAMPLE", f.arenaBytesPerSample);
  // A larger batch runs `chunk` samples a call (and its arena is sized so).
  if (chunk > 0)
    define(upper(base) + "_SAMPLES_PER_CALL", chunk);
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t d = 0; d < all[i]->shape.size(); ++d)
      if (all[i]->shape[d] != kDynamic)
        define(upper(base + "_" + names[i]) + "_DIM" + std::to_string(d),
               all[i]->shape[d]);

  os << "int32_t " << symbol << "(";
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
    if (std::optional<size_t> len = lengthDim(*all[i])) {
      // The length is count / (batch * the known sizes), at least 1.
      std::string rest = "(int64_t)1";
      for (size_t d = 0; d < all[i]->shape.size(); ++d)
        if (d != *len)
          rest += " * " + dimExpr(*all[i], d, n);
      os << "  if (" << n << "_count > (size_t)INT64_MAX || " << n
         << "_count == 0 || (int64_t)" << n << "_count % (" << rest
         << ") != 0)\n    return " << P << "_ERROR_SIZE;\n"
         << "  const int64_t " << n << "_len = (int64_t)" << n << "_count / ("
         << rest << ");\n";
      continue;
    }
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
        os << (d ? ", " : "") << dimExpr(s, d, n);
      os << "}, {";
      for (size_t d = 0; d < rank; ++d) {
        std::string stride = "(int64_t)1";
        for (size_t e = d + 1; e < rank; ++e)
          stride += " * " + dimExpr(s, e, n);
        os << (d ? ", " : "") << stride;
      }
      os << "}";
    }
    os << "};\n";
  }
  // The status: P_OK, P_ERROR_MEMORY, or P_ERROR_CHECK + k.
  std::string call = "(int)" + symbol + "(";
  for (size_t i = 0; i < all.size(); ++i)
    call += (i ? ", " : "") + std::string("&layerc_d") + std::to_string(i);
  call += ")";
  if (chunk <= 0) {
    os << "  return " << call << ";\n}\n\n";
    return;
  }
  // Equal calls (16 + 4 would leave a thread idle in the second).
  os << "  /* At most " << chunk << " samples a call, in equal calls: their "
     << "activations stay\n     in cache between layers. */\n"
     << "  {\n    int64_t layerc_calls = (batch + " << chunk - 1 << ") / "
     << chunk << ";\n"
     << "    int64_t layerc_each = (batch + layerc_calls - 1) / layerc_calls;\n"
     << "    int64_t layerc_at, layerc_n;\n    int layerc_rc = 0;\n"
     << "    for (layerc_at = 0; layerc_rc == 0 && layerc_at < batch; "
        "layerc_at += layerc_n) {\n"
     << "      layerc_n = batch - layerc_at < layerc_each ? batch - layerc_at "
        ": layerc_each;\n";
  for (size_t i = 0; i < all.size(); ++i) {
    const BufferSpec &s = *all[i];
    if (s.shape.empty() || s.shape[0] != kDynamic)
      continue;
    int64_t sample = 1;
    for (size_t d = 1; d < s.shape.size(); ++d)
      sample *= s.shape[d];
    std::string at = "(void *)(" + names[i] + " + layerc_at * " +
                     std::to_string(sample) + ")";
    os << "      layerc_d" << i << ".allocated = layerc_d" << i
       << ".aligned = " << at << ";\n"
       << "      layerc_d" << i << ".sizes[0] = layerc_n;\n";
  }
  os << "      layerc_rc = " << call << ";\n    }\n"
     << "    return layerc_rc;\n  }\n}\n\n";
}

const CompiledFunction *findFunction(const std::vector<CompiledFunction> &fs,
                                     const std::string &name) {
  for (const CompiledFunction &f : fs)
    if (f.name == name)
      return &f;
  return nullptr;
}

/// "c_type *name, size_t name_count" for parameters [begin, end) of `f`.
std::string passThroughParams(const CompiledFunction &f,
                              const std::vector<std::string> &names,
                              size_t begin, size_t end) {
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    const BufferSpec &spec =
        i < f.inputs.size() ? f.inputs[i] : f.outputs[i - f.inputs.size()];
    text += ",\n    " + std::string(i < f.inputs.size() ? "const " : "") +
            cType(spec.dtype) + " *" + names[i] + ", size_t " + names[i] +
            "_count";
  }
  return text;
}

/// "name, name_count" for parameters [begin, end).
std::string passThroughArgs(const std::vector<std::string> &names, size_t begin,
                            size_t end) {
  std::string text;
  for (size_t i = begin; i < end; ++i)
    text += ", " + names[i] + ", " + names[i] + "_count";
  return text;
}

} // namespace layerc::header

std::optional<std::string>
layerc::checkCInterface(const std::vector<CompiledFunction> &functions) {
  // Each function's entry point is named after it: two names that give the
  // same C identifier ("a.b" and "a_b") would define one symbol twice.
  // Nor may it be a name the header gives its own declarations.
  static const std::set<std::string> own = {
      "context",       "create",         "destroy",       "error_message",
      "weight_name",   "weight_count",   "find_weight",   "set_weight",
      "get_weight",    "load_weights",   "save_weights",  "check_messages_",
      "weight_names_", "weight_counts_", "weight_ranks_", "set_num_threads",
      "release_memory"};
  std::set<std::string> identifiers;
  for (const CompiledFunction &f : functions) {
    std::string id = cIdentifier(f.name), low = lowered(id);
    bool memref = low.rfind("memref", 0) == 0 &&
                  low.find_first_not_of("0123456789", 6) == std::string::npos;
    bool weightShape = low.rfind("weight_shape", 0) == 0;
    if (own.count(low) || memref || weightShape)
      return "function '" + f.name + "': its C name '" + id +
             "' is a name the header declares itself; rename the function";
    if (!identifiers.insert(low).second)
      return "function '" + f.name + "': its C name '" + id +
             "' is also the C name of another function; rename one";
  }
  // An input may have one unknown size besides the batch (a sequence
  // length): it is derived from the buffer's element count. Outputs may
  // not: the caller could not size them.
  for (const CompiledFunction &f : functions)
    for (const auto *list : {&f.inputs, &f.outputs})
      for (const BufferSpec &spec : *list) {
        int unknown = 0;
        for (size_t d = 1; d < spec.shape.size(); ++d)
          unknown += spec.shape[d] == kDynamic;
        if (list == &f.outputs && unknown)
          return "function '" + f.name + "': output '" + spec.name +
                 "' has a size that depends on the inputs (besides the "
                 "batch), which the C interface cannot size: give the "
                 "sequence length in Input(shape)";
        if (unknown > 1)
          return "function '" + f.name + "': input '" + spec.name +
                 "' has more than one unknown size besides the batch";
      }
  return std::nullopt;
}

/// Samples per call of a model's `predict` (0: the whole batch at once): the
/// power of two nearest to the count whose activations (the function's
/// arena per sample) take kChunkBytes, 8 to 256. A batch larger than that runs
/// as several calls, so that each layer's output is still in cache when the
/// next layer reads it (bench/inference.sh: at batch 64 on one thread, a sample
/// of the toy ResNet costs 0.393 ms at once and 0.342 ms 16 at a time). Only
/// where every sample is computed alone (a model's predict: no layer mixes
/// samples at inference) and every batched buffer has no other unknown
/// size.
int64_t layerc::predictSamplesPerCall(const CompiledFunction &f) {
  constexpr int64_t kChunkBytes = 4 << 20;
  if (f.name != "predict" || f.arenaBytesPerSample <= 0)
    return 0;
  bool batched = false;
  for (const auto *specs : {&f.inputs, &f.outputs})
    for (const BufferSpec &s : *specs) {
      if (lengthDim(s))
        return 0;
      batched |= !s.shape.empty() && s.shape[0] == kDynamic;
    }
  if (!batched)
    return 0;
  double samples = static_cast<double>(kChunkBytes) /
                   static_cast<double>(f.arenaBytesPerSample);
  int64_t chunk = int64_t{1} << std::lround(std::log2(std::max(samples, 1.0)));
  return std::clamp<int64_t>(chunk, 8, 256);
}

std::string layerc::emitCHeader(const std::vector<CompiledFunction> &functions,
                                const std::string &prefix,
                                const std::string &source,
                                const ModelLayout *layout,
                                const std::vector<std::string> &checkMessages,
                                bool cuda) {
  assert(isCIdentifier(prefix) && "the prefix must be a C identifier");
  std::string P = upper(prefix);
  std::set<size_t> ranks;
  for (const CompiledFunction &f : functions)
    for (const auto *list : {&f.inputs, &f.outputs})
      for (const BufferSpec &s : *list)
        ranks.insert(s.shape.size());

  std::ostringstream os;
  os << "/* " << prefix << ".h - generated by layerc from "
     << cCommentText(source)
     << ". Do not edit.\n *\n"
        " * Plain C99 (usable from C++). Link the matching object or library\n"
        " * and libm; nothing else is needed at run time"
     << (layout ? " (<prefix>_load_weights and\n * _save_weights also need "
                  "-DLAYERC_WITH_RUNTIME and liblayerc_runtime)"
                : "")
     << ".\n *\n"
        " * Thread safety: every entry point is reentrant. It keeps no state\n"
        " * between calls and allocates its temporaries per call, so calls "
        "may\n"
        " * run concurrently as long as their output buffers are distinct and\n"
        " * no output buffer is also an input"
     << (layout ? "; a context is only written by\n * _train_step, _set_weight "
                  "and _load_weights, which must not overlap other calls\n"
                  " * on the same context"
                : "")
     << ".\n */\n"
     << "#ifndef " << P << "_H\n#define " << P << "_H\n\n"
     << "#include <stddef.h>\n#include <stdint.h>\n"
     << (layout ? "#include <stdlib.h>\n#include <string.h>\n" : "") << "\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  if (cuda)
    os << "/* Compiled for an NVIDIA GPU: the library's CUDA runtime (it loads "
          "the\n * driver, libcuda.so.1, on first use; link with -ldl). */\n"
       << "int layerc_cuda_init(char *error, size_t error_size);\n"
       << "const char *layerc_cuda_error_message(void);\n\n";
  os << "enum {\n  " << P << "_OK = 0,\n  " << P
     << "_ERROR_NULL = 1,  /* a buffer pointer is NULL */\n  " << P
     << "_ERROR_SIZE = 2,  /* a buffer's count does not match its shape */\n  "
     << P << "_ERROR_BATCH = 3, /* batch is < 1 */\n  " << P
     << "_ERROR_MEMORY = 4, /* out of memory */\n  " << P
     << "_ERROR_NAME = 5, /* no weight has that name */\n  " << P
     << "_ERROR_EMBEDDED = 6, /* the weights are compiled in */\n  " << P
     << "_ERROR_FILE = 7, /* a file could not be read or written */\n  " << P
     << "_ERROR_DEVICE = 8, /* the GPU is missing or failed */\n  " << P
     << "_ERROR_CHECK = " << kStatusCheckBase
     << " /* + k: run-time check k failed (see _error_message) */\n};\n\n";
  // The sizes the compiler could not check: their messages, by check.
  os << "#define " << P << "_NUM_CHECKS " << checkMessages.size() << "\n"
     << "static const char *const " << prefix << "_check_messages_["
     << std::max<size_t>(checkMessages.size(), 1) << "] = {";
  for (size_t i = 0; i < checkMessages.size(); ++i)
    os << (i ? ",\n    " : "\n    ") << cStringLiteral(checkMessages[i]);
  if (checkMessages.empty())
    os << "\"\"";
  os << "};\n\n";
  os << "static inline const char *" << prefix << "_error_message(int code) {\n"
     << "  if (code >= " << P << "_ERROR_CHECK && code < " << P
     << "_ERROR_CHECK + " << P << "_NUM_CHECKS)\n    return " << prefix
     << "_check_messages_[code - " << P << "_ERROR_CHECK];\n"
     << "  switch (code) {\n"
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
     << "  case " << P << "_ERROR_MEMORY:\n    return \"out of memory\";\n"
     << "  case " << P
     << "_ERROR_NAME:\n    return \"the model has no weight of that "
        "name\";\n"
     << "  case " << P
     << "_ERROR_EMBEDDED:\n    return \"the weights are compiled into "
        "the library\";\n"
     << "  case " << P
     << "_ERROR_FILE:\n    return \"a file could not be read or "
        "written\";\n"
     << "  case " << P << "_ERROR_DEVICE:\n"
     << (cuda ? "    return layerc_cuda_error_message() ? "
                "layerc_cuda_error_message()\n"
                "                                       : "
                "\"the GPU failed\";\n"
              : "    return \"the GPU is missing or failed\";\n")
     << "  default:\n    return \"unknown error code\";\n  }\n}\n\n";
  for (size_t rank : ranks) {
    os << "typedef struct {\n  void *allocated;\n  void *aligned;\n"
          "  int64_t offset;\n";
    if (rank)
      os << "  int64_t sizes[" << rank << "];\n  int64_t strides[" << rank
         << "];\n";
    os << "} " << prefix << "_memref" << rank << ";\n\n";
  }
  // The thread count (layer-thread-count defines the symbol).
  std::string threads = exportedSymbol(prefix, "set_num_threads");
  os << "/* Threads: the library runs its loops on LLVM's OpenMP runtime "
        "(link\n"
     << " * -lomp). n > 0 sets the threads of the calls that follow; n <= 0 "
        "restores\n"
     << " * the default: the environment variable LAYERC_NUM_THREADS if set, "
        "else\n"
     << " * OpenMP's (all cores, or OMP_NUM_THREADS). A call that starts "
        "while another\n"
     << " * call of this library runs uses one thread. */\n"
     << "void " << threads << "(int n);\n"
     << "static inline void " << prefix << "_set_num_threads(int n) {\n  "
     << threads << "(n);\n}\n\n";
  std::string release = exportedSymbol(prefix, "release_memory");
  os << "/* Scratch memory: each function plans its intermediates in an "
        "arena that\n"
     << " * the library allocates on first use and keeps for the next call "
        "(see the\n"
     << " * _ARENA_BYTES macros). release_memory frees the arenas not in use "
        "now. */\n"
     << "void " << release << "(void);\n"
     << "static inline void " << prefix << "_release_memory(void) {\n  "
     << release << "();\n}\n\n";
  // The header's own macros; the functions' must differ from them.
  std::set<std::string> macros = {P + "_H", P + "_NUM_WEIGHTS",
                                  P + "_NUM_CHECKS"};
  for (const CompiledFunction &f : functions) {
    std::string raw = layout ? "_raw" : "";
    emitFunction(os, f, prefix, raw, macros, cuda ? "_host" : "", false, "",
                 layout && !cuda ? predictSamplesPerCall(f) : 0);
    if (cuda)
      emitFunction(os, f, prefix, "_device" + raw, macros, "_device", true,
                   prefix + "_" + cIdentifier(f.name) + raw);
  }
  if (layout)
    emitContext(os, functions, prefix, *layout, cuda);
  os << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif /* " << P
     << "_H */\n";
  return os.str();
}
