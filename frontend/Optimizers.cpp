//===- Optimizers.cpp - Keras's losses and optimizers, by name ------------===//
//
// The factories of losses::, optimizers:: and metrics::MeanIoU, and
// Optimizer's by-name constructor: each fills a Loss or an Optimizer with
// Keras's defaults and
// the options given. What they hold is checked once, by compile()
// (Compile.cpp), where a model file's optimizer is checked too.
//
//===----------------------------------------------------------------------===//

#include "frontend/Compile.h"
#include "frontend/Model.h"

#include <map>
#include <string>

using namespace layerc;

MetricSpec metrics::MeanIoU(MeanIoUOptions o) {
  // The confusion matrix holds num_classes^2 counts.
  if (o.num_classes < 1 || o.num_classes > 4096)
    throw Error("MeanIoU: num_classes must be in [1, 4096], got " +
                std::to_string(o.num_classes));
  if (o.name.empty())
    throw Error("MeanIoU: the name must not be empty");
  MetricSpec spec(o.name);
  spec.class_name = "MeanIoU";
  spec.num_classes = o.num_classes;
  spec.ignore_class = o.ignore_class;
  spec.sparse_y_true = o.sparse_y_true;
  spec.sparse_y_pred = o.sparse_y_pred;
  return spec;
}

Loss losses::SparseCategoricalCrossentropy(CrossentropyOptions options) {
  return Loss("sparse_categorical_crossentropy", options.from_logits);
}
Loss losses::CategoricalCrossentropy(CrossentropyOptions options) {
  return Loss("categorical_crossentropy", options.from_logits);
}
Loss losses::MeanSquaredError() { return Loss("mean_squared_error", false); }
Loss losses::MeanAbsoluteError() { return Loss("mean_absolute_error", false); }
Loss losses::BinaryCrossentropy(CrossentropyOptions options) {
  return Loss("binary_crossentropy", options.from_logits);
}

Optimizer::Optimizer(const char *kerasName) {
  static const std::map<std::string, Optimizer (*)()> byName = {
      {"sgd", [] { return optimizers::SGD(); }},
      {"rmsprop", [] { return optimizers::RMSprop(); }},
      {"adam", [] { return optimizers::Adam(); }},
      {"adamw", [] { return optimizers::AdamW(); }},
      {"adagrad", [] { return optimizers::Adagrad(); }},
      {"adadelta", [] { return optimizers::Adadelta(); }},
      {"adamax", [] { return optimizers::Adamax(); }},
      {"nadam", [] { return optimizers::Nadam(); }},
      {"lion", [] { return optimizers::Lion(); }}};
  auto it = byName.find(kerasName);
  if (it == byName.end())
    throw Error("unknown optimizer '" + std::string(kerasName) +
                "' (expected one of " + knownOptimizers() + ")");
  *this = it->second();
}

namespace {
/// An optimizer named `name` with what every options struct has: the
/// learning rate, weight decay and clipping.
template <typename Options>
Optimizer withCommon(const char *name, const Options &o) {
  Optimizer opt;
  opt.name = name;
  opt.learning_rate = o.learning_rate;
  opt.weight_decay = o.weight_decay;
  opt.clipnorm = o.clipnorm;
  opt.clipvalue = o.clipvalue;
  opt.global_clipnorm = o.global_clipnorm;
  return opt;
}

/// The Adam family's beta_1, beta_2 and epsilon, after withCommon().
template <typename Options>
Optimizer withBetas(const char *name, const Options &o) {
  Optimizer opt = withCommon(name, o);
  opt.beta_1 = o.beta_1;
  opt.beta_2 = o.beta_2;
  opt.epsilon = o.epsilon;
  return opt;
}
} // namespace

Optimizer optimizers::SGD(SGDOptions o) {
  Optimizer opt = withCommon("sgd", o);
  opt.momentum = o.momentum;
  opt.nesterov = o.nesterov;
  return opt;
}
Optimizer optimizers::RMSprop(RMSpropOptions o) {
  Optimizer opt = withCommon("rmsprop", o);
  opt.rho = o.rho;
  opt.epsilon = o.epsilon;
  opt.centered = o.centered;
  return opt;
}
Optimizer optimizers::Adam(AdamOptions o) {
  Optimizer opt = withBetas("adam", o);
  opt.amsgrad = o.amsgrad;
  return opt;
}
Optimizer optimizers::AdamW(AdamWOptions o) {
  // Adam with decoupled weight decay (on by default).
  Optimizer opt = withBetas("adamw", o);
  opt.amsgrad = o.amsgrad;
  return opt;
}
Optimizer optimizers::Adagrad(AdagradOptions o) {
  Optimizer opt = withCommon("adagrad", o);
  opt.initial_accumulator_value = o.initial_accumulator_value;
  opt.epsilon = o.epsilon;
  return opt;
}
Optimizer optimizers::Adadelta(AdadeltaOptions o) {
  Optimizer opt = withCommon("adadelta", o);
  opt.rho = o.rho;
  opt.epsilon = o.epsilon;
  return opt;
}
Optimizer optimizers::Adamax(AdamaxOptions o) { return withBetas("adamax", o); }
Optimizer optimizers::Nadam(NadamOptions o) { return withBetas("nadam", o); }
Optimizer optimizers::Lion(LionOptions o) {
  Optimizer opt = withCommon("lion", o);
  opt.beta_1 = o.beta_1;
  opt.beta_2 = o.beta_2;
  return opt;
}
