//===- Schedules.cpp - Keras's learning-rate schedules
//---------------------===//

#include "runtime/Schedules.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cmath>

using namespace layerc;
using namespace layerc::schedules;

namespace {

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr double kPi = 3.14159265358979323846;

/// Keras's cosine from `from` down to alpha * from over `steps`.
double cosineFrom(double from, double step, double steps, double alpha) {
  double cosine = 0.5 * (1.0 + std::cos(kPi * step / steps));
  return from * ((1.0 - alpha) * cosine + alpha);
}

[[noreturn]] void refuse(const std::string &schedule, const std::string &what,
                         double value) {
  throw Error(schedule + ": " + what + ", got " + std::to_string(value));
}

void requireRate(const std::string &schedule, const char *name, double v) {
  if (!(v >= 0 && std::isfinite(v)))
    refuse(schedule, std::string(name) + " must be finite and >= 0", v);
}

void requireSteps(const std::string &schedule, double steps) {
  if (!(steps > 0 && std::isfinite(steps)))
    refuse(schedule, "decay_steps must be > 0", steps);
}

} // namespace

double LearningRate::at(int64_t iterations) const {
  double step = double(iterations);
  return std::visit(
      Overloaded{[](double value) { return value; },
                 [&](const ExponentialDecay &s) {
                   double p = step / s.decay_steps;
                   if (s.staircase)
                     p = std::floor(p);
                   return s.initial_learning_rate * std::pow(s.decay_rate, p);
                 },
                 [&](const PiecewiseConstantDecay &s) {
                   if (s.values.size() != s.boundaries.size() + 1)
                     check(); // throws
                   // The first boundary at or past the step picks its value.
                   auto it = std::lower_bound(s.boundaries.begin(),
                                              s.boundaries.end(), step);
                   return s.values[size_t(it - s.boundaries.begin())];
                 },
                 [&](const InverseTimeDecay &s) {
                   double p = step / s.decay_steps;
                   if (s.staircase)
                     p = std::floor(p);
                   return s.initial_learning_rate / (1.0 + s.decay_rate * p);
                 },
                 [&](const PolynomialDecay &s) {
                   double steps = s.decay_steps, t = step;
                   if (s.cycle)
                     steps *= t == 0 ? 1.0 : std::ceil(t / s.decay_steps);
                   else
                     t = std::min(t, steps);
                   return (s.initial_learning_rate - s.end_learning_rate) *
                              std::pow(1.0 - t / steps, s.power) +
                          s.end_learning_rate;
                 },
                 [&](const CosineDecay &s) {
                   if (!s.warmup_target)
                     return cosineFrom(s.initial_learning_rate,
                                       std::min(step, s.decay_steps),
                                       s.decay_steps, s.alpha);
                   double t = std::min(step, s.decay_steps + s.warmup_steps);
                   if (t < s.warmup_steps)
                     return (*s.warmup_target - s.initial_learning_rate) * t /
                                s.warmup_steps +
                            s.initial_learning_rate;
                   return cosineFrom(*s.warmup_target, t - s.warmup_steps,
                                     s.decay_steps, s.alpha);
                 }},
      schedule_);
}

std::string LearningRate::kind() const {
  static const char *const names[] = {
      "constant",         "ExponentialDecay", "PiecewiseConstantDecay",
      "InverseTimeDecay", "PolynomialDecay",  "CosineDecay"};
  return names[schedule_.index()];
}

void LearningRate::check() const {
  const std::string name = kind();
  std::visit(
      Overloaded{
          [&](double value) { requireRate(name, "the learning rate", value); },
          [&](const ExponentialDecay &s) {
            requireRate(name, "initial_learning_rate", s.initial_learning_rate);
            requireSteps(name, s.decay_steps);
            if (!(s.decay_rate > 0 && std::isfinite(s.decay_rate)))
              refuse(name, "decay_rate must be finite and > 0", s.decay_rate);
          },
          [&](const PiecewiseConstantDecay &s) {
            if (s.values.size() != s.boundaries.size() + 1)
              throw Error(name +
                          ": needs one value more than boundaries, "
                          "got " +
                          std::to_string(s.values.size()) + " values and " +
                          std::to_string(s.boundaries.size()) + " boundaries");
            for (double v : s.values)
              requireRate(name, "every value", v);
            for (size_t i = 0; i < s.boundaries.size(); ++i)
              if (!std::isfinite(s.boundaries[i]) ||
                  (i > 0 && !(s.boundaries[i] > s.boundaries[i - 1])))
                refuse(name, "boundaries must be finite and increasing",
                       s.boundaries[i]);
          },
          [&](const InverseTimeDecay &s) {
            requireRate(name, "initial_learning_rate", s.initial_learning_rate);
            requireSteps(name, s.decay_steps);
            requireRate(name, "decay_rate", s.decay_rate);
          },
          [&](const PolynomialDecay &s) {
            requireRate(name, "initial_learning_rate", s.initial_learning_rate);
            requireRate(name, "end_learning_rate", s.end_learning_rate);
            requireSteps(name, s.decay_steps);
            if (!(s.power > 0 && std::isfinite(s.power)))
              refuse(name, "power must be finite and > 0", s.power);
          },
          [&](const CosineDecay &s) {
            requireRate(name, "initial_learning_rate", s.initial_learning_rate);
            requireSteps(name, s.decay_steps);
            if (!(s.alpha >= 0 && s.alpha <= 1))
              refuse(name, "alpha must be in [0, 1]", s.alpha);
            if (s.warmup_target)
              requireRate(name, "warmup_target", *s.warmup_target);
            if (!(s.warmup_steps >= 0 && std::isfinite(s.warmup_steps)))
              refuse(name, "warmup_steps must be finite and >= 0",
                     s.warmup_steps);
          }},
      schedule_);
}

