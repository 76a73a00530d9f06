/* One train_step of the context API (library `t`, the guide's MLP) with
 * labels 1e9 and -5: each must be refused with an error code that names
 * the check, and the weights must not change; then valid labels train.
 * Prints "<labels>: <code> <message> iterations=<n>". Then 1000 more
 * refused steps must not grow the heap: a failed check gives the step's
 * arena back (it leaked one arena per call before). */
#include "t.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

/* Bytes of the heap in use, mmap'd blocks included. */
static size_t heapInUse(void) {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

static void step(t_context *ctx, const char *name, int32_t label) {
  float x[2 * 784], loss = -1.0f;
  int32_t y[2];
  int i, rc;
  for (i = 0; i < 2 * 784; ++i)
    x[i] = (float)(i % 7) / 7.0f;
  y[0] = 1;
  y[1] = label;
  rc = t_train_step(ctx, 2, x, 2 * 784, y, 2, &loss);
  printf("%s: %d %s iterations=%lld\n", name, rc, t_error_message(rc),
         (long long)ctx->iterations);
}

int main(void) {
  t_context *ctx;
  if (t_create(&ctx) != T_OK)
    return 1;
  step(ctx, "huge", 1000000000);
  step(ctx, "negative", -5);
  step(ctx, "valid", 9);
  {
    float x[2 * 784] = {0}, loss;
    int32_t y[2] = {1, -5};
    size_t before = heapInUse();
    int i;
    for (i = 0; i < 1000; ++i)
      t_train_step(ctx, 2, x, 2 * 784, y, 2, &loss);
    printf("heap growth over 1000 refused steps: %zu bytes\n",
           heapInUse() - before);
  }
  t_destroy(ctx);
  return 0;
}
