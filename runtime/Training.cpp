//===- Training.cpp - fit / evaluate / predict loops ----------------------===//
//
// The host side of Keras's training loops. Argument and sample counts,
// label dtypes and label ranges are validated once up front, so that a user
// error surfaces as a message naming x[i] / y[i] before the first step; an
// out-of-range label would otherwise index past a buffer in generated code.
// Per-argument shapes are checked by CompiledFunction on every call.
//
// Parameters and optimizer slots are double-buffered: train_step reads one
// set and writes the other, and the roles swap after each step. The model
// holds views of the original buffers, so when the loop ends (normally or
// by an exception) the latest values are copied back into them if the last
// step left them in the other set.
//
//===----------------------------------------------------------------------===//

#include "runtime/Training.h"
#include "runtime/Error.h"
#include "runtime/ProgressBar.h"
#include "runtime/TrainingLoop.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <numeric>
#include <random>

using namespace layerc;
using namespace layerc::detail;

namespace {

//===----------------------------------------------------------------------===//
// Argument checks
//===----------------------------------------------------------------------===//

void checkArity(const char *fn, const char *what, size_t expected,
                size_t actual) {
  if (expected != actual)
    throw Error(std::string(fn) + ": expected " + std::to_string(expected) +
                " " + what + " but got " + std::to_string(actual));
}

/// The program's functions must agree with its declared layout; the loops
/// index their arguments by that layout. A forward-only program (predict
/// alone) is checked for predict() only.
void checkProgram(const char *fn, const TrainingProgram &p) {
  bool forwardOnly = std::string(fn) == "predict";
  if (p.numInputs < 1 || (p.numTargets < 1 && !forwardOnly) ||
      p.numOutputs < 1 || p.numParams < 0 || p.numStates < 0)
    throw Error(std::string(fn) +
                ": the program needs at least one input, target and output");
  size_t io = p.numInputs + p.numTargets, ps = p.numParams + p.numStates;
  auto check = [&](const CompiledFunction &f, size_t ins, size_t outs) {
    if (f.inputs.size() != ins || f.outputs.size() != outs)
      throw Error(std::string(fn) + ": compiled function '" + f.name +
                  "' has " + std::to_string(f.inputs.size()) + " inputs and " +
                  std::to_string(f.outputs.size()) +
                  " outputs, but the program layout needs " +
                  std::to_string(ins) + " and " + std::to_string(outs));
  };
  if (!forwardOnly) {
    size_t nl = p.outputLossNames.size();
    check(p.trainStep, io + ps + StepScalars::count(p.trainStep),
          1 + p.numOutputs + ps + nl);
    check(p.evaluate, io + p.numParams, 1 + p.numOutputs + nl);
  }
  check(p.predict, p.numInputs + p.numParams, p.numOutputs);
}

/// Checks that every x[i] and y[t] has the same number of samples along
/// axis 0 and returns that number.
int64_t checkSamples(const char *fn, const TrainingProgram &p,
                     const std::vector<Tensor> &x,
                     const std::vector<Tensor> *y) {
  checkArity(fn, "input tensors (x)", p.numInputs, x.size());
  if (y)
    checkArity(fn, "target tensors (y)", p.numTargets, y->size());
  std::vector<std::pair<std::string, const Tensor *>> all;
  for (size_t i = 0; i < x.size(); ++i)
    all.push_back({"x[" + std::to_string(i) + "]", &x[i]});
  for (size_t i = 0; y && i < y->size(); ++i)
    all.push_back({"y[" + std::to_string(i) + "]", &(*y)[i]});
  for (auto &[name, t] : all)
    if (t->rank() == 0)
      throw Error(std::string(fn) + ": " + name +
                  " is a scalar; it needs a sample axis (axis 0)");
  int64_t n = x.empty() ? 0 : x[0].dim(0);
  for (auto &[name, t] : all)
    if (t->dim(0) != n)
      throw Error(std::string(fn) + ": " + name + " has " +
                  std::to_string(t->dim(0)) + " samples but x[0] has " +
                  std::to_string(n));
  return n;
}

void checkNotEmpty(const char *fn, int64_t samples) {
  if (samples == 0)
    throw Error(std::string(fn) + ": x[0] has no samples");
}

void checkBatchSize(const char *fn, int64_t batchSize) {
  if (batchSize <= 0)
    throw Error(std::string(fn) + ": batch_size must be positive (got " +
                std::to_string(batchSize) + ")");
}

void checkParams(const char *fn, const TrainingProgram &p,
                 const TrainingState &state) {
  checkArity(fn, "parameter tensors", p.numParams, state.params.size());
}

/// Converts the targets to the dtypes `f` expects. Integer labels of any
/// width convert freely; float targets for integer labels are refused since
/// truncating them would hide a mistake.
std::vector<Tensor> convertTargets(const char *fn, const TrainingProgram &p,
                                   const CompiledFunction &f,
                                   const std::vector<Tensor> &y) {
  std::vector<Tensor> out;
  for (size_t t = 0; t < y.size(); ++t) {
    DType want = f.inputs[p.numInputs + t].dtype, have = y[t].dtype();
    if (want != have && isFloat(have) && !isFloat(want))
      throw Error(std::string(fn) + ": y[" + std::to_string(t) + "] is " +
                  dtypeName(have) + " but the model expects " +
                  dtypeName(want) + " labels; convert them with astype");
    out.push_back(want == have ? y[t] : y[t].astype(want));
  }
  return out;
}

/// True when `target` holds class indices for `output`: one index per row,
/// i.e. the output's shape without its class axis (or with it set to 1).
bool isSparseTarget(const Tensor &target, const std::vector<int64_t> &output) {
  int64_t outRank = static_cast<int64_t>(output.size());
  if (outRank == 0)
    return false;
  if (target.rank() == outRank - 1)
    return true;
  return target.rank() == outRank && target.shape().back() == 1 &&
         output.back() != 1;
}

/// Class indices outside [0, C) would make the compiled loss read past its
/// logits, so they are rejected here with the first bad one named.
void checkLabels(const char *fn, const TrainingProgram &p, const Tensor &y0) {
  if (p.predict.outputs.empty())
    return;
  const BufferSpec &out = p.predict.outputs[0];
  bool sparseMetric = false;
  for (const Metric &m : p.metrics)
    sparseMetric |= m.kind == MetricKind::SparseCategoricalAccuracy;
  if ((!sparseMetric && isFloat(y0.dtype())) || !isSparseTarget(y0, out.shape))
    return;
  int64_t classes = out.shape.back();
  if (classes <= 0)
    return;
  for (int64_t i = 0, n = y0.numel(); i < n; ++i) {
    double v = elementAt(y0, i);
    if (v >= 0 && v < double(classes) && v == std::floor(v))
      continue;
    throw Error(std::string(fn) + ": y[0] holds label " +
                std::to_string(static_cast<long long>(v)) + " at index " +
                std::to_string(i) + ", outside [0, " + std::to_string(classes) +
                ") for the " + std::to_string(classes) +
                " classes of output '" + out.name + "'");
  }
}

//===----------------------------------------------------------------------===//
// Batching
//===----------------------------------------------------------------------===//

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> v(end - begin);
  std::iota(v.begin(), v.end(), begin);
  return v;
}

