/* Calls <MODEL>_predict_raw and <MODEL>_predict_device_raw of a CUDA
 * library (a single-input, single-output model with --embed-weights) on a
 * batch of 2, with a line before each, so that the trace of the stand-in
 * driver (fake_libcuda.c, FAKE_CUDA_TRACE=1) shows the copies each makes.
 * The stand-in's device memory is host memory: host buffers stand in for
 * device buffers.
 *   cc -DMODEL=M -DMODEL_HEADER='"M.h"' -DIN_COUNT=n -DOUT_COUNT=m
 *      device_entry.c libM.a -ldl -lpthread */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(f) CAT(MODEL, f)

int main(void) {
  size_t nin = 2 * IN_COUNT, nout = 2 * OUT_COUNT;
  float *x = calloc(nin, sizeof(float)), *y = calloc(nout, sizeof(float));
  int rc;
  /* The first call also copies the weights to the device. */
  rc = FN(_predict_raw)(2, x, nin, y, nout);
  fprintf(stderr, "-- predict_raw\n");
  rc |= FN(_predict_raw)(2, x, nin, y, nout);
  fprintf(stderr, "-- predict_device_raw\n");
  rc |= FN(_predict_device_raw)(2, x, nin, y, nout);
  fprintf(stderr, "-- status %d\n", rc);
  free(x);
  free(y);
  return rc;
}
