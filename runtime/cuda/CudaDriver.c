/* CudaDriver.c - the GPU runtime of a library compiled for a CUDA target.
 *
 * Code that layerc compiles for `--target=cuda:sm_NN` launches its kernels
 * through MLIR's GPU runtime entry points (mgpuModuleLoadJIT,
 * mgpuLaunchKernel, mgpuStream*: what `gpu-to-llvm` and the translation of
 * `gpu.binary` call), allocates its buffers with layerc_cuda_malloc and
 * copies between host and device with layerc_cuda_memcpy. This file
 * implements them over the CUDA *driver* API, loaded with
 * dlopen("libcuda.so.1") the first time it is needed (LAYERC_CUDA_DRIVER
 * names another file): a library built by layerc links with -ldl and libc
 * only, and needs no CUDA toolkit.
 *
 * The kernels come as a bundle (KernelBundle.h) that mgpuModuleLoad reads:
 * the cubin for the GPU's compute capability when layerc had ptxas to make
 * one, else the PTX, which the driver compiles when the program starts.
 *
 * Errors never abort: the first failure (no driver, no GPU, a PTX the
 * driver refuses, an out-of-memory) is recorded, every later call does
 * nothing, and layerc_cuda_status() returns LAYERC_CUDA_ERROR_DEVICE with
 * the message in layerc_cuda_error_message(). A compiled function calls
 * layerc_cuda_status() before it returns, so its status says so.
 *
 * LAYERC_CUDA_PROFILE=1 times every kernel (CUDA events, one launch at a
 * time) and prints, at exit, the kernels by total time on stderr; kernels
 * are named after the Keras layer they compute.
 *
 * One stream serves the process (CU_STREAM_NON_BLOCKING): kernels and
 * copies run in order on it; layerc_cuda_status() waits for it. Buffers
 * come from the device's default memory pool (cuMemAllocAsync) with its
 * release threshold raised, so steady-state calls do not call the driver's
 * allocator. Thread safety: initialization is guarded by a mutex; calls
 * from several threads share the stream (each call's work stays ordered).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "KernelBundle.h"

/* Status codes: the same numbers as a model header's <P>_ERROR_DEVICE. */
#define LAYERC_CUDA_OK 0
#define LAYERC_CUDA_ERROR_DEVICE 8

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream, *CUmemoryPool,
    *CUevent;
typedef unsigned long long CUdeviceptr;

static struct {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*moduleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                               void **);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*memAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*memFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*memcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*deviceGetDefaultMemPool)(CUmemoryPool *, CUdevice);
  CUresult (*memPoolSetAttribute)(CUmemoryPool, int, void *);
  CUresult (*getErrorString)(CUresult, const char **);
  /* Optional: LAYERC_CUDA_PROFILE only. */
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventRecord)(CUevent, CUstream);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent);
} cu;

static pthread_mutex_t initLock = PTHREAD_MUTEX_INITIALIZER;
static int initialized; /* 0: not yet, 1: ready, -1: failed */
static CUcontext context;
static CUstream stream;
static int deviceArch; /* the compute capability: 90 for 9.0 */
/* What the kernel module was loaded from, for LAYERC_CUDA_PROFILE. */
static char moduleSource[96] = "no kernel module";
static char failure[512]; /* the first error; empty while none */

static void fail(const char *what, const char *detail) {
  if (failure[0] == '\0')
    snprintf(failure, sizeof failure, "CUDA: %s%s%s", what, detail ? ": " : "",
             detail ? detail : "");
}

/* Records a failed driver call; returns whether `r` is success. */
static int check(CUresult r, const char *call) {
  if (r == 0)
    return 1;
  const char *text = NULL;
  if (cu.getErrorString)
    cu.getErrorString(r, &text);
  char detail[256];
  snprintf(detail, sizeof detail, "%s (error %d)", text ? text : "unknown", r);
  fail(call, detail);
  return 0;
}

