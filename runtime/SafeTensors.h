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
// Saves write through a symbolic link as open() would (the link stays a
// link; the file it points to is replaced, keeping its permission bits) and
// refuse a target that is not a regular file (a directory, FIFO, device or
// socket) rather than replacing it. The temporary is named
// ".<target name>.tmp.<pid>.XXXXXX"; a save first removes those of its
// target left by processes that no longer exist (a killed save), never
// those of a live process.
//
// Every save stores the CRC-32 (IEEE) of each tensor's bytes in the
// metadata, under the key "layerc.crc32" (kChecksumKey): a JSON object,
// written as a string as safetensors requires, mapping each tensor name to
// 8 lowercase hex digits, e.g. {"dense/kernel":"cbf43926"}. A load checks
// every tensor against it and refuses a mismatch; files without the key
// (older layerc, other tools) load unchecked.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_SAFETENSORS_H
#define LAYERC_RUNTIME_SAFETENSORS_H

#include "runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace layerc {

/// The metadata key of the per-tensor checksums (see above). Reserved:
/// saveSafeTensors() writes it and loadSafeTensors() consumes it, so it never
/// appears in SafeTensorsFile::metadata.
inline constexpr const char *kChecksumKey = "layerc.crc32";

/// The CRC-32 of ISO-HDLC, zlib and PNG (reflected polynomial 0xEDB88320)
/// of `size` bytes at `data`; pass the previous result as `crc` to continue
/// a running checksum.
uint32_t crc32(const void *data, size_t size, uint32_t crc = 0);

struct SafeTensorsFile {
  /// Tensors in file order.
  std::vector<std::pair<std::string, Tensor>> tensors{};
  /// Free-form strings; never holds kChecksumKey.
  std::map<std::string, std::string> metadata{};

  /// The tensor called `name`, or nullptr.
  const Tensor *find(const std::string &name) const;
};

/// Writes `file` to `path` atomically, with checksums (see above). Throws
/// layerc::Error naming the path on any failure, including a `path` that is
/// (or links to) something other than a regular file; the previous file is
/// then untouched.
void saveSafeTensors(const std::string &path, const SafeTensorsFile &file);

/// Reads and validates a safetensors file and verifies its checksums, if it
/// has any. Throws layerc::Error naming the file (and the tensor) on
/// anything malformed or corrupted.
SafeTensorsFile loadSafeTensors(const std::string &path);

/// Writes `bytes` to `path` as saveSafeTensors() writes its files:
/// atomically, through symbolic links, refusing special files (used by
/// the .keras writer).
void writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace layerc

#endif // LAYERC_RUNTIME_SAFETENSORS_H
