//===- KerasFile.h - Keras 3 .keras files -----------------------*- C++ -*-===//
//
// Internal to the frontend: loadModel() and Model::save() dispatch here for
// Keras 3's .keras files, a zip of metadata.json, config.json (the model's
// config in Keras 3's serialization: module, class_name, config,
// registered_name, inbound nodes as {"args", "kwargs"} of
// "__keras_tensor__" objects) and model.weights.h5 (HDF5: the variables of
// the n-th layer of class C under "layers/<c>[_n]/vars/0..", c being C in
// snake case, Keras's order of creation).
//
// Reading converts config.json into the config Model::fromConfig() reads
// and the HDF5 weights into the safetensors-shaped checkpoint that
// Model::restore() checks and copies in; writing does the reverse, so that
// Keras 3's keras.saving.load_model() reads what Model::save() writes.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_KERASFILE_H
#define LAYERC_FRONTEND_KERASFILE_H

#include "frontend/Model.h"
#include "runtime/Json.h"
#include "runtime/SafeTensors.h"

#include <optional>
#include <string>

namespace layerc::keras {

/// Whether `path` names a .keras file: its extension, or, with `sniff`,
/// for an existing file of another name, the zip magic at its start
/// (loads sniff; saves go by the extension alone).
bool isKerasFile(const std::string &path, bool sniff = true);

/// What a .keras file holds, checked and converted.
struct Archive {
  /// The model config in the form Model::fromConfig() reads.
  Json modelConfig;
  /// Keras's compile_config converted, when there is one that layerc's
  /// compile options can express.
  std::optional<CompileOptions> compileOptions;
  /// model.weights.h5, whole.
  std::string weightsH5;
};

Archive readArchive(const std::string &path);

/// The weights of `model` (rebuilt from archive.modelConfig) read from the
/// archive's HDF5 file, named "<layer>/<weight>" as Model::restore() wants.
/// Every dataset's shape is checked against the weight before it is read.
SafeTensorsFile readWeights(const Archive &archive, const Model &model,
                            const std::string &path);

/// Writes `model` (compiled with `options`, or not) to `path` atomically.
void save(const std::string &path, const Model &model,
          const CompileOptions *options);

/// HDF5 both ways (KerasWeights.cpp). `paths` maps every layer name to its
/// group ("layers/dense_1").
std::string writeWeightsH5(const Model &model,
                           const std::map<std::string, std::string> &paths);
SafeTensorsFile readWeightsH5(const std::string &h5, const Model &model,
                              const std::map<std::string, std::string> &paths,
                              const std::string &path);

/// Keras's naming.to_snake_case(): "Conv2DTranspose" -> "conv2d_transpose".
std::string snakeCase(const std::string &className);

} // namespace layerc::keras

#endif // LAYERC_FRONTEND_KERASFILE_H