/// Fisher-Yates with an unbiased bounded draw, so the order depends only on
/// the seed and the epoch, not on the standard library's distributions.
void shuffleOrder(std::vector<int64_t> &v, uint64_t seed, int epoch) {
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(epoch)};
  std::mt19937_64 rng(seq);
  for (size_t i = v.size(); i > 1; --i) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % i, r;
    do
      r = rng();
    while (r >= limit);
    std::swap(v[i - 1], v[r % i]);
  }
}

//===----------------------------------------------------------------------===//
// evaluate core
//===----------------------------------------------------------------------===//

/// Runs the evaluate function over `indices`; targets are already converted.
RunningLogs runEvaluate(const char *fn, const TrainingProgram &p,
                        const std::vector<Tensor> &params,
                        const std::vector<Tensor> &x,
                        const std::vector<Tensor> &y,
                        const std::vector<int64_t> &indices, int64_t batchSize,
                        ProgressBar *bar) {
  RunningLogs logs(p);
  int64_t steps = numBatches(indices.size(), batchSize);
  for (int64_t b = 0; b < steps; ++b) {
    std::vector<int64_t> idx = batchIndices(indices, b, batchSize);
    std::vector<Tensor> xb = gather(x, idx), yb = gather(y, idx);
    std::vector<const Tensor *> in;
    for (const Tensor &t : xb)
      in.push_back(&t);
    for (const Tensor &t : yb)
      in.push_back(&t);
    for (const Tensor &t : params)
      in.push_back(&t);
    std::vector<Tensor> out = p.evaluate(in);
    logs.add(fn, p, scalarValue(out[0]),
             scalarValues(out, 1 + p.numOutputs, p.outputLossNames.size()),
             idx.size(), out, 1, yb);
    if (bar)
      bar->update(b + 1, logs.values(p, ""));
  }
  return logs;
}

