//===- DistributedTraining.cpp - Data-parallel steps of fit() -------------===//
//
// Every rank holds all the data and the same options, so every rank draws
// the same global shuffle from the seed. Of each global batch of nb
// samples, rank r of N takes rows [nb*r/N, nb*(r+1)/N) (its shard, nr rows)
// and runs grad_step on them with the shard's first row as the sample
// offset, so Dropout draws the mask one process would draw for those rows.
//
// grad_step returns the shard's mean loss and mean gradients. Scaled by
// nr/nb and summed over the ranks they are the global batch's mean loss and
// gradients, whatever the split. One fused float buffer per step carries
// the gradients and the buffer changes through one all-reduce, a few
// doubles the losses and the metrics' accumulated sums; then every rank runs
// apply_step on the same sums, so the weights stay identical everywhere
// without being sent again.
// Non-trainable buffers (BatchNormalization's moving statistics) travel as
// scaled changes (new - old) * nr/nb: their sum averages the ranks' moving
// statistics, and a buffer no rank changes (a frozen one) stays bit-exact.
//
// With LAYERC_MPI_OVERLAP (the default), grad_step is compiled with
// layer-autodiff's gradient-ready option and announces each gradient once
// it is final; a GradientBuckets (GradientReady.cpp) copies it into the
// fused buffer and starts the all-reduce of each complete bucket while the
// backward pass goes on. After grad_step returns, the buffer changes get
// one more all-reduce and the metrics are packed while the buckets travel;
// only then does the step wait for them. Every element is the same sum of
// the same scaled values as without overlap (the same bits on two ranks).
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/GradientReady.h"
#include "runtime/TrainingLoop.h"

#include <chrono>
#include <cmath>
#include <cstring>

using namespace layerc;
using namespace layerc::detail;

Communicator::~Communicator() = default;

namespace {

class DataParallelTrainer final : public EpochTrainer {
public:
  DataParallelTrainer(const TrainingProgram &p, TrainingState &state,
                      const std::vector<Tensor> &x,
                      const std::vector<Tensor> &y, const FitOptions &options,
                      Communicator &comm)
      : p(p), state(state), x(x), y(y), comm(comm),
        applyScalars(p.applyStep, state) {
    checkLayout();
    const std::vector<BufferSpec> &in = p.gradStep.inputs;
    for (int i = 0; i < p.numParams; ++i)
      (in[p.numInputs + p.numTargets + i].role == Role::Param ? trainable
                                                              : buffers)
          .push_back(i);
    step = Tensor(in[in.size() - 2].resolve(1), in[in.size() - 2].dtype);
    offset = Tensor(in.back().resolve(1), in.back().dtype);
    size_t firstGrad = 1 + p.numOutputs;
    for (size_t i = 0; i < trainable.size() + buffers.size(); ++i) {
      const BufferSpec &spec = p.gradStep.outputs[firstGrad + i];
      (i < trainable.size() ? grads : newBuffers)
          .emplace_back(spec.resolve(0), spec.dtype);
    }
    size_t firstLoss = firstGrad + p.numParams;
    for (size_t i = 0; i < p.outputLossNames.size(); ++i)
      outputLosses.emplace_back(p.gradStep.outputs[firstLoss + i].resolve(1),
                                p.gradStep.outputs[firstLoss + i].dtype);
    for (const BufferSpec &spec : p.applyStep.outputs)
      next.emplace_back(spec.resolve(0), spec.dtype);
    size_t floats = 0;
    for (const std::vector<Tensor> *group : {&grads, &newBuffers})
      for (const Tensor &t : *group)
        floats += t.numel();
    fused.resize(floats);
    if (comm.size() > 1 && overlapAllreduceEnabled()) {
      std::vector<int64_t> counts;
      for (const Tensor &g : grads)
        counts.push_back(g.numel());
      buckets = std::make_unique<GradientBuckets>(comm, counts,
                                                  allreduceBucketBytes());
    }
    profile = comm.size() > 1 && profileSteps();
    DataParallelStats &stats = dataParallelStats();
    stats = DataParallelStats();
    stats.overlapped = buckets != nullptr;
    stats.bucketsPerStep = buckets ? int64_t(buckets->size()) : 1;
    size_t metricCounts = 0;
    for (const Metric &m : p.metrics)
      metricCounts += MetricState(m).counts.size();
    scalars.resize(1 + outputLosses.size() + metricCounts);
    checkSameSetup(options);
    shareFromLeader();
  }

