//===- Onnx.h - ONNX import: the public entry points -----------*- C++ -*-===//
//
// Model::fromOnnx (Model.h) turns an ONNX file into a Model; this header
// adds what tools and tests need beside it. docs/Import.md lists the
// operators and how layouts are handled.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_IMPORT_ONNX_H
#define LAYERC_FRONTEND_IMPORT_ONNX_H

#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace layerc {

class Model;

/// The opsets of ONNX's default domain that the importer reads.
constexpr int64_t kMinOnnxOpset = 6;
constexpr int64_t kMaxOnnxOpset = 18;

/// Model::fromOnnx with graph inputs bound to constants: each input named
/// in `constants` is no input of the model but that value, as if it were
/// an initializer (weights, shapes or scales given as inputs, as ONNX's
/// node tests give them).
Model importOnnx(const std::string &path,
                 const std::map<std::string, Tensor> &constants);

/// An ONNX TensorProto file, as ONNX's backend test data stores inputs and
/// outputs (float32; int32 and int64 read as int64).
Tensor readOnnxTensor(const std::string &path);

/// The operator types of an ONNX file's nodes, in order (the model is read
/// and checked as for import, not mapped).
std::vector<std::string> onnxOperatorTypes(const std::string &path);

/// The names of an ONNX file's graph inputs that are not initializers.
std::vector<std::string> onnxInputNames(const std::string &path);

/// The operator types the importer maps, sorted.
std::vector<std::string> supportedOnnxOperators();

} // namespace layerc

#endif // LAYERC_FRONTEND_IMPORT_ONNX_H