//===----------------------------------------------------------------------===//
// fit core
//===----------------------------------------------------------------------===//

/// The double-buffered parameters and optimizer slots of one fit() call.
class WeightBuffers {
public:
  WeightBuffers(const TrainingProgram &p, TrainingState &state)
      : original(state.params) {
    original.insert(original.end(), state.states.begin(), state.states.end());
    current = original;
    size_t firstNew = 1 + p.numOutputs;
    for (size_t i = 0; i < original.size(); ++i) {
      const BufferSpec &spec = p.trainStep.outputs[firstNew + i];
      next.emplace_back(spec.resolve(0), spec.dtype);
    }
  }
  WeightBuffers(const WeightBuffers &) = delete;
  WeightBuffers &operator=(const WeightBuffers &) = delete;

  /// Leaves the latest values in the storage the model holds views of.
  ~WeightBuffers() {
    for (size_t i = 0; i < original.size(); ++i)
      if (current[i].rawData() != original[i].rawData() &&
          current[i].nbytes() == original[i].nbytes())
        std::memcpy(original[i].rawData(), current[i].rawData(),
                    original[i].nbytes());
  }

  void swap() { std::swap(current, next); }

  /// Copies the latest values into the storage the model holds views of
  /// and makes that storage current again (before a callback reads, saves
  /// or replaces the weights: what it writes there is what training and
  /// the model continue from).
  void sync() {
    if (original.empty() || current[0].rawData() == original[0].rawData())
      return;
    for (size_t i = 0; i < original.size(); ++i)
      std::memcpy(original[i].rawData(), current[i].rawData(),
                  original[i].nbytes());
    std::swap(current, next); // the buffers alternate: next is original
  }

  /// The latest parameters (without the optimizer slots).
  std::vector<Tensor> params(size_t numParams) const {
    return {current.begin(), current.begin() + numParams};
  }

  std::vector<Tensor> original, current, next;
};

/// The steps of one fit() call in one process: train_step on whole batches.
class Trainer final : public EpochTrainer {
public:
  Trainer(const TrainingProgram &p, TrainingState &state,
          const std::vector<Tensor> &x, const std::vector<Tensor> &y)
      : p(p), state(state), x(x), y(y), weights(p, state),
        scalars(p.trainStep, state) {
    size_t first = p.trainStep.outputs.size() - p.outputLossNames.size();
    for (size_t i = 0; i < p.outputLossNames.size(); ++i)
      outputLosses.emplace_back(p.trainStep.outputs[first + i].resolve(1),
                                p.trainStep.outputs[first + i].dtype);
  }

  RunningLogs runEpoch(const std::vector<int64_t> &order, int64_t batchSize,
                       ProgressBar &bar, const BatchEnd &afterBatch) override {
    RunningLogs logs(p);
    int64_t steps = numBatches(order.size(), batchSize);
    for (int64_t b = 0; b < steps; ++b) {
      std::vector<int64_t> idx = batchIndices(order, b, batchSize);
      std::vector<Tensor> xb = gather(x, idx), yb = gather(y, idx);
      const std::vector<Tensor> &results = trainBatch(xb, yb);
      logs.add("fit", p, scalarValue(results[0]),
               scalarValues(outputLosses, 0, outputLosses.size()), idx.size(),
               results, 1, yb);
      LogValues values = logs.values(p, "");
      bar.update(b + 1, values);
      if (afterBatch && afterBatch(b, values))
        break;
    }
    return logs;
  }