  RunningLogs runEpoch(const std::vector<int64_t> &order, int64_t batchSize,
                       ProgressBar &bar, const BatchEnd &afterBatch) override {
    checkSameData(order, batchSize);
    RunningLogs logs(p);
    int64_t steps = numBatches(order.size(), batchSize);
    for (int64_t b = 0; b < steps; ++b) {
      trainBatch(batchIndices(order, b, batchSize), logs);
      LogValues values = logs.values(p, "");
      bar.update(b + 1, values);
      if (afterBatch) {
        // The leader's callbacks decide; every rank stops together.
        double stop = afterBatch(b, values) ? 1.0 : 0.0;
        comm.broadcast(&stop, sizeof(stop), 0);
        if (stop != 0.0)
          break;
      }
    }
    return logs;
  }

  /// The weights are updated in place after every step.
  std::vector<Tensor> params() const override { return state.params; }
  void sync() override {}

  /// Rank 0 says whether to stop and whether it ran callbacks (which may
  /// have changed the weights); only then are the weights sent.
  bool afterCallbacks(bool stop, bool ranCallbacks) override {
    double flags[2] = {stop ? 1.0 : 0.0, ranCallbacks ? 1.0 : 0.0};
    comm.broadcast(flags, sizeof(flags), 0);
    if (flags[1] != 0.0)
      shareFromLeader();
    return flags[0] != 0.0;
  }

  int64_t fromLeader(int64_t value) override {
    comm.broadcast(&value, sizeof(value), 0);
    return value;
  }

  bool leader() const override { return comm.rank() == 0; }

private:
  /// grad_step and apply_step must take the weights and optimizer state
  /// train_step does.
  void checkLayout() const {
    auto fail = [&](const std::string &what) {
      throw Error("fit (distributed): " + what +
                  "; recompile the model with distribution enabled");
    };
    if (!p.gradStep.fn || !p.applyStep.fn)
      fail("the program has no compiled grad_step/apply_step");
    size_t io = p.numInputs + p.numTargets;
    if (p.gradStep.inputs.size() != io + p.numParams + 2)
      fail("grad_step does not take the inputs, targets and weights");
    int g = countRole(p.gradStep.outputs, Role::Gradient);
    if (p.gradStep.outputs.size() !=
            1 + p.numOutputs + p.numParams + p.outputLossNames.size() ||
        p.applyStep.inputs.size() !=
            2 * g + p.numStates + StepScalars::count(p.applyStep) ||
        p.applyStep.outputs.size() != size_t(g + p.numStates))
      fail("grad_step/apply_step do not match the program's layout");
    for (const BufferSpec &spec : p.gradStep.outputs)
      if (spec.role != Role::Output && spec.dtype != DType::Float32)
        throw Error("fit (distributed): '" + spec.name + "' is " +
                    dtypeName(spec.dtype) +
                    "; data-parallel training sums float32 gradients, "
                    "losses and weights only");
  }

  /// Rank 0's weights, optimizer state and step count, everywhere.
  void shareFromLeader() {
    for (std::vector<Tensor> *group : {&state.params, &state.states})
      for (Tensor &t : *group)
        comm.broadcast(t.rawData(), t.nbytes(), 0);
    comm.broadcast(&state.iterations, sizeof(state.iterations), 0);
    // A callback may have replaced a constant learning rate; a schedule
    // cannot change and is the same everywhere.
    if (state.learning_rate.isConstant()) {
      double rate = state.learning_rate.initial();
      comm.broadcast(&rate, sizeof(rate), 0);
      state.learning_rate = rate;
    }
  }

