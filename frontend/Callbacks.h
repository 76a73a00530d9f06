//===- Callbacks.h - Keras's fit() callbacks ---------------------*- C++
//-*-===//
//
// ModelCheckpoint, EarlyStopping, CSVLogger, LearningRateScheduler,
// ReduceLROnPlateau, TerminateOnNaN and BackupAndRestore, with Keras's
// arguments and behaviour. Pass them in FitOptions::callbacks:
//
//   model.fit(x, y, {.epochs = 20, .validation_split = 0.2,
//                    .callbacks = {
//                        std::make_shared<callbacks::EarlyStopping>(
//                            callbacks::EarlyStoppingOptions{.patience = 2}),
//                        std::make_shared<callbacks::ModelCheckpoint>(
//                            "ckpt_{epoch:02d}.lcm"),
//                        std::make_shared<callbacks::CSVLogger>("log.csv")}});
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_CALLBACKS_H
#define LAYERC_FRONTEND_CALLBACKS_H

#include "runtime/Training.h"

#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace layerc {

class Model;

/// A callback that reaches the model being trained (Model::fit sets it).
class ModelCallback : public Callback {
public:
  Model *model = nullptr;
};

namespace callbacks {

/// How a monitored value improves: "min", "max", or "auto" (max for
/// accuracies, min otherwise), as Keras decides.
class Monitor {
public:
  Monitor(std::string name, const std::string &mode, double minDelta,
          const char *owner);
  const std::string &name() const { return name_; }
  /// The monitored value in `logs`; throws layerc::Error listing the logs
  /// when it is absent.
  double valueIn(const LogValues &logs) const;
  bool improves(double value, double best) const;
  double initial() const { return maximize_ ? -inf() : inf(); }

private:
  static double inf() { return std::numeric_limits<double>::infinity(); }
  std::string name_;
  const char *owner_;
  bool maximize_;
  double minDelta_;
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  /// Weights (and optimizer state) only, as Model::saveWeights; otherwise
  /// the whole model, as Model::save.
  bool save_weights_only = false;
  std::string mode = "auto";
  int verbose = 0;
};

/// Saves the model after every epoch, or only when the monitored value
/// improves. `filepath` may hold {epoch} or {epoch:0Nd} (1-based, as
/// Keras). Every save is atomic: a crash keeps the previous file.
class ModelCheckpoint : public ModelCallback {
public:
  explicit ModelCheckpoint(std::string filepath,
                           ModelCheckpointOptions options = {});
  void onTrainBegin() override;
  void onEpochEnd(int epoch, const LogValues &logs) override;
  /// The path for `epoch` (0-based).
  std::string pathFor(int epoch) const;
  double best() const { return best_; }

private:
  std::string filepath_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
  double best_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  std::string mode = "auto";
  /// Training stops unless the value beats this within `patience` epochs.
  std::optional<double> baseline{};
  /// Put back the weights of the best epoch when training stops.
  bool restore_best_weights = false;
  int start_from_epoch = 0;
  int verbose = 0;
};

/// Stops training when the monitored value has not improved by min_delta
/// for `patience` epochs.
class EarlyStopping : public ModelCallback {
public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void onTrainBegin() override;
  void onEpochEnd(int epoch, const LogValues &logs) override;
  void onTrainEnd() override;
  /// The epoch (0-based) at which training stopped; -1 if it did not.
  int stoppedEpoch() const { return stoppedEpoch_; }
  int bestEpoch() const { return bestEpoch_; }

private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  double best_ = 0;
  int wait_ = 0, stoppedEpoch_ = -1, bestEpoch_ = -1;
  std::vector<Tensor> bestWeights_;
};

struct CSVLoggerOptions {
  std::string separator = ",";
  bool append = false;
};

/// Writes one line per epoch: `epoch` (0-based, as Keras) and every log.
class CSVLogger : public Callback {
public:
  explicit CSVLogger(std::string filename, CSVLoggerOptions options = {});
  void onTrainBegin() override;
  void onEpochEnd(int epoch, const LogValues &logs) override;
  void onTrainEnd() override;

private:
  std::string filename_;
  CSVLoggerOptions options_;
  std::ofstream file_;
  bool headerWritten_ = false;
};

/// Sets the learning rate before every epoch to schedule(epoch, current
/// rate) (epoch from 0). The optimizer's learning rate must be a constant.
/// Like Keras's, it logs the epoch's rate as "learning_rate" (History has
/// it).
class LearningRateScheduler : public ModelCallback {
public:
  using Schedule = std::function<double(int epoch, double learningRate)>;
  explicit LearningRateScheduler(Schedule schedule, int verbose = 0);
  void onEpochBegin(int epoch) override;
  void addEpochLogs(int epoch, LogValues &logs) override;

private:
  Schedule schedule_;
  int verbose_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  /// The new rate is the old one times this (< 1).
  double factor = 0.1;
  /// Epochs without improvement before the rate is reduced.
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  double min_delta = 1e-4;
  /// Epochs to wait after a reduction before counting again.
  int cooldown = 0;
  double min_lr = 0.0;
};

/// Multiplies the learning rate by `factor` when the monitored value has
/// not improved by min_delta for `patience` epochs, down to min_lr. Like
/// Keras's, it logs the epoch's rate (before any reduction) as
/// "learning_rate".
class ReduceLROnPlateau : public ModelCallback {
public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void onTrainBegin() override;
  void addEpochLogs(int epoch, LogValues &logs) override;
  void onEpochEnd(int epoch, const LogValues &logs) override;

private:
  ReduceLROnPlateauOptions options_;
  Monitor monitor_;
  double best_ = 0;
  int wait_ = 0, cooldownCounter_ = 0;
};

/// Stops training after the first batch whose (running) loss is NaN or
/// infinite; with raise_error, fit() throws layerc::Error there instead.
class TerminateOnNaN : public Callback {
public:
  explicit TerminateOnNaN(bool raiseError = false) : raiseError_(raiseError) {}
  void onTrainBatchEnd(int batch, const LogValues &logs) override;

private:
  bool raiseError_;
};

struct BackupAndRestoreOptions {
  /// Remove the backup when fit() ends (not when it is interrupted).
  bool delete_checkpoint = true;
};

/// Fault tolerance: after every epoch, saves the weights, the optimizer
/// state and the next epoch to `backupDir`; a fit() that starts with a
/// backup there (the one that crashed, run again) first restores it and
/// resumes at that epoch.
class BackupAndRestore : public ModelCallback {
public:
  explicit BackupAndRestore(std::string backupDir,
                            BackupAndRestoreOptions options = {});
  void onTrainBegin() override;
  void onEpochEnd(int epoch, const LogValues &logs) override;
  void onTrainEnd() override;
  std::string weightsPath() const;
  std::string metadataPath() const;

private:
  std::string backupDir_;
  BackupAndRestoreOptions options_;
};

} // namespace callbacks
} // namespace layerc

#endif // LAYERC_FRONTEND_CALLBACKS_H