  std::vector<Tensor> params() const override {
    return weights.params(p.numParams);
  }
  void sync() override { weights.sync(); }

private:
  /// One train_step; returns its loss and outputs.
  const std::vector<Tensor> &trainBatch(const std::vector<Tensor> &xb,
                                        const std::vector<Tensor> &yb) {
    std::vector<Tensor> &results =
        batchResults.get(p.trainStep, p.numOutputs, xb[0].dim(0));
    std::vector<const Tensor *> in;
    using Group = const std::vector<Tensor> *;
    for (Group group : {Group(&xb), Group(&yb), Group(&weights.current)})
      for (const Tensor &t : *group)
        in.push_back(&t);
    scalars.append(in);
    std::vector<Tensor *> out;
    for (Tensor &t : results)
      out.push_back(&t);
    for (Tensor &t : weights.next)
      out.push_back(&t);
    for (Tensor &t : outputLosses)
      out.push_back(&t);
    p.trainStep.call(in, out);
    weights.swap();
    ++state.iterations;
    return results;
  }

  const TrainingProgram &p;
  TrainingState &state;
  const std::vector<Tensor> &x, &y;
  WeightBuffers weights;
  StepScalars scalars;
  BatchResults batchResults;
  /// Each output's loss of the latest step (outputLossNames).
  std::vector<Tensor> outputLosses;
};

void checkFitOptions(const FitOptions &o) {
  checkBatchSize("fit", o.batch_size);
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
    throw Error("fit: validation_split must be in [0, 1) (got " +
                std::to_string(o.validation_split) + ")");
  if (o.validation_data && o.validation_split > 0)
    throw Error("fit: give validation_data or validation_split, not both");
  if (o.initial_epoch < 0)
    throw Error("fit: initial_epoch must be >= 0 (got " +
                std::to_string(o.initial_epoch) + ")");
  for (const auto &callback : o.callbacks)
    if (!callback)
      throw Error("fit: a callback is null");
}

/// Optimizer slots start at zero; a state without them gets them here.
void initStates(const TrainingProgram &p, TrainingState &state) {
  if (state.states.empty() && p.numStates > 0) {
    size_t first = p.numInputs + p.numTargets + p.numParams;
    for (int i = 0; i < p.numStates; ++i) {
      const BufferSpec &spec = p.trainStep.inputs[first + i];
      state.states.emplace_back(spec.resolve(0), spec.dtype);
    }
  }
  checkArity("fit", "optimizer state tensors", p.numStates,
             state.states.size());
}

/// Keras's split: the last floor(n * split) samples, before any shuffling.
int64_t validationCount(int64_t n, double split) {
  int64_t val = static_cast<int64_t>(std::floor(double(n) * split));
  if (split > 0 && (val == 0 || val == n))
    throw Error("fit: validation_split=" + std::to_string(split) + " of " +
                std::to_string(n) +
                " samples leaves an empty training or validation set");
  return val;
}

void record(History &h, int epoch, const LogValues &values) {
  h.epoch.push_back(epoch);
  for (const auto &[name, value] : values)
    h.history[name].push_back(value);
}

