//===- SafeTensors.cpp - Checkpoint files in the safetensors layout
//--------===//
//
// The header is parsed by a small JSON parser of our own (the runtime has no
// JSON dependency) that bounds nesting, accepts only what the format uses
// (objects, arrays, strings, non-negative integers) and validates UTF-8.
//
//===----------------------------------------------------------------------===//

#include "runtime/SafeTensors.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
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

std::string quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

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

//===----------------------------------------------------------------------===//
// Reading: a bounded JSON parser for the header
//===----------------------------------------------------------------------===//

struct Json {
  enum Kind { String, Number, Array, Object } kind = Number;
  std::string string;
  uint64_t number = 0;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;
};

class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &path)
      : text(text), path(path) {}

  Json parseDocument() {
    Json value = parseValue(0);
    skipSpace();
    if (pos != text.size())
      fail("unexpected data after the JSON header");
    if (value.kind != Json::Object)
      fail("the header is not a JSON object");
    return value;
  }

private:
  const std::string &text;
  const std::string &path;
  size_t pos = 0;

  [[noreturn]] void fail(const std::string &what) {
    throw Error(path + ": malformed safetensors header at byte " +
                std::to_string(pos) + ": " + what);
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\r' || text[pos] == '\t'))
      ++pos;
  }

  char peek() {
    skipSpace();
    if (pos >= text.size())
      fail("unexpected end of the header");
    return text[pos];
  }

  void expect(char c) {
    if (peek() != c)
      fail(std::string("expected '") + c + "'");
    ++pos;
  }

  Json parseValue(int depth) {
    if (depth > kMaxDepth)
      fail("nesting too deep");
    char c = peek();
    if (c == '{')
      return parseObject(depth);
    if (c == '[')
      return parseArray(depth);
    if (c == '"') {
      Json v;
      v.kind = Json::String;
      v.string = parseString();
      return v;
    }
    if (c >= '0' && c <= '9')
      return parseNumber();
    fail("expected an object, array, string or non-negative integer");
  }

  Json parseObject(int depth) {
    Json v;
    v.kind = Json::Object;
    expect('{');
    if (peek() == '}') {
      ++pos;
      return v;
    }
    while (true) {
      if (peek() != '"')
        fail("expected a key");
      std::string key = parseString();
      for (const auto &member : v.members)
        if (member.first == key)
          fail("duplicate key \"" + key + "\"");
      expect(':');
      v.members.emplace_back(key, parseValue(depth + 1));
      if (peek() == ',') {
        ++pos;
        continue;
      }
      expect('}');
      return v;
    }
  }

  Json parseArray(int depth) {
    Json v;
    v.kind = Json::Array;
    expect('[');
    if (peek() == ']') {
      ++pos;
      return v;
    }
    while (true) {
      v.items.push_back(parseValue(depth + 1));
      if (peek() == ',') {
        ++pos;
        continue;
      }
      expect(']');
      return v;
    }
  }

  Json parseNumber() {
    Json v;
    uint64_t n = 0;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
      if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10)
        fail("integer too large");
      n = n * 10 + digit;
      ++pos;
    }
    if (pos < text.size() &&
        (text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E'))
      fail("expected an integer");
    if (pos - start > 1 && text[start] == '0')
      fail("integer with a leading zero");
    v.number = n;
    return v;
  }

  static void appendUtf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  uint32_t parseHex4() {
    if (pos + 4 > text.size())
      fail("truncated \\u escape");
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text[pos++];
      cp <<= 4;
      if (h >= '0' && h <= '9')
        cp |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        cp |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        cp |= static_cast<uint32_t>(h - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return cp;
  }

  /// Length of the valid UTF-8 sequence starting at `pos`, or 0.
  size_t utf8Length() const {
    auto byte = [&](size_t i) {
      return static_cast<unsigned char>(text[pos + i]);
    };
    unsigned char c = byte(0);
    size_t n = c < 0x80           ? 1
               : (c >> 5) == 0x6  ? 2
               : (c >> 4) == 0xE  ? 3
               : (c >> 3) == 0x1E ? 4
                                  : 0;
    if (n == 0 || pos + n > text.size())
      return 0;
    for (size_t i = 1; i < n; ++i)
      if ((byte(i) & 0xC0) != 0x80)
        return 0;
    if ((n == 2 && c < 0xC2) || (n == 3 && c == 0xE0 && byte(1) < 0xA0) ||
        (n == 3 && c == 0xED && byte(1) >= 0xA0) ||
        (n == 4 && c == 0xF0 && byte(1) < 0x90) ||
        (n == 4 && (c > 0xF4 || (c == 0xF4 && byte(1) >= 0x90))))
      return 0;
    return n;
  }

  std::string parseString() {
    expect('"');
    std::string out;
    while (true) {
      if (pos >= text.size())
        fail("unterminated string");
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        fail("control character in a string");
      if (c == '\\') {
        if (++pos >= text.size())
          fail("unterminated escape");
        char e = text[pos++];
        switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = parseHex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (pos + 2 > text.size() || text[pos] != '\\' ||
                text[pos + 1] != 'u')
              fail("unpaired surrogate");
            pos += 2;
            uint32_t low = parseHex4();
            if (low < 0xDC00 || low >= 0xE000)
              fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("unpaired surrogate");
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
        }
        continue;
      }
      size_t n = utf8Length();
      if (n == 0)
        fail("string is not valid UTF-8");
      out.append(text, pos, n);
      pos += n;
    }
  }
};

