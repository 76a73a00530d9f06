/* Uses the header generated for layerc-header.mlir: parameter names that
 * are C keywords or clash with generated names, a function whose MLIR name
 * is not a C identifier, and a batch whose element count would overflow. */
#include "nm.h"

#include <stdio.h>

int main(void) {
  float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {0}, c[8] = {0}, out[8];
  float s = 2.5f, t = 0;
  int rc = nm_predict(2, a, 8, b, 8, c, 8, out, 8);
  printf("predict: %d %.1f\n", rc, out[7]);
  rc = nm_fn_v2(1, &s, 1, &t, 1);
  printf("fn.v2: %d %.1f\n", rc, t);
  /* 2^60 rows of 4 floats: the count cannot be represented; refused. */
  rc = nm_predict((int64_t)1 << 60, a, 0, b, 0, c, 0, out, (size_t)1 << 62);
  printf("overflow: %d %s\n", rc, nm_error_message(rc));
  return 0;
}
