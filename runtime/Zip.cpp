//===- Zip.cpp - Reading and writing zip archives -------------------------===//
//
// See Zip.h. The layout is PKWARE's APPNOTE: local file headers with the
// data, then the central directory, then the end-of-central-directory
// record (EOCD). Everything is little-endian.
//
//===----------------------------------------------------------------------===//

#include "runtime/Zip.h"
#include "runtime/Error.h"
#include "runtime/SafeTensors.h"

#include "absl/strings/str_format.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <zlib.h>

using namespace layerc;

namespace {

constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22;
/// Deflate never compresses better than about 1032:1.
constexpr uint64_t kMaxDeflateRatio = 1032;
/// Far above the few entries of a .keras file.
constexpr size_t kMaxEntries = 65535;
/// What the entries read may inflate to in all: 4 GiB, what a zip without
/// ZIP64 can hold stored (Keras writes ZIP64, refused here, beyond it), so
/// no .keras file this reads needs more; a deflate bomb gets no further.
constexpr uint64_t kMaxTotalSize = 0xffffffffu;

uint32_t read16(const std::string &b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8;
}

uint32_t read32(const std::string &b, size_t at) {
  return read16(b, at) | read16(b, at + 2) << 16;
}

void put16(std::string &out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}

void put32(std::string &out, uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

std::string inflateRaw(const std::string &in, uint64_t size,
                       const std::string &where) {
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    throw Error(where + ": cannot start zlib");
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != size)
    throw Error(absl::StrFormat(
        "%s: the deflated data is corrupt or does not inflate to the %d "
        "bytes the directory says",
        where, size));
  return out;
}

} // namespace

bool layerc::looksLikeZip(const std::string &bytes) {
  return bytes.size() >= 4 && read32(bytes, 0) == kLocalSignature;
}

std::vector<ZipEntry> layerc::readZip(const std::string &b,
                                      const std::string &path,
                                      const std::vector<std::string> &only) {
  auto fail = [&](const std::string &what) -> Error {
    return Error(path + ": not a valid zip archive: " + what);
  };
  if (b.size() < kEndSize)
    throw fail(
        absl::StrFormat("%d bytes, too short for the end record", b.size()));
  // The EOCD is the last 22 bytes plus a comment of at most 65535 bytes.
  size_t end = std::string::npos;
  size_t lowest =
      b.size() > kEndSize + 0xffff ? b.size() - kEndSize - 0xffff : 0;
  for (size_t at = b.size() - kEndSize + 1; at-- > lowest;)
    if (read32(b, at) == kEndSignature &&
        at + kEndSize + read16(b, at + 20) == b.size()) {
      end = at;
      break;
    }
  if (end == std::string::npos)
    throw fail("no end-of-central-directory record (truncated?)");
  if (read16(b, end + 4) != 0 || read16(b, end + 6) != 0)
    throw fail("multi-disk archives are not supported");
  uint32_t count = read16(b, end + 10);
  uint64_t dirSize = read32(b, end + 12), dirOffset = read32(b, end + 16);
  if (count == 0xffff || dirSize == 0xffffffff || dirOffset == 0xffffffff)
    throw fail("ZIP64 archives are not supported");
  if (read16(b, end + 8) != count)
    throw fail("the entry counts of the end record disagree");
  if (dirOffset + dirSize > end)
    throw fail(absl::StrFormat("the central directory (%d bytes at offset "
                               "%d) runs past its end record at %d",
                               dirSize, dirOffset, end));
  if (count > kMaxEntries || count * kCentralSize > dirSize)
    throw fail(absl::StrFormat("%d entries cannot fit a %d-byte directory",
                               count, dirSize));

  // First every directory entry is checked against the file, then the
  // entries' byte ranges against each other and the total size of what
  // is asked for against kMaxTotalSize, and only then is anything inflated.
  struct Located {
    std::string name;
    uint32_t method, crc;
    uint64_t packed, size, local, data;
  };
  std::vector<Located> located;
  std::set<std::string> names;
  size_t at = dirOffset;
  const size_t dirEnd = dirOffset + dirSize;
  for (uint32_t i = 0; i < count; ++i) {
    if (at + kCentralSize > dirEnd || read32(b, at) != kCentralSignature)
      throw fail(absl::StrFormat("central directory entry %d is malformed", i));
    uint32_t flags = read16(b, at + 8), method = read16(b, at + 10);
    uint32_t crc = read32(b, at + 16);
    uint64_t packed = read32(b, at + 20), size = read32(b, at + 24);
    size_t nameLen = read16(b, at + 28), extraLen = read16(b, at + 30),
           commentLen = read16(b, at + 32);
    uint64_t local = read32(b, at + 42);
    if (at + kCentralSize + nameLen + extraLen + commentLen > dirEnd)
      throw fail(absl::StrFormat("central directory entry %d runs past the "
                                 "directory",
                                 i));
    std::string name = b.substr(at + kCentralSize, nameLen);
    at += kCentralSize + nameLen + extraLen + commentLen;
    std::string where = path + ": zip entry '" + name + "'";
    if (!names.insert(name).second)
      throw Error(where + " appears twice");
    if (flags & 1)
      throw Error(where + " is encrypted");
    if (packed == 0xffffffff || size == 0xffffffff || local == 0xffffffff)
      throw Error(where + " needs ZIP64, which is not supported");
    if (method != 0 && method != 8)
      throw Error(absl::StrFormat(
          "%s uses compression method %d (only stored and deflate are "
          "supported)",
          where, method));
    // Sizes against what the file holds, before allocating anything.
    if (local + kLocalSize > dirOffset || read32(b, local) != kLocalSignature)
      throw Error(where + ": its local header is missing or out of bounds");
    uint64_t localNameLen = read16(b, local + 26);
    uint64_t data = local + kLocalSize + localNameLen + read16(b, local + 28);
    if (data > dirOffset || packed > dirOffset - data)
      throw Error(absl::StrFormat(
          "%s: %d bytes of data at offset %d run past the entries (the file "
          "holds %d bytes)",
          where, packed, data, b.size()));
    if (b.compare(local + kLocalSize, localNameLen, name) != 0)
      throw Error(where + ": its local header names another entry ('" +
                  b.substr(local + kLocalSize, localNameLen) + "')");
    if (method == 0 && size != packed)
      throw Error(absl::StrFormat(
          "%s is stored but its sizes disagree (%d and %d bytes)", where,
          packed, size));
    if (method == 8 && size > packed * kMaxDeflateRatio + 64)
      throw Error(absl::StrFormat(
          "%s claims %d bytes from %d compressed, more than deflate can "
          "produce",
          where, size, packed));
    located.push_back(
        {std::move(name), method, crc, packed, size, local, data});
  }
  // Entries may not share bytes: several directory entries pointing at one
  // deflate stream would multiply what it inflates to.
  std::vector<const Located *> byOffset;
  for (const Located &e : located)
    byOffset.push_back(&e);
  std::sort(
      byOffset.begin(), byOffset.end(),
      [](const Located *x, const Located *y) { return x->local < y->local; });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i]->local < byOffset[i - 1]->data + byOffset[i - 1]->packed)
      throw Error(path + ": zip entry '" + byOffset[i]->name +
                  "' overlaps entry '" + byOffset[i - 1]->name +
                  "' (entries may not share their bytes)");
  auto wanted = [&](const std::string &name) {
    return only.empty() ||
           std::find(only.begin(), only.end(), name) != only.end();
  };
  uint64_t total = 0;
  for (const Located &e : located)
    if (wanted(e.name) && (total += e.size) > kMaxTotalSize)
      throw fail(absl::StrFormat(
          "its entries inflate to more than %d bytes in all", kMaxTotalSize));

  std::vector<ZipEntry> entries;
  for (Located &e : located) {
    if (!wanted(e.name))
      continue;
    std::string where = path + ": zip entry '" + e.name + "'";
    std::string raw = b.substr(e.data, e.packed);
    std::string bytes =
        e.method == 0 ? std::move(raw) : inflateRaw(raw, e.size, where);
    if (layerc::crc32(bytes.data(), bytes.size()) != e.crc)
      throw Error(where + ": CRC-32 mismatch (the file is corrupt)");
    entries.push_back({std::move(e.name), std::move(bytes)});
  }
  return entries;
}

