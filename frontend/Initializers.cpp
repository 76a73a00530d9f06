//===- Initializers.cpp - Keras's weight initializers ---------------------===//
//
// Keras 3's formulas (keras/src/initializers): the variance-scaling family
// draws uniform(-sqrt(3 s / n), sqrt(3 s / n)) or a normal of stddev
// sqrt(s / n) / 0.87962566103423978 truncated at two standard deviations,
// with n = fan_in, fan_out or their mean:
//
//   glorot_*  s = 1, mean of the fans    he_*  s = 2, fan_in
//   lecun_*   s = 1, fan_in
//
//===----------------------------------------------------------------------===//

#include "frontend/Initializers.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace layerc;

namespace {

struct Kind {
  const char *name;      // snake_case, as Keras's string identifiers
  const char *className; // Keras's class
  double a, b;           // default arguments
  const char *keyA, *keyB;
};

// clang-format off
constexpr Kind kKinds[] = {
    {"glorot_uniform", "GlorotUniform", 0, 0, nullptr, nullptr},
    {"glorot_normal", "GlorotNormal", 0, 0, nullptr, nullptr},
    {"he_uniform", "HeUniform", 0, 0, nullptr, nullptr},
    {"he_normal", "HeNormal", 0, 0, nullptr, nullptr},
    {"lecun_uniform", "LecunUniform", 0, 0, nullptr, nullptr},
    {"lecun_normal", "LecunNormal", 0, 0, nullptr, nullptr},
    {"orthogonal", "Orthogonal", 1.0, 0, "gain", nullptr},
    {"random_normal", "RandomNormal", 0.0, 0.05, "mean", "stddev"},
    {"truncated_normal", "TruncatedNormal", 0.0, 0.05, "mean", "stddev"},
    {"random_uniform", "RandomUniform", -0.05, 0.05, "minval", "maxval"},
    {"constant", "Constant", 0.0, 0, "value", nullptr},
    {"zeros", "Zeros", 0, 0, nullptr, nullptr},
    {"ones", "Ones", 0, 0, nullptr, nullptr},
    {"unit_forget_bias", "UnitForgetBias", 0, 0, nullptr, nullptr},
};
// clang-format on

const Kind *kindNamed(const std::string &name) {
  // Keras's aliases.
  std::string n = name == "uniform"  ? "random_uniform"
                  : name == "normal" ? "random_normal"
                                     : name;
  for (const Kind &k : kKinds)
    if (n == k.name || n == k.className)
      return &k;
  return nullptr;
}

std::string knownNames() {
  std::string out;
  for (const Kind &k : kKinds)
    out += std::string(out.empty() ? "" : ", ") + k.name;
  return out;
}

const Kind &kindOf(const std::string &name, const std::string &owner) {
  if (const Kind *k = kindNamed(name))
    return *k;
  throw Error(owner + ": unknown initializer '" + name + "' (expected one of " +
              knownNames() + ")");
}

/// Keras's compute_fans.
std::pair<double, double> fans(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    receptive *= double(shape[i]);
  return {double(shape[shape.size() - 2]) * receptive,
          double(shape.back()) * receptive};
}

/// A normal sample redrawn until it is within two standard deviations.
double truncatedNormal(std::mt19937_64 &gen, double mean, double stddev) {
  std::normal_distribution<double> normal(0.0, 1.0);
  double z;
  do
    z = normal(gen);
  while (std::fabs(z) > 2.0);
  return mean + stddev * z;
}

/// Keras's Orthogonal: a random normal matrix made orthonormal (rows or
/// columns, whichever are fewer) by Gram-Schmidt, times `gain`.
void orthogonal(float *data, const std::vector<int64_t> &shape, int64_t numel,
                double gain, std::mt19937_64 &gen) {
  int64_t cols = shape.empty() ? 1 : shape.back();
  int64_t rows = cols > 0 ? numel / cols : 0;
  bool transposed = rows < cols;
  int64_t n = transposed ? rows : cols, len = transposed ? cols : rows;
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::vector<double>> vecs(n, std::vector<double>(len));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> &v = vecs[i];
    for (double &x : v)
      x = normal(gen);
    for (int64_t j = 0; j < i; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < len; ++k)
        dot += v[k] * vecs[j][k];
      for (int64_t k = 0; k < len; ++k)
        v[k] -= dot * vecs[j][k];
    }
    double norm = 0;
    for (double x : v)
      norm += x * x;
    norm = std::sqrt(norm);
    for (double &x : v)
      x /= norm > 0 ? norm : 1.0;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      data[r * cols + c] =
          static_cast<float>(gain * (transposed ? vecs[r][c] : vecs[c][r]));
}

} // namespace

Initializer::Initializer(const char *kerasName)
    : Initializer(std::string(kerasName)) {}

Initializer::Initializer(const std::string &kerasName) {
  const Kind &k = kindOf(kerasName, "initializer");
  name = k.name;
  a = k.a;
  b = k.b;
}

Initializer::Initializer(std::string kerasName, double a, double b,
                         std::optional<uint64_t> seed)
    : name(kindOf(kerasName, "initializer").name), a(a), b(b), seed(seed) {}

