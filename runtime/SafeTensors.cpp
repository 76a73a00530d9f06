//===- SafeTensors.cpp - Checkpoint files in the safetensors layout
//--------===//
//
// The header goes through the runtime's own bounded JSON parser (Json.h);
// every field is then checked for the type and range the format allows.
// Saves resolve symbolic links and refuse non-regular targets before they
// write anything, and clean up the temporaries of earlier killed saves.
//
//===----------------------------------------------------------------------===//

#include "runtime/SafeTensors.h"
#include "runtime/Error.h"
#include "runtime/Json.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

using namespace layerc;

namespace {

/// Headers larger than this are refused before being read.
constexpr uint64_t kMaxHeaderBytes = 64ull << 20;
constexpr int kMaxDepth = 4;

const char *dtypeCode(DType dtype) {
  switch (dtype) {
  case DType::Float32:
    return "F32";
  case DType::Float64:
    return "F64";
  case DType::Int32:
    return "I32";
  case DType::Int64:
    return "I64";
  case DType::UInt8:
    return "U8";
  }
  return "?";
}

absl::StatusOr<DType> dtypeFromCode(const std::string &code) {
  for (DType d : {DType::Float32, DType::Float64, DType::Int32, DType::Int64,
                  DType::UInt8})
    if (code == dtypeCode(d))
      return d;
  return absl::InvalidArgumentError(absl::StrCat(
      "unsupported dtype '", code, "' (expected F32, F64, I32, I64 or U8)"));
}

//===----------------------------------------------------------------------===//
// Checksums
//===----------------------------------------------------------------------===//

/// 8 lowercase or uppercase hex digits, as saves write them ("%08x").
bool parseHex8(const std::string &text, uint32_t &out) {
  if (text.size() != 8)
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + 8, out, 16);
  return ec == std::errc() && end == text.data() + 8;
}

/// Checks every tensor of `file` against the checksums stored under
/// kChecksumKey (if any) and removes that key from the metadata.
void verifyChecksums(const std::string &path, SafeTensorsFile &file) {
  auto stored = file.metadata.find(kChecksumKey);
  if (stored == file.metadata.end())
    return;
  auto malformed = [&](absl::string_view what) -> Error {
    return Error(absl::StrCat(
        path, ": the '", kChecksumKey, "' metadata ", what,
        "; it must map every tensor to 8 hex digits (remove the key to load "
        "the file without checksums)"));
  };
  Json sums = Json::parse(stored->second,
                          absl::StrCat(path, ": metadata '", kChecksumKey, "'"),
                          /*maxDepth=*/2);
  if (!sums.isObject())
    throw malformed("is not a JSON object");
  // One hash lookup per tensor (checkpoints of large models hold thousands),
  // keyed by the member names of `sums`, which outlives the map.
  absl::flat_hash_map<absl::string_view, const Json *> byName;
  for (const auto &[name, value] : sums.members())
    byName[name] = &value;
  for (const auto &[name, tensor] : file.tensors) {
    auto value = byName.find(name);
    uint32_t expected = 0;
    if (value == byName.end())
      throw malformed(absl::StrCat("has no checksum for tensor '", name, "'"));
    if (!value->second->isString() ||
        !parseHex8(value->second->asString(), expected))
      throw malformed(
          absl::StrCat("holds a malformed checksum for tensor '", name, "'"));
    byName.erase(value);
    uint32_t actual = layerc::crc32(tensor.rawData(), tensor.nbytes());
    if (actual != expected)
      throw Error(absl::StrFormat(
          "%s: tensor '%s': checksum mismatch (stored crc32 %08x, data has "
          "%08x): the file is corrupted; restore it from a copy or save it "
          "again",
          path, name, expected, actual));
  }
  // The first extra name in the file's order (the map has none).
  for (const auto &[name, value] : sums.members())
    if (byName.contains(name))
      throw malformed(
          absl::StrCat("names tensor '", name, "', which the file lacks"));
  file.metadata.erase(stored);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

/// "a directory", "a FIFO", ...: what a non-regular file is, for messages.
const char *describeFileType(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "a special file";
}

/// Where a save to `path` writes, after following symbolic links.
struct SaveTarget {
  std::filesystem::path file;
  /// The existing file's permission bits, if it exists.
  std::optional<mode_t> mode;
};

/// Follows the symbolic links at `path` as open() would (relative links
/// resolve against the link's directory; a dangling link names the file to
/// create) and refuses anything that is not a regular file: replacing a
/// FIFO or a device with a regular file would break whoever uses it, and
/// replacing a link would silently detach it from the file it shares.
SaveTarget resolveSaveTarget(const std::string &path) {
  std::filesystem::path file(path);
  std::string via;
  // As many hops as Linux's open() follows before ELOOP.
  constexpr int kMaxLinks = 40;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (::lstat(file.c_str(), &st) != 0)
      return {file, std::nullopt}; // Created, or reported, by the save.
    if (S_ISREG(st.st_mode))
      return {file, st.st_mode & 07777};
    if (!S_ISLNK(st.st_mode))
      throw Error(path + via + " is " + describeFileType(st.st_mode) +
                  ", not a regular file: checkpoints and models are written "
                  "only to regular files (choose another path)");
    if (hops == kMaxLinks)
      throw Error(path + ": too many levels of symbolic links");
    std::error_code ec;
    std::filesystem::path link = std::filesystem::read_symlink(file, ec);
    if (ec)
      throw Error(path + ": cannot read the symbolic link '" + file.string() +
                  "': " + ec.message());
    file = link.is_absolute() ? link : file.parent_path() / link;
    via = " (a symbolic link to '" + file.string() + "')";
  }
}

