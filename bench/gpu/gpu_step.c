/* gpu_step.c - one model's CUDA train_step against its CPU train_step.
 *
 * Built by bench/gpu/prepare.sh for a model saved with a loss and an
 * optimizer (functional_guide --compile) and compiled with --train twice:
 * prefix CPU (x86-64-v3) and GPU (cuda:sm_90). Both contexts get the same
 * weights (uniform in +-sqrt(3 / fan), from a fixed seed); one step on the
 * same batch of CHECK_BATCH samples must leave every weight within 1e-4
 * (normwise relative) of the CPU's, and give the same loss. Then the
 * median time of a GPU step at each batch on the command line.
 *
 *   gpu_step_<model> [batch ...]        (default: 256)
 * Targets: one-hot rows with -DONE_HOT (cross-entropy), else uniform. */
#include "gpu_common.h"

#define CHECK_BATCH 32

static unsigned state = 777u;
static float uniform(void) {
  state = state * 1664525u + 1013904223u;
  return (float)((state >> 8) / 16777216.0);
}

static void batch_of(int64_t batch, float **x, float **y) {
  size_t i, nx = (size_t)batch * IN_COUNT, ny = (size_t)batch * OUT_COUNT;
  *x = malloc(nx * sizeof(float));
  *y = calloc(ny, sizeof(float));
  for (i = 0; i < nx; ++i)
    (*x)[i] = uniform() * 2 - 1;
  for (i = 0; i < (size_t)batch; ++i) {
#ifdef ONE_HOT
    (*y)[i * OUT_COUNT + (size_t)(uniform() * OUT_COUNT) % OUT_COUNT] = 1;
#else
    size_t j;
    for (j = 0; j < OUT_COUNT; ++j)
      (*y)[i * OUT_COUNT + j] = uniform();
#endif
  }
}

int main(int argc, char **argv) {
  C(_context) * cpu;
  G(_context) * gpu;
  float *x, *y, loss_cpu, loss_gpu;
  double worst = 0;
  int w, rc, a, failed;
  if ((rc = create_both(&cpu, &gpu)) != 0)
    return rc;
  for (w = 0; C(_weight_name)(w) != NULL; ++w) {
    size_t n = (size_t)C(_weight_count)(w), i;
    float *v = malloc(n * sizeof(float));
    double limit = sqrt(3.0 / (n < 64 ? 64 : (n > 4096 ? 4096 : n)));
    for (i = 0; i < n; ++i)
      v[i] = (float)((uniform() * 2 - 1) * limit);
    if (C(_set_weight)(cpu, C(_weight_name)(w), v, n) != 0 ||
        G(_set_weight)(gpu, C(_weight_name)(w), v, n) != 0)
      return 1;
    free(v);
  }
  batch_of(CHECK_BATCH, &x, &y);
  if ((rc = C(_train_step)(cpu, CHECK_BATCH, x, (size_t)CHECK_BATCH * IN_COUNT,
                           y, (size_t)CHECK_BATCH * OUT_COUNT, &loss_cpu)) ||
      (rc = G(_train_step)(gpu, CHECK_BATCH, x, (size_t)CHECK_BATCH * IN_COUNT,
                           y, (size_t)CHECK_BATCH * OUT_COUNT, &loss_gpu))) {
    printf("%s: train_step failed: %s\n", STR(MODEL), G(_error_message)(rc));
    return 1;
  }
  worst = weights_diff(cpu, gpu);
  failed = !(worst <= 1e-4) ||
           !(fabs(loss_cpu - loss_gpu) <= 1e-4 * fabs(loss_cpu) + 1e-7);
  printf("%-12s train_step batch %d: loss cpu %.6f gpu %.6f; weights after "
         "the step: max rel diff %.2e %s\n",
         STR(MODEL), CHECK_BATCH, loss_cpu, loss_gpu, worst,
         failed ? "FAIL" : "ok");
  free(x);
  free(y);
  for (a = 1; a < (argc > 1 ? argc : 2); ++a) {
    int64_t batch = argc > 1 ? atoll(argv[a]) : 256;
    double times[7], t;
    int r, k;
    float loss;
    batch_of(batch, &x, &y);
    for (r = 0; r < 7 + 2; ++r) {
      t = now_ms();
      rc = G(_train_step)(gpu, batch, x, (size_t)batch * IN_COUNT, y,
                          (size_t)batch * OUT_COUNT, &loss);
      if (r >= 2)
        times[r - 2] = now_ms() - t;
    }
    for (r = 0; r < 7; ++r)
      for (k = r + 1; k < 7; ++k)
        if (times[k] < times[r]) {
          t = times[r], times[r] = times[k], times[k] = t;
        }
    printf("%-12s train_step batch %4d on the GPU: %9.3f ms (median of 7)%s\n",
           STR(MODEL), (int)batch, times[3], rc ? " FAILED" : "");
    free(x);
    free(y);
  }
  return failed;
}
