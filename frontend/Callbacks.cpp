//===- Callbacks.cpp - Keras's fit() callbacks ----------------------------===//

#include "frontend/Callbacks.h"
#include "frontend/Model.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>

using namespace layerc;
using namespace layerc::callbacks;

//===----------------------------------------------------------------------===//
// Monitor
//===----------------------------------------------------------------------===//

Monitor::Monitor(std::string name, const std::string &mode, double minDelta,
                 const char *owner)
    : name_(std::move(name)), owner_(owner), minDelta_(std::fabs(minDelta)) {
  if (mode == "min")
    maximize_ = false;
  else if (mode == "max")
    maximize_ = true;
  else if (mode == "auto")
    maximize_ = name_.find("acc") != std::string::npos;
  else
    throw Error(std::string(owner_) + ": mode must be auto, min or max, got '" +
                mode + "'");
}

double Monitor::valueIn(const LogValues &logs) const {
  std::string available;
  for (const auto &[key, value] : logs) {
    if (key == name_)
      return value;
    available += (available.empty() ? "" : ", ") + key;
  }
  throw Error(std::string(owner_) + ": the monitored value '" + name_ +
              "' is not among this fit's logs (" + available +
              "); give validation data for val_* values, or monitor one of "
              "these");
}

bool Monitor::improves(double value, double best) const {
  return maximize_ ? value - minDelta_ > best : value + minDelta_ < best;
}

//===----------------------------------------------------------------------===//
// ModelCheckpoint
//===----------------------------------------------------------------------===//

ModelCheckpoint::ModelCheckpoint(std::string filepath,
                                 ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), options_(std::move(options)),
      monitor_(options_.monitor, options_.mode, 0.0, "ModelCheckpoint"),
      best_(monitor_.initial()) {
  if (filepath_.empty())
    throw Error("ModelCheckpoint: filepath is empty");
}

void ModelCheckpoint::onTrainBegin() {
  if (!model)
    throw Error("ModelCheckpoint: it must be used through Model::fit");
}

std::string ModelCheckpoint::pathFor(int epoch) const {
  std::string out;
  for (size_t i = 0; i < filepath_.size();) {
    if (filepath_.compare(i, 7, "{epoch}") == 0) {
      out += std::to_string(epoch + 1);
      i += 7;
      continue;
    }
    // {epoch:0Nd}
    if (filepath_.compare(i, 8, "{epoch:0") == 0 &&
        i + 11 <= filepath_.size() &&
        std::isdigit(static_cast<unsigned char>(filepath_[i + 8])) &&
        filepath_.compare(i + 9, 2, "d}") == 0) {
      std::string number = std::to_string(epoch + 1);
      size_t width = static_cast<size_t>(filepath_[i + 8] - '0');
      if (number.size() < width)
        number.insert(0, width - number.size(), '0');
      out += number;
      i += 11;
      continue;
    }
    out += filepath_[i++];
  }
  return out;
}

void ModelCheckpoint::onEpochEnd(int epoch, const LogValues &logs) {
  std::string path = pathFor(epoch);
  if (options_.save_best_only) {
    double value = monitor_.valueIn(logs);
    if (!monitor_.improves(value, best_)) {
      if (options_.verbose)
        std::cout << "\nEpoch " << epoch + 1 << ": " << monitor_.name()
                  << " did not improve from " << best_ << "\n";
      return;
    }
    if (options_.verbose)
      std::cout << "\nEpoch " << epoch + 1 << ": " << monitor_.name()
                << " improved from " << best_ << " to " << value
                << ", saving model to " << path << "\n";
    best_ = value;
  } else if (options_.verbose) {
    std::cout << "\nEpoch " << epoch + 1 << ": saving model to " << path
              << "\n";
  }
  if (options_.save_weights_only)
    model->saveWeights(path);
  else
    model->save(path);
}

//===----------------------------------------------------------------------===//
// EarlyStopping
//===----------------------------------------------------------------------===//

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)),
      monitor_(options_.monitor, options_.mode, options_.min_delta,
               "EarlyStopping") {
  if (options_.patience < 0)
    throw Error("EarlyStopping: patience must be >= 0");
}

void EarlyStopping::onTrainBegin() {
  if (options_.restore_best_weights && !model)
    throw Error("EarlyStopping: restore_best_weights needs Model::fit");
  wait_ = 0;
  stoppedEpoch_ = -1;
  bestEpoch_ = -1;
  best_ = options_.baseline ? *options_.baseline : monitor_.initial();
  bestWeights_.clear();
}

