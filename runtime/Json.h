//===- Json.h - A small JSON value for configs and file headers -*- C++ -*-===//
//
// The runtime depends on no JSON library, yet reads untrusted JSON (the
// headers of safetensors files, model configs in saved models) and writes
// model configs. This is that one JSON value: parse() bounds the nesting,
// validates UTF-8 and reports the byte offset of an error; objects keep
// their key order and refuse duplicate keys; numbers remember whether they
// were written as integers.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_JSON_H
#define LAYERC_RUNTIME_JSON_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace layerc {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : kind_(Kind::Bool), bool_(b) {}
  Json(int v) : Json(static_cast<int64_t>(v)) {}
  Json(int64_t v)
      : kind_(Kind::Number), number_(static_cast<double>(v)), integer_(v),
        isInteger_(true) {}
  Json(double v) : kind_(Kind::Number), number_(v) {}
  Json(const char *s) : kind_(Kind::String), string_(s) {}
  Json(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  static Json array(std::vector<Json> items = {});
  static Json object(std::vector<std::pair<std::string, Json>> members = {});

  /// Parses `text`; throws layerc::Error("<context>: malformed JSON at byte
  /// N: ...") on anything invalid or nested deeper than `maxDepth`.
  static Json parse(const std::string &text, const std::string &context,
                    int maxDepth = 64);
  /// Compact JSON text.
  std::string dump() const;

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isNumber() const { return kind_ == Kind::Number; }
  bool isInteger() const { return kind_ == Kind::Number && isInteger_; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  bool asBool() const { return bool_; }
  double asDouble() const { return number_; }
  /// Valid when isInteger().
  int64_t asInt() const { return integer_; }
  const std::string &asString() const { return string_; }
  const std::vector<Json> &items() const { return items_; }
  std::vector<Json> &items() { return items_; }
  const std::vector<std::pair<std::string, Json>> &members() const {
    return members_;
  }

  /// The member `key` of an object, or nullptr.
  const Json *get(const std::string &key) const;
  /// Appends (or replaces) member `key` of an object.
  Json &set(const std::string &key, Json value);

private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  int64_t integer_ = 0;
  bool isInteger_ = false;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
  friend class JsonParser;
};

/// Length of the valid UTF-8 sequence at text[pos], or 0 if there is none.
size_t utf8SequenceLength(const std::string &text, size_t pos);
/// True when `text` is valid UTF-8 (what JSON strings must be).
bool isValidUtf8(const std::string &text);
/// True when `text` has a byte below 0x20 or 0x7f (NUL, newline, ...).
bool hasControlCharacter(const std::string &text);

/// Appends code point `cp` to `out` in UTF-8 (JSON's \u escapes, the
/// summary's table text).
void appendUtf8(std::string &out, uint32_t cp);

} // namespace layerc

#endif // LAYERC_RUNTIME_JSON_H
