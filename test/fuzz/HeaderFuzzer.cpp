//===- HeaderFuzzer.cpp - libFuzzer target for the C header generator -----===//
//
// Turns arbitrary bytes into the strings a model file controls -- the source
// file's name, function and buffer names, weight names, check messages --
// generates the C header for them, and compiles it with
// `cc -std=c99 -Wall -Wextra -Werror -pedantic` into a program that checks
// every weight name and check message comes back byte for byte and that
// nothing else runs (an injected constructor would print first). A compile
// error, a wrong name, or any extra output is a bug: the target aborts.
// Built and run for a bounded time by test/fuzz/header.test.
//
//===----------------------------------------------------------------------===//

#include "codegen/Header.h"

#include "FuzzReport.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace layerc;

namespace {

/// Fields separated by '\n'; a NUL (which the model loader refuses in
/// names) is dropped.
std::vector<std::string> fields(const uint8_t *data, size_t size) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < size && out.size() <= 8; ++i) {
    if (data[i] == '\n')
      out.emplace_back();
    else if (data[i] != 0)
      out.back() += static_cast<char>(data[i]);
  }
  return out;
}

/// `text` as a C array initializer of its bytes, NUL-terminated.
std::string bytes(const std::string &text) {
  std::string out = "{";
  for (unsigned char c : text)
    out += "(char)" + std::to_string(c) + ",";
  return out + "0}";
}

/// A scratch folder of this process, removed at exit (the path is never
/// freed: the exit handler runs after static destructors).
const std::string &dir() {
  static const std::string *d = [] {
    auto *p = new std::string("/dev/shm/layerc-header-fuzz-" +
                              std::to_string(getpid()));
    if (std::system(("mkdir -p " + *p).c_str()) != 0)
      std::abort();
    std::atexit([] { (void)std::system(("rm -rf " + dir()).c_str()); });
    return p;
  }();
  return *d;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 512)
    return 0;
  ++fuzz::report().inputs;
  std::vector<std::string> f = fields(data, size);
  while (f.size() < 4)
    f.push_back("w" + std::to_string(f.size()));

  // predict(x: (?, 3), weights...) -> (?, 2); train_step like layerc's.
  CompiledFunction predict;
  predict.name = "predict";
  predict.inputs.push_back({f[2], DType::Float32, {kDynamic, 3}});
  ModelLayout layout;
  for (size_t i = 2; i < f.size(); ++i) {
    layout.weightNames.push_back(f[i]);
    layout.weightShapes.push_back({2, 3});
    predict.inputs.push_back({f[i], DType::Float32, {2, 3}});
  }
  predict.outputs.push_back({f[3], DType::Float32, {kDynamic, 2}});
  CompiledFunction other;
  other.name = f[1];
  other.inputs.push_back({f[1], DType::Float64, {4}});
  other.outputs.push_back({f[1], DType::Float64, {4}});
  std::vector<CompiledFunction> functions{predict};
  if (!checkCInterface({predict, other}))
    functions.push_back(other);
  else
    ++fuzz::report().refused;
  std::vector<std::string> checks{f[0], f[1]};
  std::string header = emitCHeader(functions, "fz", f[0], &layout, checks);

  std::ostringstream c;
  c << "#include <stdio.h>\n#include <string.h>\n#include \"fz.h\"\n"
    << "int main(void) {\n  int bad = 0;\n";
  for (size_t i = 0; i < layout.weightNames.size(); ++i)
    c << "  { static const char want[] = " << bytes(layout.weightNames[i])
      << ";\n    bad |= strcmp(fz_weight_name(" << i << "), want) != 0;\n"
      << "    bad |= fz_find_weight(want) < 0; }\n";
  for (size_t i = 0; i < checks.size(); ++i)
    c << "  { static const char want[] = " << bytes(checks[i])
      << ";\n    bad |= strcmp(fz_error_message(FZ_ERROR_CHECK + " << i
      << "), want) != 0; }\n";
  c << "  printf(bad ? \"BAD\\n\" : \"ok\\n\");\n  return bad;\n}\n";

  std::ofstream(dir() + "/fz.h") << header;
  std::ofstream(dir() + "/main.c") << c.str();
  std::string compile = "cc -std=c99 -Wall -Wextra -Werror -pedantic -O0 -I" +
                        dir() + " " + dir() + "/main.c -o " + dir() +
                        "/main 2>" + dir() + "/cc.log";
  if (std::system(compile.c_str()) != 0) {
    std::system(("cat " + dir() + "/cc.log " + dir() + "/fz.h >&2").c_str());
    std::abort();
  }
  std::string run = dir() + "/main > " + dir() + "/out.txt";
  int status = std::system(run.c_str());
  std::ifstream outFile(dir() + "/out.txt");
  std::string out((std::istreambuf_iterator<char>(outFile)),
                  std::istreambuf_iterator<char>());
  if (status != 0 || out != "ok\n") {
    std::fprintf(stderr, "program printed '%s'\n", out.c_str());
    std::abort();
  }
  return 0;
}
