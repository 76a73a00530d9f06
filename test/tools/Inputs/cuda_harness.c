/* Runs a single-input, single-output model compiled by
 * `layerc M.lcm --embed-weights --target=cuda:sm_90 --name=M` through its
 * context API, where a GPU may or may not be.
 *   cc -DMODEL=M -DMODEL_HEADER='"M.h"' cuda_harness.c libM.a -ldl -lpthread
 *   harness X.bin EXPECTED.bin BATCH
 * Without a usable GPU, M_create fails with M_ERROR_DEVICE: prints
 * "M: create: <why>" and exits 0. With one, compares the predictions with
 * EXPECTED.bin (the CPU's) within 1e-4 relative: "M: predict: ok". */
#include MODEL_HEADER

#include <math.h>

#include "harness.h"

#define STR_(a) #a
#define STR(a) STR_(a)
#define UPPER_ERROR_DEVICE 8

int main(int argc, char **argv) {
  size_t nx, ny, i;
  float *x, *expected, *out;
  double diff = 0, scale = 0;
  FN(context) * ctx;
  int rc;
  if (argc != 4)
    return 2;
  x = readAll(argv[1], &nx);
  expected = readAll(argv[2], &ny);
  out = malloc(ny * sizeof(float));
  rc = FN(create)(&ctx);
  if (rc == UPPER_ERROR_DEVICE) {
    printf("%s: create: %s\n", STR(MODEL), FN(error_message)(rc));
    return 0;
  }
  if (rc != 0)
    return 3;
  rc = FN(predict)(ctx, atoll(argv[3]), x, nx, out, ny);
  for (i = 0; i < ny; ++i) {
    if (fabs(out[i] - expected[i]) > diff || isnan(out[i]))
      diff = isnan(out[i]) ? INFINITY : fabs(out[i] - expected[i]);
    if (fabs(expected[i]) > scale)
      scale = fabs(expected[i]);
  }
  printf("%s: predict: %s\n", STR(MODEL),
         rc                                       ? FN(error_message)(rc)
         : diff <= 1e-4 * (scale > 0 ? scale : 1) ? "ok"
                                                  : "differs");
  FN(destroy)(ctx);
  free(x), free(expected), free(out);
  return rc;
}
