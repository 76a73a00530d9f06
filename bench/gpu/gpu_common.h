/* gpu_common.h - what bench/gpu's programs share. Each links one model
 * compiled twice by layerc, with the prefixes CPU and GPU (macros), and
 * includes their headers CPU_HEADER and GPU_HEADER; C(f) and G(f) name
 * their functions (C(_predict) is <CPU>_predict). */
#ifndef LAYERC_BENCH_GPU_COMMON_H
#define LAYERC_BENCH_GPU_COMMON_H

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#include STR(CPU_HEADER)
#include STR(GPU_HEADER)

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define C(f) CAT(CPU, f)
#define G(f) CAT(GPU, f)

static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* max |got - want| / max |want| (normwise relative; NaN counts as
 * infinitely different). */
static inline double rel_diff(const float *got, const float *want, size_t n) {
  double diff = 0, scale = 0;
  size_t i;
  for (i = 0; i < n; ++i) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= diff))
      diff = isnan(d) ? INFINITY : d;
    if (fabs(want[i]) > scale)
      scale = fabs(want[i]);
  }
  return diff / (scale > 0 ? scale : 1);
}

/* Creates both contexts: 0, 1 when the CPU's fails, 3 (saying why) when
 * the GPU cannot be used. */
static inline int create_both(C(_context) * *cpu, G(_context) * *gpu) {
  int rc;
  if (C(_create)(cpu) != 0)
    return 1;
  if ((rc = G(_create)(gpu)) != 0) {
    printf("%s: no GPU: %s\n", STR(GPU), G(_error_message)(rc));
    return 3;
  }
  return 0;
}

/* The largest rel_diff between the GPU's and the CPU's weights. */
static inline double weights_diff(const C(_context) * cpu,
                                  const G(_context) * gpu) {
  double worst = 0;
  int w;
  for (w = 0; C(_weight_name)(w) != NULL; ++w) {
    size_t n = (size_t)C(_weight_count)(w);
    float *p = malloc(n * sizeof(float)), *q = malloc(n * sizeof(float));
    double diff;
    C(_get_weight)(cpu, C(_weight_name)(w), p, n);
    G(_get_weight)(gpu, C(_weight_name)(w), q, n);
    diff = rel_diff(q, p, n);
    if (!(diff <= worst))
      worst = diff;
    free(p);
    free(q);
  }
  return worst;
}

#endif /* LAYERC_BENCH_GPU_COMMON_H */