std::vector<ZipEntry>
layerc::readZipFile(const std::string &path,
                    const std::vector<std::string> &only) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open the file (" + std::strerror(errno) + ")");
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec)
    throw Error(path + ": cannot read the file size: " + ec.message());
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
    throw Error(path + ": cannot read the file");
  return readZip(bytes, path, only);
}

std::string layerc::writeZip(const std::vector<ZipEntry> &entries) {
  std::string out, dir;
  // 1980-01-01 00:00, the earliest DOS date: reproducible archives.
  constexpr uint32_t kTime = 0, kDate = (0 << 9) | (1 << 5) | 1;
  for (const ZipEntry &e : entries) {
    if (e.data.size() >= 0xffffffffu || e.name.size() > 0xffff ||
        out.size() >= 0xffffffffu - e.data.size() - 1024)
      throw Error("zip entry '" + e.name +
                  "' is too large for a zip without ZIP64");
    uint32_t crc = layerc::crc32(e.data.data(), e.data.size());
    auto header = [&](std::string &to, bool central, uint32_t offset) {
      put32(to, central ? kCentralSignature : kLocalSignature);
      if (central)
        put16(to, 20); // version made by
      put16(to, 20);   // version needed
      put16(to, 0);    // flags
      put16(to, 0);    // stored
      put16(to, kTime);
      put16(to, kDate);
      put32(to, crc);
      put32(to, static_cast<uint32_t>(e.data.size()));
      put32(to, static_cast<uint32_t>(e.data.size()));
      put16(to, static_cast<uint32_t>(e.name.size()));
      put16(to, 0); // extra
      if (central) {
        put16(to, 0);          // comment
        put16(to, 0);          // disk
        put16(to, 0);          // internal attributes
        put32(to, 0644 << 16); // external attributes: a regular file
        put32(to, offset);
      }
      to += e.name;
    };
    uint32_t offset = static_cast<uint32_t>(out.size());
    header(out, false, 0);
    out += e.data;
    header(dir, true, offset);
  }
  if (entries.size() > 0xffff || out.size() + dir.size() >= 0xffffffffu)
    throw Error("the zip archive is too large without ZIP64");
  uint32_t dirOffset = static_cast<uint32_t>(out.size());
  out += dir;
  put32(out, kEndSignature);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(entries.size()));
  put16(out, static_cast<uint32_t>(entries.size()));
  put32(out, static_cast<uint32_t>(dir.size()));
  put32(out, dirOffset);
  put16(out, 0);
  return out;
}
