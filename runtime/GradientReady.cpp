//===- GradientReady.cpp - Overlapping the all-reduce with backward -------===//
//
// The compiled grad_step calls layerc_gradient_ready on the thread that runs
// it, between the ops of its backward pass. The sink of that thread copies
// the gradient into the fused buffer with the scale the non-overlapped path
// applies after grad_step (the same float product, so the buffers are the
// same bits) and starts the buckets that are complete. It also tests the
// started ones: MPI advances a non-blocking collective only inside MPI
// calls (Open MPI has no progress thread by default), so without that the
// first bucket would only travel once grad_step returns.
//
//===----------------------------------------------------------------------===//

#include "runtime/GradientReady.h"
#include "runtime/Error.h"

#include <cstdlib>
#include <cstring>

using namespace layerc;
using namespace layerc::detail;

namespace {
thread_local GradientSink *currentSink = nullptr;

/// A non-negative integer environment variable, or `fallback` when unset.
long long environmentInteger(const char *name, long long fallback) {
  const char *text = std::getenv(name);
  if (!text || !*text)
    return fallback;
  char *end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0)
    throw Error(std::string(name) + " must be a non-negative integer, got '" +
                text + "'");
  return value;
}
} // namespace

extern "C" void layerc_gradient_ready(int64_t index, const float *data,
                                      int64_t count) {
  if (currentSink)
    currentSink->gradientReady(index, data, count);
}

GradientSink::~GradientSink() = default;

ScopedGradientSink::ScopedGradientSink(GradientSink *sink)
    : previous(currentSink) {
  currentSink = sink;
}

ScopedGradientSink::~ScopedGradientSink() { currentSink = previous; }

bool layerc::detail::overlapAllreduceEnabled() {
  long long value = environmentInteger("LAYERC_MPI_OVERLAP", 1);
  if (value > 1)
    throw Error("LAYERC_MPI_OVERLAP must be 0 or 1, got " +
                std::to_string(value));
  return value == 1;
}

bool layerc::detail::profileSteps() {
  return environmentInteger("LAYERC_MPI_PROFILE", 0) != 0;
}

size_t layerc::detail::allreduceBucketBytes() {
  long long kb = environmentInteger("LAYERC_MPI_BUCKET_KB", 1024);
  if (kb == 0)
    throw Error("LAYERC_MPI_BUCKET_KB must be at least 1");
  return size_t(kb) * 1024;
}

DataParallelStats &layerc::detail::dataParallelStats() {
  static DataParallelStats stats;
  return stats;
}

GradientBuckets::GradientBuckets(Communicator &comm,
                                 const std::vector<int64_t> &counts,
                                 size_t bucketBytes)
    : comm(comm), counts(counts), bucketOf(counts.size()),
      arrived(counts.size(), 0) {
  size_t at = 0;
  for (int64_t n : counts) {
    offsets.push_back(at);
    at += size_t(n);
  }
  // The backward pass finishes the last layers first: walk the gradients
  // from the end of the buffer, so that each bucket is a contiguous range.
  // A bucket takes gradients while they fit in `bucketBytes` (a larger
  // gradient gets a bucket of its own).
  for (size_t i = counts.size(); i-- > 0;) {
    if (buckets.empty() ||
        (buckets.back().end - buckets.back().begin + size_t(counts[i])) *
                sizeof(float) >
            bucketBytes)
      buckets.push_back({offsets[i] + size_t(counts[i]),
                         offsets[i] + size_t(counts[i]), 0, 0});
    Bucket &b = buckets.back();
    b.begin = offsets[i];
    ++b.gradients;
    bucketOf[i] = buckets.size() - 1;
  }
}

void GradientBuckets::begin(float *buffer, float factor) {
  fused = buffer;
  scale = factor;
  std::fill(arrived.begin(), arrived.end(), 0);
  for (Bucket &b : buckets)
    b.pending = b.gradients;
  nextBucket = 0;
}

void GradientBuckets::copy(size_t index, const float *data) {
  float *to = fused + offsets[index];
  for (int64_t k = 0, n = counts[index]; k < n; ++k)
    to[k] = data[k] * scale;
  arrived[index] = 1;
  --buckets[bucketOf[index]].pending;
}

void GradientBuckets::startReady() {
  while (nextBucket < buckets.size() && buckets[nextBucket].pending == 0) {
    const Bucket &b = buckets[nextBucket++];
    comm.iallreduceSum(fused + b.begin, b.end - b.begin);
  }
}

void GradientBuckets::gradientReady(int64_t index, const float *data,
                                    int64_t count) noexcept {
  if (index < 0 || size_t(index) >= counts.size() ||
      count != counts[size_t(index)] || arrived[size_t(index)]) {
    if (error.empty())
      error = "grad_step announced gradient " + std::to_string(index) + " of " +
              std::to_string(count) + " elements, but it has " +
              std::to_string(counts.size()) + " gradients (this one of " +
              (index >= 0 && size_t(index) < counts.size()
                   ? std::to_string(counts[size_t(index)])
                   : std::string("no")) +
              " elements), each announced once";
    return;
  }
  copy(size_t(index), data);
  startReady();
  comm.progress();
}

int64_t GradientBuckets::finish(const std::vector<Tensor> *grads) {
  if (!error.empty())
    comm.abort("fit (distributed, overlapped all-reduce): " + error);
  int64_t early = int64_t(nextBucket);
  for (size_t i = 0; i < counts.size(); ++i)
    if (!arrived[i]) {
      if (grads)
        copy(i, (*grads)[i].data<float>());
      else
        --buckets[bucketOf[i]].pending;
    }
  startReady();
  return early;
}
