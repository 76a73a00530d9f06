/* Uses a self-contained library (`layerc m.lcm --embed-weights`) through
 * its context API: the only buffers are the input and the output.
 *   embedded_harness DIR BATCH  reads DIR/x.bin and writes
 *   DIR/embedded_out.bin. */
#include "fm.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  char path[4096];
  int64_t batch;
  size_t nx, nout;
  float *x, *out;
  FILE *f;
  int rc;
  fm_context *ctx;
  float w[10];
  if (argc != 3)
    return 2;
  batch = atoll(argv[2]);
  nx = (size_t)batch * FM_PREDICT_INPUT_1_DIM1;
  nout = (size_t)batch * FM_PREDICT_DENSE_2_DIM1;
  x = malloc(nx * sizeof(float));
  out = malloc(nout * sizeof(float));
  snprintf(path, sizeof path, "%s/x.bin", argv[1]);
  f = fopen(path, "rb");
  if (!f || fread(x, sizeof(float), nx, f) != nx)
    return 2;
  fclose(f);
  if (fm_create(&ctx) != FM_OK)
    return 3;
  /* The weights are compiled in: listed, but not readable. */
  printf("weights: %d, first %s (%lld)\n", FM_NUM_WEIGHTS, fm_weight_name(0),
         (long long)fm_weight_count(0));
  printf("get_weight: %s\n",
         fm_error_message(fm_get_weight(ctx, "dense_2/bias", w, 10)));
  rc = fm_predict(ctx, batch, x, nx, out, nout);
  printf("predict: %d %s\n", rc, fm_error_message(rc));
  fm_destroy(ctx);
  snprintf(path, sizeof path, "%s/embedded_out.bin", argv[1]);
  f = fopen(path, "wb");
  if (!f || fwrite(out, sizeof(float), nout, f) != nout)
    return 1;
  fclose(f);
  free(x);
  free(out);
  return rc;
}
