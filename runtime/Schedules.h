//===- Schedules.h - Keras's learning-rate schedules -------------*- C++
//-*-===//
//
// A learning rate is a constant or one of Keras's schedules of the
// optimizer's 0-based iteration count. fit() evaluates it on the host before
// every step and passes the value to train_step (layer-autodiff's
// learning-rate-input), so callbacks can change a constant rate between
// epochs (LearningRateScheduler, ReduceLROnPlateau) as Keras's can.
//
// The formulas are Keras 3's (keras/optimizers/schedules), checked against
// Keras's own fit() in test/reference/keras_optimizers.safetensors.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_SCHEDULES_H
#define LAYERC_RUNTIME_SCHEDULES_H

#include "runtime/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace layerc {

namespace schedules {
/// initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent
/// floored with staircase.
struct ExponentialDecay {
  double initial_learning_rate = 0.01;
  double decay_steps = 1000;
  double decay_rate = 0.96;
  bool staircase = false;
};
/// values[0] up to and including boundaries[0], values[i] in
/// (boundaries[i-1], boundaries[i]], the last value after the last
/// boundary. One value more than boundaries.
struct PiecewiseConstantDecay {
  std::vector<double> boundaries{};
  std::vector<double> values{};
};
/// initial_learning_rate / (1 + decay_rate * step / decay_steps), the
/// quotient floored with staircase.
struct InverseTimeDecay {
  double initial_learning_rate = 0.01;
  double decay_steps = 1000;
  double decay_rate = 0.5;
  bool staircase = false;
};
/// From initial_learning_rate to end_learning_rate over decay_steps along
/// (1 - step / decay_steps) ^ power, then constant; with cycle, decay_steps
/// grows to the first multiple of itself past the step.
struct PolynomialDecay {
  double initial_learning_rate = 0.01;
  double decay_steps = 1000;
  double end_learning_rate = 0.0001;
  double power = 1.0;
  bool cycle = false;
};
/// With warmup_target, a linear warmup from initial_learning_rate to it over
/// warmup_steps; then a cosine from the rate reached down to alpha times
/// it over decay_steps, then constant.
struct CosineDecay {
  double initial_learning_rate = 0.01;
  double decay_steps = 1000;
  double alpha = 0.0;
  std::optional<double> warmup_target{};
  double warmup_steps = 0;
};
} // namespace schedules

/// A learning rate: a constant or a schedule (Keras accepts either).
class LearningRate {
public:
  using Schedule =
      std::variant<double, schedules::ExponentialDecay,
                   schedules::PiecewiseConstantDecay,
                   schedules::InverseTimeDecay, schedules::PolynomialDecay,
                   schedules::CosineDecay>;

  LearningRate(double value = 0.001) : schedule_(value) {}
  LearningRate(schedules::ExponentialDecay s) : schedule_(s) {}
  LearningRate(schedules::PiecewiseConstantDecay s) : schedule_(s) {}
  LearningRate(schedules::InverseTimeDecay s) : schedule_(s) {}
  LearningRate(schedules::PolynomialDecay s) : schedule_(s) {}
  LearningRate(schedules::CosineDecay s) : schedule_(s) {}

  /// The rate of the step after `iterations` steps (Keras's schedules take
  /// the 0-based iteration count).
  double at(int64_t iterations) const;
  /// The constant, or the schedule's rate at step 0.
  double initial() const { return at(0); }
  /// Whether this is a constant (which callbacks may change).
  bool isConstant() const { return std::holds_alternative<double>(schedule_); }
  /// Keras's class name: "constant", "ExponentialDecay", ...
  std::string kind() const;
  /// Throws layerc::Error, naming the schedule and the value, on what
  /// Keras's constructors refuse (a negative or non-finite rate,
  /// decay_steps <= 0, boundaries out of order, ...).
  void check() const;
  const Schedule &schedule() const { return schedule_; }

  /// Keras's serialized form: a number for a constant, else
  /// {"class_name": "CosineDecay", "config": {...}} with Keras's keys.
  Json toConfig() const;
  /// The inverse of toConfig(), also of what Keras writes (unknown keys,
  /// such as "name", are ignored). Throws layerc::Error naming `where` and
  /// the key on anything else, and checks the values (check()).
  static LearningRate fromConfig(const Json &config, const std::string &where);

private:
  Schedule schedule_;
};

} // namespace layerc

#endif // LAYERC_RUNTIME_SCHEDULES_H