  /// Every rank must run the same steps with buffers of the same sizes, or
  /// the collectives would pair different calls; a rank compiled or called
  /// otherwise than rank 0 stops the job, naming the first difference.
  void checkSameSetup(const FitOptions &o) {
    const char *names[] = {"gradient buffer floats",
                           "metrics and losses",
                           "samples",
                           "batch_size",
                           "epochs",
                           "initial_epoch",
                           "shuffle",
                           "seed (low bits)",
                           "validation_split (x 1e6)",
                           "overlapped all-reduces per step "
                           "(LAYERC_MPI_OVERLAP, LAYERC_MPI_BUCKET_KB)"};
    double mine[] = {double(fused.size()),
                     double(scalars.size()),
                     double(x.empty() ? 0 : x[0].dim(0)),
                     double(o.batch_size),
                     double(o.epochs),
                     double(o.initial_epoch),
                     double(o.shuffle),
                     double(o.seed & 0xFFFFFFFFu),
                     std::floor(o.validation_split * 1e6),
                     double(buckets ? buckets->size() : 0)};
    constexpr size_t n = sizeof(mine) / sizeof(mine[0]);
    double leaders[n];
    std::memcpy(leaders, mine, sizeof(mine));
    comm.broadcast(leaders, sizeof(leaders), 0);
    for (size_t i = 0; i < n; ++i)
      if (leaders[i] != mine[i])
        comm.abort("fit: " + std::string(names[i]) + " is " +
                   std::to_string(static_cast<long long>(mine[i])) +
                   " on this rank but " +
                   std::to_string(static_cast<long long>(leaders[i])) +
                   " on rank 0; every rank must compile the same model and "
                   "call fit() with the same data and options");
  }

  /// Every rank must walk the same batches, or the collectives would pair
  /// different steps; a rank given other data or options stops the job.
  void checkSameData(const std::vector<int64_t> &order, int64_t batchSize) {
    uint64_t hash = 1469598103934665603ull;
    for (int64_t i : order)
      hash = (hash ^ uint64_t(i)) * 1099511628211ull;
    double mine[3] = {double(order.size()), double(batchSize),
                      double(hash >> 12)};
    double leaders[3];
    std::memcpy(leaders, mine, sizeof(mine));
    comm.broadcast(leaders, sizeof(leaders), 0);
    if (std::memcmp(leaders, mine, sizeof(mine)) != 0)
      comm.abort("fit: this rank trains on " + std::to_string(order.size()) +
                 " samples in batches of " + std::to_string(batchSize) +
                 (leaders[2] != mine[2] && leaders[0] == mine[0]
                      ? " in another order (shuffle seed)"
                      : "") +
                 ", but rank 0 on " +
                 std::to_string(static_cast<long long>(leaders[0])) +
                 " in batches of " +
                 std::to_string(static_cast<long long>(leaders[1])) +
                 "; every rank must call fit() with the same data and "
                 "options");
  }

