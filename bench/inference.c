/* Inference latency of one model compiled ahead of time by layerc
 * (bench/inference.sh): median milliseconds per <MODEL>_predict call.
 *
 *   cc -O2 -std=c99 -DMODEL=m '-DMODEL_HEADER="m.h"' -DIN_COUNT=784 \
 *      -DOUT_COUNT=10 bench/inference.c libm.a -lm -o bench_m
 *   bench_m REPS TARGET_MS BATCH...
 *
 * IN_COUNT and OUT_COUNT are the elements of one sample's input and
 * output. For each batch: warm up (at least 3 calls and 50 ms), pick a
 * number of calls per repetition that takes about TARGET_MS, then time
 * REPS repetitions and print `layerc batch<B> <median ms per call>`.
 * The thread count is the library's business (LAYERC_NUM_THREADS in the
 * environment); this program never reads it. */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER

#include "timing.h"
#include <stdio.h>
#include <stdlib.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(MODEL, CAT(_, name))

static float *filled(size_t n) {
  float *p = malloc(n * sizeof(float));
  size_t i;
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(3);
  }
  for (i = 0; i < n; ++i)
    p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
  return p;
}

static const FN(context) * ctx;
static float *x, *out;
static size_t nx, nout;

static void call(int64_t batch) {
  int rc = FN(predict)(ctx, batch, x, nx, out, nout);
  if (rc != 0) {
    fprintf(stderr, "predict failed: %s\n", FN(error_message)(rc));
    exit(1);
  }
}

static double median_ms(int64_t batch, int reps, double target_ms) {
  double *t = malloc((size_t)reps * sizeof(double)), start, one, result;
  int r, j, inner, warm;
  nx = (size_t)batch * IN_COUNT;
  nout = (size_t)batch * OUT_COUNT;
  x = filled(nx);
  out = filled(nout);
  start = now();
  for (warm = 0; warm < 3 || now() - start < 0.05; ++warm)
    call(batch);
  start = now();
  call(batch);
  one = (now() - start) * 1e3;
  inner = one > 0 ? (int)(target_ms / one) : 1000;
  if (inner < 1)
    inner = 1;
  for (r = 0; r < reps; ++r) {
    start = now();
    for (j = 0; j < inner; ++j)
      call(batch);
    t[r] = (now() - start) * 1e3 / inner;
  }
  qsort(t, (size_t)reps, sizeof(double), cmp);
  result = t[reps / 2];
  free(x), free(out), free(t);
  return result;
}

int main(int argc, char **argv) {
  FN(context) * c;
  int reps, i;
  double target;
  if (argc < 4) {
    fprintf(stderr, "usage: %s REPS TARGET_MS BATCH...\n", argv[0]);
    return 2;
  }
  reps = atoi(argv[1]);
  target = atof(argv[2]);
  if (reps < 1)
    reps = 1;
  if (FN(create)(&c) != 0) {
    fprintf(stderr, "cannot create the model's context\n");
    return 3;
  }
  ctx = c;
  for (i = 3; i < argc; ++i) {
    int64_t batch = atoll(argv[i]);
    printf("layerc batch%lld %.5f\n", (long long)batch,
           median_ms(batch, reps, target));
    fflush(stdout);
  }
  FN(destroy)(c);
  return 0;
}
