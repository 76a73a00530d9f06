//===- Regularizers.cpp - Keras's weight regularizers and constraints -----===//

#include "frontend/Regularizers.h"
#include "runtime/Error.h"

#include <cmath>

using namespace layerc;

namespace {

/// Keras's check of a non-negative float argument.
double nonNegative(const std::string &owner, const char *arg, double v) {
  if (!(v >= 0.0 && std::isfinite(v)))
    throw Error(owner + ": Invalid value for argument " + arg +
                ": expected a non-negative float. Received: " + arg + "=" +
                std::to_string(v));
  return v;
}

double numberIn(const Json &config, const char *key, double fallback,
                const std::string &owner) {
  const Json *v = config.isObject() ? config.get(key) : nullptr;
  if (!v)
    return fallback;
  if (!v->isNumber())
    throw Error(owner + ": '" + key + "' must be a number");
  return v->asDouble();
}

/// {"class_name": ..., "config": {...}} or a bare name: the class name and
/// the config (an empty object for a name).
std::pair<std::string, Json> classAndConfig(const Json &c,
                                            const std::string &owner) {
  if (c.isString())
    return {c.asString(), Json::object()};
  const Json *cls = c.isObject() ? c.get("class_name") : nullptr;
  if (!cls || !cls->isString())
    throw Error(owner + ": expected a name or {\"class_name\", \"config\"}");
  const Json *config = c.get("config");
  return {cls->asString(),
          config && config->isObject() ? *config : Json::object()};
}

} // namespace

Regularizer::Regularizer(const char *kerasName) {
  std::string n = kerasName;
  if (n == "l1")
    *this = regularizers::L1();
  else if (n == "l2")
    *this = regularizers::L2();
  else if (n == "l1_l2")
    *this = regularizers::L1L2();
  else
    throw Error("Unknown regularizer '" + n +
                "' (expected l1, l2 or l1_l2, or regularizers::L1/L2/L1L2)");
}

Regularizer::Regularizer(std::string cls, double a, double b)
    : className(std::move(cls)), l1(nonNegative(className, "l1", a)),
      l2(nonNegative(className, "l2", b)) {}

Json Regularizer::toConfig() const {
  if (empty())
    return Json(nullptr);
  std::vector<std::pair<std::string, Json>> fields;
  if (className != "L2")
    fields.emplace_back("l1", Json(l1));
  if (className != "L1")
    fields.emplace_back("l2", Json(l2));
  return Json::object({{"module", Json("keras.regularizers")},
                       {"class_name", Json(className)},
                       {"config", Json::object(std::move(fields))}});
}

Regularizer Regularizer::fromConfig(const Json &c, const std::string &owner) {
  if (c.isNull())
    return {};
  auto [cls, config] = classAndConfig(c, owner);
  std::string where = owner + ": regularizer " + cls;
  if (cls == "L1" || cls == "l1")
    return regularizers::L1(numberIn(config, "l1", 0.01, where));
  if (cls == "L2" || cls == "l2")
    return regularizers::L2(numberIn(config, "l2", 0.01, where));
  if (cls == "L1L2" || cls == "l1_l2")
    return regularizers::L1L2(numberIn(config, "l1", 0.0, where),
                              numberIn(config, "l2", 0.0, where));
  throw Error(owner + ": unknown regularizer '" + cls +
              "' (expected L1, L2 or L1L2)");
}

Regularizer regularizers::L1(double l1) { return {"L1", l1, 0.0}; }
Regularizer regularizers::L2(double l2) { return {"L2", 0.0, l2}; }
Regularizer regularizers::L1L2(double l1, double l2) {
  return {"L1L2", l1, l2};
}

Constraint::Constraint(const char *kerasName) {
  std::string n = kerasName;
  if (n == "max_norm")
    *this = constraints::MaxNorm();
  else if (n == "min_max_norm")
    *this = constraints::MinMaxNorm();
  else if (n == "unit_norm")
    *this = constraints::UnitNorm();
  else if (n == "non_neg")
    *this = constraints::NonNeg();
  else
    throw Error("Unknown constraint '" + n +
                "' (expected max_norm, min_max_norm, unit_norm or non_neg)");
}

std::vector<int64_t> Constraint::axesFor(int64_t rank,
                                         const std::string &owner) const {
  if (className == "NonNeg")
    return {};
  std::vector<int64_t> out;
  for (int64_t a : axis) {
    int64_t d = a < 0 ? a + rank : a;
    if (d < 0 || d >= rank)
      throw Error(owner + ": the " + className + " constraint's axis " +
                  std::to_string(a) + " is out of range for a weight of rank " +
                  std::to_string(rank));
    for (int64_t seen : out)
      if (seen == d)
        throw Error(owner + ": the " + className + " constraint names axis " +
                    std::to_string(a) + " twice");
    out.push_back(d);
  }
  return out;
}

