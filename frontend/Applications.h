//===- Applications.h - Reference architectures -----------------*- C++ -*-===//
//
// Keras's applications built from layerc's layers, with Keras's layer
// names and parameter counts. No pretrained weights can be downloaded
// here: `weights` is std::nullopt (random initialization, Keras's
// weights=None) or the path of a file written by Model::saveWeights.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_APPLICATIONS_H
#define LAYERC_FRONTEND_APPLICATIONS_H

#include "frontend/Model.h"

#include <optional>
#include <string>
#include <vector>

namespace layerc {
namespace applications {

struct VGG19Options {
  bool include_top = true;
  /// std::nullopt: random weights; otherwise a weights file to load.
  std::optional<std::string> weights{};
  /// Without the batch: (224, 224, 3) by default; with include_top the
  /// classifier needs exactly that.
  std::vector<int64_t> input_shape = {224, 224, 3};
  /// Without the top: "" (the last block's 4-D output), "avg" or "max".
  std::string pooling{};
  int64_t classes = 1000;
  std::string classifier_activation = "softmax";
};

/// VGG19 (Simonyan & Zisserman, 2014): 16 3x3 convolutions in five blocks
/// and three Dense layers; 143,667,240 parameters with the top.
Model VGG19(const VGG19Options &options = {});

} // namespace applications
} // namespace layerc

#endif // LAYERC_FRONTEND_APPLICATIONS_H
