//===- Compile.cpp - From CompileOptions to the pipeline's options
//---------===//
//
// Model::compile's Keras-style options (loss names and aliases, per-output
// losses and weights, the optimizer) checked and resolved once, into the
// typed options of layer-autodiff. Model.cpp and the layerc driver both
// build their training functions from here.
//
//===----------------------------------------------------------------------===//

#include "frontend/Compile.h"

#include "codegen/Passes.h"
#include "dialect/LayerOps.h"
#ifdef LAYERC_HAVE_MPI
#include "runtime/mpi/MpiCommunicator.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

using namespace layerc;

mlir::DialectRegistry &layerc::compilerRegistry() {
  static mlir::DialectRegistry registry = [] {
    mlir::DialectRegistry r;
    registerCompilerDialects(r);
    return r;
  }();
  return registry;
}

MetricKind layerc::accuracyFor(const Loss &loss,
                               const std::vector<int64_t> &outputShape) {
  if (loss.name == "binary_crossentropy" ||
      (!outputShape.empty() && outputShape.back() == 1))
    return MetricKind::BinaryAccuracy;
  if (loss.name == "sparse_categorical_crossentropy")
    return MetricKind::SparseCategoricalAccuracy;
  return MetricKind::CategoricalAccuracy;
}

OutputLosses layerc::resolveLosses(const CompileOptions &o,
                                   const std::vector<std::string> &outputs) {
  size_t n = outputs.size();
  std::string known;
  for (const std::string &name : outputs)
    known += (known.empty() ? "" : ", ") + name;
  auto indexOf = [&](const std::string &name, const char *what) {
    for (size_t i = 0; i < n; ++i)
      if (outputs[i] == name)
        return i;
    throw Error(std::string("compile: ") + what + " for output '" + name +
                "', but the model has no such output (its outputs: " + known +
                ")");
  };
  if (!o.losses.empty() && !o.losses_by_name.empty())
    throw Error("compile: give losses as a list or by output name, not both");
  if (!o.loss_weights.empty() && !o.loss_weights_by_name.empty())
    throw Error(
        "compile: give loss_weights as a list or by output name, not both");
  OutputLosses r{std::vector<Loss>(n, o.loss), std::vector<double>(n, 1.0)};
  if (!o.losses.empty()) {
    if (o.losses.size() != n)
      throw Error("compile: " + std::to_string(o.losses.size()) +
                  " losses for the " + std::to_string(n) +
                  " outputs of the model (" + known + ")");
    r.losses = o.losses;
  }
  if (!o.losses_by_name.empty()) {
    std::vector<bool> given(n, false);
    for (const auto &[name, loss] : o.losses_by_name) {
      size_t i = indexOf(name, "a loss is given");
      r.losses[i] = loss;
      given[i] = true;
    }
    for (size_t i = 0; i < n; ++i)
      if (!given[i])
        throw Error("compile: no loss for output '" + outputs[i] +
                    "' (losses by name need one per output: " + known + ")");
  }
  if (!o.loss_weights.empty()) {
    if (o.loss_weights.size() != n)
      throw Error("compile: " + std::to_string(o.loss_weights.size()) +
                  " loss_weights for the " + std::to_string(n) +
                  " outputs of the model (" + known + ")");
    r.weights = o.loss_weights;
  }
  for (const auto &[name, weight] : o.loss_weights_by_name)
    r.weights[indexOf(name, "a loss weight is given")] = weight;
  // Keras's short names.
  static const std::map<std::string, std::string> aliases = {
      {"mse", "mean_squared_error"},  {"MSE", "mean_squared_error"},
      {"mae", "mean_absolute_error"}, {"MAE", "mean_absolute_error"},
      {"bce", "binary_crossentropy"}, {"BCE", "binary_crossentropy"}};
  for (Loss &loss : r.losses)
    if (auto alias = aliases.find(loss.name); alias != aliases.end())
      loss.name = alias->second;
  for (const Loss &loss : r.losses)
    if (!layer::parseLoss(loss.name))
      throw Error("compile: unknown loss '" + loss.name +
                  "' (expected one of " + layer::knownLosses() + ")");
  for (double w : r.weights)
    if (!std::isfinite(w) || w < 0)
      throw Error("compile: loss weights must be finite and non-negative, "
                  "got " +
                  std::to_string(w));
  return r;
}

const std::vector<std::string> &layerc::optimizerNames() {
  static const std::vector<std::string> names = {
      "sgd",      "rmsprop", "adam",  "adamw", "adagrad",
      "adadelta", "adamax",  "nadam", "lion"};
  return names;
}

std::string layerc::knownOptimizers() {
  std::string list;
  for (const std::string &name : optimizerNames())
    list += (list.empty() ? "" : ", ") + name;
  return list;
}

