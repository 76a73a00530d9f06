/* gpu_check.c - one model's CUDA library against its CPU library.
 *
 * Built by bench/gpu/prepare.sh once per model, with the model compiled
 * twice by layerc (--embed-weights): for the CPU (prefix CPU, x86-64-v3)
 * and for the GPU (prefix GPU, cuda:sm_90). Runs `predict` on the same
 * random inputs through both and prints the normwise relative difference
 * (max |gpu - cpu| / max |cpu|, which must be <= 1e-4), then the median
 * time per call of each. Then the GPU library's entry point on device
 * buffers (<GPU>_predict_device_raw) on the same inputs, copied to buffers
 * of its own through the driver, against <GPU>_predict (<= 1e-4: split
 * sums add atomically), and its time (no host-device copies); not with
 * -DHOST_ONLY, for a GPU library without that entry point (Halide's,
 * `layerc --backend=halide --target=cuda`).
 *
 *   gpu_check_<model> [batch ...]      (default: 1 64 256)
 *
 * Exit status: 0 when every batch agrees, 1 when one does not, 3 when the
 * GPU cannot be used (the message says why). */
#include "gpu_common.h"

#include <dlfcn.h>
#include <stdint.h>

#ifndef HOST_ONLY
/* The driver API, for device buffers in the primary context of device 0
 * (the library's runtime uses it). */
static struct {
  int (*init)(unsigned);
  int (*deviceGet)(int *, int);
  int (*primaryCtxRetain)(void **, int);
  int (*ctxSetCurrent)(void *);
  int (*memAlloc)(unsigned long long *, size_t);
  int (*memFree)(unsigned long long);
  int (*htod)(unsigned long long, const void *, size_t);
  int (*dtoh)(void *, unsigned long long, size_t);
} cu;

/* 1 when the driver is loaded and the primary context current. */
static int load_driver(void) {
  const char *path = getenv("LAYERC_CUDA_DRIVER"); /* as the runtime */
  void *lib = dlopen(path && *path ? path : "libcuda.so.1", RTLD_NOW);
  void *context = NULL;
  int device = 0;
  if (!lib)
    return 0;
  *(void **)&cu.init = dlsym(lib, "cuInit");
  *(void **)&cu.deviceGet = dlsym(lib, "cuDeviceGet");
  *(void **)&cu.primaryCtxRetain = dlsym(lib, "cuDevicePrimaryCtxRetain");
  *(void **)&cu.ctxSetCurrent = dlsym(lib, "cuCtxSetCurrent");
  *(void **)&cu.memAlloc = dlsym(lib, "cuMemAlloc_v2");
  *(void **)&cu.memFree = dlsym(lib, "cuMemFree_v2");
  *(void **)&cu.htod = dlsym(lib, "cuMemcpyHtoD_v2");
  *(void **)&cu.dtoh = dlsym(lib, "cuMemcpyDtoH_v2");
  return cu.init && cu.deviceGet && cu.primaryCtxRetain && cu.ctxSetCurrent &&
         cu.memAlloc && cu.memFree && cu.htod && cu.dtoh && cu.init(0) == 0 &&
         cu.deviceGet(&device, 0) == 0 &&
         cu.primaryCtxRetain(&context, device) == 0 &&
         cu.ctxSetCurrent(context) == 0;
}
#endif

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ms per call of `call` (11 runs of enough calls for ~20 ms). */
#define MEDIAN_MS(result, call)                                                \
  do {                                                                         \
    double times_[11], start_ = now_ms(), one_;                                \
    int inner_, r_, i_;                                                        \
    call;                                                                      \
    call;                                                                      \
    start_ = now_ms();                                                         \
    call;                                                                      \
    one_ = now_ms() - start_;                                                  \
    inner_ = one_ > 0 ? (int)(20.0 / one_) + 1 : 100;                          \
    for (r_ = 0; r_ < 11; ++r_) {                                              \
      start_ = now_ms();                                                       \
      for (i_ = 0; i_ < inner_; ++i_)                                          \
        call;                                                                  \
      times_[r_] = (now_ms() - start_) / inner_;                               \
    }                                                                          \
    qsort(times_, 11, sizeof(double), compare_doubles);                        \
    result = times_[5];                                                        \
  } while (0)

