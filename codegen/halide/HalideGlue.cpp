//===- HalideGlue.cpp - C entry points over a Halide pipeline -------------===//
//
// The C source that `layerc --backend=halide` compiles beside the Halide
// object: the entry points a layerc C header calls, over the pipeline's
// halide_buffer_t interface (HalideFunction::cShim); and the timing that
// --backend=auto uses.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/HalideLowering.h"

#include <algorithm>
#include <chrono>
#include <sstream>

using namespace layerc;
using namespace layerc::halide;

namespace {
/// The part of the C glue that is the same for every model: memref
/// descriptors as halide_buffer_t, and an allocator that keeps, per thread,
/// the blocks freed by the last call for the next (a network computed image
/// by image allocates the same buffers for every image; through malloc,
/// large ones are mapped and unmapped each time, a page fault per page).
constexpr const char *kGlueCommon = R"C(#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <HalideRuntime.h>

/* A memref descriptor: allocated, aligned, offset, sizes, strides. */
static void wrap(halide_buffer_t *b, halide_dimension_t *d,
                 const void *memref, int rank) {
  const char *p = (const char *)memref;
  char *aligned;
  int64_t offset, size, stride;
  int i;
  memcpy(&aligned, p + sizeof(void *), sizeof aligned);
  memcpy(&offset, p + 2 * sizeof(void *), sizeof offset);
  memset(b, 0, sizeof *b);
  b->host = (uint8_t *)(aligned + offset * 4);
  b->type.code = halide_type_float;
  b->type.bits = 32;
  b->type.lanes = 1;
  b->dimensions = rank;
  b->dim = d;
  for (i = 0; i < rank; ++i) {
    memcpy(&size, p + 3 * 8 + 8 * (rank - 1 - i), 8);
    memcpy(&stride, p + 3 * 8 + 8 * (2 * rank - 1 - i), 8);
    d[i].min = 0;
    d[i].extent = (int32_t)size;
    d[i].stride = (int32_t)stride;
    d[i].flags = 0;
  }
}

#define CACHED 16
static __thread void *cached_block[CACHED];
static __thread size_t cached_size[CACHED];

static void *cached_malloc(void *user_context, size_t n) {
  char *p;
  int i;
  for (i = 0; i < CACHED; ++i)
    if (cached_block[i] && cached_size[i] == n) {
      p = (char *)cached_block[i];
      cached_block[i] = NULL;
      return p;
    }
  p = (char *)halide_default_malloc(user_context, n + 64);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  return p + 64;
}

static void cached_free(void *user_context, void *block) {
  size_t n;
  int i;
  if (!block)
    return;
  memcpy(&n, (char *)block - 64, sizeof n);
  for (i = 0; i < CACHED; ++i)
    if (!cached_block[i]) {
      cached_block[i] = block;
      cached_size[i] = n;
      return;
    }
  halide_default_free(user_context, (char *)block - 64);
}

static void release_cached(void) {
  int i;
  for (i = 0; i < CACHED; ++i)
    if (cached_block[i]) {
      halide_default_free(NULL, (char *)cached_block[i] - 64);
      cached_block[i] = NULL;
    }
}

/* LAYERC_NUM_THREADS sets the threads as for the LLVM backend's libraries
   (unless the application called set_num_threads first). */
static void start(void) {
  static int started;
  const char *n;
  if (started)
    return;
  started = 1;
  halide_set_custom_malloc(cached_malloc);
  halide_set_custom_free(cached_free);
  n = getenv("LAYERC_NUM_THREADS");
  if (n && atoi(n) > 0)
    halide_set_num_threads(atoi(n));
}
)C";
} // namespace

namespace {
/// "void *m0, void *m1, ..." (`named`) or "void *, void *, ..." for `n`
/// memref descriptors.
std::string memrefParams(size_t n, bool named) {
  std::string text;
  for (size_t i = 0; i < n; ++i)
    text +=
        (i ? ", void *" : "void *") + (named ? "m" + std::to_string(i) : "");
  return text;
}

/// "m[0], m[1], ..." (`indexed`) or "m0, m1, ..." for `n` memref
/// descriptors.
std::string memrefArgs(size_t n, bool indexed) {
  std::string text;
  for (size_t i = 0; i < n; ++i)
    text += (i ? ", m" : "m") +
            (indexed ? "[" + std::to_string(i) + "]" : std::to_string(i));
  return text;
}
} // namespace