Json LearningRate::toConfig() const {
  auto schedule = [&](std::vector<std::pair<std::string, Json>> config) {
    return Json::object(
        {{"class_name", kind()}, {"config", Json::object(std::move(config))}});
  };
  auto numbers = [](const std::vector<double> &values) {
    std::vector<Json> items(values.begin(), values.end());
    return Json::array(std::move(items));
  };
  return std::visit(
      Overloaded{
          [](double value) { return Json(value); },
          [&](const ExponentialDecay &s) {
            return schedule({{"initial_learning_rate", s.initial_learning_rate},
                             {"decay_steps", s.decay_steps},
                             {"decay_rate", s.decay_rate},
                             {"staircase", s.staircase}});
          },
          [&](const PiecewiseConstantDecay &s) {
            return schedule({{"boundaries", numbers(s.boundaries)},
                             {"values", numbers(s.values)}});
          },
          [&](const InverseTimeDecay &s) {
            return schedule({{"initial_learning_rate", s.initial_learning_rate},
                             {"decay_steps", s.decay_steps},
                             {"decay_rate", s.decay_rate},
                             {"staircase", s.staircase}});
          },
          [&](const PolynomialDecay &s) {
            return schedule({{"initial_learning_rate", s.initial_learning_rate},
                             {"decay_steps", s.decay_steps},
                             {"end_learning_rate", s.end_learning_rate},
                             {"power", s.power},
                             {"cycle", s.cycle}});
          },
          [&](const CosineDecay &s) {
            return schedule(
                {{"initial_learning_rate", s.initial_learning_rate},
                 {"decay_steps", s.decay_steps},
                 {"alpha", s.alpha},
                 {"warmup_target",
                  s.warmup_target ? Json(*s.warmup_target) : Json(nullptr)},
                 {"warmup_steps", s.warmup_steps}});
          }},
      schedule_);
}

LearningRate LearningRate::fromConfig(const Json &json,
                                      const std::string &where) {
  if (json.isNumber()) {
    LearningRate lr(json.asDouble());
    lr.check();
    return lr;
  }
  const Json *cls = json.isObject() ? json.get("class_name") : nullptr;
  const Json *config = json.isObject() ? json.get("config") : nullptr;
  if (!cls || !cls->isString() || !config || !config->isObject())
    throw Error(where + ": a learning rate is a number or {\"class_name\": "
                        "..., \"config\": {...}}");
  const std::string name = cls->asString();
  auto fail = [&](const std::string &key, const char *what) -> void {
    throw Error(where + ": " + name + "'s " + key + " must be " + what);
  };
  // Each reader leaves `out` as it is when the key is absent (Keras's
  // default, which the struct holds).
  auto number = [&](const char *key, double &out) {
    if (const Json *v = config->get(key)) {
      if (!v->isNumber())
        fail(key, "a number");
      out = v->asDouble();
    }
  };
  auto flag = [&](const char *key, bool &out) {
    if (const Json *v = config->get(key)) {
      if (!v->isBool())
        fail(key, "true or false");
      out = v->asBool();
    }
  };
  auto list = [&](const char *key, std::vector<double> &out) {
    const Json *v = config->get(key);
    if (!v || !v->isArray())
      fail(key, "a list of numbers");
    for (const Json &item : v->items()) {
      if (!item.isNumber())
        fail(key, "a list of numbers");
      out.push_back(item.asDouble());
    }
  };
  LearningRate lr;
  if (name == "ExponentialDecay" || name == "InverseTimeDecay") {
    auto read = [&](auto s) {
      number("initial_learning_rate", s.initial_learning_rate);
      number("decay_steps", s.decay_steps);
      number("decay_rate", s.decay_rate);
      flag("staircase", s.staircase);
      return LearningRate(s);
    };
    lr = name == "ExponentialDecay" ? read(ExponentialDecay{})
                                    : read(InverseTimeDecay{});
  } else if (name == "PiecewiseConstantDecay") {
    PiecewiseConstantDecay s;
    list("boundaries", s.boundaries);
    list("values", s.values);
    lr = s;
  } else if (name == "PolynomialDecay") {
    PolynomialDecay s;
    number("initial_learning_rate", s.initial_learning_rate);
    number("decay_steps", s.decay_steps);
    number("end_learning_rate", s.end_learning_rate);
    number("power", s.power);
    flag("cycle", s.cycle);
    lr = s;
  } else if (name == "CosineDecay") {
    CosineDecay s;
    number("initial_learning_rate", s.initial_learning_rate);
    number("decay_steps", s.decay_steps);
    number("alpha", s.alpha);
    number("warmup_steps", s.warmup_steps);
    if (const Json *t = config->get("warmup_target"); t && !t->isNull()) {
      if (!t->isNumber())
        fail("warmup_target", "a number or null");
      s.warmup_target = t->asDouble();
    }
    lr = s;
  } else {
    throw Error(where + ": unknown learning-rate schedule '" + name +
                "' (expected ExponentialDecay, PiecewiseConstantDecay, "
                "InverseTimeDecay, PolynomialDecay or CosineDecay)");
  }
  lr.check();
  return lr;
}