  void trainBatch(const std::vector<int64_t> &batch, RunningLogs &logs) {
    int64_t nb = static_cast<int64_t>(batch.size());
    int64_t lo = nb * comm.rank() / comm.size();
    int64_t hi = nb * (comm.rank() + 1) / comm.size();
    comm.setStep(state.iterations + 1);
    setScalar(step, double(state.iterations + 1));
    std::fill(fused.begin(), fused.end(), 0.0f);
    std::fill(scalars.begin(), scalars.end(), 0.0);
    double scale = double(hi - lo) / double(nb);
    if (buckets)
      buckets->begin(fused.data(), float(scale));
    std::vector<int64_t> rows(batch.begin() + lo, batch.begin() + hi);
    DataParallelStats &stats = dataParallelStats();
    using Clock = std::chrono::steady_clock;
    auto seconds = [](Clock::time_point since) {
      return std::chrono::duration<double>(Clock::now() - since).count();
    };
    auto start = Clock::now();
    if (hi > lo)
      callGradStep(rows, lo);
    stats.gradStepSeconds += seconds(start);
    ++stats.steps;
    // Profiling: once every rank is done with grad_step, what is left to
    // wait for is communication alone (the started buckets advance inside
    // the barrier's test loop, as they would in waitAll).
    if (profile)
      comm.barrier();
    auto exposed = Clock::now();
    double packing = 0;
    if (buckets) {
      // The buckets grad_step did not start, then the buffer changes,
      // which travel while the metrics are packed.
      stats.bucketsStartedEarly += buckets->finish(hi > lo ? &grads : nullptr);
      auto packStart = Clock::now();
      if (hi > lo)
        packBufferChanges(scale);
      packing = seconds(packStart);
      if (!newBuffers.empty())
        comm.iallreduceSum(fused.data() + gradientFloats(),
                           fused.size() - gradientFloats());
      packStart = Clock::now();
      if (hi > lo)
        packScalars(rows, scale);
      packing += seconds(packStart);
      comm.waitAll();
    } else {
      if (hi > lo) {
        packGradients(scale);
        packBufferChanges(scale);
        packScalars(rows, scale);
      }
      exposed = Clock::now();
      if (comm.size() > 1)
        comm.allreduceSum(fused.data(), fused.size());
    }
    stats.exposedPerStep.push_back(seconds(exposed) - packing);
    stats.exposedSeconds += stats.exposedPerStep.back();
    if (comm.size() > 1)
      comm.allreduceSum(scalars.data(), scalars.size());

    const float *f = fused.data();
    for (Tensor &g : grads) {
      std::memcpy(g.rawData(), f, g.nbytes());
      f += g.numel();
    }
    // One rank's new buffer values come from grad_step as they are;
    // several ranks' are the old values plus the summed scaled changes.
    for (size_t i = 0; i < buffers.size(); ++i) {
      float *now = newBuffers[i].data<float>();
      const float *was = state.params[buffers[i]].data<float>();
      int64_t count = newBuffers[i].numel();
      if (comm.size() > 1)
        for (int64_t k = 0; k < count; ++k)
          now[k] = was[k] + f[k];
      f += count;
    }
    apply();
    for (size_t i = 0; i < buffers.size(); ++i)
      std::memcpy(state.params[buffers[i]].rawData(), newBuffers[i].rawData(),
                  newBuffers[i].nbytes());
    ++state.iterations;

    const double *d = scalars.data();
    logs.loss.add(*d++, double(nb));
    for (Mean &m : logs.outputLosses)
      m.add(*d++, double(nb));
    for (MetricState &m : logs.metrics)
      for (double &c : m.counts)
        c += *d++;
  }

  /// grad_step on this rank's rows (the ones starting at `first` of the
  /// global batch); with buckets, it hands them each gradient as it is
  /// final.
  void callGradStep(const std::vector<int64_t> &rows, int64_t first) {
    shardX = gather(x, rows);
    shardY = gather(y, rows);
    std::vector<Tensor> &results =
        batchResults.get(p.gradStep, p.numOutputs, int64_t(rows.size()));
    setScalar(offset, double(first));
    std::vector<const Tensor *> in;
    for (const std::vector<Tensor> *group : {&shardX, &shardY, &state.params})
      for (const Tensor &t : *group)
        in.push_back(&t);
    in.push_back(&step);
    in.push_back(&offset);
    std::vector<Tensor *> out;
    for (std::vector<Tensor> *group :
         {&results, &grads, &newBuffers, &outputLosses})
      for (Tensor &t : *group)
        out.push_back(&t);
    ScopedGradientSink sink(buckets.get());
    p.gradStep.call(in, out);
  }

  size_t gradientFloats() const {
    size_t n = 0;
    for (const Tensor &g : grads)
      n += size_t(g.numel());
    return n;
  }