std::string halide::glueSource(const std::string &prefix,
                               const std::string &name,
                               const std::vector<int> &ranks, bool images,
                               size_t results, bool gpu,
                               const GlueDispatch *dispatch) {
  std::ostringstream os;
  std::string lib = "layerc_" + prefix;
  size_t n = ranks.size();
  os << "/* layerc's entry points over the Halide pipeline " << name
     << (dispatch ? " and the LLVM backend's code" : "")
     << " (generated). */\n";
  if (gpu)
    os << "#define _POSIX_C_SOURCE 200809L\n#include <dlfcn.h>\n";
  if (dispatch)
    os << "#define _POSIX_C_SOURCE 200809L\n#include <unistd.h>\n";
  os << kGlueCommon << "\nint " << name << "_argv(void **args);\n";
  if (gpu)
    // Halide's CUDA runtime aborts the process when it cannot find the
    // driver: the driver is looked for first, and made visible to it
    // (RTLD_GLOBAL), so that a machine without one gets an error code.
    os << R"C(
static int cuda_ready(void) {
  static int state; /* 0: not looked for yet, 1: a GPU, 2: none */
  if (!state) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    int (*init)(unsigned) = NULL;
    int (*count)(int *) = NULL;
    int n = 0;
    if (lib) {
      *(void **)&init = dlsym(lib, "cuInit");
      *(void **)&count = dlsym(lib, "cuDeviceGetCount");
    }
    state = init && count && init(0) == 0 && count(&n) == 0 && n > 0 ? 1 : 2;
  }
  return state == 1;
}
)C";
  if (images)
    os << "int " << name << "_images_argv(void **args);\n";
  os << "\nstatic int32_t run_halide(void **m) {\n  halide_buffer_t b[" << n
     << "];\n"
     << "  halide_dimension_t d[" << n << "][8];\n"
     << "  void *args[" << n << "];\n  start();\n";
  for (size_t i = 0; i < n; ++i)
    os << "  wrap(&b[" << i << "], d[" << i << "], m[" << i << "], " << ranks[i]
       << ");\n  args[" << i << "] = &b[" << i << "];\n";
  // The header checked every size: an allocation is what is left to fail.
  // Batches of 2 and more run image by image (the images in parallel).
  if (images)
    os << "  if (d[0][b[0].dimensions - 1].extent > 1)\n    return " << name
       << "_images_argv(args) == 0 ? 0 : 4;\n";
  if (gpu) {
    // Halide's CUDA runtime copied the host buffers to the GPU and left the
    // results there: copy them back, and free every device copy (the
    // buffers live on this stack). Any failure is the GPU's (no driver, no
    // device, out of device memory): the header's <P>_ERROR_DEVICE.
    os << "  if (!cuda_ready())\n    return 8;\n"
       << "  {\n    int rc = " << name << "_argv(args), i;\n"
       << "    for (i = " << n - results << "; rc == 0 && i < " << n
       << "; ++i)\n"
       << "      rc = halide_copy_to_host(NULL, &b[i]);\n"
       << "    for (i = 0; i < " << n << "; ++i)\n"
       << "      halide_device_free(NULL, &b[i]);\n"
       << "    return rc == 0 ? 0 : 8;\n  }\n}\n\n";
  } else {
    os << "  return " << name << "_argv(args) == 0 ? 0 : 4;\n}\n\n";
  }
  if (!dispatch) {
    os << "int32_t _mlir_ciface_" << lib << "_predict(" << memrefParams(n, true)
       << ") {\n  void *m[] = {" << memrefArgs(n, false)
       << "};\n  return run_halide(m);\n}\n\n";
    os << "void " << lib << "_set_num_threads(int n) {\n"
       << "  start();\n  halide_set_num_threads(n > 0 ? n : 0);\n}\n\n"
       << "void " << lib << "_release_memory(void) {\n"
       << "  release_cached();\n  halide_shutdown_thread_pool();\n}\n";
    return os.str();
  }
  // Both backends: the LLVM backend's entry points under the names
  // renameLlvmEntryPoints gave them, and the table of which is faster.
  auto flag = [&](int big, int many) {
    return dispatch->useHalide[big][many] ? "1" : "0";
  };
  os << "int32_t _mlir_ciface_" << lib << "_predict_llvm("
     << memrefParams(n, false) << ");\n"
     << "void " << lib << "_llvm_set_num_threads(int n);\n"
     << "void " << lib << "_llvm_release_memory(void);\n\n"
     << "/* Whether a call runs through Halide, as layerc measured the two\n"
     << "   backends when it built this library: [batch over "
     << dispatch->batchCut << "][more than one thread]. */\n"
     << "static const int use_halide[2][2] = {{" << flag(0, 0) << ", "
     << flag(0, 1) << "}, {" << flag(1, 0) << ", " << flag(1, 1) << "}};\n"
     << "static int threads_asked; /* by set_num_threads; 0: not asked */\n\n"
     << R"C(/* The threads a call runs on, as both backends count them:
   set_num_threads, then LAYERC_NUM_THREADS, then the cores online (these
   two read once; racing first calls compute the same value). */