LayerAutodiffOptions
layerc::autodiffOptions(const CompileOptions &o,
                        const std::vector<std::string> &outputNames,
                        bool outputLosses, bool learningRateInput) {
  const Optimizer &opt = o.optimizer;
  const std::vector<std::string> &names = optimizerNames();
  if (std::find(names.begin(), names.end(), opt.name) == names.end())
    throw Error("unknown optimizer '" + opt.name + "' (expected one of " +
                knownOptimizers() + ")");
  if (opt.centered && opt.name != "rmsprop")
    throw Error("centered applies to rmsprop, not " + opt.name);
  if (opt.amsgrad && opt.name != "adam" && opt.name != "adamw")
    throw Error("amsgrad applies to adam and adamw, not " + opt.name);
  if (!(opt.weight_decay >= 0 && std::isfinite(opt.weight_decay)))
    throw Error("weight_decay must be finite and >= 0");
  try {
    opt.learning_rate.check();
  } catch (const Error &e) {
    throw Error(opt.name + ": learning_rate: " + e.what());
  }
  // Keras's ranges: the decay rates in [0, 1), Lion's beta_1 in (0, 1].
  auto unitRange = [&](const char *what, double v) {
    if (!(v >= 0 && v < 1))
      throw Error(opt.name + ": " + what + " must be in [0, 1), got " +
                  std::to_string(v));
  };
  if (opt.name == "rmsprop" || opt.name == "adadelta")
    unitRange("rho", opt.rho);
  if (opt.name != "sgd" && opt.name != "rmsprop" && opt.name != "adagrad" &&
      opt.name != "adadelta") {
    unitRange("beta_2", opt.beta_2);
    if (opt.name != "lion")
      unitRange("beta_1", opt.beta_1);
    else if (!(opt.beta_1 > 0 && opt.beta_1 <= 1))
      throw Error("lion: beta_1 must be in (0, 1], got " +
                  std::to_string(opt.beta_1));
  }
  if (!(opt.initial_accumulator_value >= 0 &&
        std::isfinite(opt.initial_accumulator_value)))
    throw Error("adagrad: initial_accumulator_value must be finite and >= 0");
  int clips = 0;
  for (double c : {opt.clipnorm, opt.clipvalue, opt.global_clipnorm}) {
    if (!(c >= 0 && std::isfinite(c)))
      throw Error(opt.name + ": clipnorm, clipvalue and global_clipnorm must "
                             "be finite and >= 0 (0: off)");
    clips += c > 0;
  }
  if (clips > 1)
    throw Error(opt.name + ": only one of clipnorm, clipvalue and "
                           "global_clipnorm can be set");
  OutputLosses resolved = resolveLosses(o, outputNames);
  LayerAutodiffOptions a;
  a.function = "predict";
  for (const Loss &loss : resolved.losses)
    a.loss.push_back(loss.name + (loss.from_logits ? ":logits" : ":probs"));
  for (double w : resolved.weights)
    a.lossWeights.push_back(w);
  a.outputLosses = outputLosses;
  a.optimizer = opt.name;
  if (learningRateInput) {
    a.learningRateInput = true;
    a.learningRate = opt.learning_rate.initial();
  } else if (const auto *decay = std::get_if<schedules::ExponentialDecay>(
                 &opt.learning_rate.schedule())) {
    a.learningRate = decay->initial_learning_rate;
    a.decaySteps = decay->decay_steps;
    a.decayRate = decay->decay_rate;
    a.staircase = decay->staircase;
  } else if (opt.learning_rate.isConstant()) {
    a.learningRate = opt.learning_rate.initial();
  } else {
    throw Error(opt.name +
                ": a train_step that computes its own learning "
                "rate (ahead-of-time training) knows constants "
                "and ExponentialDecay, not " +
                opt.learning_rate.kind());
  }
  a.momentum = opt.momentum;
  a.nesterov = opt.nesterov;
  a.rho = opt.rho;
  a.beta1 = opt.beta_1;
  a.beta2 = opt.beta_2;
  a.epsilon = opt.epsilon;
  a.centered = opt.centered;
  a.amsgrad = opt.amsgrad;
  a.weightDecay = opt.weight_decay;
  a.initialAccumulatorValue = opt.initial_accumulator_value;
  a.clipnorm = opt.clipnorm;
  a.clipvalue = opt.clipvalue;
  a.globalClipnorm = opt.global_clipnorm;
  return a;
}

std::shared_ptr<Communicator>
layerc::communicatorFor(const CompileOptions &options) {
  Distribute distribute;
  if (options.distribute) {
    distribute = *options.distribute;
  } else if (const char *env = std::getenv("LAYERC_DISTRIBUTE"); env && *env) {
    std::string value = env;
    if (value == "mpi")
      distribute = Distribute::mpi();
    else if (value != "none")
      throw Error("LAYERC_DISTRIBUTE='" + value +
                  "' is not a distribution (expected mpi or none)");
  }
  if (distribute.kind == Distribute::Kind::None)
    return nullptr;
#ifdef LAYERC_HAVE_MPI
  return mpiCommunicator();
#else
  throw Error("compile: distribute=mpi, but this layerc was built without "
              "MPI (install libopenmpi-dev and rebuild)");
#endif
}

std::vector<std::string>
layerc::shapeOptions(const std::vector<std::vector<int64_t>> &samples) {
  std::vector<std::string> shapes;
  for (const std::vector<int64_t> &sample : samples) {
    std::string shape = "?";
    for (int64_t d : sample)
      shape += "x" + (d < 0 ? std::string("?") : std::to_string(d));
    shapes.push_back(shape);
  }
  return shapes;
}
