/* Runs any single-input, single-output model compiled by
 * `layerc M.lcm --embed-weights --name=M` through its context API.
 *   cc -DMODEL=M -DMODEL_HEADER='"M.h"' guide_harness.c libM.a -lomp -lm
 *   harness X.bin EXPECTED.bin OUT.bin BATCH [WEIGHTS.lcm]
 * sizes the output like EXPECTED.bin (the JIT's output) and writes the
 * library's to OUT.bin. A library without --embed-weights reads its
 * weights from WEIGHTS.lcm (built with -DLAYERC_WITH_RUNTIME, linked with
 * liblayerc_runtime). */
#include MODEL_HEADER

#include "harness.h"

int main(int argc, char **argv) {
  size_t nx, ny;
  float *x, *expected, *out;
  FN(context) * ctx;
  FILE *f;
  int rc;
  if (argc != 5 && argc != 6)
    return 2;
  x = readAll(argv[1], &nx);
  expected = readAll(argv[2], &ny);
  out = malloc(ny * sizeof(float));
  if (FN(create)(&ctx) != 0)
    return 3;
  if (argc == 6) {
#ifdef LAYERC_WITH_RUNTIME
    char error[512];
    rc = FN(load_weights)(ctx, argv[5], error, sizeof error);
    printf("load_weights: %s\n", rc ? error : "ok");
    if (rc)
      return rc;
#else
    return 2;
#endif
  }
  rc = FN(predict)(ctx, atoll(argv[4]), x, nx, out, ny);
  printf("predict: %s\n", FN(error_message)(rc));
  FN(destroy)(ctx);
  f = fopen(argv[3], "wb");
  if (!f || fwrite(out, sizeof(float), ny, f) != ny)
    return 1;
  fclose(f);
  free(x), free(expected), free(out);
  return rc;
}