static int threads_now(void) {
  static int by_default;
  if (threads_asked > 0)
    return threads_asked;
  if (!by_default) {
    const char *n = getenv("LAYERC_NUM_THREADS");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    by_default = n && atoi(n) > 0 ? atoi(n) : cores > 0 ? (int)cores : 1;
  }
  return by_default;
}

)C";
  os << "/* Runs predict through Halide (`halide`) or the LLVM backend. */\n"
     << "int32_t " << lib << "_predict_backend(int halide, void **m) {\n"
     << "  if (halide)\n    return run_halide(m);\n"
     << "  return _mlir_ciface_" << lib << "_predict_llvm("
     << memrefArgs(n, true) << ");\n}\n\n"
     << "int32_t _mlir_ciface_" << lib << "_predict(" << memrefParams(n, true)
     << ") {\n  void *m[] = {" << memrefArgs(n, false) << "};\n"
     << "  int64_t batch;\n"
     << "  memcpy(&batch, (const char *)m[" << dispatch->batchArg
     << "] + 2 * sizeof(void *) + 8, sizeof batch);\n"
     << "  return " << lib << "_predict_backend(\n"
     << "      use_halide[batch > " << dispatch->batchCut
     << "][threads_now() > 1], m);\n}\n\n"
     << "void " << lib << "_set_num_threads(int n) {\n"
     << "  start();\n  threads_asked = n > 0 ? n : 0;\n"
     << "  halide_set_num_threads(n > 0 ? n : 0);\n"
     << "  " << lib << "_llvm_set_num_threads(n);\n}\n\n"
     << "void " << lib << "_release_memory(void) {\n"
     << "  release_cached();\n  halide_shutdown_thread_pool();\n"
     << "  " << lib << "_llvm_release_memory();\n}\n";
  return os.str();
}

std::string halide::forwardingGlueSource(const std::string &prefix,
                                         size_t memrefs) {
  std::string lib = "layerc_" + prefix;
  std::ostringstream os;
  os << "/* layerc's entry points over the LLVM backend's code (generated):\n"
     << "   --backend=auto found it the faster everywhere. */\n"
     << "#include <stdint.h>\n"
     << "int32_t _mlir_ciface_" << lib << "_predict_llvm("
     << memrefParams(memrefs, false) << ");\n"
     << "void " << lib << "_llvm_set_num_threads(int n);\n"
     << "void " << lib << "_llvm_release_memory(void);\n\n"
     << "int32_t _mlir_ciface_" << lib << "_predict("
     << memrefParams(memrefs, true) << ") {\n"
     << "  return _mlir_ciface_" << lib << "_predict_llvm("
     << memrefArgs(memrefs, false) << ");\n}\n\n"
     << "void " << lib << "_set_num_threads(int n) {\n  " << lib
     << "_llvm_set_num_threads(n);\n}\n\n"
     << "void " << lib << "_release_memory(void) {\n  " << lib
     << "_llvm_release_memory();\n}\n";
  return os.str();
}

double halide::medianCallMs(const std::function<void()> &call, int calls) {
  call();
  std::vector<double> ms;
  for (int i = 0; i < std::max(calls, 1); ++i) {
    auto start = std::chrono::steady_clock::now();
    call();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}
