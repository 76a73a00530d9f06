//===- Zip.h - Reading and writing zip archives -----------------*- C++ -*-===//
//
// The container of Keras 3's .keras files: a zip archive of a few entries
// (metadata.json, config.json, model.weights.h5). Reading trusts nothing:
// the end-of-central-directory record is searched for in the last 64 KiB,
// every header is bounds-checked against the file, sizes are checked
// against the bytes the file holds (a stored entry's size is its
// compressed size; a deflated one may claim at most deflate's largest
// ratio) before anything is allocated, and every entry's CRC-32 is
// verified. Entries may not share bytes (several directory entries naming
// one deflate stream), a local header must name its directory entry, and
// what is read may inflate to 4 GiB in all; only the entries asked for are
// inflated. Entries are stored or deflated (zlib); ZIP64, encryption and
// multi-disk archives are refused. Writing stores entries uncompressed.
// Errors name the file and the entry.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_ZIP_H
#define LAYERC_RUNTIME_ZIP_H

#include <string>
#include <utility>
#include <vector>

namespace layerc {

struct ZipEntry {
  std::string name;
  std::string data;
};

/// The entries of the archive held in `bytes` (read from `path`, which
/// errors name), in central-directory order: those named in `only`, or
/// every one when `only` is empty. Every entry's headers are checked;
/// only those returned are inflated and CRC-checked. Throws layerc::Error
/// on anything malformed.
std::vector<ZipEntry> readZip(const std::string &bytes, const std::string &path,
                              const std::vector<std::string> &only = {});

/// Reads the file at `path` whole and parses it with readZip().
std::vector<ZipEntry> readZipFile(const std::string &path,
                                  const std::vector<std::string> &only = {});

/// An archive of `entries` (stored, with CRC-32s), as bytes. Throws
/// layerc::Error if an entry is too large for a zip without ZIP64.
std::string writeZip(const std::vector<ZipEntry> &entries);

/// Whether `bytes` start as a zip archive does ("PK\3\4").
bool looksLikeZip(const std::string &bytes);

} // namespace layerc

#endif // LAYERC_RUNTIME_ZIP_H