static int loadDriver(void) {
  const char *path = getenv("LAYERC_CUDA_DRIVER");
  void *lib =
      dlopen(path && *path ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fail("no NVIDIA driver (libcuda.so.1 could not be loaded)", dlerror());
    return 0;
  }
  struct {
    void **slot;
    const char *name;
  } symbols[] = {
      {(void **)&cu.init, "cuInit"},
      {(void **)&cu.deviceGetCount, "cuDeviceGetCount"},
      {(void **)&cu.deviceGet, "cuDeviceGet"},
      {(void **)&cu.deviceGetAttribute, "cuDeviceGetAttribute"},
      {(void **)&cu.primaryCtxRetain, "cuDevicePrimaryCtxRetain"},
      {(void **)&cu.ctxSetCurrent, "cuCtxSetCurrent"},
      {(void **)&cu.moduleLoadDataEx, "cuModuleLoadDataEx"},
      {(void **)&cu.moduleUnload, "cuModuleUnload"},
      {(void **)&cu.moduleGetFunction, "cuModuleGetFunction"},
      {(void **)&cu.launchKernel, "cuLaunchKernel"},
      {(void **)&cu.streamCreate, "cuStreamCreate"},
      {(void **)&cu.streamSynchronize, "cuStreamSynchronize"},
      {(void **)&cu.memAllocAsync, "cuMemAllocAsync"},
      {(void **)&cu.memFreeAsync, "cuMemFreeAsync"},
      {(void **)&cu.memcpyAsync, "cuMemcpyAsync"},
      {(void **)&cu.deviceGetDefaultMemPool, "cuDeviceGetDefaultMemPool"},
      {(void **)&cu.memPoolSetAttribute, "cuMemPoolSetAttribute"},
      {(void **)&cu.getErrorString, "cuGetErrorString"},
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; ++i) {
    *symbols[i].slot = dlsym(lib, symbols[i].name);
    if (!*symbols[i].slot) {
      fail("the NVIDIA driver is too old: it lacks", symbols[i].name);
      return 0;
    }
  }
  *(void **)&cu.eventCreate = dlsym(lib, "cuEventCreate");
  *(void **)&cu.eventRecord = dlsym(lib, "cuEventRecord");
  *(void **)&cu.eventSynchronize = dlsym(lib, "cuEventSynchronize");
  *(void **)&cu.eventElapsedTime = dlsym(lib, "cuEventElapsedTime");
  return 1;
}

static int initialize(void) {
  int count = 0;
  CUdevice device;
  CUmemoryPool pool;
  if (!loadDriver() || !check(cu.init(0), "cuInit") ||
      !check(cu.deviceGetCount(&count), "cuDeviceGetCount"))
    return 0;
  if (count == 0) {
    fail("no GPU", "the driver sees no CUDA device");
    return 0;
  }
  int major = 0, minor = 0;
  if (!check(cu.deviceGet(&device, 0), "cuDeviceGet") ||
      /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR and _MINOR */
      !check(cu.deviceGetAttribute(&major, 75, device),
             "cuDeviceGetAttribute") ||
      !check(cu.deviceGetAttribute(&minor, 76, device),
             "cuDeviceGetAttribute") ||
      !check(cu.primaryCtxRetain(&context, device),
             "cuDevicePrimaryCtxRetain") ||
      !check(cu.ctxSetCurrent(context), "cuCtxSetCurrent") ||
      !check(cu.streamCreate(&stream, 0x1), "cuStreamCreate") ||
      !check(cu.deviceGetDefaultMemPool(&pool, device),
             "cuDeviceGetDefaultMemPool"))
    return 0;
  deviceArch = 10 * major + minor;
  /* Keep freed blocks in the pool: CU_MEMPOOL_ATTR_RELEASE_THRESHOLD. */
  uint64_t keep = UINT64_MAX;
  return check(cu.memPoolSetAttribute(pool, 4, &keep), "cuMemPoolSetAttribute");
}

/* Whether the driver is ready; makes its context current on this thread. */
static int ready(void) {
  if (__atomic_load_n(&initialized, __ATOMIC_ACQUIRE) == 0) {
    pthread_mutex_lock(&initLock);
    if (initialized == 0)
      __atomic_store_n(&initialized, initialize() ? 1 : -1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&initLock);
  }
  if (initialized != 1 || failure[0] != '\0')
    return 0;
  return check(cu.ctxSetCurrent(context), "cuCtxSetCurrent");
}

int layerc_cuda_init(char *error, size_t error_size) {
  if (ready())
    return LAYERC_CUDA_OK;
  if (error && error_size > 0)
    snprintf(error, error_size, "%s", failure);
  return LAYERC_CUDA_ERROR_DEVICE;
}

const char *layerc_cuda_error_message(void) {
  return failure[0] ? failure : NULL;
}

int layerc_cuda_status(void) {
  if (!ready() || !check(cu.streamSynchronize(stream), "a kernel failed"))
    return LAYERC_CUDA_ERROR_DEVICE;
  return LAYERC_CUDA_OK;
}

void *layerc_cuda_malloc(uint64_t bytes) {
  CUdeviceptr p = 0;
  if (!ready() || !check(cu.memAllocAsync(&p, bytes ? bytes : 1, stream),
                         "cuMemAllocAsync"))
    return NULL;
  return (void *)(uintptr_t)p;
}

void layerc_cuda_free(void *p) {
  if (p && ready())
    check(cu.memFreeAsync((CUdeviceptr)(uintptr_t)p, stream), "cuMemFreeAsync");
}