void EarlyStopping::onEpochEnd(int epoch, const LogValues &logs) {
  double value = monitor_.valueIn(logs);
  if (epoch < options_.start_from_epoch)
    return;
  ++wait_;
  if (monitor_.improves(value, best_)) {
    best_ = value;
    bestEpoch_ = epoch;
    wait_ = 0;
    if (options_.restore_best_weights)
      bestWeights_ = model->getWeights();
    return;
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stoppedEpoch_ = epoch;
    stopTraining = true;
  }
}

void EarlyStopping::onTrainEnd() {
  if (stoppedEpoch_ >= 0 && options_.verbose)
    std::cout << "Epoch " << stoppedEpoch_ + 1 << ": early stopping\n";
  if (stoppedEpoch_ >= 0 && options_.restore_best_weights &&
      !bestWeights_.empty()) {
    if (options_.verbose)
      std::cout << "Restoring model weights from the end of the best epoch: "
                << bestEpoch_ + 1 << ".\n";
    model->setWeights(bestWeights_);
  }
}

//===----------------------------------------------------------------------===//
// CSVLogger
//===----------------------------------------------------------------------===//

CSVLogger::CSVLogger(std::string filename, CSVLoggerOptions options)
    : filename_(std::move(filename)), options_(std::move(options)) {}

void CSVLogger::onTrainBegin() {
  bool existing = false;
  if (options_.append) {
    std::ifstream in(filename_);
    existing = in.good() && in.peek() != std::ifstream::traits_type::eof();
  }
  file_.open(filename_, options_.append ? std::ios::app : std::ios::trunc);
  if (!file_)
    throw Error("CSVLogger: cannot open " + filename_ + ": " +
                std::strerror(errno));
  headerWritten_ = existing;
}

void CSVLogger::onEpochEnd(int epoch, const LogValues &logs) {
  const std::string &sep = options_.separator;
  if (!headerWritten_) {
    file_ << "epoch";
    for (const auto &[key, value] : logs)
      file_ << sep << key;
    file_ << "\n";
    headerWritten_ = true;
  }
  file_ << epoch;
  char buffer[32];
  for (const auto &[key, value] : logs) {
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    file_ << sep << buffer;
  }
  file_ << "\n";
  file_.flush();
  if (!file_)
    throw Error("CSVLogger: cannot write " + filename_);
}

void CSVLogger::onTrainEnd() { file_.close(); }

//===----------------------------------------------------------------------===//
// LearningRateScheduler
//===----------------------------------------------------------------------===//

LearningRateScheduler::LearningRateScheduler(Schedule schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  if (!schedule_)
    throw Error("LearningRateScheduler: the schedule is empty");
}

namespace {

/// Sets logs["learning_rate"] to the model's rate as Keras logs it: the
/// value of its learning-rate variable, of the model's float type (float32
/// unless its weights are float64).
void logLearningRate(const Model *model, LogValues &logs) {
  if (!model)
    return;
  double rate = model->learningRate();
  bool float64 = false;
  for (const auto &layer : model->weightLayers())
    for (const Weight &w : layer->weights())
      float64 |= w.value.dtype() == DType::Float64;
  if (!float64)
    rate = double(float(rate));
  for (auto &[name, value] : logs)
    if (name == "learning_rate") {
      value = rate;
      return;
    }
  logs.push_back({"learning_rate", rate});
}

} // namespace

void LearningRateScheduler::addEpochLogs(int, LogValues &logs) {
  logLearningRate(model, logs);
}

void ReduceLROnPlateau::addEpochLogs(int, LogValues &logs) {
  logLearningRate(model, logs);
}

void LearningRateScheduler::onEpochBegin(int epoch) {
  if (!model)
    throw Error("LearningRateScheduler needs Model::fit");
  double rate = schedule_(epoch, model->learningRate());
  if (!(rate >= 0 && std::isfinite(rate)))
    throw Error("LearningRateScheduler: the schedule returned " +
                std::to_string(rate) + " for epoch " + std::to_string(epoch) +
                " (a learning rate is finite and >= 0)");
  model->setLearningRate(rate);
  if (verbose_ > 0)
    std::cout << "\nEpoch " << epoch + 1
              << ": LearningRateScheduler setting learning rate to " << rate
              << ".\n";
}

