//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// The .npy format is a magic string, a version, a little-endian header
// length and a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// followed by the raw data. The header comes from an untrusted file, so it
// is parsed with a small recursive-descent parser rather than by searching
// for substrings, and every size it implies is checked against the bytes the
// file really holds before any tensor is allocated.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

using namespace layerc;

static_assert(std::endian::native == std::endian::little,
              "the .npy reader assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr const char *kSupported =
    "expected one of float32, float64, int32, int64, uint8";

/// The three fields of an .npy header.
struct NpyHeader {
  std::optional<std::string> descr;
  std::optional<bool> fortranOrder;
  std::optional<std::vector<int64_t>> shape;
};

/// A recursive-descent parser for the subset of Python literals that .npy
/// headers use: a dict of string keys to strings, booleans and int tuples.
class HeaderParser {
public:
  HeaderParser(const std::string &path, const std::string &text)
      : path(path), text(text) {}

  NpyHeader parse() {
    NpyHeader header;
    expect('{');
    while (!consume('}')) {
      std::string key = parseString();
      expect(':');
      parseField(header, key);
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    skipSpace();
    if (pos != text.size())
      throw error("unexpected text after the dict");
    requireFields(header);
    return header;
  }

private:
  Error error(const std::string &what) const {
    return Error(
        absl::StrFormat("%s: malformed .npy header (%s at offset %d of \"%s\")",
                        path, what, pos, text));
  }

  void skipSpace() {
    while (pos < text.size() && absl::ascii_isspace(text[pos]))
      ++pos;
  }

  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!consume(c))
      throw error(std::string("expected '") + c + "'");
  }

  std::string parseString() {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      throw error("expected a quoted string");
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      throw error("unterminated string");
    std::string s = text.substr(pos, end - pos);
    pos = end + 1;
    return s;
  }

  bool parseBool() {
    skipSpace();
    for (auto [word, value] : {std::pair{"True", true}, {"False", false}}) {
      size_t n = std::strlen(word);
      if (text.compare(pos, n, word) == 0) {
        pos += n;
        return value;
      }
    }
    throw error("expected True or False");
  }

  int64_t parseInt() {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && absl::ascii_isdigit(text[pos]))
      ++pos;
    if (pos == start)
      throw error("expected a non-negative integer");
    int64_t value = 0;
    if (!absl::SimpleAtoi(absl::string_view(text).substr(start, pos - start),
                          &value))
      throw error("dimension too large");
    consume('L'); // Python 2 wrote long integers as "3L".
    return value;
  }

  std::vector<int64_t> parseShape() {
    expect('(');
    std::vector<int64_t> shape;
    while (!consume(')')) {
      shape.push_back(parseInt());
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  void parseField(NpyHeader &header, const std::string &key) {
    if (key == "descr")
      header.descr = parseString();
    else if (key == "fortran_order")
      header.fortranOrder = parseBool();
    else if (key == "shape")
      header.shape = parseShape();
    else
      throw error("unexpected key '" + key + "'");
  }

  void requireFields(const NpyHeader &header) const {
    if (!header.descr)
      throw error("missing key 'descr'");
    if (!header.fortranOrder)
      throw error("missing key 'fortran_order'");
    if (!header.shape)
      throw error("missing key 'shape'");
  }

  const std::string &path;
  const std::string &text;
  size_t pos = 0;
};

DType parseDescr(const std::string &path, const std::string &descr) {
  if (descr == "<f4")
    return DType::Float32;
  if (descr == "<f8")
    return DType::Float64;
  if (descr == "<i4")
    return DType::Int32;
  if (descr == "<i8")
    return DType::Int64;
  if (descr == "|u1" || descr == "<u1")
    return DType::UInt8;
  if (!descr.empty() && descr[0] == '>')
    throw Error(path + ": dtype '" + descr +
                "' is big-endian, which is not supported (" + kSupported +
                ", little-endian)");
  throw Error(path + ": dtype '" + descr + "' is not supported (" + kSupported +
              ")");
}

const char *descrOf(DType dtype) {
  switch (dtype) {
  case DType::Float32:
    return "<f4";
  case DType::Float64:
    return "<f8";
  case DType::Int32:
    return "<i4";
  case DType::Int64:
    return "<i8";
  case DType::UInt8:
    return "|u1";
  }
  return "";
}

uint64_t readLittleEndian(const unsigned char *bytes, int count) {
  uint64_t v = 0;
  for (int i = count - 1; i >= 0; --i)
    v = (v << 8) | bytes[i];
  return v;
}

/// Reads the preamble; returns the header text and leaves `in` at the data.
std::string readHeaderText(const std::string &path, std::ifstream &in,
                           uint64_t fileSize) {
  unsigned char pre[12];
  if (fileSize < 10 || !in.read(reinterpret_cast<char *>(pre), 8))
    throw Error(absl::StrFormat(
        "%s: file is too short to be a .npy file (%d bytes)", path, fileSize));
  if (std::memcmp(pre, kMagic, kMagicSize) != 0)
    throw Error(path + ": not a .npy file (expected the magic string "
                       "\"\\x93NUMPY\" at the start)");
  int major = pre[6];
  if (major < 1 || major > 3)
    throw Error(absl::StrFormat(
        "%s: .npy format version %d.%d is not supported (expected 1.0, 2.0 or "
        "3.0)",
        path, major, pre[7]));
  int lengthBytes = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char *>(pre + 8), lengthBytes))
    throw Error(path + ": file ends inside the .npy preamble");
  uint64_t headerLen = readLittleEndian(pre + 8, lengthBytes);
  uint64_t dataOffset = 8 + lengthBytes + headerLen;
  if (dataOffset > fileSize)
    throw Error(absl::StrFormat(
        "%s: header length %d runs past the end of the file (%d bytes)", path,
        headerLen, fileSize));
  std::string text(headerLen, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(headerLen)))
    throw Error(path + ": cannot read the .npy header");
  return text;
}