/// fit()'s epochs after its checks: steps, validation, callbacks (on the
/// leader only), History.
History runEpochs(EpochTrainer &trainer, const TrainingProgram &program,
                  const std::vector<Tensor> &x,
                  const std::vector<Tensor> &valTargets,
                  const std::vector<Tensor> &valX,
                  const std::vector<Tensor> &valY, int64_t n, int64_t nVal,
                  const FitOptions &options) {
  bool leader = trainer.leader();
  int verbose = leader ? options.verbose : 0;
  History history;
  int firstEpoch = options.initial_epoch;
  for (const auto &callback : options.callbacks) {
    callback->stopTraining = false;
    callback->resumeEpoch.reset();
    if (leader) {
      callback->onTrainBegin();
      if (callback->resumeEpoch)
        firstEpoch = *callback->resumeEpoch;
    }
  }
  // Every rank must issue the same collectives: whether there are
  // callbacks is the leader's to say (a program may pass them on rank 0
  // only).
  bool hasCallbacks = trainer.fromLeader(!options.callbacks.empty()) != 0;
  trainer.afterCallbacks(false, leader && hasCallbacks);
  if (hasCallbacks)
    firstEpoch = static_cast<int>(trainer.fromLeader(firstEpoch));
  // Every batch's callbacks run on the leader; only it decides to stop.
  EpochTrainer::BatchEnd afterBatch;
  if (hasCallbacks)
    afterBatch = [&](int64_t batch, const LogValues &logs) {
      bool stop = false;
      if (leader)
        for (const auto &callback : options.callbacks) {
          callback->onTrainBatchEnd(static_cast<int>(batch), logs);
          stop |= callback->stopTraining;
        }
      return stop;
    };
  for (int epoch = firstEpoch; epoch < options.epochs; ++epoch) {
    if (verbose > 0)
      std::cout << "Epoch " << epoch + 1 << "/" << options.epochs << "\n";
    if (hasCallbacks) {
      // They see the latest weights and may change the learning rate
      // (LearningRateScheduler).
      trainer.sync();
      if (leader)
        for (const auto &callback : options.callbacks)
          callback->onEpochBegin(epoch);
      trainer.afterCallbacks(false, leader);
    }
    std::vector<int64_t> order = range(0, n - nVal);
    if (options.shuffle)
      shuffleOrder(order, options.seed, epoch);
    int64_t steps = numBatches(order.size(), options.batch_size);
    ProgressBar bar(steps, verbose);
    LogValues values =
        trainer.runEpoch(order, options.batch_size, bar, afterBatch)
            .values(program, "");
    LogValues val;
    if (nVal > 0)
      val = runEvaluate("fit", program, trainer.params(), x, valTargets,
                        range(n - nVal, n), options.batch_size, nullptr)
                .values(program, "val_");
    else if (options.validation_data)
      val = runEvaluate("fit", program, trainer.params(), valX, valY,
                        range(0, valX[0].dim(0)), options.batch_size, nullptr)
                .values(program, "val_");
    values.insert(values.end(), val.begin(), val.end());
    bar.update(steps, values, /*finalize=*/true);
    record(history, epoch, values);
    bool stop = false;
    if (hasCallbacks)
      trainer.sync();
    for (const auto &callback : options.callbacks)
      if (leader) {
        callback->onEpochEnd(epoch, values);
        stop |= callback->stopTraining;
      }
    if (trainer.afterCallbacks(stop, leader && hasCallbacks))
      break;
  }
  trainer.sync();
  for (const auto &callback : options.callbacks)
    if (leader)
      callback->onTrainEnd();
  trainer.afterCallbacks(false, leader && hasCallbacks);
  return history;
}

/// fit() after the program checks.
History fitChecked(const TrainingProgram &program, TrainingState &state,
                   const std::vector<Tensor> &x, const std::vector<Tensor> &y,
                   const FitOptions &options) {
  checkProgram("fit", program);
  checkFitOptions(options);
  int64_t n = checkSamples("fit", program, x, &y);
  checkNotEmpty("fit", n);
  checkParams("fit", program, state);
  initStates(program, state);
  std::vector<Tensor> targets =
      convertTargets("fit", program, program.trainStep, y);
  checkLabels("fit", program, targets[0]);
  int64_t nVal = validationCount(n, options.validation_split);
  std::vector<Tensor> valTargets = targets;
  if (nVal > 0)
    valTargets = convertTargets("fit", program, program.evaluate, y);

  // An explicit validation set, checked like the training data.
  std::vector<Tensor> valX, valY;
  if (options.validation_data) {
    const ValidationData &v = *options.validation_data;
    int64_t nv = checkSamples("fit (validation_data)", program, v.x, &v.y);
    checkNotEmpty("fit (validation_data)", nv);
    valX = v.x;
    valY =
        convertTargets("fit (validation_data)", program, program.evaluate, v.y);
    checkLabels("fit (validation_data)", program, valY[0]);
  }

  std::unique_ptr<EpochTrainer> trainer;
  if (program.communicator)
    trainer = makeDataParallelTrainer(program, state, x, targets, options,
                                      *program.communicator);
  else
    trainer = std::make_unique<Trainer>(program, state, x, targets);
  return runEpochs(*trainer, program, x, valTargets, valX, valY, n, nVal,
                   options);
}

} // namespace

History layerc::fit(const TrainingProgram &program, TrainingState &state,
                    const std::vector<Tensor> &x, const std::vector<Tensor> &y,
                    const FitOptions &options) {
  Communicator *comm = program.communicator.get();
  if (!comm || comm->size() == 1)
    return fitChecked(program, state, x, y, options);
  // An error on one rank would leave the others waiting for it at their
  // next collective: it stops the whole job instead.
  try {
    return fitChecked(program, state, x, y, options);
  } catch (const std::exception &e) {
    comm->abort(std::string("fit: ") + e.what());
  } catch (...) {
    comm->abort("fit: unknown exception");
  }
  std::abort(); // Communicator::abort does not return.
}

