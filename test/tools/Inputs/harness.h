/* harness.h - what the C harnesses of the AOT tests share: MODEL's
 * functions by name (FN(create) is MODEL_create) and readAll. Include it
 * after the model's header. */
#ifndef LAYERC_TEST_HARNESS_H
#define LAYERC_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(MODEL, CAT(_, name))

static float *readAll(const char *path, size_t *count) {
  FILE *f = fopen(path, "rb");
  long bytes;
  float *data;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  *count = (size_t)bytes / sizeof(float);
  data = malloc((size_t)bytes + 1);
  if (fread(data, 1, (size_t)bytes, f) != (size_t)bytes) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  return data;
}

#endif /* LAYERC_TEST_HARNESS_H */
