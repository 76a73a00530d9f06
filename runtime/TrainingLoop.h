//===- TrainingLoop.h - Pieces shared by the fit() loops ---------*- C++
//-*-===//
//
// Internal to the runtime: the running loss and metrics of an epoch,
// batching helpers, and the interface of the step loop that fit() drives,
// implemented in one process (train_step, Training.cpp) and data-parallel
// across processes (grad_step + apply_step, DistributedTraining.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_TRAININGLOOP_H
#define LAYERC_RUNTIME_TRAININGLOOP_H

#include "runtime/Communicator.h"
#include "runtime/Dataset.h"
#include "runtime/Training.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace layerc::detail {

/// Element `i` of `t` (any dtype) as a double.
double elementAt(const Tensor &t, int64_t i);

/// A sample-weighted mean, as Keras's Mean metric.
struct Mean {
  double sum = 0, count = 0;
  void add(double value, double weight) {
    sum += value * weight;
    count += weight;
  }
  double value() const { return count > 0 ? sum / count : 0.0; }
};

/// What one metric has accumulated over batches: sums that add across
/// batches and across processes. A mean-like metric keeps its sum and
/// count; AUC the positives and the negatives whose prediction falls in
/// each of its threshold buckets; MeanIoU its confusion matrix.
struct MetricState {
  explicit MetricState(const Metric &m);
  std::vector<double> counts;
  /// The sample-weighted mean of the values added (mean-like metrics).
  void add(double value, double weight) {
    counts[0] += value * weight;
    counts[1] += weight;
  }
  /// The metric, as Keras's result().
  double value(const Metric &m) const;
};

/// Adds what one batch's outputs and targets contribute to `state`.
void accumulateMetric(const char *fn, const Metric &m, const Tensor &out,
                      const Tensor &target, MetricState &state);

/// The loss and metrics of one epoch (or one evaluation) so far.
struct RunningLogs {
  Mean loss{};
  std::vector<Mean> outputLosses{};
  std::vector<MetricState> metrics{};

  explicit RunningLogs(const TrainingProgram &p)
      : outputLosses(p.outputLossNames.size()) {
    for (const Metric &m : p.metrics)
      metrics.emplace_back(m);
  }

  /// `perOutput`: each output's loss for this batch (none without
  /// outputLossNames).
  /// `outputs` holds the batch's predictions, first at `firstOutput`.
  void add(const char *fn, const TrainingProgram &p, double batchLoss,
           const std::vector<double> &perOutput, int64_t batch,
           const std::vector<Tensor> &outputs, size_t firstOutput,
           const std::vector<Tensor> &targets) {
    loss.add(batchLoss, double(batch));
    for (size_t i = 0; i < outputLosses.size(); ++i)
      outputLosses[i].add(perOutput.at(i), double(batch));
    for (size_t i = 0; i < p.metrics.size(); ++i) {
      size_t o = static_cast<size_t>(p.metrics[i].output);
      accumulateMetric(fn, p.metrics[i], outputs.at(firstOutput + o),
                       targets.at(o), metrics[i]);
    }
  }

  /// Keras's order: loss, each output's loss, the metrics.
  LogValues values(const TrainingProgram &p, const std::string &prefix) const {
    LogValues v{{prefix + "loss", loss.value()}};
    for (size_t i = 0; i < outputLosses.size(); ++i)
      v.push_back({prefix + p.outputLossNames[i], outputLosses[i].value()});
    for (size_t i = 0; i < metrics.size(); ++i)
      v.push_back({prefix + p.metrics[i].name, metrics[i].value(p.metrics[i])});
    return v;
  }
};

/// The value of a one-element tensor; throws on any other.
double scalarValue(const Tensor &t);
/// The scalars of tensors [first, first + count).
std::vector<double> scalarValues(const std::vector<Tensor> &ts, size_t first,
                                 size_t count);
/// Sets the one element of `t`, converted to its dtype.
void setScalar(Tensor &t, double value);

/// Batches of `batchSize` over `samples` samples, the last one partial.
int64_t numBatches(size_t samples, int64_t batchSize);
/// The indices of batch `b`.
std::vector<int64_t> batchIndices(const std::vector<int64_t> &order, int64_t b,
                                  int64_t batchSize);
/// Rows `idx` of every tensor.
std::vector<Tensor> gather(const std::vector<Tensor> &ts,
                           const std::vector<int64_t> &idx);

/// The checks of fit(), evaluate() and predict() (TrainingChecks.cpp); each
/// throws layerc::Error naming the function `fn` and the argument.
void checkArity(const char *fn, const char *what, size_t expected,
                size_t actual);
/// The program's functions agree with its declared layout (for predict()
/// alone when `fn` is "predict").
void checkProgram(const char *fn, const TrainingProgram &p);
/// Every x[i] and y[t] has the same number of samples along axis 0;
/// returns that number.
int64_t checkSamples(const char *fn, const TrainingProgram &p,
                     const std::vector<Tensor> &x,
                     const std::vector<Tensor> *y);
void checkNotEmpty(const char *fn, int64_t samples);
void checkBatchSize(const char *fn, int64_t batchSize);
void checkParams(const char *fn, const TrainingProgram &p,
                 const TrainingState &state);
