/* gpu_check.c - one model's CUDA library against its CPU library.
 *
 * Built by bench/gpu/prepare.sh once per model, with the model compiled
 * twice by layerc (--embed-weights): for the CPU (prefix CPU, x86-64-v3)
 * and for the GPU (prefix GPU, cuda:sm_90). Runs `predict` on the same
 * random inputs through both and prints the normwise relative difference
 * (max |gpu - cpu| / max |cpu|, which must be <= 1e-4), then the median
 * time per call of each.
 *
 *   gpu_check_<model> [batch ...]      (default: 1 64 256)
 *
 * Exit status: 0 when every batch agrees, 1 when one does not, 3 when the
 * GPU cannot be used (the message says why). */
#include "gpu_common.h"

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
    free(x);
    free(yc);
    free(yg);
  }
  G(_destroy)(gpu);
  C(_destroy)(cpu);
  return failed;
}
