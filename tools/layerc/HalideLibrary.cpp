//===- HalideLibrary.cpp - layerc's libraries through the Halide backend --===//

#include "tools/layerc/HalideLibrary.h"

#include "runtime/Error.h"

#ifdef LAYERC_HAVE_HALIDE
#include "codegen/halide/BackendChoice.h"
#include "codegen/halide/HalideLowering.h"
#endif

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <thread>
#include <vector>

using namespace layerc;
using namespace layerc::tool;

int tool::runCc(llvm::ArrayRef<std::string> args, llvm::StringRef what,
                llvm::StringRef needs, llvm::StringRef otherwise) {
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return fail(needs + " needs a C compiler driver (cc) on PATH" +
                (otherwise.empty() ? "" : "; ") + otherwise);
  std::vector<llvm::StringRef> argv = {*cc};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string message;
  if (llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &message))
    return fail(what + " failed" + (message.empty() ? "" : ": " + message));
  return 0;
}

#ifdef LAYERC_HAVE_HALIDE
namespace {

/// Temporary files, removed when it goes.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const std::string &path : paths)
      llvm::sys::fs::remove(path);
  }
  /// A new empty temporary file name ending in `ext`; empty on failure.
  std::string make(llvm::StringRef ext) {
    llvm::SmallString<128> path;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("layerc-halide", ext, path)) {
      fail("cannot create a temporary file: " + ec.message());
      return "";
    }
    paths.push_back(path.str().str());
    return paths.back();
  }
};

/// Compiles the C glue `source` into the object `object`.
int compileGlue(const std::string &source, TempFiles &temps,
                std::string &object) {
  std::string c = temps.make("c");
  object = temps.make("o");
  if (c.empty() || object.empty())
    return 1;
  if (int rc = writeFile(c, source))
    return rc;
  return runCc({"-std=c99", "-O2", "-fPIC",
                std::string("-I") + LAYERC_HALIDE_INCLUDE, "-c", c, "-o",
                object},
               "compiling the Halide glue", "the Halide backend");
}

/// The static library `outputFile` of `members`: (object bytes, name).
int writeArchive(
    const std::vector<std::pair<llvm::StringRef, std::string>> &members,
    const std::string &outputFile) {
  std::vector<llvm::NewArchiveMember> entries;
  for (const auto &[bytes, member] : members)
    entries.emplace_back(llvm::MemoryBufferRef(bytes, member));
  if (llvm::Error err = llvm::writeArchive(
          outputFile, entries, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true,
          /*Thin=*/false))
    return fail(llvm::toString(std::move(err)));
  return 0;
}

/// The contents of the files `paths`, kept alive in `buffers`, as archive
/// members `prefix`.N.o (and `first` for the first, when given).
int readMembers(const std::vector<std::string> &paths,
                const std::string &prefix,
                std::vector<std::unique_ptr<llvm::MemoryBuffer>> &buffers,
                std::vector<std::pair<llvm::StringRef, std::string>> &members) {
  for (size_t i = 0; i < paths.size(); ++i) {
    auto buffer = llvm::MemoryBuffer::getFile(paths[i]);
    if (!buffer)
      return fail("cannot read " + paths[i]);
    buffers.push_back(std::move(*buffer));
    members.emplace_back(buffers.back()->getBuffer(),
                         prefix + "." + std::to_string(i) + ".o");
  }
  return 0;
}

/// Lowers `module`'s predict; failure (with the diagnostic in `why` when
/// `why` is given, else on the module's handler) when Halide cannot.
mlir::FailureOr<std::unique_ptr<halide::HalideFunction>>
lowerPredict(mlir::ModuleOp module, int cudaCapability, std::string *why) {
  auto predict = module.lookupSymbol<mlir::func::FuncOp>("predict");
  if (!predict) {
    if (why)
      *why = "no predict function";
    return mlir::failure();
  }
  if (!why)
    return halide::HalideFunction::lower(predict, "layerc", 64, cudaCapability);
  mlir::ScopedDiagnosticHandler capture(module.getContext(),
                                        [&](mlir::Diagnostic &d) {
                                          *why = d.str();
                                          return mlir::success();
                                        });
  return halide::HalideFunction::lower(predict, "layerc", 64, cudaCapability);
}

} // namespace
#endif