int main(int argc, char **argv) {
  int batches[8] = {1, 64, 256}, nb = 3, b, failed = 0, rc;
  C(_context) * cpu;
  G(_context) * gpu;
  if (argc > 1) {
    nb = 0;
    for (b = 1; b < argc && nb < 8; ++b)
      batches[nb++] = atoi(argv[b]);
  }
  if (C(_create)(&cpu) != 0)
    return 1;
  rc = G(_create)(&gpu);
  if (rc != 0) {
    printf("%s: no GPU: %s\n", STR(GPU), G(_error_message)(rc));
    return 3;
  }
  for (b = 0; b < nb; ++b) {
    int batch = batches[b];
    size_t nin = (size_t)batch * IN_COUNT, nout = (size_t)batch * OUT_COUNT;
    float *x = malloc(nin * sizeof(float));
    float *yc = malloc(nout * sizeof(float)),
          *yg = malloc(nout * sizeof(float));
    double diff, cpu_ms, gpu_ms;
    size_t i;
    unsigned state = 12345u + (unsigned)batch;
    for (i = 0; i < nin; ++i) {
      state = state * 1664525u + 1013904223u;
      x[i] = (float)((state >> 8) / 16777216.0) * 2.0f - 1.0f;
    }
    if ((rc = C(_predict)(cpu, batch, x, nin, yc, nout)) != 0) {
      printf("%s: cpu predict failed: %s\n", STR(CPU), C(_error_message)(rc));
      return 1;
    }
    if ((rc = G(_predict)(gpu, batch, x, nin, yg, nout)) != 0) {
      printf("%s: gpu predict failed: %s\n", STR(GPU), G(_error_message)(rc));
      return 1;
    }
    diff = rel_diff(yg, yc, nout);
    MEDIAN_MS(cpu_ms, C(_predict)(cpu, batch, x, nin, yc, nout));
    MEDIAN_MS(gpu_ms, G(_predict)(gpu, batch, x, nin, yg, nout));
    printf("%-12s predict batch %4d: rel diff %.2e %s  cpu %9.3f ms  gpu "
           "%9.3f ms  cpu/gpu %6.2f\n",
           STR(MODEL), batch, diff, diff <= 1e-4 ? "ok  " : "FAIL", cpu_ms,
           gpu_ms, cpu_ms / gpu_ms);
    failed |= !(diff <= 1e-4);
#ifndef HOST_ONLY
    {
      /* The same inputs from device memory, against the host entry's. */
      unsigned long long dx = 0, dy = 0;
      float *yd = malloc(nout * sizeof(float));
      double dev_ms;
      const float *dxp;
      float *dyp;
      if (!load_driver() || cu.memAlloc(&dx, nin * sizeof(float)) != 0 ||
          cu.memAlloc(&dy, nout * sizeof(float)) != 0 ||
          cu.htod(dx, x, nin * sizeof(float)) != 0) {
        printf("%s: the driver API failed\n", STR(GPU));
        return 1;
      }
      dxp = (const float *)(uintptr_t)dx;
      dyp = (float *)(uintptr_t)dy;
      rc = G(_predict_device_raw)(batch, dxp, nin, dyp, nout);
      if (rc != 0 || cu.dtoh(yd, dy, nout * sizeof(float)) != 0) {
        printf("%s: predict_device_raw failed: %s\n", STR(GPU),
               G(_error_message)(rc));
        return 1;
      }
      diff = rel_diff(yd, yg, nout);
      MEDIAN_MS(dev_ms, G(_predict_device_raw)(batch, dxp, nin, dyp, nout));
      printf("%-12s predict_device_raw %4d: rel diff %.2e %s  (vs predict)"
             "       gpu %9.3f ms\n",
             STR(MODEL), batch, diff, diff <= 1e-4 ? "ok  " : "FAIL", dev_ms);
      failed |= !(diff <= 1e-4);
      cu.memFree(dx);
      cu.memFree(dy);
      free(yd);
    }
#endif
    free(x);
    free(yc);
    free(yg);
  }
  G(_destroy)(gpu);
  C(_destroy)(cpu);
  return failed;
}
