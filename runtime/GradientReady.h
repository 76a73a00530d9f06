//===- GradientReady.h - All-reduce during backward ---------*- C++ -*-===//
//
// Internal to the runtime. With layer-autodiff's gradient-ready option,
// grad_step calls layerc_gradient_ready(i, data, count) as soon as its
// gradient i is final. Data-parallel fit() (DistributedTraining.cpp) lets a
// GradientBuckets receive those calls on the thread that runs grad_step:
// it copies each gradient, scaled, into its place in the step's fused
// buffer and starts a non-blocking all-reduce of each bucket of about
// LAYERC_MPI_BUCKET_KB kilobytes as soon as all of its gradients are in,
// while the backward pass computes the rest (docs/Distributed.md).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_GRADIENTREADY_H
#define LAYERC_RUNTIME_GRADIENTREADY_H

#include "runtime/Communicator.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

/// What grad_step compiled with gradient-ready calls. Does nothing unless
/// a sink is set on the calling thread (ScopedGradientSink).
extern "C" void layerc_gradient_ready(int64_t index, const float *data,
                                      int64_t count);

namespace layerc::detail {

/// Receives grad_step's gradients as the compiled code finishes them.
class GradientSink {
public:
  virtual ~GradientSink();
  /// Runs inside compiled code, which has no unwind tables: never throws.
  virtual void gradientReady(int64_t index, const float *data,
                             int64_t count) noexcept = 0;
};

/// Makes `sink` receive the calls made on this thread while it lives.
class ScopedGradientSink {
public:
  explicit ScopedGradientSink(GradientSink *sink);
  ~ScopedGradientSink();
  ScopedGradientSink(const ScopedGradientSink &) = delete;
  ScopedGradientSink &operator=(const ScopedGradientSink &) = delete;

private:
  GradientSink *previous;
};

/// LAYERC_MPI_OVERLAP: whether data-parallel fit() overlaps the gradients'
/// all-reduce with the backward pass (unset or 1: yes, 0: no).
bool overlapAllreduceEnabled();
/// LAYERC_MPI_BUCKET_KB: the size of a bucket in bytes (default 1024 KB).
size_t allreduceBucketBytes();

/// LAYERC_MPI_PROFILE=1 (benchmarks): every data-parallel step waits for
/// all ranks after grad_step, so that DataParallelStats::exposedSeconds is
/// communication alone, not the wait for the slowest rank.
bool profileSteps();

/// What the last data-parallel fit() measured, summed over its steps (for
/// bench/distributed.sh).
struct DataParallelStats {
  bool overlapped = false;
  /// All-reduces of gradients per step.
  int64_t bucketsPerStep = 0;
  int64_t steps = 0;
  /// In grad_step, the copies into buckets included.
  double gradStepSeconds = 0;
  /// In the gradients' all-reduce after grad_step returned: the whole
  /// all-reduce without overlap, the rest of it with (and the wait for the
  /// slowest rank, unless profileSteps()).
  double exposedSeconds = 0;
  /// Buckets started while grad_step still ran.
  int64_t bucketsStartedEarly = 0;
  /// Each step's exposedSeconds (a median ignores the steps in which a
  /// busy machine descheduled the rank).
  std::vector<double> exposedPerStep;
};
DataParallelStats &dataParallelStats();

/// The gradients at the start of a step's fused buffer (gradient i at
/// offsets[i], in grad_step's order), cut into buckets in backward order:
/// the last gradients first, about `bucketBytes` each. Buckets start in
/// that order on every rank (MPI pairs collectives by order), each once all
/// of its gradients are in and every earlier bucket has started.
class GradientBuckets final : public GradientSink {
public:
  GradientBuckets(Communicator &comm, const std::vector<int64_t> &counts,
                  size_t bucketBytes);
  size_t size() const { return buckets.size(); }

  /// Before grad_step: `fused` (zeros) receives this step's gradients,
  /// each multiplied by `scale`.
  void begin(float *fused, float scale);
  void gradientReady(int64_t index, const float *data,
                     int64_t count) noexcept override;
  /// After grad_step: copies the gradients it did not announce from
  /// `grads` (its gradient results; null when this rank had no rows, and
  /// the buffer keeps its zeros), then starts every bucket not started
  /// yet. Returns how many had started while grad_step ran.
  int64_t finish(const std::vector<Tensor> *grads);

private:
  void copy(size_t index, const float *data);
  void startReady();

  struct Bucket {
    size_t begin, end;
    int gradients, pending;
  };
  Communicator &comm;
  std::vector<size_t> offsets;
  std::vector<int64_t> counts;
  std::vector<size_t> bucketOf;
  std::vector<Bucket> buckets;
  std::vector<char> arrived;
  size_t nextBucket = 0;
  float *fused = nullptr;
  float scale = 1.0f;
  /// A call the compiled code should not have made; reported by finish().
  std::string error;
};

} // namespace layerc::detail

#endif // LAYERC_RUNTIME_GRADIENTREADY_H