int tool::emitHalideLibrary(mlir::ModuleOp module, const std::string &prefix,
                            const std::string &headerText,
                            const std::string &headerPath, int cudaCapability,
                            const std::string &outputFile) {
#ifdef LAYERC_HAVE_HALIDE
  if (!module.lookupSymbol<mlir::func::FuncOp>("predict"))
    return fail("--backend=halide compiles a predict function; the model "
                "has none");
  auto lowered = lowerPredict(module, cudaCapability, nullptr);
  if (mlir::failed(lowered))
    return 1;
  TempFiles temps;
  std::string base = temps.make("o"), glue;
  if (base.empty())
    return 1;
  std::string fn = "layerc_halide_" + prefix + "_predict";
  std::vector<std::string> pipeline = (*lowered)->compileToObjects(base, fn);
  temps.paths.insert(temps.paths.end(), pipeline.begin(), pipeline.end());
  if (int rc = compileGlue((*lowered)->cShim(prefix, fn), temps, glue))
    return rc;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  std::vector<std::pair<llvm::StringRef, std::string>> members;
  if (int rc = readMembers({glue}, prefix + "_glue", buffers, members))
    return rc;
  if (int rc = readMembers(pipeline, prefix, buffers, members))
    return rc;
  if (int rc = writeArchive(members, outputFile))
    return rc;
  return writeFile(headerPath, headerText);
#else
  (void)module, (void)prefix, (void)headerText, (void)headerPath,
      (void)cudaCapability, (void)outputFile;
  return fail("--backend=halide: this layerc was built without Halide 14 "
              "(libhalide14-0-dev)");
#endif
}

//===----------------------------------------------------------------------===//
// --backend=auto
//===----------------------------------------------------------------------===//

struct AutoLibrary::Impl {
  std::string prefix;
  std::string cachePath;
#ifdef LAYERC_HAVE_HALIDE
  std::unique_ptr<halide::HalideFunction> fn;
#endif
  /// The measured batches (1 and 64, or the header's samples per call
  /// when fewer; --batch alone, which the LLVM backend compiles for, when
  /// given) and thread counts (1 and the cores).
  int64_t batches[2] = {1, 64};
  int batchCounts = 2;
  int threads[2] = {1, 1};
  /// halide::functionHash of predict, for the backend cache's keys.
  std::string hash;
};