std::vector<double> layerc::evaluate(const TrainingProgram &program,
                                     const TrainingState &state,
                                     const std::vector<Tensor> &x,
                                     const std::vector<Tensor> &y,
                                     const EvaluateOptions &options) {
  checkProgram("evaluate", program);
  checkBatchSize("evaluate", options.batch_size);
  int64_t n = checkSamples("evaluate", program, x, &y);
  checkNotEmpty("evaluate", n);
  checkParams("evaluate", program, state);
  std::vector<Tensor> targets =
      convertTargets("evaluate", program, program.evaluate, y);
  checkLabels("evaluate", program, targets[0]);
  int64_t steps = numBatches(n, options.batch_size);
  ProgressBar bar(steps, options.verbose);
  RunningLogs logs = runEvaluate("evaluate", program, state.params, x, targets,
                                 range(0, n), options.batch_size, &bar);
  LogValues values = logs.values(program, "");
  bar.update(steps, values, /*finalize=*/true);
  std::vector<double> result;
  for (const auto &v : values)
    result.push_back(v.second);
  return result;
}

Callback::~Callback() = default;

namespace {

/// Full-size result tensors for predict; outputs must be batched on axis 0
/// (None, or the static batch size of a model built for one).
std::vector<Tensor> allocatePredictions(const TrainingProgram &p, int64_t n,
                                        int64_t staticBatch) {
  std::vector<Tensor> results;
  for (const BufferSpec &spec : p.predict.outputs) {
    if (spec.shape.empty() ||
        (spec.shape[0] != kDynamic && spec.shape[0] != staticBatch))
      throw Error("predict: output '" + spec.name + "' has shape " +
                  spec.str() + "; predictions need a batch (None) axis 0");
    std::vector<int64_t> shape = spec.resolve(n);
    shape[0] = n;
    results.emplace_back(shape, spec.dtype);
  }
  return results;
}

/// The batch size of a model whose first input has a static one (Keras's
/// batch_shape); -1 otherwise.
int64_t staticBatchOf(const TrainingProgram &p) {
  if (p.predict.inputs.empty() || p.predict.inputs[0].shape.empty())
    return -1;
  int64_t b = p.predict.inputs[0].shape[0];
  return b == kDynamic ? -1 : b;
}

} // namespace

std::vector<Tensor> layerc::predict(const TrainingProgram &program,
                                    const TrainingState &state,
                                    const std::vector<Tensor> &x,
                                    const PredictOptions &options) {
  checkProgram("predict", program);
  checkBatchSize("predict", options.batch_size);
  int64_t n = checkSamples("predict", program, x, nullptr);
  checkParams("predict", program, state);
  int64_t batch = options.batch_size;
  int64_t staticBatch = staticBatchOf(program);
  if (staticBatch > 0) {
    if (n % staticBatch != 0)
      throw Error("predict: the model takes batches of exactly " +
                  std::to_string(staticBatch) +
                  " samples (a static batch "
                  "size), so the sample count must be a multiple of it; got " +
                  std::to_string(n));
    batch = staticBatch;
  }
  std::vector<Tensor> results = allocatePredictions(program, n, staticBatch);
  std::vector<int64_t> order = range(0, n);
  int64_t steps = numBatches(n, batch);
  ProgressBar bar(steps, options.verbose);
  for (int64_t b = 0; b < steps; ++b) {
    std::vector<int64_t> idx = batchIndices(order, b, batch);
    std::vector<Tensor> xb = gather(x, idx);
    std::vector<const Tensor *> in;
    for (const Tensor &t : xb)
      in.push_back(&t);
    for (const Tensor &t : state.params)
      in.push_back(&t);
    std::vector<Tensor> out = program.predict(in);
    for (size_t o = 0; o < out.size(); ++o)
      std::memcpy(static_cast<std::byte *>(results[o].rawData()) +
                      b * batch * (out[o].nbytes() / idx.size()),
                  out[o].rawData(), out[o].nbytes());
    bar.update(b + 1, {});
  }
  bar.update(steps, {}, /*finalize=*/true);
  return results;
}
