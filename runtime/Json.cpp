//===- Json.cpp - A small JSON value for configs and file headers
//----------===//
//
// A recursive-descent parser over the whole text (callers bound the text's
// size), with an explicit depth limit so hostile input cannot exhaust the
// stack.
//
//===----------------------------------------------------------------------===//

#include "runtime/Json.h"
#include "runtime/Error.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <cmath>
#include <limits>

using namespace layerc;

Json Json::array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::Array;
  j.items_ = std::move(items);
  return j;
}

Json Json::object(std::vector<std::pair<std::string, Json>> members) {
  Json j;
  j.kind_ = Kind::Object;
  for (auto &[k, v] : members)
    j.set(k, std::move(v));
  return j;
}

const Json *Json::get(const std::string &key) const {
  for (const auto &m : members_)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

Json &Json::set(const std::string &key, Json value) {
  kind_ = Kind::Object;
  for (auto &m : members_)
    if (m.first == key) {
      m.second = std::move(value);
      return m.second;
    }
  members_.emplace_back(key, std::move(value));
  return members_.back().second;
}

namespace {

void dumpString(std::string &out, const std::string &s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void dumpValue(std::string &out, const Json &j) {
  switch (j.kind()) {
  case Json::Kind::Null:
    out += "null";
    return;
  case Json::Kind::Bool:
    out += j.asBool() ? "true" : "false";
    return;
  case Json::Kind::Number: {
    if (j.isInteger()) {
      absl::StrAppend(&out, j.asInt());
      return;
    }
    if (!std::isfinite(j.asDouble()))
      throw Error(
          absl::StrFormat("JSON cannot represent the number %f", j.asDouble()));
    std::string number = absl::StrFormat("%.17g", j.asDouble());
    // Keep it a float when read back.
    if (number.find_first_of(".eEn") == std::string::npos)
      number += ".0";
    out += number;
    return;
  }
  case Json::Kind::String:
    dumpString(out, j.asString());
    return;
  case Json::Kind::Array:
    out += '[';
    for (size_t i = 0; i < j.items().size(); ++i) {
      if (i)
        out += ',';
      dumpValue(out, j.items()[i]);
    }
    out += ']';
    return;
  case Json::Kind::Object:
    out += '{';
    for (size_t i = 0; i < j.members().size(); ++i) {
      if (i)
        out += ',';
      dumpString(out, j.members()[i].first);
      out += ':';
      dumpValue(out, j.members()[i].second);
    }
    out += '}';
    return;
  }
}

} // namespace

std::string Json::dump() const {
  std::string out;
  dumpValue(out, *this);
  return out;
}

size_t layerc::utf8SequenceLength(const std::string &text, size_t pos) {
  auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[pos + i]);
  };
  if (pos >= text.size())
    return 0;
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
  // Overlong forms, surrogates and code points past U+10FFFF.
  if ((n == 2 && c < 0xC2) || (n == 3 && c == 0xE0 && byte(1) < 0xA0) ||
      (n == 3 && c == 0xED && byte(1) >= 0xA0) ||
      (n == 4 && c == 0xF0 && byte(1) < 0x90) ||
      (n == 4 && (c > 0xF4 || (c == 0xF4 && byte(1) >= 0x90))))
    return 0;
  return n;
}

bool layerc::hasControlCharacter(const std::string &text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return true;
  return false;
}

bool layerc::isValidUtf8(const std::string &text) {
  for (size_t pos = 0; pos < text.size();) {
    size_t n = utf8SequenceLength(text, pos);
    if (n == 0)
      return false;
    pos += n;
  }
  return true;
}

namespace layerc {

class JsonParser {
public:
  JsonParser(const std::string &text, const std::string &context, int maxDepth)
      : text(text), context(context), maxDepth(maxDepth) {}

  Json parseDocument() {
    Json value = parseValue(0);
    skipSpace();
    if (pos != text.size())
      fail("unexpected data after the JSON value");
    return value;
  }

private:
  const std::string &text;
  const std::string &context;
  int maxDepth;
  size_t pos = 0;

  [[noreturn]] void fail(const std::string &what) {
    throw Error(
        absl::StrCat(context, ": malformed JSON at byte ", pos, ": ", what));
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\r' || text[pos] == '\t'))
      ++pos;
  }

  char peek() {
    skipSpace();
    if (pos >= text.size())
      fail("unexpected end of the text");
    return text[pos];
  }

  void expect(char c) {
    if (peek() != c)
      fail(std::string("expected '") + c + "'");
    ++pos;
  }

  bool consumeWord(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (text.compare(pos, n, word) != 0)
      return false;
    pos += n;
    return true;
  }

  Json parseValue(int depth) {
    if (depth > maxDepth)
      fail("nesting too deep");
    char c = peek();
    if (c == '{')
      return parseObject(depth);
    if (c == '[')
      return parseArray(depth);
    if (c == '"')
      return Json(parseString());
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseNumber();
    if (consumeWord("null"))
      return Json();
    if (consumeWord("true"))
      return Json(true);
    if (consumeWord("false"))
      return Json(false);
    fail("expected a value");
  }

  Json parseObject(int depth) {
    Json v = Json::object();
    absl::flat_hash_set<std::string> keys; // linear-time duplicate check
    expect('{');
    if (peek() == '}') {
      ++pos;
      return v;
    }
    while (true) {
      if (peek() != '"')
        fail("expected a key");
      std::string key = parseString();
      if (!keys.insert(key).second)
        fail("duplicate key \"" + key + "\"");
      expect(':');
      v.members_.emplace_back(key, parseValue(depth + 1));
      if (peek() == ',') {
        ++pos;
        continue;
      }
      expect('}');
      return v;
    }
  }

  Json parseArray(int depth) {
    Json v = Json::array();
    expect('[');
    if (peek() == ']') {
      ++pos;
      return v;
    }
    while (true) {
      v.items_.push_back(parseValue(depth + 1));
      if (peek() == ',') {
        ++pos;
        continue;
      }
      expect(']');
      return v;
    }
  }

  Json parseNumber() {
    size_t start = pos;
    if (text[pos] == '-')
      ++pos;
    size_t digits = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
      ++pos;
    if (pos == digits)
      fail("expected digits");
    if (pos - digits > 1 && text[digits] == '0')
      fail("number with a leading zero");
    bool integer = true;
    if (pos < text.size() && text[pos] == '.') {
      integer = false;
      ++pos;
      size_t frac = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      if (pos == frac)
        fail("expected digits after '.'");
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      integer = false;
      ++pos;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      size_t exp = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      if (pos == exp)
        fail("expected digits in the exponent");
    }
    // The grammar is checked; the conversions refuse only a range overflow.
    absl::string_view token(text.data() + start, pos - start);
    if (integer) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(token, &v))
        fail("integer out of range");
      return Json(v);
    }
    double d = 0;
    if (!absl::SimpleAtod(token, &d) || !std::isfinite(d))
      fail("number out of range");
    return Json(d);
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
      size_t n = utf8SequenceLength(text, pos);
      if (n == 0)
        fail("string is not valid UTF-8");
      out.append(text, pos, n);
      pos += n;
    }
  }
};

} // namespace layerc

Json Json::parse(const std::string &text, const std::string &context,
                 int maxDepth) {
  return JsonParser(text, context, maxDepth).parseDocument();
}

void layerc::appendUtf8(std::string &out, uint32_t cp) {
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