AutoLibrary::AutoLibrary(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AutoLibrary::~AutoLibrary() = default;

std::unique_ptr<AutoLibrary>
AutoLibrary::prepare(mlir::ModuleOp module, const std::string &prefix,
                     int64_t batch, const std::string &cachePath) {
#ifdef LAYERC_HAVE_HALIDE
  std::string why;
  auto lowered = lowerPredict(module, 0, &why);
  if (mlir::failed(lowered)) {
    llvm::errs() << "layerc: --backend=auto: llvm (the Halide backend: " << why
                 << ")\n";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->prefix = prefix;
  impl->cachePath = cachePath;
  impl->fn = std::move(*lowered);
  if (batch > 0) {
    impl->batches[0] = impl->batches[1] = batch;
    impl->batchCounts = 1;
  }
  impl->threads[1] =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  impl->hash =
      halide::functionHash(module.lookupSymbol<mlir::func::FuncOp>("predict"));
  return std::unique_ptr<AutoLibrary>(new AutoLibrary(std::move(impl)));
#else
  (void)module, (void)prefix, (void)batch, (void)cachePath;
  llvm::errs() << "layerc: --backend=auto: llvm (built without Halide)\n";
  return nullptr;
#endif
}

void AutoLibrary::renameLlvmEntryPoints(llvm::Module &m) const {
  std::string lib = "layerc_" + impl_->prefix;
  std::pair<std::string, std::string> renames[] = {
      {"_mlir_ciface_" + lib + "_predict",
       "_mlir_ciface_" + lib + "_predict_llvm"},
      {lib + "_set_num_threads", lib + "_llvm_set_num_threads"},
      {lib + "_release_memory", lib + "_llvm_release_memory"}};
  for (const auto &[from, to] : renames)
    if (llvm::Function *f = m.getFunction(from))
      f->setName(to);
}

#ifdef LAYERC_HAVE_HALIDE
namespace {

/// The C source of a program that times predict of the library being
/// built (over memrefs of `shapes`, -1 for the batch), in a process of its
/// own as an application would call it: `timer HALIDE BATCH THREADS`
/// prints the median ms per call of 7 runs of ~5 ms after a warm-up of
/// 100 ms, or exits non-zero (10 + the call's error code).
std::string timerSource(const std::string &prefix,
                        const std::vector<std::vector<int64_t>> &shapes) {
  std::string lib = "layerc_" + prefix;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << R"C(#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
)C";
  os << "int32_t " << lib << "_predict_backend(int halide, void **m);\n"
     << "void " << lib << "_set_num_threads(int n);\n"
     << "#define MEMREFS " << shapes.size() << "\n"
     << "static const int ranks[MEMREFS] = {";
  for (size_t i = 0; i < shapes.size(); ++i)
    os << (i ? ", " : "") << shapes[i].size();
  os << "};\nstatic const int64_t shapes[MEMREFS][8] = {";
  for (size_t i = 0; i < shapes.size(); ++i) {
    os << (i ? ", {" : "{");
    for (size_t d = 0; d < shapes[i].size(); ++d)
      os << (d ? ", " : "") << shapes[i][d];
    os << "}";
  }
  os << "};\n"
     << "#define PREDICT(h, m) " << lib << "_predict_backend(h, m)\n"
     << "#define SET_THREADS(n) " << lib << "_set_num_threads(n)\n"
     << R"C(
static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int halide, threads, i, d, k, rc, calls;
  int64_t batch, *desc[MEMREFS];
  void *m[MEMREFS];
  double ms[7], start;
  if (argc != 4)
    return 2;
  halide = atoi(argv[1]);
  batch = atoll(argv[2]);
  threads = atoi(argv[3]);
  for (i = 0; i < MEMREFS; ++i) {
    int64_t n = 1, stride = 1, k;
    float *data;
    for (d = 0; d < ranks[i]; ++d)
      n *= shapes[i][d] < 0 ? batch : shapes[i][d];
    data = malloc(n * sizeof(float));
    desc[i] = malloc((3 + 2 * ranks[i]) * sizeof(int64_t));
    if (!data || !desc[i])
      return 3;
    for (k = 0; k < n; ++k)
      data[k] = (float)((k * 7919) % 1000) / 1000.0f;
    desc[i][0] = desc[i][1] = (int64_t)(intptr_t)data;
    desc[i][2] = 0;
    for (d = ranks[i] - 1; d >= 0; --d) {
      desc[i][3 + d] = shapes[i][d] < 0 ? batch : shapes[i][d];
      desc[i][3 + ranks[i] + d] = stride;
      stride *= desc[i][3 + d];
    }
    m[i] = desc[i];
  }
  SET_THREADS(threads);
  /* Warm up (threads started, memory mapped) for 100 ms and 3 calls at
     least, then time 7 runs of calls that take about 5 ms each. */
  start = now_ms();
  for (i = 0; i < 3 || now_ms() - start < 100; ++i)
    if ((rc = PREDICT(halide, m)) != 0)
      return 10 + rc;
  calls = (int)(5 / ((now_ms() - start) / i)) + 1;
  for (i = 0; i < 7; ++i) {
    start = now_ms();
    for (k = 0; k < calls; ++k)
      PREDICT(halide, m);
    ms[i] = (now_ms() - start) / calls;
  }
  qsort(ms, 7, sizeof ms[0], by_value);
  printf("%.6f\n", ms[3]);
  return 0;
}
)C";
  return text;
}

/// Runs `timer` with `args`; the median ms it prints, or nullopt.
std::optional<double> runTimer(const std::string &timer,
                               llvm::ArrayRef<std::string> args,
                               TempFiles &temps) {
  std::string out = temps.make("txt");
  if (out.empty())
    return std::nullopt;
  std::vector<llvm::StringRef> argv = {timer};
  argv.insert(argv.end(), args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(out), std::nullopt};
  if (llvm::sys::ExecuteAndWait(timer, argv, std::nullopt, redirects) != 0)
    return std::nullopt;
  auto text = llvm::MemoryBuffer::getFile(out);
  double ms = 0;
  if (!text || (*text)->getBuffer().trim().getAsDouble(ms) || ms < 0)
    return std::nullopt;
  return ms;
}

} // namespace
#endif

