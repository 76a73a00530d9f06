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

#endif /* LAYERC_BENCH_GPU_COMMON_H */
