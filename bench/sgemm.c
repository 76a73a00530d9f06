/* The matmul kernel alone (bench/sgemm.sh): X (M x K) times W (K x N),
 * float32, row-major, as layerc's Dense(N, use_bias=False) computes it and
 * as oneDNN's dnnl_sgemm does (Debian's libdnnl-dev), in one process on the
 * same buffers. Prints the median GFLOP/s of each and layerc's result
 * against oneDNN's (max |diff| relative to max |oneDNN|).
 *
 *   cc -O2 -std=c99 -I<dir of dense.h> bench/sgemm.c libdense.a -ldnnl \
 *      -lomp -lm -o sgemm
 *   sgemm M K N REPS */
#define _POSIX_C_SOURCE 199309L
#include "dense.h"

#include "timing.h"
#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *filled(size_t n, unsigned seed) {
  float *p = malloc(n * sizeof(float));
  size_t i;
  if (!p)
    exit(3);
  for (i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (float)((seed >> 8) % 2001) / 1000.0f - 1.0f;
  }
  return p;
}

int main(int argc, char **argv) {
  long m, k, n;
  int reps, r, which;
  float *x, *w, *ours, *theirs;
  double flops, best[2];
  if (argc != 5)
    return 2;
  m = atol(argv[1]), k = atol(argv[2]), n = atol(argv[3]);
  reps = atoi(argv[4]);
  if (k != DENSE_PREDICT_INPUT_DIM1 || n != DENSE_PREDICT_OUTPUT0_DIM1)
    return 2;
  x = filled((size_t)(m * k), 1);
  w = filled((size_t)(k * n), 2);
  ours = calloc((size_t)(m * n), sizeof(float));
  theirs = calloc((size_t)(m * n), sizeof(float));
  flops = 2.0 * (double)m * (double)k * (double)n;
  for (which = 0; which < 2; ++which) {
    double *t = malloc((size_t)reps * sizeof(double));
    for (r = -2; r < reps; ++r) { /* two warm-up calls */
      double start = now();
      int rc = which == 0
                   ? dense_predict(m, x, (size_t)(m * k), w, (size_t)(k * n),
                                   ours, (size_t)(m * n))
                   : (int)dnnl_sgemm('N', 'N', m, n, k, 1.0f, x, k, w, n, 0.0f,
                                     theirs, n);
      if (rc != 0) {
        fprintf(stderr, "%s failed: %d\n", which ? "dnnl_sgemm" : "layerc", rc);
        return 1;
      }
      if (r >= 0)
        t[r] = now() - start;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp);
    best[which] = flops / t[reps / 2] * 1e-9;
    free(t);
  }
  {
    double diff = 0, scale = 0;
    long i;
    for (i = 0; i < m * n; ++i) {
      diff = fmax(diff, fabs((double)ours[i] - theirs[i]));
      scale = fmax(scale, fabs((double)theirs[i]));
    }
    printf("layerc %.1f GFLOP/s, oneDNN %.1f GFLOP/s, ratio %.2f "
           "(max |diff| / max |oneDNN| = %.1e)\n",
           best[0], best[1], best[0] / best[1], diff / scale);
  }
  free(x), free(w), free(ours), free(theirs);
  return 0;
}