  /// The shard's gradients, scaled by nr / nb, into `fused`.
  void packGradients(double scale) {
    float *f = fused.data(), floatScale = float(scale);
    for (const Tensor &g : grads) {
      const float *v = g.data<float>();
      for (int64_t k = 0, n = g.numel(); k < n; ++k)
        *f++ = v[k] * floatScale;
    }
  }

  /// The buffers' changes, scaled, into `fused` after the gradients.
  void packBufferChanges(double scale) {
    float *f = fused.data() + gradientFloats(), floatScale = float(scale);
    for (size_t i = 0; i < buffers.size(); ++i) {
      const float *now = newBuffers[i].data<float>();
      const float *was = state.params[buffers[i]].data<float>();
      for (int64_t k = 0, n = newBuffers[i].numel(); k < n; ++k)
        *f++ = (now[k] - was[k]) * floatScale;
    }
  }

  /// The shard's loss and each output's, scaled, and the metrics'
  /// accumulated sums, into `scalars`.
  void packScalars(const std::vector<int64_t> &rows, double scale) {
    std::vector<Tensor> &results =
        batchResults.get(p.gradStep, p.numOutputs, int64_t(rows.size()));
    double *d = scalars.data();
    *d++ = scalarValue(results[0]) * scale;
    for (const Tensor &t : outputLosses)
      *d++ = scalarValue(t) * scale;
    for (const Metric &metric : p.metrics) {
      MetricState m(metric);
      size_t o = static_cast<size_t>(metric.output);
      accumulateMetric("fit", metric, results.at(1 + o), shardY.at(o), m);
      for (double c : m.counts)
        *d++ = c;
    }
  }

  /// apply_step on the summed gradients; the results replace the weights
  /// and optimizer state in place.
  void apply() {
    std::vector<const Tensor *> in;
    for (size_t i : trainable)
      in.push_back(&state.params[i]);
    for (const Tensor &g : grads)
      in.push_back(&g);
    for (const Tensor &s : state.states)
      in.push_back(&s);
    applyScalars.append(in);
    std::vector<Tensor *> out;
    for (Tensor &t : next)
      out.push_back(&t);
    p.applyStep.call(in, out);
    for (size_t i = 0; i < next.size(); ++i) {
      Tensor &dst = i < trainable.size() ? state.params[trainable[i]]
                                         : state.states[i - trainable.size()];
      std::memcpy(dst.rawData(), next[i].rawData(), dst.nbytes());
    }
  }

  const TrainingProgram &p;
  TrainingState &state;
  const std::vector<Tensor> &x, &y;
  Communicator &comm;
  /// Positions in state.params of the trainable weights and the buffers.
  std::vector<size_t> trainable, buffers;
  Tensor step, offset;
  StepScalars applyScalars;
  /// grad_step's results: loss and outputs (per shard size), gradients,
  /// new buffer values and each output's loss.
  BatchResults batchResults;
  std::vector<Tensor> grads, newBuffers, outputLosses;
  /// apply_step's results: new trainable weights, then optimizer state.
  std::vector<Tensor> next;
  std::vector<float> fused;
  std::vector<double> scalars;
  /// This step's rows of the inputs and targets.
  std::vector<Tensor> shardX, shardY;
  /// The overlapped all-reduce's buckets (null: one all-reduce after
  /// grad_step).
  std::unique_ptr<GradientBuckets> buckets;
  /// LAYERC_MPI_PROFILE: a barrier after grad_step, so that the exposed
  /// time leaves out the wait for the slowest rank.
  bool profile = false;
};

} // namespace

std::unique_ptr<EpochTrainer> layerc::detail::makeDataParallelTrainer(
    const TrainingProgram &p, TrainingState &state,
    const std::vector<Tensor> &x, const std::vector<Tensor> &y,
    const FitOptions &options, Communicator &comm) {
  return std::make_unique<DataParallelTrainer>(p, state, x, y, options, comm);
}