int AutoLibrary::emit(llvm::StringRef llvmObject, const std::string &outputFile,
                      int64_t samplesPerCall) {
#ifdef LAYERC_HAVE_HALIDE
  Impl &m = *impl_;
  // The header calls predict with at most samplesPerCall samples: the
  // larger batch is timed as it will be called.
  if (m.batchCounts == 2 && samplesPerCall > 1)
    m.batches[1] = std::min(m.batches[1], samplesPerCall);
  TempFiles temps;
  std::string base = temps.make("o"), llvmPath = temps.make("o");
  if (base.empty() || llvmPath.empty())
    return 1;
  if (int rc = writeFile(llvmPath, llvmObject))
    return rc;
  std::string fn = "layerc_halide_" + m.prefix + "_predict";
  std::vector<std::string> pipeline = m.fn->compileToObjects(base, fn);
  temps.paths.insert(temps.paths.end(), pipeline.begin(), pipeline.end());
  std::vector<std::vector<int64_t>> shapes = m.fn->memrefShapes();
  halide::GlueDispatch dispatch;
  // Between the two measured batches, their geometric mean (4 for 1 and 16).
  dispatch.batchCut =
      m.batchCounts == 1
          ? m.batches[0]
          : static_cast<int64_t>(
                std::sqrt(static_cast<double>(m.batches[0] * m.batches[1])));
  for (size_t i = 0; i < shapes.size(); ++i)
    if (!shapes[i].empty() && shapes[i][0] < 0) {
      dispatch.batchArg = static_cast<int>(i);
      break;
    }

  // Each (batch, threads) pair: from the cache, or timed by a program
  // linked on first need, one process per measurement (each backend's
  // thread pool alone, sized as an application would size it).
  std::string timer;
  auto time = [&](int halide, int64_t batch, int threads) -> double {
    if (timer.empty()) {
      std::string glue, main;
      if (compileGlue(m.fn->cShim(m.prefix, fn, &dispatch), temps, glue) ||
          compileGlue(timerSource(m.prefix, shapes), temps, main))
        throw Error("--backend=auto could not build its timing program");
      timer = temps.make("");
      std::vector<std::string> args = {"-o", timer, main, glue, llvmPath};
      args.insert(args.end(), pipeline.begin(), pipeline.end());
      args.insert(args.end(),
                  {"-L" LAYERC_OPENMP_DIR, "-Wl,-rpath," LAYERC_OPENMP_DIR,
                   "-lomp", "-lm", "-lpthread", "-ldl"});
      if (runCc(args, "linking the timing program", "--backend=auto"))
        throw Error("--backend=auto could not build its timing program");
    }
    std::optional<double> ms =
        runTimer(timer,
                 {std::to_string(halide), std::to_string(batch),
                  std::to_string(threads)},
                 temps);
    if (!ms) {
      llvm::errs() << "layerc: warning: --backend=auto: "
                   << (halide ? "Halide" : "LLVM") << " failed at batch "
                   << batch << " on " << threads << " threads\n";
      return HUGE_VAL;
    }
    return *ms;
  };
  bool any[2] = {false, false};
  int threadCounts = m.threads[1] > 1 ? 2 : 1;
  int batchCounts = m.batchCounts;
  std::string summary;
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 2; ++t) {
      if (b >= batchCounts || t >= threadCounts) {
        // Not measured (one core, or --batch=1): as the pair below.
        dispatch.useHalide[b][t] =
            dispatch.useHalide[std::min(b, batchCounts - 1)]
                              [std::min(t, threadCounts - 1)];
        continue;
      }
      int64_t batch = m.batches[b];
      int threads = m.threads[t];
      halide::BackendChoice choice = halide::chooseBackend(
          halide::backendCacheKey(m.hash, batch, threads), m.cachePath,
          [&] { return time(1, batch, threads); },
          [&] { return time(0, batch, threads); });
      llvm::errs() << "layerc: --backend=auto: "
                   << choice.describe(batch, threads) << "\n";
      bool halide = choice.backend == "halide";
      dispatch.useHalide[b][t] = halide;
      any[halide] = true;
      std::string batches =
          batchCounts == 1 ? "batch " + std::to_string(batch)
          : b              ? "batch over " + std::to_string(dispatch.batchCut)
                           : "batch 1-" + std::to_string(dispatch.batchCut);
      summary += llvm::formatv("{0}{1}, {2} thread{3}: {4}",
                               summary.empty() ? "" : "; ", batches,
                               t ? "2+" : "1", t ? "s" : "", choice.backend)
                     .str();
    }

  // The library: both backends, or the one that won everywhere.
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  std::vector<std::pair<llvm::StringRef, std::string>> members;
  std::string glue;
  std::string source =
      !any[1]   ? halide::forwardingGlueSource(m.prefix, shapes.size())
      : !any[0] ? m.fn->cShim(m.prefix, fn)
                : m.fn->cShim(m.prefix, fn, &dispatch);
  if (int rc = compileGlue(source, temps, glue))
    return rc;
  if (int rc = readMembers({glue}, m.prefix + "_glue", buffers, members))
    return rc;
  if (any[1])
    if (int rc = readMembers(pipeline, m.prefix, buffers, members))
      return rc;
  if (any[0])
    members.emplace_back(llvmObject, m.prefix + ".o");
  llvm::errs() << "layerc: --backend=auto: "
               << (any[0] && any[1] ? "both backends, chosen per call ("
                   : any[1]         ? "halide ("
                                    : "llvm (")
               << summary << ")\n";
  return writeArchive(members, outputFile);
#else
  (void)llvmObject, (void)outputFile, (void)samplesPerCall;
  return fail("--backend=auto: built without Halide");
#endif
}
