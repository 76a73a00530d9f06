/* A C99 program that uses the library `layerc` generates for
 * examples/mlir/mnist_mlp.mlir the way an application would: it reads raw
 * float32 inputs and weights, calls mnist_predict, writes the logits, and
 * checks that bad buffers are refused with the documented error codes.
 *
 *   mnist_harness DIR BATCH   (reads DIR/x.bin, DIR/w0.bin ... w5.bin,
 *                              writes DIR/aot_out.bin)
 */
#include "mnist.h"

#include <stdio.h>
#include <stdlib.h>

static float *readFloats(const char *dir, const char *name, size_t count) {
  char path[4096];
  float *data = malloc(count * sizeof(float));
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f || !data || fread(data, sizeof(float), count, f) != count) {
    fprintf(stderr, "cannot read %zu floats from %s\n", count, path);
    exit(2);
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  const char *dir;
  int64_t batch;
  size_t nx, nk0, nk1, nk2, nout;
  float *x, *k0, *b0, *k1, *b1, *k2, *b2, *out;
  FILE *f;
  char path[4096];
  int rc;
  if (argc != 3)
    return 2;
  dir = argv[1];
  batch = atoll(argv[2]);
  nx = (size_t)batch * MNIST_PREDICT_INPUT_DIM1;
  nk0 = MNIST_PREDICT_DENSE_KERNEL_DIM0 * MNIST_PREDICT_DENSE_KERNEL_DIM1;
  nk1 = MNIST_PREDICT_DENSE_1_KERNEL_DIM0 * MNIST_PREDICT_DENSE_1_KERNEL_DIM1;
  nk2 = MNIST_PREDICT_DENSE_2_KERNEL_DIM0 * MNIST_PREDICT_DENSE_2_KERNEL_DIM1;
  nout = (size_t)batch * MNIST_PREDICT_OUTPUT0_DIM1;
  x = readFloats(dir, "x.bin", nx);
  k0 = readFloats(dir, "w0.bin", nk0);
  b0 = readFloats(dir, "w1.bin", MNIST_PREDICT_DENSE_BIAS_DIM0);
  k1 = readFloats(dir, "w2.bin", nk1);
  b1 = readFloats(dir, "w3.bin", MNIST_PREDICT_DENSE_1_BIAS_DIM0);
  k2 = readFloats(dir, "w4.bin", nk2);
  b2 = readFloats(dir, "w5.bin", MNIST_PREDICT_DENSE_2_BIAS_DIM0);
  out = calloc(nout, sizeof(float));

  /* Refused calls: nothing is read or written. */
  rc = mnist_predict(batch, x, nx - 1, k0, nk0, b0, 64, k1, nk1, b1, 64, k2,
                     nk2, b2, 10, out, nout);
  printf("short input: %d %s\n", rc, mnist_error_message(rc));
  rc = mnist_predict(0, x, 0, k0, nk0, b0, 64, k1, nk1, b1, 64, k2, nk2, b2, 10,
                     out, 0);
  printf("zero batch: %d %s\n", rc, mnist_error_message(rc));
  rc = mnist_predict(batch, x, nx, NULL, nk0, b0, 64, k1, nk1, b1, 64, k2, nk2,
                     b2, 10, out, nout);
  printf("null kernel: %d %s\n", rc, mnist_error_message(rc));
  rc = mnist_predict(batch, x, nx, k0, nk0, b0, 64, k1, nk1, b1, 64, k2, nk2,
                     b2, 10, out, nout + 1);
  printf("long output: %d %s\n", rc, mnist_error_message(rc));

  rc = mnist_predict(batch, x, nx, k0, nk0, b0, 64, k1, nk1, b1, 64, k2, nk2,
                     b2, 10, out, nout);
  printf("predict: %d %s\n", rc, mnist_error_message(rc));
  if (rc != MNIST_OK)
    return 1;
  /* The scratch memory freed, the next call allocates it again; its
   * results are the ones written and compared. */
  mnist_release_memory();
  rc = mnist_predict(batch, x, nx, k0, nk0, b0, 64, k1, nk1, b1, 64, k2, nk2,
                     b2, 10, out, nout);
  printf("after release_memory: %d %s\n", rc, mnist_error_message(rc));
  if (rc != MNIST_OK)
    return 1;
  snprintf(path, sizeof path, "%s/aot_out.bin", dir);
  f = fopen(path, "wb");
  if (!f || fwrite(out, sizeof(float), nout, f) != nout)
    return 1;
  fclose(f);
  free(x), free(k0), free(b0), free(k1), free(b1), free(k2), free(b2);
  free(out);
  return 0;
}