/// The prefix of the temporaries of saves to `target`; a pid, a dot and
/// mkstemp's six characters follow.
std::string temporaryPrefix(const std::filesystem::path &target) {
  return "." + target.filename().string() + ".tmp.";
}

/// Removes the temporaries of `target` whose process no longer exists: a
/// save killed between creating and renaming its temporary leaves it behind,
/// and nobody else would ever clean it up. A live process's temporary (a
/// concurrent save) is left alone. Pids are only meaningful on this machine
/// and in this pid namespace; a directory shared with another host may see
/// that host's in-flight temporary removed, which fails that save cleanly.
void removeStaleTemporaries(const std::filesystem::path &dir,
                            const std::filesystem::path &target) {
  std::string prefix = temporaryPrefix(target);
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix))
      continue;
    const char *first = name.data() + prefix.size();
    const char *last = name.data() + name.size();
    long long pid = 0;
    auto [dot, status] = std::from_chars(first, last, pid);
    if (status != std::errc() || dot == first || pid <= 0 || pid > INT_MAX ||
        dot == last || *dot != '.' || last - dot != 7)
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue; // Alive (or alive and someone else's: EPERM).
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      ::unlink(it->path().c_str());
  }
}

/// Writes all of `data` to `fd`, retrying short writes; the error names
/// `what` and the system's reason.
absl::Status writeAll(int fd, const void *data, size_t size,
                      absl::string_view what) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return absl::ErrnoToStatus(n < 0 ? errno : EIO,
                                 absl::StrCat("cannot write ", what));
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

/// Writes the whole file to the temporary `fd` (the header length, the
/// header `text`, every tensor's bytes) and flushes it to disk.
absl::Status writeContents(int fd, const std::string &text,
                           const SafeTensorsFile &file) {
  unsigned char length[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(n >> (8 * i));
  absl::Status status = writeAll(fd, length, 8, "the header");
  if (status.ok())
    status = writeAll(fd, text.data(), text.size(), "the header");
  for (const auto &[name, t] : file.tensors)
    if (status.ok())
      status = writeAll(fd, t.rawData(), t.nbytes(),
                        absl::StrCat("tensor '", name, "'"));
  if (status.ok() && ::fsync(fd) != 0)
    status = absl::ErrnoToStatus(errno, "cannot flush the file to disk");
  return status;
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

/// The header entry `name`: `value`, checked; the caller's error names the
/// file and the tensor.
absl::StatusOr<Entry> readEntry(const std::string &name, const Json &value) {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(what);
  };
  if (!value.isObject())
    return bad("expected an object with dtype, shape and data_offsets");
  const Json *dtype = value.get("dtype");
  const Json *shape = value.get("shape");
  const Json *offsets = value.get("data_offsets");
  auto isOffset = [](const Json &j) { return j.isInteger() && j.asInt() >= 0; };
  if (!dtype || !dtype->isString())
    return bad("missing or non-string dtype");
  if (!shape || !shape->isArray())
    return bad("missing or non-array shape");
  if (!offsets || !offsets->isArray() || offsets->items().size() != 2 ||
      !isOffset(offsets->items()[0]) || !isOffset(offsets->items()[1]))
    return bad("data_offsets must be [begin, end]");
  if (value.members().size() != 3)
    return bad("unexpected key besides dtype, shape and data_offsets");
  absl::StatusOr<DType> dtypeOrError = dtypeFromCode(dtype->asString());
  if (!dtypeOrError.ok())
    return dtypeOrError.status();
  Entry e;
  e.name = name;
  e.dtype = *dtypeOrError;
  uint64_t bytes = dtypeSize(e.dtype);
  for (const Json &d : shape->items()) {
    if (!d.isInteger() || d.asInt() < 0)
      return bad("shape must hold non-negative integers");
    uint64_t dim = static_cast<uint64_t>(d.asInt());
    if (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / dim)
      return bad("shape is too large");
    bytes *= dim;
    e.shape.push_back(d.asInt());
  }
  e.begin = static_cast<uint64_t>(offsets->items()[0].asInt());
  e.end = static_cast<uint64_t>(offsets->items()[1].asInt());
  if (e.begin > e.end)
    return bad("data_offsets begin after they end");
  if (e.end - e.begin != bytes)
    return bad(absl::StrFormat(
        "data_offsets span %d bytes but dtype %s x shape %s needs %d",
        e.end - e.begin, dtype->asString(), formatShape(e.shape), bytes));
  return e;
}

} // namespace

