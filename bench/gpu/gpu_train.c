/* gpu_train.c - the guide's MNIST MLP trained through its CUDA train_step.
 *
 * Built by bench/gpu/prepare.sh from the MLP compiled with --train twice
 * (prefix CPU for x86-64-v3, GPU for cuda:sm_90). Both contexts get the
 * same initial weights (Glorot-uniform kernels from a fixed seed, zero
 * biases). Then:
 *   1. one train_step on the same batch through both: every weight after
 *      the step and the loss must agree within 1e-4 (normwise relative);
 *   2. EPOCHS (2) epochs of Fashion-MNIST (60,000 images, batch 64) through
 *      the GPU's train_step, then the test accuracy (10,000 images) from
 *      its predict: it must reach 0.84. The time per epoch is printed for
 *      the GPU and, over the same steps, for the CPU.
 *
 *   gpu_train DATASET_DIR [EPOCHS]
 * DATASET_DIR holds Fashion-MNIST's four idx files (uncompressed). */
#include "gpu_common.h"

#include <string.h>

#define PIXELS 784
#define BATCH 64

static unsigned char *read_idx(const char *dir, const char *name, size_t header,
                               size_t size) {
  char path[4096];
  unsigned char *data = malloc(size);
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f || !data || fseek(f, (long)header, SEEK_SET) != 0 ||
      fread(data, 1, size, f) != size) {
    fprintf(stderr, "gpu_train: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  int epochs = argc > 2 ? atoi(argv[2]) : 2;
  const size_t ntrain = 60000, ntest = 10000;
  unsigned char *train_x, *train_y, *test_x, *test_y;
  float *x, *xt, *logits, loss_cpu, loss_gpu, worst = 0;
  int32_t *y;
  size_t i, j, correct = 0;
  int w, e, rc, failed = 0;
  unsigned state = 2024u;
  double start, gpu_ms = 0, cpu_ms = 0;
  C(_context) * cpu;
  G(_context) * gpu;

  train_x = read_idx(dir, "train-images-idx3-ubyte", 16, ntrain * PIXELS);
  train_y = read_idx(dir, "train-labels-idx1-ubyte", 8, ntrain);
  test_x = read_idx(dir, "t10k-images-idx3-ubyte", 16, ntest * PIXELS);
  test_y = read_idx(dir, "t10k-labels-idx1-ubyte", 8, ntest);
  x = malloc(ntrain * PIXELS * sizeof(float));
  xt = malloc(ntest * PIXELS * sizeof(float));
  y = malloc(ntrain * sizeof(int32_t));
  logits = malloc(ntest * 10 * sizeof(float));
  for (i = 0; i < ntrain * PIXELS; ++i)
    x[i] = train_x[i] / 255.0f;
  for (i = 0; i < ntest * PIXELS; ++i)
    xt[i] = test_x[i] / 255.0f;
  for (i = 0; i < ntrain; ++i)
    y[i] = train_y[i];

  if ((rc = create_both(&cpu, &gpu)) != 0)
    return rc;
  /* The same initial weights in both. */
  for (w = 0; C(_weight_name)(w) != NULL; ++w) {
    const char *name = C(_weight_name)(w);
    size_t n = (size_t)C(_weight_count)(w);
    float *v = calloc(n, sizeof(float));
    if (strstr(name, "kernel")) {
      double limit = sqrt(6.0 / (784 + 64)); /* about Glorot's for these */
      for (i = 0; i < n; ++i) {
        state = state * 1664525u + 1013904223u;
        v[i] = (float)(((state >> 8) / 16777216.0 * 2 - 1) * limit);
      }
    }
    if (C(_set_weight)(cpu, name, v, n) != 0 ||
        G(_set_weight)(gpu, name, v, n) != 0) {
      fprintf(stderr, "gpu_train: cannot set %s\n", name);
      return 1;
    }
    free(v);
  }

  /* 1. One step through both. */
  if ((rc = C(_train_step)(cpu, BATCH, x, BATCH * PIXELS, y, BATCH,
                           &loss_cpu)) != 0 ||
      (rc = G(_train_step)(gpu, BATCH, x, BATCH * PIXELS, y, BATCH,
                           &loss_gpu)) != 0) {
    printf("train_step failed: %s\n", G(_error_message)(rc));
    return 1;
  }
  worst = (float)weights_diff(cpu, gpu);
  printf("mlp train_step batch %d: loss cpu %.6f gpu %.6f; weights after "
         "the step: max rel diff %.2e %s\n",
         BATCH, loss_cpu, loss_gpu, worst, worst <= 1e-4 ? "ok" : "FAIL");
  failed |=
      !(worst <= 1e-4) || !(fabs(loss_cpu - loss_gpu) <= 1e-4 * fabs(loss_cpu));

  /* 2. Train on the GPU (and time the CPU over the same steps). */
  for (e = 0; e < epochs; ++e) {
    float loss = 0;
    start = now_ms();
    for (i = 0; i + BATCH <= ntrain; i += BATCH)
      if ((rc = G(_train_step)(gpu, BATCH, x + i * PIXELS, BATCH * PIXELS,
                               y + i, BATCH, &loss)) != 0) {
        printf("gpu train_step failed: %s\n", G(_error_message)(rc));
        return 1;
      }
    gpu_ms = now_ms() - start;
    start = now_ms();
    for (i = 0; i + BATCH <= ntrain; i += BATCH)
      rc = C(_train_step)(cpu, BATCH, x + i * PIXELS, BATCH * PIXELS, y + i,
                          BATCH, &loss_cpu);
    cpu_ms = now_ms() - start;
    printf("epoch %d: last loss gpu %.4f cpu %.4f; epoch time gpu %.0f ms, "
           "cpu %.0f ms (cpu/gpu %.2f)\n",
           e + 1, loss, loss_cpu, gpu_ms, cpu_ms, cpu_ms / gpu_ms);
  }
  if ((rc = G(_predict)(gpu, (int64_t)ntest, xt, ntest * PIXELS, logits,
                        ntest * 10)) != 0) {
    printf("gpu predict failed: %s\n", G(_error_message)(rc));
    return 1;
  }
  for (i = 0; i < ntest; ++i) {
    size_t best = 0;
    for (j = 1; j < 10; ++j)
      if (logits[i * 10 + j] > logits[i * 10 + best])
        best = j;
    correct += best == test_y[i];
  }
  printf("mlp trained %d epochs on the GPU: test accuracy %.4f %s\n", epochs,
         (double)correct / ntest,
         correct >= 0.84 * ntest ? "ok (>= 0.84)" : "FAIL (< 0.84)");
  failed |= correct < 0.84 * ntest;
  return failed;
}
