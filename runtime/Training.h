//===- Training.h - fit / evaluate / predict loops ---------------*- C++
//-*-===//
//
// The host side of training: batching, shuffling, validation split, the
// Keras-style progress bar, metrics and History. Everything numeric happens
// in compiled functions (a TrainingProgram); this file only moves batches
// in and out of them, so it depends on nothing of LLVM or MLIR.
//
// Calling conventions of the three functions of a TrainingProgram (all
// destination-passing, see Abi.h), for I inputs, T targets, P parameters,
// S optimizer-state buffers and O outputs:
//   train_step(x[I], y[T], params[P], state[S], step) ->
//              (loss, outputs[O], newParams[P], newState[S])
//   evaluate  (x[I], y[T], params[P]) -> (loss, outputs[O])
//   predict   (x[I], params[P]) -> (outputs[O])
// and, for data-parallel training, train_step cut at the gradients, with
// G trainable parameters among the P weights and B = P - G buffers:
//   grad_step (x[I], y[T], params[P], step, offset) ->
//              (loss, outputs[O], grads[G], buffers[B])
//   apply_step(trainable[G], grads[G], state[S], step) ->
//              (newTrainable[G], newState[S])
// where `offset` is the shard's first sample in the global batch.
// `step` is a rank-0 float tensor holding the 1-based iteration number; a
// program built with layer-autodiff's learning-rate-input also takes the
// step's learning rate, a rank-0 float tensor after `step` in train_step
// and apply_step (TrainingState::learning_rate at the iteration count);
// `loss` is a rank-0 float tensor: the mean loss over the batch.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_TRAINING_H
#define LAYERC_RUNTIME_TRAINING_H

#include "runtime/Abi.h"
#include "runtime/Communicator.h"
#include "runtime/ProgressBar.h"
#include "runtime/Schedules.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace layerc {

/// How a metric compares outputs[0] with targets[0].
enum class MetricKind {
  SparseCategoricalAccuracy, // argmax(output) == integer label
  CategoricalAccuracy,       // argmax(output) == argmax(one-hot target)
  BinaryAccuracy,            // (output > 0.5) == (target > 0.5), elementwise
  MeanSquaredError,          // mean of (output - target)^2
  MeanAbsoluteError,         // mean of |output - target|
  // Over every element, a prediction is positive above 0.5, a target when
  // not 0 (Keras's default threshold):
  Precision, // true positives / predicted positives
  Recall,    // true positives / actual positives
  // The target class (one-hot, or an integer label) among the k = 5
  // highest outputs of its row, ties counted in (Keras's in_top_k):
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  // Area under the ROC curve of every element, predictions in [0, 1], over
  // Keras's 200 evenly spaced thresholds with its interpolation.
  AUC,
  // Keras's MeanIoU: a num_classes x num_classes confusion matrix of class
  // ids (integer targets and outputs, or their argmax over the last axis
  // when not sparse); the mean over the classes present of
  // TP / (TP + FP + FN). Ids outside [0, num_classes) and ignore_class are
  // left out.
  MeanIoU,
};

struct Metric {
  std::string name{}; // as reported: "accuracy", "priority_mae"
  MetricKind kind{};
  /// The output (and target) it measures.
  int output = 0;
  /// MeanIoU's arguments.
  int64_t numClasses = 0;
  std::optional<int64_t> ignoreClass{};
  bool sparseTrue = true, sparsePred = true;
};

/// The compiled functions of one compiled model plus its layout.
struct TrainingProgram {
  CompiledFunction trainStep{};
  CompiledFunction evaluate{};
  CompiledFunction predict{};
  /// Data-parallel training: set together with `communicator`.
  CompiledFunction gradStep{};
  CompiledFunction applyStep{};
  /// When set, fit() trains data-parallel over these processes (each rank
  /// calls fit() with the same data and options).
  std::shared_ptr<Communicator> communicator{};
  int numInputs = 1;
  int numTargets = 1;
  int numParams = 0;
  int numStates = 0;
  int numOutputs = 1;
  std::vector<Metric> metrics{};
  /// With several outputs, the names their losses are logged under
  /// ("priority_loss", ...): evaluate and train_step then return each
  /// output's loss as trailing scalars (layer-autodiff's output-losses).
  std::vector<std::string> outputLossNames{};
};

/// Per-epoch values by name ("loss", "accuracy", "val_loss", ...), as Keras's
/// History.history.
struct History {
  std::vector<int> epoch{};
  std::map<std::string, std::vector<double>> history{};
};

