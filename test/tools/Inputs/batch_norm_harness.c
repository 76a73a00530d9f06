/* Trains the AOT library of `mnist_mlp --batch-norm` (layerc --train,
 * RMSprop) through its context API for 20 steps on one fixed batch:
 * kernels get a deterministic pattern, gammas and moving variances 1, the
 * rest 0. Prints whether the loss went down, whether the moving
 * statistics moved away from their initial values, and whether the
 * optimizer left them alone otherwise (they have no optimizer state). */
#include "bn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int endsWith(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int main(void) {
  enum { kBatch = 32 };
  bn_context *ctx;
  float *x = malloc(sizeof(float) * kBatch * 784), first = 0, loss = 0;
  float mean[64], variance[64];
  int32_t y[kBatch];
  int i, s;
  if (bn_create(&ctx) != 0)
    return 1;
  for (i = 0; i < BN_NUM_WEIGHTS; ++i) {
    const char *name = bn_weight_name(i);
    int64_t n = bn_weight_count(i), k;
    float *w = malloc(sizeof(float) * (size_t)n);
    for (k = 0; k < n; ++k)
      w[k] = endsWith(name, "/kernel")
                 ? 0.05f * (float)((k * 7919) % 13 - 6) / 6.0f
             : (endsWith(name, "/gamma") || endsWith(name, "/moving_variance"))
                 ? 1.0f
                 : 0.0f;
    if (bn_set_weight(ctx, name, w, (size_t)n) != 0)
      return 2;
    free(w);
  }
  for (i = 0; i < kBatch * 784; ++i)
    x[i] = (float)((i * 31) % 97) / 97.0f;
  for (i = 0; i < kBatch; ++i)
    y[i] = i % 10;
  for (s = 0; s < 20; ++s) {
    if (bn_train_step(ctx, kBatch, x, kBatch * 784, y, kBatch, &loss) != 0)
      return 3;
    if (s == 0)
      first = loss;
  }
  printf("loss %s: %.4f -> %.4f\n",
         loss < first ? "decreased" : "did not decrease", first, loss);
  if (bn_get_weight(ctx, "batch_normalization/moving_mean", mean, 64) != 0 ||
      bn_get_weight(ctx, "batch_normalization/moving_variance", variance, 64) !=
          0)
    return 4;
  for (i = 0; i < 64; ++i)
    if (mean[i] != 0.0f && variance[i] != 1.0f && isfinite(mean[i]))
      break;
  printf("moving statistics %s\n", i < 64 ? "moved" : "did not move");
  bn_destroy(ctx);
  free(x);
  return 0;
}
