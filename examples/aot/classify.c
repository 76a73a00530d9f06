/* classify.c - Fashion-MNIST test accuracy of an AOT-compiled model.
 *
 * Reads the 10,000 test images and labels (IDX, gzip) and classifies them
 * through the context API of the library layerc generated (mnist_create,
 * mnist_predict, mnist_destroy); prints the accuracy. Everything it needs
 * at run time is libc, libm and zlib. */
#include "mnist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define COUNT 10000
#define PIXELS 784
#define BATCH 100

/* Reads exactly `size` bytes after an IDX header of `header` bytes. */
static unsigned char *readIdx(const char *path, size_t header, size_t size) {
  unsigned char *data = malloc(header + size);
  gzFile f = gzopen(path, "rb");
  if (!f || !data ||
      gzread(f, data, (unsigned)(header + size)) != (int)(header + size)) {
    fprintf(stderr, "classify: cannot read %s\n", path);
    exit(1);
  }
  gzclose(f);
  memmove(data, data + header, size);
  return data;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  char path[4096];
  unsigned char *images, *labels;
  float *x = malloc(sizeof(float) * BATCH * PIXELS);
  float *logits = malloc(sizeof(float) * BATCH * 10);
  int correct = 0, i, j, k;
  mnist_context *model;

  snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", dir);
  images = readIdx(path, 16, (size_t)COUNT * PIXELS);
  snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", dir);
  labels = readIdx(path, 8, COUNT);
  if (mnist_create(&model) != MNIST_OK) {
    fprintf(stderr, "classify: out of memory\n");
    return 1;
  }

  for (i = 0; i < COUNT; i += BATCH) {
    int rc;
    for (j = 0; j < BATCH * PIXELS; ++j)
      x[j] = images[(size_t)i * PIXELS + j] / 255.0f;
    rc = mnist_predict(model, BATCH, x, BATCH * PIXELS, logits, BATCH * 10);
    if (rc != MNIST_OK) {
      fprintf(stderr, "classify: %s\n", mnist_error_message(rc));
      return 1;
    }
    for (j = 0; j < BATCH; ++j) {
      int best = 0;
      for (k = 1; k < 10; ++k)
        if (logits[j * 10 + k] > logits[j * 10 + best])
          best = k;
      correct += best == labels[i + j];
    }
  }
  printf("Test accuracy: %.4f (%d of %d)\n", (double)correct / COUNT, correct,
         COUNT);
  mnist_destroy(model);
  free(images), free(labels), free(x), free(logits);
  return 0;
}
