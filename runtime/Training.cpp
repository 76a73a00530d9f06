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
#include "runtime/Dataset.h"
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

/// Samples a loop reads: every batch of `order` from `load`, loaded
/// `prefetch` batches ahead.
struct LoopData {
  BatchLoader load{};
  std::vector<int64_t> order{};
  int prefetch = 0;
};

/// Runs the evaluate function over `data`'s batches.
RunningLogs runEvaluate(const char *fn, const TrainingProgram &p,
                        const std::vector<Tensor> &params, const LoopData &data,
                        int64_t batchSize, ProgressBar *bar) {
  RunningLogs logs(p);
  int64_t steps = numBatches(data.order.size(), batchSize);
  Prefetcher batches(data.load, data.order, batchSize, data.prefetch);
  for (int64_t b = 0; b < steps; ++b) {
    data::Batch batch = batches.next();
    std::vector<const Tensor *> in;
    for (const Tensor &t : batch.x)
      in.push_back(&t);
    for (const Tensor &t : batch.y)
      in.push_back(&t);
    for (const Tensor &t : params)
      in.push_back(&t);
    std::vector<Tensor> out = p.evaluate(in);
    logs.add(fn, p, scalarValue(out[0]),
             scalarValues(out, 1 + p.numOutputs, p.outputLossNames.size()),
             batch.x[0].dim(0), out, 1, batch.y);
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
  Trainer(const TrainingProgram &p, TrainingState &state, BatchLoader load,
          int prefetch)
      : p(p), state(state), load(std::move(load)), prefetch(prefetch),
        weights(p, state), scalars(p.trainStep, state) {
    size_t first = p.trainStep.outputs.size() - p.outputLossNames.size();
    for (size_t i = 0; i < p.outputLossNames.size(); ++i)
      outputLosses.emplace_back(p.trainStep.outputs[first + i].resolve(1),
                                p.trainStep.outputs[first + i].dtype);
  }

  RunningLogs runEpoch(const std::vector<int64_t> &order, int64_t batchSize,
                       ProgressBar &bar, const BatchEnd &afterBatch) override {
    RunningLogs logs(p);
    int64_t steps = numBatches(order.size(), batchSize);
    Prefetcher batches(load, order, batchSize, prefetch);
    for (int64_t b = 0; b < steps; ++b) {
      data::Batch batch = batches.next();
      const std::vector<Tensor> &results = trainBatch(batch.x, batch.y);
      logs.add("fit", p, scalarValue(results[0]),
               scalarValues(outputLosses, 0, outputLosses.size()),
               batch.x[0].dim(0), results, 1, batch.y);
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
  BatchLoader load;
  int prefetch;
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
  // Model::fit turns them into the weighted program's trailing targets.
  if (o.sample_weight || !o.class_weight.empty() ||
      (o.validation_data && o.validation_data->sample_weight))
    throw Error("fit: sample_weight and class_weight need Model::fit on "
                "tensors (a program built with layer-autodiff's "
                "sample-weights takes the weights as trailing targets)");
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
                  int64_t trainSamples, const LoopData &validation,
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
    std::vector<int64_t> order = range(0, trainSamples);
    if (options.shuffle)
      shuffleOrder(order, options.seed, epoch);
    int64_t steps = numBatches(order.size(), options.batch_size);
    ProgressBar bar(steps, verbose);
    LogValues values =
        trainer.runEpoch(order, options.batch_size, bar, afterBatch)
            .values(program, "");
    LogValues val;
    if (!validation.order.empty())
      val = runEvaluate("fit", program, trainer.params(), validation,
                        options.batch_size, nullptr)
                .values(program, "val_");
    values.insert(values.end(), val.begin(), val.end());
    bool stop = false;
    if (hasCallbacks)
      trainer.sync();
    // Keras's order: the callbacks, which may add to the logs, then the
    // progress bar and History.
    for (const auto &callback : options.callbacks)
      if (leader) {
        callback->addEpochLogs(epoch, values);
        callback->onEpochEnd(epoch, values);
        stop |= callback->stopTraining;
      }
    bar.update(steps, values, /*finalize=*/true);
    record(history, epoch, values);
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

/// FitOptions::validation_data, checked like the training data, as the
/// data of a loop (tensors given are kept in `valX` and `valY`).
LoopData validationLoop(const TrainingProgram &program,
                        const FitOptions &options, std::vector<Tensor> &valX,
                        std::vector<Tensor> &valY) {
  if (!options.validation_data)
    return {};
  const char *fn = "fit (validation_data)";
  const ValidationData &v = *options.validation_data;
  if (v.dataset) {
    if (!v.x.empty() || !v.y.empty())
      throw Error(std::string(fn) + ": give tensors or a dataset, not both");
    return {datasetLoader(fn, program, program.evaluate, *v.dataset, true),
            range(0, datasetSize(fn, *v.dataset)), options.prefetch};
  }
  int64_t nv = checkSamples(fn, program, v.x, &v.y);
  checkNotEmpty(fn, nv);
  valX = v.x;
  valY = convertTargets(fn, program, program.evaluate, v.y);
  checkLabels(fn, program, valY[0]);
  return {tensorLoader(valX, valY), range(0, nv)};
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

  std::vector<Tensor> valX, valY;
  LoopData validation = validationLoop(program, options, valX, valY);
  if (nVal > 0)
    validation = {tensorLoader(x, valTargets), range(n - nVal, n)};

  std::unique_ptr<EpochTrainer> trainer;
  if (program.communicator)
    trainer = makeDataParallelTrainer(program, state, x, targets, options,
                                      *program.communicator);
  else
    trainer =
        std::make_unique<Trainer>(program, state, tensorLoader(x, targets), 0);
  return runEpochs(*trainer, program, n - nVal, validation, options);
}

/// fit() on a dataset after the program checks.
History fitDataset(const TrainingProgram &program, TrainingState &state,
                   const data::Dataset &dataset, const FitOptions &options) {
  checkProgram("fit", program);
  checkFitOptions(options);
  checkPrefetch("fit", options.prefetch);
  if (options.validation_split > 0)
    throw Error("fit: validation_split needs tensors; give a dataset "
                "validation_data instead");
  if (program.communicator)
    throw Error("fit: data-parallel training on a dataset is not supported "
                "yet; give tensors");
  int64_t n = datasetSize("fit", dataset);
  checkParams("fit", program, state);
  initStates(program, state);
  std::vector<Tensor> valX, valY;
  LoopData validation = validationLoop(program, options, valX, valY);
  Trainer trainer(
      program, state,
      datasetLoader("fit", program, program.trainStep, dataset, true),
      options.prefetch);
  return runEpochs(trainer, program, n, validation, options);
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

History layerc::fit(const TrainingProgram &program, TrainingState &state,
                    const data::Dataset &dataset, const FitOptions &options) {
  return fitDataset(program, state, dataset, options);
}

namespace {

/// evaluate() after its checks of the data.
std::vector<double> evaluateLoop(const TrainingProgram &program,
                                 const TrainingState &state,
                                 const LoopData &data,
                                 const EvaluateOptions &options) {
  int64_t steps = numBatches(data.order.size(), options.batch_size);
  ProgressBar bar(steps, options.verbose);
  RunningLogs logs = runEvaluate("evaluate", program, state.params, data,
                                 options.batch_size, &bar);
  LogValues values = logs.values(program, "");
  bar.update(steps, values, /*finalize=*/true);
  std::vector<double> result;
  for (const auto &v : values)
    result.push_back(v.second);
  return result;
}

} // namespace

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
  return evaluateLoop(program, state, {tensorLoader(x, targets), range(0, n)},
                      options);
}

std::vector<double> layerc::evaluate(const TrainingProgram &program,
                                     const TrainingState &state,
                                     const data::Dataset &dataset,
                                     const EvaluateOptions &options) {
  checkProgram("evaluate", program);
  checkBatchSize("evaluate", options.batch_size);
  checkPrefetch("evaluate", options.prefetch);
  int64_t n = datasetSize("evaluate", dataset);
  checkParams("evaluate", program, state);
  return evaluateLoop(
      program, state,
      {datasetLoader("evaluate", program, program.evaluate, dataset, true),
       range(0, n), options.prefetch},
      options);
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

namespace {

/// predict() of `n` samples from `load` after its checks of the data.
std::vector<Tensor> predictLoop(const TrainingProgram &program,
                                const TrainingState &state, int64_t n,
                                const BatchLoader &load, int prefetch,
                                const PredictOptions &options) {
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
  Prefetcher batches(load, order, batch, prefetch);
  for (int64_t b = 0; b < steps; ++b) {
    std::vector<Tensor> xb = batches.next().x;
    int64_t rows = xb[0].dim(0);
    std::vector<const Tensor *> in;
    for (const Tensor &t : xb)
      in.push_back(&t);
    for (const Tensor &t : state.params)
      in.push_back(&t);
    std::vector<Tensor> out = program.predict(in);
    for (size_t o = 0; o < out.size(); ++o)
      std::memcpy(static_cast<std::byte *>(results[o].rawData()) +
                      b * batch * (out[o].nbytes() / rows),
                  out[o].rawData(), out[o].nbytes());
    bar.update(b + 1, {});
  }
  bar.update(steps, {}, /*finalize=*/true);
  return results;
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
  std::vector<Tensor> none;
  return predictLoop(program, state, n, tensorLoader(x, none), 0, options);
}

std::vector<Tensor> layerc::predict(const TrainingProgram &program,
                                    const TrainingState &state,
                                    const data::Dataset &dataset,
                                    const PredictOptions &options) {
  checkProgram("predict", program);
  checkBatchSize("predict", options.batch_size);
  checkPrefetch("predict", options.prefetch);
  int64_t n = datasetSize("predict", dataset);
  checkParams("predict", program, state);
  return predictLoop(
      program, state, n,
      datasetLoader("predict", program, program.predict, dataset, false),
      options.prefetch, options);
}
