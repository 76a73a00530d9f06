//===- SafeTensors.cpp - Checkpoint files in the safetensors layout
//--------===//
//
// The header goes through the runtime's own bounded JSON parser (Json.h);
// every field is then checked for the type and range the format allows.
//
//===----------------------------------------------------------------------===//

#include "runtime/SafeTensors.h"
#include "runtime/Error.h"
#include "runtime/Json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

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

bool dtypeFromCode(const std::string &code, DType &out) {
  for (DType d : {DType::Float32, DType::Float64, DType::Int32, DType::Int64,
                  DType::UInt8})
    if (code == dtypeCode(d)) {
      out = d;
      return true;
    }
  return false;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

/// Writes all of `data` to `fd`, retrying short writes.
bool writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

Entry readEntry(const std::string &path, const std::string &name,
                const Json &value) {
  auto bad = [&](const std::string &what) -> Error {
    return Error(path + ": tensor '" + name + "': " + what);
  };
  if (!value.isObject())
    throw bad("expected an object with dtype, shape and data_offsets");
  const Json *dtype = value.get("dtype");
  const Json *shape = value.get("shape");
  const Json *offsets = value.get("data_offsets");
  auto isOffset = [](const Json &j) { return j.isInteger() && j.asInt() >= 0; };
  if (!dtype || !dtype->isString())
    throw bad("missing or non-string dtype");
  if (!shape || !shape->isArray())
    throw bad("missing or non-array shape");
  if (!offsets || !offsets->isArray() || offsets->items().size() != 2 ||
      !isOffset(offsets->items()[0]) || !isOffset(offsets->items()[1]))
    throw bad("data_offsets must be [begin, end]");
  if (value.members().size() != 3)
    throw bad("unexpected key besides dtype, shape and data_offsets");
  Entry e;
  e.name = name;
  if (!dtypeFromCode(dtype->asString(), e.dtype))
    throw bad("unsupported dtype '" + dtype->asString() +
              "' (expected F32, F64, I32, I64 or U8)");
  uint64_t bytes = dtypeSize(e.dtype);
  for (const Json &d : shape->items()) {
    if (!d.isInteger() || d.asInt() < 0)
      throw bad("shape must hold non-negative integers");
    uint64_t dim = static_cast<uint64_t>(d.asInt());
    if (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / dim)
      throw bad("shape is too large");
    bytes *= dim;
    e.shape.push_back(d.asInt());
  }
  e.begin = static_cast<uint64_t>(offsets->items()[0].asInt());
  e.end = static_cast<uint64_t>(offsets->items()[1].asInt());
  if (e.begin > e.end)
    throw bad("data_offsets begin after they end");
  if (e.end - e.begin != bytes)
    throw bad("data_offsets span " + std::to_string(e.end - e.begin) +
              " bytes but dtype " + dtype->asString() + " x shape " +
              formatShape(e.shape) + " needs " + std::to_string(bytes));
  return e;
}

} // namespace

const Tensor *SafeTensorsFile::find(const std::string &name) const {
  for (const auto &[n, t] : tensors)
    if (n == name)
      return &t;
  return nullptr;
}

void layerc::saveSafeTensors(const std::string &path,
                             const SafeTensorsFile &file) {
  Json header = Json::object();
  if (!file.metadata.empty()) {
    Json &meta = header.set("__metadata__", Json::object());
    for (const auto &[k, v] : file.metadata)
      meta.set(k, v);
  }
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

  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty())
    dir = ".";
  std::string tmp =
      (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());
  if (fd >= 0) {
    // mkstemp creates 0600; give the file the mode open() would.
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
  }
  if (fd < 0)
    throw Error(path + ": cannot create a temporary file in '" + dir.string() +
                "': " + std::strerror(errno));
  auto abandon = [&](const std::string &what) -> Error {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error(path + ": " + what + ": " + std::strerror(saved) +
                 " (the previous file, if any, is unchanged)");
  };
  unsigned char length[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(n >> (8 * i));
  if (!writeAll(fd, length, 8) || !writeAll(fd, text.data(), text.size()))
    throw abandon("cannot write the header");
  for (const auto &[name, t] : file.tensors)
    if (!writeAll(fd, t.rawData(), t.nbytes()))
      throw abandon("cannot write tensor '" + name + "'");
  if (::fsync(fd) != 0)
    throw abandon("cannot flush the file to disk");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot close the temporary file");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
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

SafeTensorsFile layerc::loadSafeTensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open the file");
  std::error_code ec;
  uint64_t fileSize = std::filesystem::file_size(path, ec);
  if (ec)
    throw Error(path + ": cannot read the file size: " + ec.message());
  if (fileSize < 8)
    throw Error(path + ": truncated: " + std::to_string(fileSize) +
                " bytes, not even the 8-byte header length");
  unsigned char length[8];
  in.read(reinterpret_cast<char *>(length), 8);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | length[i];
  if (headerSize > fileSize - 8)
    throw Error(path + ": header length " + std::to_string(headerSize) +
                " exceeds the file (" + std::to_string(fileSize) + " bytes)");
  if (headerSize > kMaxHeaderBytes)
    throw Error(path + ": header length " + std::to_string(headerSize) +
                " exceeds the limit of " + std::to_string(kMaxHeaderBytes));
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
    entries.push_back(readEntry(path, name, value));
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
      throw Error(path + ": tensor '" + e->name + "': data_offsets [" +
                  std::to_string(e->begin) + ", " + std::to_string(e->end) +
                  "] lie outside the " + std::to_string(dataSize) +
                  "-byte data section");
    if (e->begin < expected)
      throw Error(path + ": tensor '" + e->name +
                  "' overlaps another tensor's data");
    if (e->begin > expected)
      throw Error(path + ": unused bytes before tensor '" + e->name + "'");
    expected = e->end;
  }
  if (expected != dataSize)
    throw Error(path + ": " + std::to_string(dataSize - expected) +
                " unused bytes at the end of the data section");

  for (const Entry &e : entries) {
    Tensor t(e.shape, e.dtype);
    in.seekg(static_cast<std::streamoff>(8 + headerSize + e.begin));
    if (t.nbytes() > 0 && !in.read(static_cast<char *>(t.rawData()),
                                   static_cast<std::streamsize>(t.nbytes())))
      throw Error(path + ": tensor '" + e.name + "': cannot read its data");
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}