//===----------------------------------------------------------------------===//
// ReduceLROnPlateau
//===----------------------------------------------------------------------===//

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)),
      monitor_(options_.monitor, options_.mode, options_.min_delta,
               "ReduceLROnPlateau") {
  if (!(options_.factor < 1.0 && options_.factor >= 0.0))
    throw Error("ReduceLROnPlateau: factor must be in [0, 1), got " +
                std::to_string(options_.factor));
  if (options_.patience < 0 || options_.cooldown < 0)
    throw Error("ReduceLROnPlateau: patience and cooldown must be >= 0");
  if (!(options_.min_lr >= 0 && std::isfinite(options_.min_lr)))
    throw Error("ReduceLROnPlateau: min_lr must be finite and >= 0");
}

void ReduceLROnPlateau::onTrainBegin() {
  if (!model)
    throw Error("ReduceLROnPlateau needs Model::fit");
  best_ = monitor_.initial();
  wait_ = 0;
  cooldownCounter_ = 0;
}

void ReduceLROnPlateau::onEpochEnd(int epoch, const LogValues &logs) {
  double value = monitor_.valueIn(logs);
  if (cooldownCounter_ > 0) {
    --cooldownCounter_;
    wait_ = 0;
  }
  if (monitor_.improves(value, best_)) {
    best_ = value;
    wait_ = 0;
    return;
  }
  if (cooldownCounter_ > 0 || ++wait_ < options_.patience)
    return;
  // Keras compares in float32.
  double rate = model->learningRate();
  if (!(float(rate) > float(options_.min_lr)))
    return;
  double reduced = std::max(rate * options_.factor, options_.min_lr);
  model->setLearningRate(reduced);
  if (options_.verbose > 0)
    std::cout << "\nEpoch " << epoch + 1
              << ": ReduceLROnPlateau reducing learning rate to " << reduced
              << ".\n";
  cooldownCounter_ = options_.cooldown;
  wait_ = 0;
}

//===----------------------------------------------------------------------===//
// TerminateOnNaN
//===----------------------------------------------------------------------===//

void TerminateOnNaN::onTrainBatchEnd(int batch, const LogValues &logs) {
  for (const auto &[name, value] : logs) {
    if (name != "loss" || std::isfinite(value))
      continue;
    if (raiseError_)
      throw Error("NaN or Inf loss encountered at batch " +
                  std::to_string(batch) +
                  ". Loss value: " + std::to_string(value) +
                  ". Terminating training immediately.");
    std::cout << "Batch " << batch << ": Invalid loss, terminating training\n";
    stopTraining = true;
  }
}

//===----------------------------------------------------------------------===//
// BackupAndRestore
//===----------------------------------------------------------------------===//

BackupAndRestore::BackupAndRestore(std::string backupDir,
                                   BackupAndRestoreOptions options)
    : backupDir_(std::move(backupDir)), options_(options) {
  if (backupDir_.empty())
    throw Error("BackupAndRestore: backup_dir is empty");
}

std::string BackupAndRestore::weightsPath() const {
  return (std::filesystem::path(backupDir_) / "latest.weights.safetensors")
      .string();
}

std::string BackupAndRestore::metadataPath() const {
  return (std::filesystem::path(backupDir_) / "training_metadata.json")
      .string();
}

void BackupAndRestore::onTrainBegin() {
  if (!model)
    throw Error("BackupAndRestore needs Model::fit");
  std::error_code ec;
  if (!std::filesystem::exists(metadataPath(), ec))
    return;
  std::ifstream in(metadataPath());
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  Json meta = Json::parse(text, metadataPath(), 4);
  const Json *epoch = meta.isObject() ? meta.get("epoch") : nullptr;
  if (!epoch || !epoch->isInteger() || epoch->asDouble() < 0 ||
      epoch->asDouble() > double(std::numeric_limits<int>::max()))
    throw Error(metadataPath() + ": 'epoch' must be an integer >= 0");
  model->loadWeights(weightsPath());
  resumeEpoch = static_cast<int>(epoch->asDouble());
}

void BackupAndRestore::onEpochEnd(int epoch, const LogValues &) {
  std::filesystem::create_directories(backupDir_);
  // The weights first: a crash before the metadata is written resumes at
  // the epoch before, from the newer weights (as Keras's).
  model->saveWeights(weightsPath());
  std::string tmp = metadataPath() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << Json::object({{"epoch", epoch + 1}}).dump();
    if (!out.flush())
      throw Error("BackupAndRestore: cannot write " + tmp);
  }
  std::filesystem::rename(tmp, metadataPath());
}

void BackupAndRestore::onTrainEnd() {
  if (options_.delete_checkpoint)
    std::filesystem::remove_all(backupDir_);
}
