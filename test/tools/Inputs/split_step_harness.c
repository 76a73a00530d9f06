/* Data-parallel training through a header's raw grad_step and apply_step
 * (`layerc --train --distributed` of the guide's MNIST MLP, RMSprop), as an
 * application that does its own all-reduce would use them. From the same
 * weights, one batch of 64:
 *   - train_step;
 *   - grad_step on the whole batch, then apply_step: must equal train_step
 *     bit for bit;
 *   - grad_step on rows 0-31 (offset 0) and 32-63 (offset 32), the two
 *     gradients averaged (the all-reduce of two ranks, in-process), then
 *     apply_step: must equal train_step to float32 rounding. */
#include "m.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kBatch = 64, kWeights = 6 };
static const size_t kCount[kWeights] = {784 * 64, 64, 64 * 64, 64, 64 * 10, 10};

/* w[6] (weights), v[6] (RMSprop velocities) in, w2/v2 out. */
#define W(a)                                                                   \
  a[0], kCount[0], a[1], kCount[1], a[2], kCount[2], a[3], kCount[3], a[4],    \
      kCount[4], a[5], kCount[5]

static float *alloc(size_t n) { return calloc(n, sizeof(float)); }

static int gradStep(int64_t batch, const float *x, const int32_t *y,
                    float *const *w, float step, float offset, float *loss,
                    float *const *g) {
  float *out = alloc((size_t)batch * 10);
  int status = m_grad_step_raw(batch, x, (size_t)batch * 784, y, (size_t)batch,
                               W(w), &step, 1, &offset, 1, loss, 1, out,
                               (size_t)batch * 10, W(g));
  free(out);
  return status;
}

static int applyStep(float *const *w, float *const *g, float *const *v,
                     float step, float *const *w2, float *const *v2) {
  return m_apply_step_raw(1, W(w), W(g), W(v), &step, 1, W(w2), W(v2));
}

int main(void) {
  float *x = alloc(kBatch * 784), step = 1, loss, loss0, loss1, trainLoss;
  int32_t y[kBatch];
  float *w[kWeights], *v[kWeights], *wt[kWeights], *vt[kWeights];
  float *g[kWeights], *g1[kWeights], *ws[kWeights], *vs[kWeights];
  float *out = alloc(kBatch * 10);
  double worst = 0;
  int i, identical = 1;
  size_t k;
  for (i = 0; i < kWeights; ++i) {
    w[i] = alloc(kCount[i]);
    v[i] = alloc(kCount[i]);
    wt[i] = alloc(kCount[i]);
    vt[i] = alloc(kCount[i]);
    g[i] = alloc(kCount[i]);
    g1[i] = alloc(kCount[i]);
    ws[i] = alloc(kCount[i]);
    vs[i] = alloc(kCount[i]);
    for (k = 0; k < kCount[i]; ++k)
      w[i][k] = 0.05f * (float)((int)((k * 7919 + (size_t)i) % 13) - 6) / 6.0f;
  }
  for (i = 0; i < kBatch * 784; ++i)
    x[i] = (float)((i * 31) % 97) / 97.0f;
  for (i = 0; i < kBatch; ++i)
    y[i] = (i * 7) % 10;

  if (m_train_step_raw(kBatch, x, kBatch * 784, y, kBatch, W(w), W(v), &step, 1,
                       &trainLoss, 1, out, kBatch * 10, W(wt), W(vt)) != 0)
    return 1;

  /* One shard: the whole batch. */
  if (gradStep(kBatch, x, y, w, step, 0, &loss, g) != 0 ||
      applyStep(w, g, v, step, ws, vs) != 0)
    return 2;
  for (i = 0; i < kWeights; ++i)
    identical &= memcmp(ws[i], wt[i], kCount[i] * sizeof(float)) == 0 &&
                 memcmp(vs[i], vt[i], kCount[i] * sizeof(float)) == 0;
  printf("one shard: %s, loss %s\n", identical ? "identical" : "DIFFERENT",
         loss == trainLoss ? "identical" : "DIFFERENT");

  /* Two shards, averaged: the all-reduce of two ranks. */
  if (gradStep(32, x, y, w, step, 0, &loss0, g) != 0 ||
      gradStep(32, x + 32 * 784, y + 32, w, step, 32, &loss1, g1) != 0)
    return 3;
  for (i = 0; i < kWeights; ++i)
    for (k = 0; k < kCount[i]; ++k)
      g[i][k] = 0.5f * g[i][k] + 0.5f * g1[i][k];
  if (applyStep(w, g, v, step, ws, vs) != 0)
    return 4;
  for (i = 0; i < kWeights; ++i) {
    double scale = 0, diff = 0;
    for (k = 0; k < kCount[i]; ++k) {
      scale = fmax(scale, fabs(wt[i][k]));
      diff = fmax(diff, fabs((double)ws[i][k] - wt[i][k]));
    }
    worst = fmax(worst, diff / scale);
  }
  printf("two shards: weights %s 1e-5 of train_step's, loss %s\n",
         worst <= 1e-5 ? "within" : "NOT within",
         fabs(0.5 * (loss0 + loss1) - trainLoss) <= 1e-5 * fabs(trainLoss)
             ? "the same"
             : "DIFFERENT");
  return 0;
}
