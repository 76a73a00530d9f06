/* timing.h - the clock and the median's sort that bench/'s C programs
 * share (inference.c, sgemm.c). Needs _POSIX_C_SOURCE >= 199309L. */
#ifndef LAYERC_BENCH_TIMING_H
#define LAYERC_BENCH_TIMING_H

#include <time.h>

/* Seconds on the monotonic clock. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* qsort's order of doubles. */
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#endif