Tensor Initializer::fill(const std::vector<int64_t> &shape,
                         std::mt19937_64 &global,
                         const std::string &owner) const {
  const Kind &kind = kindOf(name, owner);
  Tensor value(shape, DType::Float32);
  float *data = value.data<float>();
  int64_t numel = value.numel();
  std::mt19937_64 own(seed.value_or(0));
  std::mt19937_64 &gen = seed ? own : global;
  std::string n = kind.name;
  auto each = [&](auto &&draw) {
    for (int64_t i = 0; i < numel; ++i)
      data[i] = static_cast<float>(draw());
  };

  if (n.rfind("glorot_", 0) == 0 || n.rfind("he_", 0) == 0 ||
      n.rfind("lecun_", 0) == 0) {
    auto [fanIn, fanOut] = fans(shape);
    double scale = n.rfind("he_", 0) == 0 ? 2.0 : 1.0;
    double count = n.rfind("glorot_", 0) == 0 ? (fanIn + fanOut) / 2 : fanIn;
    count = std::max(1.0, count);
    if (n.find("uniform") != std::string::npos) {
      double limit = std::sqrt(3.0 * scale / count);
      std::uniform_real_distribution<double> dist(-limit, limit);
      each([&] { return dist(gen); });
    } else {
      double stddev = std::sqrt(scale / count) / 0.87962566103423978;
      each([&] { return truncatedNormal(gen, 0.0, stddev); });
    }
  } else if (n == "random_normal") {
    std::normal_distribution<double> dist(a, b);
    each([&] { return dist(gen); });
  } else if (n == "truncated_normal") {
    each([&] { return truncatedNormal(gen, a, b); });
  } else if (n == "random_uniform") {
    std::uniform_real_distribution<double> dist(a, b);
    each([&] { return dist(gen); });
  } else if (n == "orthogonal") {
    orthogonal(data, shape, numel, a, gen);
  } else if (n == "constant") {
    std::fill_n(data, numel, static_cast<float>(a));
  } else if (n == "ones") {
    std::fill_n(data, numel, 1.0f);
  } else if (n == "unit_forget_bias") {
    // An LSTM bias (4 units): zeros with the forget gate's quarter at 1.
    std::fill_n(data, numel, 0.0f);
    std::fill_n(data + numel / 4, numel / 4, 1.0f);
  } else {
    std::fill_n(data, numel, 0.0f); // zeros
  }
  return value;
}

Json Initializer::toConfig() const {
  const Kind &kind = kindOf(name, "initializer");
  std::vector<std::pair<std::string, Json>> config;
  if (kind.keyA)
    config.emplace_back(kind.keyA, Json(a));
  if (kind.keyB)
    config.emplace_back(kind.keyB, Json(b));
  if (name != "constant" && name != "zeros" && name != "ones" &&
      name != "unit_forget_bias")
    config.emplace_back("seed",
                        seed ? Json(static_cast<int64_t>(*seed)) : Json());
  return Json::object({{"module", "keras.initializers"},
                       {"class_name", kind.className},
                       {"config", Json::object(std::move(config))},
                       {"registered_name", Json()}});
}

Initializer Initializer::fromConfig(const Json &config,
                                    const std::string &owner) {
  if (config.isString())
    return Initializer(kindOf(config.asString(), owner).name);
  const Json *cls = config.isObject() ? config.get("class_name") : nullptr;
  if (!cls || !cls->isString())
    throw Error(owner + ": an initializer must be a name or an object with "
                        "\"class_name\" and \"config\"");
  const Kind &kind = kindOf(cls->asString(), owner);
  Initializer init(kind.name);
  const Json *args = config.get("config");
  if (args && args->isObject()) {
    auto number = [&](const char *key, double &out) {
      const Json *v = key ? args->get(key) : nullptr;
      if (!v || v->isNull())
        return;
      if (!v->isNumber() || !std::isfinite(v->asDouble()))
        throw Error(owner + ": initializer " + kind.className + "'s '" + key +
                    "' must be a number");
      out = v->asDouble();
    };
    number(kind.keyA, init.a);
    number(kind.keyB, init.b);
    const Json *seed = args->get("seed");
    if (seed && !seed->isNull()) {
      if (!seed->isInteger() || seed->asInt() < 0)
        throw Error(owner + ": initializer " + kind.className +
                    "'s seed must be a non-negative integer");
      init.seed = static_cast<uint64_t>(seed->asInt());
    }
  }
  return init;
}

Initializer layerc::initializerIn(const Json &config, const std::string &cls,
                                  const char *key,
                                  const Initializer &fallback) {
  const Json *v = config.isObject() ? config.get(key) : nullptr;
  if (!v || v->isNull())
    return fallback;
  return Initializer::fromConfig(*v, "config of " + cls + " layer: field '" +
                                         key + "'");
}

namespace layerc::initializers {
Initializer GlorotUniform(SeedOptions o) {
  return {"glorot_uniform", 0, 0, o.seed};
}
Initializer GlorotNormal(SeedOptions o) {
  return {"glorot_normal", 0, 0, o.seed};
}
Initializer HeUniform(SeedOptions o) { return {"he_uniform", 0, 0, o.seed}; }
Initializer HeNormal(SeedOptions o) { return {"he_normal", 0, 0, o.seed}; }
Initializer LecunUniform(SeedOptions o) {
  return {"lecun_uniform", 0, 0, o.seed};
}
Initializer LecunNormal(SeedOptions o) {
  return {"lecun_normal", 0, 0, o.seed};
}
Initializer Orthogonal(OrthogonalOptions o) {
  return {"orthogonal", o.gain, 0, o.seed};
}
Initializer RandomNormal(NormalOptions o) {
  return {"random_normal", o.mean, o.stddev, o.seed};
}
Initializer TruncatedNormal(NormalOptions o) {
  return {"truncated_normal", o.mean, o.stddev, o.seed};
}
Initializer RandomUniform(UniformOptions o) {
  return {"random_uniform", o.minval, o.maxval, o.seed};
}
Initializer Constant(double value) {
  return {"constant", value, 0, std::nullopt};
}
Initializer Zeros() { return {"zeros", 0, 0, std::nullopt}; }
Initializer Ones() { return {"ones", 0, 0, std::nullopt}; }
} // namespace layerc::initializers