const Json *member(const Json &object, const std::string &key) {
  for (const auto &m : object.members)
    if (m.first == key)
      return &m.second;
  return nullptr;
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
  if (value.kind != Json::Object)
    throw bad("expected an object with dtype, shape and data_offsets");
  const Json *dtype = member(value, "dtype");
  const Json *shape = member(value, "shape");
  const Json *offsets = member(value, "data_offsets");
  if (!dtype || dtype->kind != Json::String)
    throw bad("missing or non-string dtype");
  if (!shape || shape->kind != Json::Array)
    throw bad("missing or non-array shape");
  if (!offsets || offsets->kind != Json::Array || offsets->items.size() != 2 ||
      offsets->items[0].kind != Json::Number ||
      offsets->items[1].kind != Json::Number)
    throw bad("data_offsets must be [begin, end]");
  if (value.members.size() != 3)
    throw bad("unexpected key besides dtype, shape and data_offsets");
  Entry e;
  e.name = name;
  if (!dtypeFromCode(dtype->string, e.dtype))
    throw bad("unsupported dtype '" + dtype->string +
              "' (expected F32, F64, I32, I64 or U8)");
  uint64_t bytes = dtypeSize(e.dtype);
  for (const Json &d : shape->items) {
    if (d.kind != Json::Number)
      throw bad("shape must hold non-negative integers");
    if (d.number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw bad("shape dimension " + std::to_string(d.number) +
                " is too large");
    if (d.number != 0 &&
        bytes > std::numeric_limits<uint64_t>::max() / d.number)
      throw bad("shape is too large");
    bytes *= d.number;
    e.shape.push_back(static_cast<int64_t>(d.number));
  }
  e.begin = offsets->items[0].number;
  e.end = offsets->items[1].number;
  if (e.begin > e.end)
    throw bad("data_offsets begin after they end");
  if (e.end - e.begin != bytes)
    throw bad("data_offsets span " + std::to_string(e.end - e.begin) +
              " bytes but dtype " + dtype->string + " x shape " +
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
  std::string header = "{";
  if (!file.metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto &[k, v] : file.metadata) {
      header += (first ? "" : ",") + quote(k) + ":" + quote(v);
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto &[name, t] : file.tensors) {
    if (name.empty() || name == "__metadata__")
      throw Error(path + ": invalid tensor name '" + name + "'");
    if (header.size() > 1)
      header += ",";
    header += quote(name) + ":{\"dtype\":\"" + dtypeCode(t.dtype()) +
              "\",\"shape\":[";
    for (size_t i = 0; i < t.shape().size(); ++i)
      header += (i ? "," : "") + std::to_string(t.shape()[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + t.nbytes()) + "]}";
    offset += t.nbytes();
  }
  header += "}";
  // Pad so that the data starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');

  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty())
    dir = ".";
  std::string tmp =
      (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());
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
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(n >> (8 * i));
  if (!writeAll(fd, length, 8) || !writeAll(fd, header.data(), header.size()))
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
  Json header = HeaderParser(text, path).parseDocument();

  SafeTensorsFile result;
  std::vector<Entry> entries;
  for (const auto &[name, value] : header.members) {
    if (name == "__metadata__") {
      if (value.kind != Json::Object)
        throw Error(path + ": __metadata__ must be an object of strings");
      for (const auto &[k, v] : value.members) {
        if (v.kind != Json::String)
          throw Error(path + ": __metadata__ value of '" + k +
                      "' is not a string");
        result.metadata[k] = v.string;
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
