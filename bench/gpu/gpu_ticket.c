/* gpu_ticket.c - the guide's ticket model (three inputs, two of them token
 * sequences of any length; Embedding, LSTM, Dense; two outputs) through
 * its CUDA library against its CPU library.
 *
 * Built by bench/gpu/prepare.sh from ticket.lcm compiled with --train twice
 * (prefixes CPU and GPU). Both contexts get the same weights; `predict` on
 * the same random tickets (titles of 10 words, bodies of 100, batch 64)
 * must agree within 1e-4 (normwise relative) for both outputs, and one
 * train_step must leave every weight within 1e-4 of the CPU's. */
#include "gpu_common.h"

#define BATCH 64
#define TITLE 10
#define BODY 100
#define TAGS 12
#define DEPARTMENTS 4
#define WORDS 10000

static unsigned state = 4242u;
static unsigned next(void) {
  state = state * 1664525u + 1013904223u;
  return state >> 8;
}

int main(void) {
  static int32_t title[BATCH * TITLE], body[BATCH * BODY];
  static float tags[BATCH * TAGS], priority[2][BATCH],
      department[2][BATCH * DEPARTMENTS], target_priority[BATCH],
      target_department[BATCH * DEPARTMENTS];
  C(_context) * cpu;
  G(_context) * gpu;
  double worst = 0;
  float loss_cpu, loss_gpu;
  int i, w, rc, failed = 0;
  if ((rc = create_both(&cpu, &gpu)) != 0)
    return rc;
  for (w = 0; C(_weight_name)(w) != NULL; ++w) {
    size_t n = (size_t)C(_weight_count)(w), k;
    float *v = malloc(n * sizeof(float));
    for (k = 0; k < n; ++k)
      v[k] = (float)((next() / 16777216.0 * 2 - 1) * 0.1);
    if (C(_set_weight)(cpu, C(_weight_name)(w), v, n) != 0 ||
        G(_set_weight)(gpu, C(_weight_name)(w), v, n) != 0)
      return 1;
    free(v);
  }
  for (i = 0; i < BATCH * TITLE; ++i)
    title[i] = (int32_t)(next() % WORDS);
  for (i = 0; i < BATCH * BODY; ++i)
    body[i] = (int32_t)(next() % WORDS);
  for (i = 0; i < BATCH * TAGS; ++i)
    tags[i] = (float)(next() % 2);
  for (i = 0; i < BATCH; ++i) {
    target_priority[i] = (float)(next() % 2);
    target_department[i * DEPARTMENTS + next() % DEPARTMENTS] = 1;
  }
  if ((rc = C(_predict)(cpu, BATCH, title, BATCH * TITLE, body, BATCH * BODY,
                        tags, BATCH * TAGS, priority[0], BATCH, department[0],
                        BATCH * DEPARTMENTS)) != 0 ||
      (rc = G(_predict)(gpu, BATCH, title, BATCH * TITLE, body, BATCH * BODY,
                        tags, BATCH * TAGS, priority[1], BATCH, department[1],
                        BATCH * DEPARTMENTS)) != 0) {
    printf("ticket: predict failed: %s\n", G(_error_message)(rc));
    return 1;
  }
  {
    double p = rel_diff(priority[1], priority[0], BATCH);
    double d = rel_diff(department[1], department[0], BATCH * DEPARTMENTS);
    failed |= !(p <= 1e-4) || !(d <= 1e-4);
    printf("ticket       predict batch %d (titles of %d, bodies of %d): rel "
           "diff priority %.2e, department %.2e %s\n",
           BATCH, TITLE, BODY, p, d, failed ? "FAIL" : "ok");
  }
  if ((rc = C(_train_step)(cpu, BATCH, title, BATCH * TITLE, body, BATCH * BODY,
                           tags, BATCH * TAGS, target_priority, BATCH,
                           target_department, BATCH * DEPARTMENTS,
                           &loss_cpu)) != 0 ||
      (rc = G(_train_step)(gpu, BATCH, title, BATCH * TITLE, body, BATCH * BODY,
                           tags, BATCH * TAGS, target_priority, BATCH,
                           target_department, BATCH * DEPARTMENTS,
                           &loss_gpu)) != 0) {
    printf("ticket: train_step failed: %s\n", G(_error_message)(rc));
    return 1;
  }
  worst = weights_diff(cpu, gpu);
  failed |= !(worst <= 1e-4) ||
            !(fabs(loss_cpu - loss_gpu) <= 1e-4 * fabs(loss_cpu) + 1e-7);
  printf("ticket       train_step batch %d: loss cpu %.6f gpu %.6f; weights "
         "after the step: max rel diff %.2e %s\n",
         BATCH, loss_cpu, loss_gpu, worst, failed ? "FAIL" : "ok");
  return failed;
}
