/* Calls the AOT slice of Inputs/checks/slice.mlir with a row too short for
 * offset 100000 (a check failure, not an out-of-bounds read) and with one
 * long enough. Prints "<case>: <code> <message>". */
#include <stdio.h>
#include <stdlib.h>

#include "sl.h"

static void run(const char *name, int64_t width) {
  float *x = calloc((size_t)width, sizeof(float));
  float y[2] = {0, 0};
  int rc;
  x[width - 1] = 7.0f;
  rc = sl_predict(1, x, (size_t)width, y, 2);
  printf("%s: %d %s\n", name, rc, sl_error_message(rc));
  free(x);
}

int main(void) {
  run("short", 5);
  run("long", 100002);
  return 0;
}
