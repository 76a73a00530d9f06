/* Trains with the raw train_step of a library built by
 * `layerc m.lcm --train`: the application owns every buffer (weights,
 * RMSprop state, the step) and swaps the updated ones in after each step.
 *   train_harness DIR BATCH STEPS  (reads DIR/w0.bin..w5.bin, DIR/x.bin,
 *   DIR/y.bin; writes the loss of every step to DIR/losses.bin) */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t kSizes[6] = {784 * 64, 64, 64 * 64, 64, 64 * 10, 10};

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
  int steps, s, i;
  float *w[6], *wNew[6], *v[6], *vNew[6], *x, *logits, *losses, step;
  int32_t *y;
  char name[16];
  FILE *f;
  char path[4096];
  if (argc != 4)
    return 2;
  dir = argv[1];
  batch = atoll(argv[2]);
  steps = atoi(argv[3]);
  for (i = 0; i < 6; ++i) {
    snprintf(name, sizeof name, "w%d.bin", i);
    w[i] = readFile(dir, name, kSizes[i] * sizeof(float));
    wNew[i] = malloc(kSizes[i] * sizeof(float));
    v[i] = calloc(kSizes[i], sizeof(float));
    vNew[i] = malloc(kSizes[i] * sizeof(float));
  }
  x = readFile(dir, "x.bin", (size_t)batch * 784 * sizeof(float));
  y = readFile(dir, "y.bin", (size_t)batch * sizeof(int32_t));
  logits = malloc((size_t)batch * 10 * sizeof(float));
  losses = malloc(steps * sizeof(float));
  for (s = 0; s < steps; ++s) {
    int rc;
    step = (float)(s + 1);
    rc = t_train_step_raw(
        batch, x, batch * 784, y, batch, w[0], kSizes[0], w[1], kSizes[1], w[2],
        kSizes[2], w[3], kSizes[3], w[4], kSizes[4], w[5], kSizes[5], v[0],
        kSizes[0], v[1], kSizes[1], v[2], kSizes[2], v[3], kSizes[3], v[4],
        kSizes[4], v[5], kSizes[5], &step, 1, &losses[s], 1, logits, batch * 10,
        wNew[0], kSizes[0], wNew[1], kSizes[1], wNew[2], kSizes[2], wNew[3],
        kSizes[3], wNew[4], kSizes[4], wNew[5], kSizes[5], vNew[0], kSizes[0],
        vNew[1], kSizes[1], vNew[2], kSizes[2], vNew[3], kSizes[3], vNew[4],
        kSizes[4], vNew[5], kSizes[5]);
    if (rc != T_OK) {
      fprintf(stderr, "train_step: %s\n", t_error_message(rc));
      return 1;
    }
    for (i = 0; i < 6; ++i) {
      float *t = w[i];
      w[i] = wNew[i], wNew[i] = t;
      t = v[i], v[i] = vNew[i], vNew[i] = t;
    }
  }
  snprintf(path, sizeof path, "%s/losses.bin", dir);
  f = fopen(path, "wb");
  if (!f || fwrite(losses, sizeof(float), steps, f) != (size_t)steps)
    return 1;
  fclose(f);
  printf("trained %d steps\n", steps);
  return 0;
}