/// Keras's callbacks: fit() calls them around training and after every
/// epoch, with that epoch's logs (loss, metrics, val_*). When a callback
/// runs, the weights and optimizer state the model holds are the latest.
class Callback {
public:
  virtual ~Callback();
  virtual void onTrainBegin() {}
  /// Before each epoch; `epoch` counts from 0 (Keras's on_epoch_begin).
  virtual void onEpochBegin(int /*epoch*/) {}
  /// After each training step, with the epoch's running logs so far;
  /// `batch` counts from 0 in the epoch (Keras's on_train_batch_end).
  virtual void onTrainBatchEnd(int /*batch*/, const LogValues & /*logs*/) {}
  /// `epoch` counts from 0, as Keras's on_epoch_end.
  virtual void onEpochEnd(int /*epoch*/, const LogValues & /*logs*/) {}
  /// Called just before onEpochEnd: what the callback adds to the epoch's
  /// logs, as Keras's callbacks write into theirs (ReduceLROnPlateau and
  /// LearningRateScheduler add "learning_rate"). The callbacks after it,
  /// the progress bar and History see the added values.
  virtual void addEpochLogs(int /*epoch*/, LogValues & /*logs*/) {}
  virtual void onTrainEnd() {}
  /// Set by a callback to end fit(): after the current batch when set in
  /// onTrainBatchEnd (the epoch then ends as usual: validation,
  /// onEpochEnd), else after the current epoch.
  bool stopTraining = false;
  /// Set in onTrainBegin to start at this epoch instead of
  /// FitOptions::initial_epoch (BackupAndRestore resuming).
  std::optional<int> resumeEpoch{};
};

namespace data {
class Dataset;
} // namespace data

/// Data to validate on after every epoch (Keras's validation_data): tensors,
/// or a data::Dataset (runtime/Dataset.h) instead.
struct ValidationData {
  std::vector<Tensor> x{}, y{};
  std::shared_ptr<const data::Dataset> dataset{};
  /// Keras's (x_val, y_val, val_sample_weight): one weight per validation
  /// sample for the val_loss (Model::fit; tensors only).
  std::optional<Tensor> sample_weight{};
};

/// Keras's fit() arguments (names follow Keras on purpose).
struct FitOptions {
  int64_t batch_size = 32;
  int epochs = 1;
  /// 0 = silent, 1 = progress bar, 2 = one line per epoch.
  int verbose = 1;
  /// Fraction of the samples, taken from the end before shuffling, used for
  /// validation only.
  double validation_split = 0.0;
  bool shuffle = true;
  /// Seed of the shuffling; a run with the same seed is reproducible.
  uint64_t seed = 1337;
  int initial_epoch = 0;
  /// Validation set given explicitly; validation_split must then be 0.
  std::optional<ValidationData> validation_data{};
  std::vector<std::shared_ptr<Callback>> callbacks{};
  /// fit() on a data::Dataset: how many batches a background thread loads
  /// ahead of the one training (0: each is loaded when needed, on the
  /// calling thread).
  int prefetch = 2;
  /// Keras's sample_weight: one weight per sample (shape (n,) or (n, 1)),
  /// by which each sample's loss is multiplied; the batch's weighted sum
  /// is divided by the batch size, not by the weights' sum. With several
  /// outputs every output's loss is weighted. Metrics stay unweighted, as
  /// Keras's compile(metrics=...). Applied by Model::fit, which compiles
  /// the weighted program on first use (layer-autodiff's sample-weights).
  std::optional<Tensor> sample_weight{};
  /// Keras's class_weight: class -> weight, each sample weighted by that of
  /// its class (its sparse label, or the argmax of its one-hot target);
  /// classes left out weigh 1. Single-output models; not with
  /// sample_weight.
  std::map<int64_t, double> class_weight{};
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  /// As FitOptions::prefetch, for a data::Dataset.
  int prefetch = 2;
  /// As FitOptions::sample_weight: the loss evaluate() returns is
  /// weighted (Model::evaluate).
  std::optional<Tensor> sample_weight{};
};

struct PredictOptions {
  int64_t batch_size = 32;
  int verbose = 0;
  /// As FitOptions::prefetch, for a data::Dataset.
  int prefetch = 2;
};

/// Mutable training state that a model owns across fit() calls.
struct TrainingState {
  std::vector<Tensor> params;   // updated in place (same storage after fit)
  std::vector<Tensor> states{}; // optimizer slots, zero-initialised
  int64_t iterations = 0;       // optimizer steps taken so far
  /// What fit() passes a train_step that takes its learning rate
  /// (Role::LearningRate): this at `iterations`. Callbacks may replace a
  /// constant between epochs.
  LearningRate learning_rate{};
};

/// Trains for options.epochs epochs. `x` and `y` hold one tensor per input /
/// target, all with the same number of samples along axis 0. Integer labels
/// of any integer dtype are converted to the dtype the program expects.
/// Throws layerc::Error on mismatched sample counts, dtypes or shapes,
/// naming the argument and both shapes. With program.communicator, every
/// rank trains on its shard of each global batch of options.batch_size
/// samples, prints and runs callbacks on rank 0 only, and all ranks end with
/// the same weights (those of one process up to float rounding; with
/// BatchNormalization, statistics per rank); an error on one rank then
/// stops the whole job (Communicator::abort) instead of throwing.
History fit(const TrainingProgram &program, TrainingState &state,
            const std::vector<Tensor> &x, const std::vector<Tensor> &y,
            const FitOptions &options);

/// Returns {loss, metric...} averaged over all samples (Keras's order).
std::vector<double> evaluate(const TrainingProgram &program,
                             const TrainingState &state,
                             const std::vector<Tensor> &x,
                             const std::vector<Tensor> &y,
                             const EvaluateOptions &options);

/// Runs predict batch by batch; returns one tensor per output, with all
/// samples.
std::vector<Tensor> predict(const TrainingProgram &program,
                            const TrainingState &state,
                            const std::vector<Tensor> &x,
                            const PredictOptions &options);

} // namespace layerc

#endif // LAYERC_RUNTIME_TRAINING_H
