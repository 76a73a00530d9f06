/* Inference latency of the AOT-compiled MNIST MLP (bench/aot_latency.sh):
 * median time of mnist_predict at batch 1 and batch 64, one thread. */
#define _POSIX_C_SOURCE 199309L
#include "mnist.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static float *filled(size_t n) {
  float *p = malloc(n * sizeof(float));
  size_t i;
  for (i = 0; i < n; ++i)
    p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  return p;
}

static double median_us(int64_t batch, int reps) {
  float *x = filled(batch * 784), *k0 = filled(784 * 64), *b0 = filled(64);
  float *k1 = filled(64 * 64), *b1 = filled(64), *k2 = filled(640);
  float *b2 = filled(10), *out = filled(batch * 10);
  double *t = malloc(reps * sizeof(double)), result;
  int r, inner = batch == 1 ? 100 : 10, j;
  for (r = 0; r < reps; ++r) {
    double start = now();
    for (j = 0; j < inner; ++j)
      mnist_predict(batch, x, batch * 784, k0, 784 * 64, b0, 64, k1, 64 * 64,
                    b1, 64, k2, 640, b2, 10, out, batch * 10);
    t[r] = (now() - start) / inner * 1e6;
  }
  qsort(t, reps, sizeof(double), cmp);
  result = t[reps / 2];
  free(x), free(k0), free(b0), free(k1), free(b1), free(k2), free(b2);
  free(out), free(t);
  return result;
}

int main(void) {
  printf("layerc batch1_us %.2f\n", median_us(1, 201));
  printf("layerc batch64_us %.2f\n", median_us(64, 101));
  return 0;
}
