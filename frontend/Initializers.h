//===- Initializers.h - Keras's weight initializers --------------*- C++
//-*-===//
//
// keras.initializers, by name or as objects with arguments and seeds:
//
//   layers::Dense(64, {.kernel_initializer = "he_normal"});
//   layers::Dense(64, {.kernel_initializer = initializers::RandomNormal(
//                          {.stddev = 0.1, .seed = 7})});
//
// An initializer with a seed gives the same values every time it fills a
// weight of one shape (as in Keras 3); without one it draws from the
// generator that setRandomSeed() seeds. Fans are Keras's: for a kernel of
// shape (k..., in, out), fan_in = in * prod(k), fan_out = out * prod(k).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_INITIALIZERS_H
#define LAYERC_FRONTEND_INITIALIZERS_H

#include "runtime/Json.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace layerc {

/// One initializer: Keras's snake_case name and its arguments.
struct Initializer {
  /// "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
  /// "lecun_uniform", "lecun_normal", "orthogonal", "constant", "zeros",
  /// "ones", "random_normal", "random_uniform", "truncated_normal", and
  /// layerc's own "unit_forget_bias" (an LSTM bias).
  std::string name = "glorot_uniform";
  /// mean / minval, stddev / maxval, constant's value, orthogonal's gain.
  double a = 0.0, b = 0.0;
  std::optional<uint64_t> seed{};

  Initializer() = default;
  /// By name, with Keras's default arguments: "he_normal", "zeros", ...
  Initializer(const char *kerasName);
  Initializer(const std::string &kerasName);
  Initializer(std::string kerasName, double a, double b,
              std::optional<uint64_t> seed);

  /// A tensor of `shape` filled by this initializer; draws from `global`
  /// unless the initializer has its own seed. Throws layerc::Error naming
  /// `owner` for an unknown name.
  Tensor fill(const std::vector<int64_t> &shape, std::mt19937_64 &global,
              const std::string &owner) const;
  /// Keras's serialized form: {"class_name": "GlorotUniform", "config":
  /// {"seed": null}}.
  Json toConfig() const;
  /// From that form, or from a bare name ("glorot_uniform" or
  /// "GlorotUniform"). Throws layerc::Error naming `owner` otherwise.
  static Initializer fromConfig(const Json &config, const std::string &owner);
};

/// The initializer in `config[key]` (a layer's config), `fallback` when the
/// key is absent or null; an error names the layer class otherwise.
Initializer initializerIn(const Json &config, const std::string &cls,
                          const char *key, const Initializer &fallback);

namespace initializers {
struct SeedOptions {
  std::optional<uint64_t> seed{};
};
struct NormalOptions {
  double mean = 0.0;
  double stddev = 0.05;
  std::optional<uint64_t> seed{};
};
struct UniformOptions {
  double minval = -0.05;
  double maxval = 0.05;
  std::optional<uint64_t> seed{};
};
struct OrthogonalOptions {
  double gain = 1.0;
  std::optional<uint64_t> seed{};
};
Initializer GlorotUniform(SeedOptions options = {});
Initializer GlorotNormal(SeedOptions options = {});
Initializer HeUniform(SeedOptions options = {});
Initializer HeNormal(SeedOptions options = {});
Initializer LecunUniform(SeedOptions options = {});
Initializer LecunNormal(SeedOptions options = {});
Initializer Orthogonal(OrthogonalOptions options = {});
Initializer RandomNormal(NormalOptions options = {});
Initializer TruncatedNormal(NormalOptions options = {});
Initializer RandomUniform(UniformOptions options = {});
Initializer Constant(double value = 0.0);
Initializer Zeros();
Initializer Ones();
} // namespace initializers

} // namespace layerc

#endif // LAYERC_FRONTEND_INITIALIZERS_H