void layerc_cuda_memcpy(int64_t dst, int64_t src, int64_t bytes) {
  if (bytes > 0 && ready())
    check(cu.memcpyAsync((CUdeviceptr)dst, (CUdeviceptr)src, (size_t)bytes,
                         stream),
          "cuMemcpyAsync");
}

/* The device copies of the constants the host code hands to kernels (the
 * weights of an --embed-weights library), made on first use and kept for
 * the process's lifetime. A short list: a model has a few dozen. */
static struct DeviceGlobal {
  const void *host;
  void *device;
  struct DeviceGlobal *next;
} * deviceGlobals;
static pthread_mutex_t globalsLock = PTHREAD_MUTEX_INITIALIZER;

void *layerc_cuda_global(const void *host, uint64_t bytes) {
  void *device = NULL;
  pthread_mutex_lock(&globalsLock);
  for (struct DeviceGlobal *g = deviceGlobals; g; g = g->next)
    if (g->host == host)
      device = g->device;
  if (!device && ready()) {
    CUdeviceptr p = 0;
    static struct DeviceGlobal entries[4096];
    static size_t used;
    /* Synchronous: the copy is complete before any kernel reads it. */
    if (used < sizeof entries / sizeof entries[0] &&
        check(cu.memAllocAsync(&p, bytes ? bytes : 1, stream),
              "cuMemAllocAsync") &&
        check(cu.memcpyAsync(p, (CUdeviceptr)(uintptr_t)host, bytes, stream),
              "cuMemcpyAsync") &&
        check(cu.streamSynchronize(stream), "cuStreamSynchronize")) {
      device = (void *)(uintptr_t)p;
      entries[used] = (struct DeviceGlobal){host, device, deviceGlobals};
      deviceGlobals = &entries[used++];
    } else if (used >= sizeof entries / sizeof entries[0]) {
      fail("too many constant tensors", "more than 4096");
    }
  }
  pthread_mutex_unlock(&globalsLock);
  return device;
}

/* LAYERC_CUDA_PROFILE: the time of each kernel (by CUfunction). */
static struct Profiled {
  CUfunction function;
  char name[160];
  double ms;
  long calls;
} profiled[2048];
static int numProfiled, profiling = -1;
static CUevent profileStart, profileStop;

static int compareProfiled(const void *a, const void *b) {
  double x = ((const struct Profiled *)a)->ms,
         y = ((const struct Profiled *)b)->ms;
  return (x < y) - (x > y);
}

static void printProfile(void) {
  double total = 0;
  int i;
  qsort(profiled, (size_t)numProfiled, sizeof profiled[0], compareProfiled);
  for (i = 0; i < numProfiled; ++i)
    total += profiled[i].ms;
  fprintf(stderr,
          "layerc CUDA profile: %d kernels (%s), %.3f ms in all\n"
          "      ms  share   calls  kernel\n",
          numProfiled, moduleSource, total);
  for (i = 0; i < numProfiled && i < 25; ++i)
    fprintf(stderr, "%8.3f %5.1f%% %7ld  %s\n", profiled[i].ms,
            total > 0 ? 100 * profiled[i].ms / total : 0, profiled[i].calls,
            profiled[i].name);
}

static struct Profiled *profileEntry(CUfunction f, const char *name) {
  int i;
  if (profiling == -1) {
    const char *env = getenv("LAYERC_CUDA_PROFILE");
    profiling = env && *env && *env != '0' && cu.eventCreate &&
                cu.eventCreate(&profileStart, 0) == 0 &&
                cu.eventCreate(&profileStop, 0) == 0;
    if (profiling)
      atexit(printProfile);
  }
  if (!profiling)
    return NULL;
  for (i = 0; i < numProfiled; ++i)
    if (profiled[i].function == f)
      return &profiled[i];
  if (!name || numProfiled == (int)(sizeof profiled / sizeof profiled[0]))
    return NULL;
  profiled[numProfiled].function = f;
  snprintf(profiled[numProfiled].name, sizeof profiled[0].name, "%s", name);
  return &profiled[numProfiled++];
}

/* The driver's compiler on `ptx`, at CU_JIT_OPTIMIZATION_LEVEL `optLevel`. */
static CUmodule compilePtx(const void *ptx, int optLevel) {
  CUmodule module = NULL;
  char log[2048] = {0};
  int options[] = {5 /* CU_JIT_ERROR_LOG_BUFFER */,
                   6 /* CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES */,
                   7 /* CU_JIT_OPTIMIZATION_LEVEL */};
  void *values[] = {log, (void *)(uintptr_t)sizeof log,
                    (void *)(uintptr_t)optLevel};
  if (!ready())
    return NULL;
  if (cu.moduleLoadDataEx(&module, ptx, 3, options, values) != 0) {
    fail("the driver could not compile the model's PTX", log);
    return NULL;
  }
  snprintf(moduleSource, sizeof moduleSource,
           "PTX compiled by the driver for sm_%d", deviceArch);
  return module;
}