/// The targets converted to the dtypes `f` expects (integer labels of any
/// width; float targets for integer labels are refused).
std::vector<Tensor> convertTargets(const char *fn, const TrainingProgram &p,
                                   const CompiledFunction &f,
                                   const std::vector<Tensor> &y);
/// Class indices within the classes of the first output.
void checkLabels(const char *fn, const TrainingProgram &p, const Tensor &y0);
void checkPrefetch(const char *fn, int prefetch);
/// The size of a dataset, which must hold samples.
int64_t datasetSize(const char *fn, const data::Dataset &ds);

/// The samples `idx` of a loop's data: inputs and targets, each with
/// idx.size() rows, checked and converted to what the program takes.
using BatchLoader = std::function<data::Batch(const std::vector<int64_t> &idx)>;

/// Rows `idx` of tensors held in memory (they must outlive the loader).
BatchLoader tensorLoader(const std::vector<Tensor> &x,
                         const std::vector<Tensor> &y);
/// The samples of a dataset, checked and with their targets converted to
/// what `f` takes (no targets for predict, `targets` false) on the thread
/// that loads them.
BatchLoader datasetLoader(const char *fn, const TrainingProgram &p,
                          const CompiledFunction &f, const data::Dataset &ds,
                          bool targets);

/// The batches of `order` in order, loaded `depth` batches ahead on a
/// background thread (depth 0: each when asked for, on the caller's). The
/// destructor stops the thread and waits for it, so a loop may end early
/// or throw at any point.
class Prefetcher {
public:
  Prefetcher(BatchLoader load, const std::vector<int64_t> &order,
             int64_t batchSize, int depth);
  Prefetcher(const Prefetcher &) = delete;
  Prefetcher &operator=(const Prefetcher &) = delete;
  ~Prefetcher();
  /// The next batch; rethrows what the loader threw for it.
  data::Batch next();

private:
  void produce();
  BatchLoader load;
  const std::vector<int64_t> &order;
  int64_t batchSize, steps, consumed = 0;
  size_t depth;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<data::Batch> ready;
  std::exception_ptr error;
  bool stopping = false;
  std::thread worker;
};

/// The trailing scalar arguments of train_step or apply_step: the 1-based
/// step, then, in a program built with learning-rate-input, the step's
/// learning rate (state.learning_rate at state.iterations).
class StepScalars {
public:
  StepScalars(const CompiledFunction &f, const TrainingState &state);
  /// The number of trailing scalars `f` takes (1 or 2).
  static size_t count(const CompiledFunction &f);
  /// Sets them for the next step and appends them to `in`.
  void append(std::vector<const Tensor *> &in);

private:
  const TrainingState &state;
  Tensor step, learningRate;
  bool hasLearningRate;
};

/// The loss and outputs a training function returns for one batch size,
/// reallocated only when the size changes (the last batch of an epoch may
/// be smaller).
class BatchResults {
public:
  /// Results 0..numOutputs of `f` for `batch` samples.
  std::vector<Tensor> &get(const CompiledFunction &f, int numOutputs,
                           int64_t batch);

private:
  std::vector<Tensor> tensors;
  int64_t batch = -1;
};

/// The steps of one fit() call, epoch by epoch.
class EpochTrainer {
public:
  virtual ~EpochTrainer();
  /// Called after each step with the batch number and the epoch's running
  /// logs; returns whether to stop (on the leader: followers get its
  /// decision).
  using BatchEnd = std::function<bool(int64_t batch, const LogValues &logs)>;
  /// Trains on the batches of `order`, calling `afterBatch` (when set)
  /// after each; returns the epoch's loss and metrics.
  virtual RunningLogs runEpoch(const std::vector<int64_t> &order,
                               int64_t batchSize, ProgressBar &bar,
                               const BatchEnd &afterBatch) = 0;
  /// The parameters after the latest step; until fit() returns they may
  /// live in a second buffer set rather than in state.params.
  virtual std::vector<Tensor> params() const = 0;
  /// Makes state.params and state.states hold the latest values.
  virtual void sync() = 0;
  /// After callbacks had their turn (on the leader only, when
  /// distributed; `ranCallbacks` when there were any): makes every process
  /// continue from the same weights, optimizer state and decision to stop;
  /// returns that decision.
  virtual bool afterCallbacks(bool stop, bool ranCallbacks) { return stop; }
  /// The leader's `value`, on every process.
  virtual int64_t fromLeader(int64_t value) { return value; }
  /// True on the process that prints and runs callbacks.
  virtual bool leader() const { return true; }
};

/// Data-parallel steps over `comm`: each rank runs grad_step on its shard
/// of every global batch, the gradients are summed in one fused all-reduce
/// and every rank runs apply_step. Starts by checking that every rank has
/// the same program sizes, data size and `options`, and by giving every
/// rank rank 0's weights and optimizer state.
std::unique_ptr<EpochTrainer>
makeDataParallelTrainer(const TrainingProgram &p, TrainingState &state,
                        const std::vector<Tensor> &x,
                        const std::vector<Tensor> &y, const FitOptions &options,
                        Communicator &comm);

} // namespace layerc::detail

#endif // LAYERC_RUNTIME_TRAININGLOOP_H
