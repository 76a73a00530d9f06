//===- SafeTensors.h - Checkpoint files in the safetensors layout -*- C++
//-*-===//
//
// The file format of layerc's checkpoints (and, later, whole saved models):
// safetensors, i.e. an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets} plus an optional
// "__metadata__" string map, then the raw little-endian data.
//
// Writes are atomic: a temporary file in the same directory is written,
// flushed to disk, renamed over the target, and the directory is synced, so
// a crash during a save leaves the previous file loadable. Reads trust
// nothing: the header length is bounded by the file, every offset and size
// is checked against the file and the dtype x shape, ranges may not
// overlap, strings must be UTF-8, and nothing is allocated from an
// unchecked size. Errors name the file and the tensor.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_SAFETENSORS_H
#define LAYERC_RUNTIME_SAFETENSORS_H

#include "runtime/Tensor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace layerc {

struct SafeTensorsFile {
  /// Tensors in file order.
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`, or nullptr.
  const Tensor *find(const std::string &name) const;
};

/// Writes `file` to `path` atomically (see above). Throws layerc::Error
/// naming the path on any failure; the previous file is then untouched.
void saveSafeTensors(const std::string &path, const SafeTensorsFile &file);

/// Reads and validates a safetensors file. Throws layerc::Error naming the
/// file (and the tensor) on anything malformed.
SafeTensorsFile loadSafeTensors(const std::string &path);

} // namespace layerc

#endif // LAYERC_RUNTIME_SAFETENSORS_H