std::string Constraint::kind() const {
  if (className == "MaxNorm")
    return "max_norm";
  if (className == "MinMaxNorm")
    return "min_max_norm";
  if (className == "UnitNorm")
    return "unit_norm";
  return "non_neg";
}

Json Constraint::toConfig() const {
  if (empty())
    return Json(nullptr);
  std::vector<std::pair<std::string, Json>> fields;
  Json axes = axis.size() == 1
                  ? Json(axis[0])
                  : Json::array(std::vector<Json>(axis.begin(), axis.end()));
  if (className == "MaxNorm") {
    fields.emplace_back("max_value", Json(max_value));
    fields.emplace_back("axis", axes);
  } else if (className == "MinMaxNorm") {
    fields.emplace_back("min_value", Json(min_value));
    fields.emplace_back("max_value", Json(max_value));
    fields.emplace_back("rate", Json(rate));
    fields.emplace_back("axis", axes);
  } else if (className == "UnitNorm") {
    fields.emplace_back("axis", axes);
  }
  return Json::object({{"module", Json("keras.constraints")},
                       {"class_name", Json(className)},
                       {"config", Json::object(std::move(fields))}});
}

Constraint Constraint::fromConfig(const Json &c, const std::string &owner) {
  if (c.isNull())
    return {};
  auto [cls, config] = classAndConfig(c, owner);
  std::string where = owner + ": constraint " + cls;
  std::vector<int64_t> axis{0};
  if (const Json *a = config.get("axis")) {
    axis.clear();
    if (a->isInteger())
      axis.push_back(a->asInt());
    else if (a->isArray())
      for (const Json &d : a->items()) {
        if (!d.isInteger())
          throw Error(where + ": 'axis' must hold integers");
        axis.push_back(d.asInt());
      }
    else
      throw Error(where + ": 'axis' must be an integer or a list");
  }
  if (cls == "MaxNorm" || cls == "max_norm")
    return constraints::MaxNorm(
        {numberIn(config, "max_value", 2.0, where), axis});
  if (cls == "MinMaxNorm" || cls == "min_max_norm")
    return constraints::MinMaxNorm({numberIn(config, "min_value", 0.0, where),
                                    numberIn(config, "max_value", 1.0, where),
                                    numberIn(config, "rate", 1.0, where),
                                    axis});
  if (cls == "UnitNorm" || cls == "unit_norm")
    return constraints::UnitNorm({axis});
  if (cls == "NonNeg" || cls == "non_neg")
    return constraints::NonNeg();
  throw Error(owner + ": unknown constraint '" + cls +
              "' (expected MaxNorm, MinMaxNorm, UnitNorm or NonNeg)");
}

Constraint constraints::MaxNorm(MaxNormOptions o) {
  Constraint c;
  c.className = "MaxNorm";
  c.max_value = nonNegative("MaxNorm", "max_value", o.max_value);
  c.axis = std::move(o.axis);
  return c;
}

Constraint constraints::MinMaxNorm(MinMaxNormOptions o) {
  Constraint c;
  c.className = "MinMaxNorm";
  c.min_value = nonNegative("MinMaxNorm", "min_value", o.min_value);
  c.max_value = nonNegative("MinMaxNorm", "max_value", o.max_value);
  if (c.max_value < c.min_value)
    throw Error("MinMaxNorm: max_value (" + std::to_string(o.max_value) +
                ") must be at least min_value (" + std::to_string(o.min_value) +
                ")");
  if (!(o.rate >= 0.0 && o.rate <= 1.0))
    throw Error("MinMaxNorm: rate must be in [0, 1], got " +
                std::to_string(o.rate));
  c.rate = o.rate;
  c.axis = std::move(o.axis);
  return c;
}

Constraint constraints::UnitNorm(UnitNormOptions o) {
  Constraint c;
  c.className = "UnitNorm";
  c.axis = std::move(o.axis);
  return c;
}

Constraint constraints::NonNeg() {
  Constraint c;
  c.className = "NonNeg";
  c.axis.clear();
  return c;
}

Regularizer layerc::regularizerIn(const Json &config, const std::string &cls,
                                  const char *key) {
  const Json *v = config.isObject() ? config.get(key) : nullptr;
  return v ? Regularizer::fromConfig(*v, "config of " + cls + " layer, '" +
                                             key + "'")
           : Regularizer();
}

Constraint layerc::constraintIn(const Json &config, const std::string &cls,
                                const char *key) {
  const Json *v = config.isObject() ? config.get(key) : nullptr;
  return v ? Constraint::fromConfig(*v, "config of " + cls + " layer, '" + key +
                                            "'")
           : Constraint();
}
