/* finetune.c - trains an AOT-compiled model further, in C.
 *
 * The library comes from `layerc mnist.lcm --train` (layerc_add_model with
 * TRAIN): mnist_t_train_step runs the optimizer the model was compiled
 * with. The weights are loaded from the .lcm at run time and the result is
 * saved as a checkpoint, both through liblayerc_runtime.
 *   finetune MODEL.lcm OUT.safetensors [DATASET_DIR] */
#include "mnist_t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define COUNT 2048
#define PIXELS 784
#define BATCH 32

static unsigned char *readIdx(const char *path, size_t header, size_t size) {
  unsigned char *data = malloc(header + size);
  gzFile f = gzopen(path, "rb");
  if (!f || !data ||
      gzread(f, data, (unsigned)(header + size)) != (int)(header + size)) {
    fprintf(stderr, "finetune: cannot read %s\n", path);
    exit(1);
  }
  gzclose(f);
  memmove(data, data + header, size);
  return data;
}

int main(int argc, char **argv) {
  const char *dir = argc > 3 ? argv[3] : "/usr/share/datasets/fashion-mnist";
  char path[4096], error[512];
  unsigned char *images, *labels;
  float *x = malloc(sizeof(float) * COUNT * PIXELS);
  int32_t *y = malloc(sizeof(int32_t) * COUNT);
  float before, after, loss;
  int i, epoch, rc;
  mnist_t_context *model;
  if (argc < 3) {
    fprintf(stderr, "usage: finetune MODEL.lcm OUT.safetensors [DIR]\n");
    return 2;
  }
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
  images = readIdx(path, 16, (size_t)COUNT * PIXELS);
  snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
  labels = readIdx(path, 8, COUNT);
  for (i = 0; i < COUNT * PIXELS; ++i)
    x[i] = images[i] / 255.0f;
  for (i = 0; i < COUNT; ++i)
    y[i] = labels[i];

  if (mnist_t_create(&model) != MNIST_T_OK)
    return 1;
  if (mnist_t_load_weights(model, argv[1], error, sizeof error) != MNIST_T_OK) {
    fprintf(stderr, "finetune: %s\n", error);
    return 1;
  }
  mnist_t_evaluate(model, COUNT, x, (size_t)COUNT * PIXELS, y, COUNT, &before);
  for (epoch = 0; epoch < 3; ++epoch)
    for (i = 0; i + BATCH <= COUNT; i += BATCH) {
      rc = mnist_t_train_step(model, BATCH, x + (size_t)i * PIXELS,
                              BATCH * PIXELS, y + i, BATCH, &loss);
      if (rc != MNIST_T_OK) {
        fprintf(stderr, "finetune: %s\n", mnist_t_error_message(rc));
        return 1;
      }
    }
  mnist_t_evaluate(model, COUNT, x, (size_t)COUNT * PIXELS, y, COUNT, &after);
  printf("loss on %d images: %.4f before, %.4f after 3 epochs (fell: %s)\n",
         COUNT, before, after, after < before ? "yes" : "no");
  if (mnist_t_save_weights(model, argv[2], error, sizeof error) != MNIST_T_OK) {
    fprintf(stderr, "finetune: %s\n", error);
    return 1;
  }
  printf("saved %s\n", argv[2]);
  mnist_t_destroy(model);
  free(images), free(labels), free(x), free(y);
  return 0;
}