/// The byte count `shape` of `dtype` needs, or nullopt on overflow.
std::optional<uint64_t> dataBytes(const std::vector<int64_t> &shape,
                                  DType dtype) {
  uint64_t bytes = dtypeSize(dtype);
  for (int64_t d : shape) {
    uint64_t ud = static_cast<uint64_t>(d);
    if (ud != 0 &&
        bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ud)
      return std::nullopt;
    bytes *= ud;
  }
  return bytes;
}

} // namespace

Tensor Tensor::loadNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw Error(path + ": cannot open file (" + std::strerror(errno) + ")");
  uint64_t fileSize = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  std::string text = readHeaderText(path, in, fileSize);
  NpyHeader header = HeaderParser(path, text).parse();
  DType dtype = parseDescr(path, *header.descr);
  if (*header.fortranOrder)
    throw Error(path + ": fortran_order is True; only C-order arrays are "
                       "supported (save with np.ascontiguousarray)");
  uint64_t available = fileSize - static_cast<uint64_t>(in.tellg());
  std::optional<uint64_t> needed = dataBytes(*header.shape, dtype);
  if (!needed || *needed != available)
    throw Error(absl::StrFormat(
        "%s: shape %s %s needs %s bytes of data but the file holds %d", path,
        formatShape(*header.shape), dtypeName(dtype),
        needed ? absl::StrCat(*needed) : "over 2^63", available));
  Tensor t(*header.shape, dtype);
  if (!in.read(static_cast<char *>(t.rawData()),
               static_cast<std::streamsize>(available)))
    throw Error(path + ": read error in the data section");
  return t;
}

void Tensor::saveNpy(const std::string &path) const {
  std::string dict = std::string("{'descr': '") + descrOf(dtype_) +
                     "', 'fortran_order': False, 'shape': " + shapeString() +
                     ", }";
  // NumPy pads the header with spaces so the data starts 64-byte aligned,
  // adding a full 64 when it is aligned already; do the same, byte for byte.
  dict.append(64 - (10 + dict.size() + 1) % 64, ' ');
  dict.push_back('\n');
  if (dict.size() > 0xffff)
    throw Error(path + ": .npy header too long for format 1.0");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw Error(path + ": cannot open for writing (" + std::strerror(errno) +
                ")");
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  pre[8] = static_cast<unsigned char>(dict.size() & 0xff);
  pre[9] = static_cast<unsigned char>(dict.size() >> 8);
  out.write(reinterpret_cast<const char *>(pre), sizeof(pre));
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
  out.write(static_cast<const char *>(rawData()),
            static_cast<std::streamsize>(nbytes()));
  if (!out.flush())
    throw Error(path + ": write error");
}
