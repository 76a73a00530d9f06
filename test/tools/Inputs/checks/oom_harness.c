/* Calls the AOT function of Inputs/checks/oom.mlir, whose intermediate
 * needs 1 GiB, under the address-space limit the test sets: it must return
 * OOM_ERROR_MEMORY (before, the unchecked malloc was dereferenced). */
#include <stdio.h>

#include "oom.h"

int main(void) {
  float x[64] = {0}, y[1] = {0};
  int rc = oom_predict(1, x, 64, y, 1);
  printf("predict: %d %s\n", rc, oom_error_message(rc));
  return 0;
}
