//===- Error.h - The error type of layerc's user-facing C++ API -*- C++ -*-===//
//
// The C++ API (runtime and frontend) reports misuse -- a wrong shape, a
// missing file, a malformed .npy -- by throwing layerc::Error with a message
// that names the layer or file and the expected and actual values, as Keras
// raises ValueError. Compiler internals use mlir::LogicalResult instead and
// never throw.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_ERROR_H
#define LAYERC_RUNTIME_ERROR_H

#include <stdexcept>
#include <string>

namespace layerc {

/// The one exception type of the layerc C++ API.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace layerc

#endif // LAYERC_RUNTIME_ERROR_H