/* MLIR's GPU runtime entry points. */

CUmodule mgpuModuleLoadJIT(void *ptx, int optLevel) {
  return compilePtx(ptx, optLevel);
}

static uint32_t read32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t read64(const unsigned char *p) {
  return (uint64_t)read32(p) | (uint64_t)read32(p + 4) << 32;
}

/* A kernel bundle (KernelBundle.h): the cubin for this GPU's compute
 * capability when there is one and the driver takes it, else the PTX,
 * which the driver compiles (a newer GPU than the library was built for,
 * or a driver too old for the cubin). */
static CUmodule loadBundle(const unsigned char *bundle, size_t size) {
  const char *ptx = NULL;
  const void *cubin = NULL;
  uint32_t count = 0, jitOptLevel = 0, i;
  CUmodule module = NULL;
  if (!ready())
    return NULL;
  if (size >= sizeof(LayercCudaBundleHeader)) {
    count = read32(bundle + 8);
    jitOptLevel = read32(bundle + 12);
  }
  if (count == 0 || count > (size - sizeof(LayercCudaBundleHeader)) /
                                sizeof(LayercCudaBundleEntry)) {
    fail("the library's kernel bundle is corrupt", "no entries");
    return NULL;
  }
  for (i = 0; i < count; ++i) {
    const unsigned char *e = bundle + sizeof(LayercCudaBundleHeader) +
                             i * sizeof(LayercCudaBundleEntry);
    uint32_t kind = read32(e), arch = read32(e + 4);
    uint64_t offset = read64(e + 8), bytes = read64(e + 16);
    if (offset > size || bytes > size - offset || bytes == 0) {
      fail("the library's kernel bundle is corrupt", "an entry out of bounds");
      return NULL;
    }
    if (kind == LAYERC_CUDA_BUNDLE_PTX && bundle[offset + bytes - 1] == '\0')
      ptx = (const char *)bundle + offset;
    else if (kind == LAYERC_CUDA_BUNDLE_CUBIN && (int)arch == deviceArch)
      cubin = bundle + offset;
  }
  if (cubin && cu.moduleLoadDataEx(&module, cubin, 0, NULL, NULL) == 0) {
    snprintf(moduleSource, sizeof moduleSource, "cubin for sm_%d", deviceArch);
    return module;
  }
  if (!ptx) {
    fail("the library's kernel bundle is corrupt", "it has no PTX");
    return NULL;
  }
  return compilePtx(ptx, (int)jitOptLevel);
}

CUmodule mgpuModuleLoad(void *data, size_t size) {
  CUmodule module = NULL;
  if (size >= 8 && memcmp(data, LAYERC_CUDA_BUNDLE_MAGIC, 8) == 0)
    return loadBundle(data, size);
  if (!ready() || !check(cu.moduleLoadDataEx(&module, data, 0, NULL, NULL),
                         "cuModuleLoadData"))
    return NULL;
  snprintf(moduleSource, sizeof moduleSource, "a cubin");
  return module;
}

void mgpuModuleUnload(CUmodule module) {
  /* At exit: the driver may already be shutting down; ignore errors. */
  if (module && initialized == 1)
    cu.moduleUnload(module);
}

CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  CUfunction function = NULL;
  if (!module) {
    fail("a kernel module is not loaded", name);
    return NULL;
  }
  if (!ready() || !check(cu.moduleGetFunction(&function, module, name),
                         "cuModuleGetFunction"))
    return NULL;
  profileEntry(function, name);
  return function;
}

CUstream mgpuStreamCreate(void) { return ready() ? stream : NULL; }

void mgpuStreamDestroy(CUstream s) { (void)s; }

/* Kernels stay in order on the one stream; layerc_cuda_status() waits. */
void mgpuStreamSynchronize(CUstream s) { (void)s; }

void mgpuLaunchKernel(CUfunction function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, CUstream s, void **params,
                      void **extra, size_t paramsCount) {
  struct Profiled *p;
  (void)paramsCount;
  if (!function || !ready())
    return;
  p = profileEntry(function, NULL);
  if (p)
    cu.eventRecord(profileStart, s ? s : stream);
  check(cu.launchKernel(function, (unsigned)gridX, (unsigned)gridY,
                        (unsigned)gridZ, (unsigned)blockX, (unsigned)blockY,
                        (unsigned)blockZ, (unsigned)smem, s ? s : stream,
                        params, extra),
        "cuLaunchKernel");
  if (p) {
    float ms = 0;
    cu.eventRecord(profileStop, s ? s : stream);
    cu.eventSynchronize(profileStop);
    cu.eventElapsedTime(&ms, profileStart, profileStop);
    p->ms += ms;
    ++p->calls;
  }
}
