/* A stand-in for the NVIDIA driver (libcuda.so.1), for testing on machines
 * without a GPU which of a library's kernels the runtime hands to the
 * driver (runtime/cuda/CudaDriver.c, loaded through LAYERC_CUDA_DRIVER):
 *   cc -shared -fPIC fake_libcuda.c -o libfakecuda.so
 *   LAYERC_CUDA_DRIVER=./libfakecuda.so FAKE_CUDA_CC=90 ./app
 * One device of compute capability FAKE_CUDA_CC (default 90) whose memory
 * is host memory and whose kernels do nothing. cuModuleLoadDataEx says on
 * stderr what it got: a cubin (an ELF image, or with FAKE_CUDA_REFUSE_CUBIN
 * set refused as CUDA_ERROR_NO_BINARY_FOR_GPU), PTX with its .target and
 * JIT level, or other bytes (their first 8); with FAKE_CUDA_TRACE set,
 * cuMemcpyAsync says how many bytes it copies. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;

static int envInt(const char *name, int otherwise) {
  const char *v = getenv(name);
  return v && *v ? atoi(v) : otherwise;
}

CUresult cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
CUresult cuDeviceGetCount(int *n) { return *n = 1, 0; }
CUresult cuDeviceGet(int *d, int i) { return *d = i, 0; }
CUresult cuDeviceGetAttribute(int *v, int attribute, int device) {
  int cc = envInt("FAKE_CUDA_CC", 90);
  (void)device;
  if (attribute == 75) /* COMPUTE_CAPABILITY_MAJOR */
    return *v = cc / 10, 0;
  if (attribute == 76) /* COMPUTE_CAPABILITY_MINOR */
    return *v = cc % 10, 0;
  return 1;
}
CUresult cuDevicePrimaryCtxRetain(void **ctx, int d) {
  (void)d;
  return *ctx = (void *)0x1, 0;
}
CUresult cuCtxSetCurrent(void *ctx) { return ctx ? 0 : 1; }

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n,
                            int *options, void **values) {
  const char *text = image;
  unsigned i;
  int level = -1;
  for (i = 0; i < n; ++i)
    if (options[i] == 7) /* CU_JIT_OPTIMIZATION_LEVEL */
      level = (int)(uintptr_t)values[i];
  if (memcmp(image, "\177ELF", 4) == 0) {
    int refuse = envInt("FAKE_CUDA_REFUSE_CUBIN", 0);
    fprintf(stderr, "fake libcuda: cuModuleLoadDataEx: a cubin%s\n",
            refuse ? ", refused" : "");
    if (refuse)
      return 209; /* CUDA_ERROR_NO_BINARY_FOR_GPU */
  } else if (strstr(text, ".version") && strstr(text, ".target")) {
    const char *target = strstr(text, ".target");
    fprintf(stderr, "fake libcuda: cuModuleLoadDataEx: PTX, %.*s, JIT -O%d\n",
            (int)strcspn(target, "\n"), target, level);
  } else {
    fprintf(stderr, "fake libcuda: cuModuleLoadDataEx: %.8s\n", text);
  }
  *module = (void *)0x2;
  return 0;
}
CUresult cuModuleUnload(void *module) { return module ? 0 : 1; }
CUresult cuModuleGetFunction(void **f, void *module, const char *name) {
  (void)module, (void)name;
  return *f = (void *)0x3, 0;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **extra) {
  (void)f, (void)gx, (void)gy, (void)gz, (void)bx, (void)by, (void)bz;
  (void)smem, (void)stream, (void)params, (void)extra;
  return 0;
}
CUresult cuStreamCreate(void **s, unsigned flags) {
  (void)flags;
  return *s = (void *)0x4, 0;
}
CUresult cuStreamSynchronize(void *s) { return s ? 0 : 1; }
CUresult cuMemAllocAsync(unsigned long long *p, size_t bytes, void *s) {
  (void)s;
  *p = (unsigned long long)(uintptr_t)calloc(1, bytes);
  return *p ? 0 : 2; /* CUDA_ERROR_OUT_OF_MEMORY */
}
CUresult cuMemFreeAsync(unsigned long long p, void *s) {
  (void)s;
  free((void *)(uintptr_t)p);
  return 0;
}
CUresult cuMemcpyAsync(unsigned long long dst, unsigned long long src,
                       size_t bytes, void *s) {
  (void)s;
  if (envInt("FAKE_CUDA_TRACE", 0))
    fprintf(stderr, "fake libcuda: cuMemcpyAsync %zu bytes\n", bytes);
  memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
  return 0;
}
CUresult cuDeviceGetDefaultMemPool(void **pool, int d) {
  (void)d;
  return *pool = (void *)0x5, 0;
}
CUresult cuMemPoolSetAttribute(void *pool, int attribute, void *value) {
  (void)pool, (void)attribute, (void)value;
  return 0;
}
CUresult cuGetErrorString(CUresult r, const char **text) {
  *text = r == 209 ? "no kernel image is available for execution on the device"
                   : "fake error";
  return 0;
}
/* LAYERC_CUDA_PROFILE's events: every kernel takes no time. */
CUresult cuEventCreate(void **e, unsigned flags) {
  (void)flags;
  return *e = (void *)0x6, 0;
}
CUresult cuEventRecord(void *e, void *s) { return e && s ? 0 : 1; }
CUresult cuEventSynchronize(void *e) { return e ? 0 : 1; }
CUresult cuEventElapsedTime(float *ms, void *start, void *stop) {
  (void)start, (void)stop;
  return *ms = 0, 0;
}
/* What a program of its own uses for device buffers (bench/gpu/gpu_check.c). */
CUresult cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
  return cuMemAllocAsync(p, bytes, (void *)0x4);
}
CUresult cuMemFree_v2(unsigned long long p) {
  return cuMemFreeAsync(p, (void *)0x4);
}
CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void *src,
                         size_t bytes) {
  return cuMemcpyAsync(dst, (unsigned long long)(uintptr_t)src, bytes,
                       (void *)0x4);
}
CUresult cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t bytes) {
  return cuMemcpyAsync((unsigned long long)(uintptr_t)dst, src, bytes,
                       (void *)0x4);
}
