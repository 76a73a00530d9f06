/* Trains through the context API of a library built by
 * `layerc m.lcm --train`, linked with liblayerc_runtime: the weights come
 * from the .lcm file by name, the context owns every buffer, and the
 * trained weights are saved to a checkpoint.
 *   context_harness DIR BATCH STEPS MODEL.lcm  reads DIR/x.bin, DIR/y.bin;
 *   writes DIR/ctx_losses.bin and DIR/trained.safetensors. */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>

static void *readFile(const char *dir, const char *name, size_t bytes) {
  char path[4096];
  void *data = malloc(bytes);
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f || fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  const char *dir;
  int64_t batch;
  int steps, s, rc;
  float *x, *losses, bias[10], loss;
  int32_t *y;
  char path[4096], error[512];
  FILE *f;
  t_context *ctx;
  if (argc != 5)
    return 2;
  dir = argv[1];
  batch = atoll(argv[2]);
  steps = atoi(argv[3]);
  x = readFile(dir, "x.bin", (size_t)batch * 784 * sizeof(float));
  y = readFile(dir, "y.bin", (size_t)batch * sizeof(int32_t));
  losses = malloc(steps * sizeof(float));
  if (t_create(&ctx) != T_OK)
    return 3;
  printf("weights: %d, %s is %lld floats\n", T_NUM_WEIGHTS, t_weight_name(0),
         (long long)t_weight_count(0));
  /* Errors name what is wrong and change nothing. */
  printf("missing file: %s\n",
         t_error_message(
             t_load_weights(ctx, "/nonexistent.lcm", error, sizeof error)));
  printf("message: %s\n", error);
  printf("unknown name: %s\n",
         t_error_message(t_set_weight(ctx, "dense/kernels", bias, 10)));
  printf("wrong count: %s\n",
         t_error_message(t_get_weight(ctx, "dense_2/bias", bias, 9)));
  rc = t_load_weights(ctx, argv[4], error, sizeof error);
  if (rc != T_OK) {
    fprintf(stderr, "load: %s\n", error);
    return 1;
  }
  for (s = 0; s < steps; ++s) {
    rc = t_train_step(ctx, batch, x, batch * 784, y, batch, &losses[s]);
    if (rc != T_OK) {
      fprintf(stderr, "train_step: %s\n", t_error_message(rc));
      return 1;
    }
  }
  rc = t_evaluate(ctx, batch, x, batch * 784, y, batch, &loss);
  printf("evaluate: %s, loss below the first: %d\n", t_error_message(rc),
         loss < losses[0]);
  snprintf(path, sizeof path, "%s/ctx_losses.bin", dir);
  f = fopen(path, "wb");
  if (!f || fwrite(losses, sizeof(float), steps, f) != (size_t)steps)
    return 1;
  fclose(f);
  snprintf(path, sizeof path, "%s/trained.safetensors", dir);
  rc = t_save_weights(ctx, path, error, sizeof error);
  printf("save: %s\n", t_error_message(rc));
  t_destroy(ctx);
  printf("trained %d steps\n", steps);
  return rc;
}