uint32_t layerc::crc32(const void *data, size_t size, uint32_t crc) {
  // zlib's (the same polynomial and running-checksum convention), which the
  // runtime links anyway for gzip; it is sliced and faster than a table.
  return static_cast<uint32_t>(
      ::crc32_z(crc, static_cast<const Bytef *>(data), size));
}

const Tensor *SafeTensorsFile::find(const std::string &name) const {
  for (const auto &[n, t] : tensors)
    if (n == name)
      return &t;
  return nullptr;
}

namespace {
/// Writes a file through `write` (which must flush it to disk) into a
/// temporary beside `target`, then renames it over the target and syncs
/// the directory.
void replaceAtomically(const std::string &path, const SaveTarget &target,
                       const std::function<absl::Status(int)> &write) {
  std::filesystem::path dir = target.file.parent_path();
  if (dir.empty())
    dir = ".";
  removeStaleTemporaries(dir, target.file);
  std::string tmp = (dir / (temporaryPrefix(target.file) +
                            std::to_string(::getpid()) + ".XXXXXX"))
                        .string();
  int fd = ::mkstemp(tmp.data());
  if (fd >= 0) {
    // mkstemp creates 0600; give the file the mode open() would: that of
    // the file it replaces, or 0666 less the umask for a new one.
    mode_t mode = 0;
    if (target.mode) {
      mode = *target.mode;
    } else {
      mode_t mask = ::umask(0);
      ::umask(mask);
      mode = 0666 & ~mask;
    }
    ::fchmod(fd, mode);
  }
  if (fd < 0)
    throw Error(path + ": cannot create a temporary file in '" + dir.string() +
                "': " + std::strerror(errno));
  if (absl::Status written = write(fd); !written.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(absl::StrCat(path, ": ", written.message(),
                             " (the previous file, if any, is unchanged)"));
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot close the temporary file");
  }
  if (std::rename(tmp.c_str(), target.file.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot replace the file: " + std::strerror(saved));
  }
  // Make the rename itself durable.
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

} // namespace

void layerc::saveSafeTensors(const std::string &path,
                             const SafeTensorsFile &file) {
  // Before anything else: a FIFO or a device must not be replaced.
  SaveTarget target = resolveSaveTarget(path);

  Json header = Json::object();
  Json &meta = header.set("__metadata__", Json::object());
  for (const auto &[k, v] : file.metadata)
    meta.set(k, v);
  Json sums = Json::object();
  for (const auto &[name, t] : file.tensors)
    sums.set(name,
             absl::StrFormat("%08x", layerc::crc32(t.rawData(), t.nbytes())));
  meta.set(kChecksumKey, sums.dump());
  uint64_t offset = 0;
  for (const auto &[name, t] : file.tensors) {
    if (name.empty() || name == "__metadata__" || header.get(name))
      throw Error(path + ": invalid or duplicate tensor name '" + name + "'");
    std::vector<Json> shape(t.shape().begin(), t.shape().end());
    header.set(name,
               Json::object({{"dtype", dtypeCode(t.dtype())},
                             {"shape", Json::array(std::move(shape))},
                             {"data_offsets",
                              Json::array({Json(static_cast<int64_t>(offset)),
                                           Json(static_cast<int64_t>(
                                               offset + t.nbytes()))})}}));
    offset += t.nbytes();
  }
  std::string text = header.dump();
  // Pad so that the data starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  replaceAtomically(path, target,
                    [&](int fd) { return writeContents(fd, text, file); });
}

SafeTensorsFile layerc::loadSafeTensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open the file");
  std::error_code ec;
  uint64_t fileSize = std::filesystem::file_size(path, ec);
  if (ec)
    throw Error(path + ": cannot read the file size: " + ec.message());
  if (fileSize < 8)
    throw Error(absl::StrFormat(
        "%s: truncated: %d bytes, not even the 8-byte header length", path,
        fileSize));
  unsigned char length[8];
  in.read(reinterpret_cast<char *>(length), 8);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | length[i];
  if (headerSize > fileSize - 8)
    throw Error(absl::StrFormat("%s: header length %d exceeds the file (%d "
                                "bytes)",
                                path, headerSize, fileSize));
  if (headerSize > kMaxHeaderBytes)
    throw Error(absl::StrFormat("%s: header length %d exceeds the limit of %d",
                                path, headerSize, kMaxHeaderBytes));
  std::string text(headerSize, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(headerSize)))
    throw Error(path + ": cannot read the header");
  Json header = Json::parse(text, path, kMaxDepth);
  if (!header.isObject())
    throw Error(path + ": the safetensors header is not a JSON object");

  SafeTensorsFile result;
  std::vector<Entry> entries;
  for (const auto &[name, value] : header.members()) {
    if (name == "__metadata__") {
      if (!value.isObject())
        throw Error(path + ": __metadata__ must be an object of strings");
      for (const auto &[k, v] : value.members()) {
        if (!v.isString())
          throw Error(path + ": __metadata__ value of '" + k +
                      "' is not a string");
        result.metadata[k] = v.asString();
      }
      continue;
    }
    absl::StatusOr<Entry> entry = readEntry(name, value);
    if (!entry.ok())
      throw Error(absl::StrFormat("%s: tensor '%s': %s", path, name,
                                  entry.status().message()));
    entries.push_back(*std::move(entry));
  }

  // Ranges must tile the data section exactly: no overlap, no hole, none
  // outside the file.
  uint64_t dataSize = fileSize - 8 - headerSize;
  std::vector<const Entry *> byOffset;
  for (const Entry &e : entries)
    byOffset.push_back(&e);
  std::sort(
      byOffset.begin(), byOffset.end(), [](const Entry *a, const Entry *b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
      });
  uint64_t expected = 0;
  for (const Entry *e : byOffset) {
    if (e->end > dataSize)
      throw Error(absl::StrFormat(
          "%s: tensor '%s': data_offsets [%d, %d] lie outside the %d-byte "
          "data section",
          path, e->name, e->begin, e->end, dataSize));
    if (e->begin < expected)
      throw Error(path + ": tensor '" + e->name +
                  "' overlaps another tensor's data");
    if (e->begin > expected)
      throw Error(path + ": unused bytes before tensor '" + e->name + "'");
    expected = e->end;
  }
  if (expected != dataSize)
    throw Error(
        absl::StrFormat("%s: %d unused bytes at the end of the data section",
                        path, dataSize - expected));

  for (const Entry &e : entries) {
    Tensor t(e.shape, e.dtype);
    in.seekg(static_cast<std::streamoff>(8 + headerSize + e.begin));
    if (t.nbytes() > 0 && !in.read(static_cast<char *>(t.rawData()),
                                   static_cast<std::streamsize>(t.nbytes())))
      throw Error(path + ": tensor '" + e.name + "': cannot read its data");
    result.tensors.emplace_back(e.name, std::move(t));
  }
  verifyChecksums(path, result);
  return result;
}

void layerc::writeFileAtomically(const std::string &path,
                                 const std::string &bytes) {
  SaveTarget target = resolveSaveTarget(path);
  replaceAtomically(path, target, [&](int fd) {
    absl::Status status = writeAll(fd, bytes.data(), bytes.size(), "the file");
    if (status.ok() && ::fsync(fd) != 0)
      status = absl::ErrnoToStatus(errno, "cannot flush the file to disk");
    return status;
  });
}
