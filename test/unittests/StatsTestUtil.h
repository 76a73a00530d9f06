//===- StatsTestUtil.h - Statistics of random tensors -----------*- C++ -*-===//
//
// Shared by the tests whose oracle is a distribution (initializers, the
// training noise of the dropout family): the sample mean, deviation, the
// largest magnitude and the share of values within one deviation of the
// mean (68.3% for a normal distribution).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_STATSTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_STATSTESTUTIL_H

#include "runtime/Tensor.h"

#include <algorithm>
#include <cmath>

namespace layerc::test {

struct SampleStats {
  double mean = 0, stddev = 0, maxAbs = 0, withinOneStddev = 0;
};

/// The statistics of a float32 tensor's elements.
inline SampleStats sampleStats(const Tensor &t) {
  SampleStats s;
  const float *p = t.data<float>();
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i)
    s.mean += p[i];
  s.mean /= n;
  for (int64_t i = 0; i < n; ++i) {
    s.stddev += (p[i] - s.mean) * (p[i] - s.mean);
    s.maxAbs = std::max(s.maxAbs, std::fabs(double(p[i])));
  }
  s.stddev = std::sqrt(s.stddev / n);
  for (int64_t i = 0; i < n; ++i)
    s.withinOneStddev += std::fabs(p[i] - s.mean) < s.stddev;
  s.withinOneStddev /= n;
  return s;
}

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_STATSTESTUTIL_H
