//===- Regularizers.h - Keras's weight regularizers and constraints -*- C++
//-*-===//
//
// keras.regularizers and keras.constraints for kernels and biases:
//
//   layers::Dense(64, {.kernel_regularizer = regularizers::L2(1e-4),
//                      .kernel_constraint = constraints::MaxNorm()});
//
// A regularizer's penalty, l1 * sum|w| + l2 * sum w^2, is added to the
// loss that fit() minimizes and reports and that evaluate() reports, as
// Keras adds model.losses. A constraint is applied to the weight after
// every optimizer step. Both are compiled into train_step (layer-autodiff,
// from the `layer.regularizer` / `layer.constraint` attributes MLIRGen
// puts on the weight's argument).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_REGULARIZERS_H
#define LAYERC_FRONTEND_REGULARIZERS_H

#include "runtime/Json.h"

#include <cstdint>
#include <string>
#include <vector>

namespace layerc {

/// An L1/L2 penalty; default-constructed: none.
struct Regularizer {
  /// "L1", "L2" or "L1L2" (Keras's class); empty: none.
  std::string className{};
  double l1 = 0.0, l2 = 0.0;

  Regularizer() = default;
  /// By Keras's name with its defaults: "l1" (0.01), "l2" (0.01), "l1_l2"
  /// (0, 0).
  Regularizer(const char *kerasName);
  Regularizer(std::string className, double l1, double l2);
  bool empty() const { return className.empty(); }
  /// Keras's serialized form, null when none.
  Json toConfig() const;
  /// From that form, a bare name, or null; an error names `owner`.
  static Regularizer fromConfig(const Json &config, const std::string &owner);
};

/// A constraint on a weight; default-constructed: none.
struct Constraint {
  /// "MaxNorm", "MinMaxNorm", "UnitNorm" or "NonNeg"; empty: none.
  std::string className{};
  double min_value = 0.0, max_value = 2.0, rate = 1.0;
  /// The axes the norm is taken over (negative from the end), Keras's
  /// `axis` (0: each output unit's incoming weights of a Dense kernel).
  std::vector<int64_t> axis{0};

  Constraint() = default;
  /// By Keras's name with its defaults: "max_norm", "min_max_norm",
  /// "unit_norm", "non_neg".
  Constraint(const char *kerasName);
  bool empty() const { return className.empty(); }
  /// `axis` for a weight of rank `rank` (each in [0, rank)); an error
  /// names `owner` otherwise.
  std::vector<int64_t> axesFor(int64_t rank, const std::string &owner) const;
  /// The layer-dialect name of the kind: "max_norm", ...
  std::string kind() const;
  Json toConfig() const;
  static Constraint fromConfig(const Json &config, const std::string &owner);
};

/// The regularizer / constraint in `config[key]`, none when absent or null.
Regularizer regularizerIn(const Json &config, const std::string &cls,
                          const char *key);
Constraint constraintIn(const Json &config, const std::string &cls,
                        const char *key);

namespace regularizers {
Regularizer L1(double l1 = 0.01);
Regularizer L2(double l2 = 0.01);
Regularizer L1L2(double l1 = 0.0, double l2 = 0.0);
} // namespace regularizers

namespace constraints {
struct MaxNormOptions {
  double max_value = 2.0;
  std::vector<int64_t> axis{0};
};
struct MinMaxNormOptions {
  double min_value = 0.0;
  double max_value = 1.0;
  double rate = 1.0;
  std::vector<int64_t> axis{0};
};
struct UnitNormOptions {
  std::vector<int64_t> axis{0};
};
Constraint MaxNorm(MaxNormOptions options = {});
Constraint MinMaxNorm(MinMaxNormOptions options = {});
Constraint UnitNorm(UnitNormOptions options = {});
Constraint NonNeg();
} // namespace constraints

} // namespace layerc

#endif // LAYERC_FRONTEND_REGULARIZERS_H
