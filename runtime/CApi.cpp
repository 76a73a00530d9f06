//===- CApi.cpp - The runtime's C interface -------------------------------===//
//
// Thin wrappers over SafeTensors.h that turn every exception into an error
// code and a message (see CApi.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/CApi.h"

#include "runtime/Error.h"
#include "runtime/SafeTensors.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

using namespace layerc;

namespace {
int fail(const std::string &message, char *error, size_t errorSize) {
  if (error && errorSize > 0) {
    size_t n = std::min(message.size(), errorSize - 1);
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
  }
  return 1;
}

template <typename F> int guarded(char *error, size_t errorSize, F &&f) {
  try {
    f();
    return 0;
  } catch (const std::exception &e) {
    return fail(e.what(), error, errorSize);
  } catch (...) {
    return fail("unknown error", error, errorSize);
  }
}

/// Copies the float32 tensors names[0..n) of `path` into dst[i] after
/// `check(i, tensor)` has accepted every one of them.
template <typename Check>
void readTensors(const char *path, size_t n, const char *const *names,
                 float *const *dst, const char *function, Check &&check) {
  SafeTensorsFile file = loadSafeTensors(path);
  // A model's load_weights asks for every weight by name: index the file
  // once rather than scanning it for each name.
  absl::flat_hash_map<absl::string_view, const Tensor *> byName;
  byName.reserve(file.tensors.size());
  for (const auto &[name, tensor] : file.tensors)
    byName.emplace(name, &tensor);
  std::vector<const Tensor *> found(n);
  // Check everything before writing anything.
  for (size_t i = 0; i < n; ++i) {
    if (!names[i] || !dst[i])
      throw Error(absl::StrCat(function, ": a NULL name or buffer"));
    auto t = byName.find(names[i]);
    if (t == byName.end())
      throw Error(absl::StrFormat("'%s' has no tensor '%s'", path, names[i]));
    check(i, *t->second);
    found[i] = t->second;
  }
  for (size_t i = 0; i < n; ++i)
    std::memcpy(dst[i], found[i]->rawData(), found[i]->nbytes());
}
} // namespace

int layerc_read_tensors(const char *path, size_t n, const char *const *names,
                        float *const *dst, const int64_t *counts, char *error,
                        size_t error_size) {
  if (!path || (n && (!names || !dst || !counts)))
    return fail("layerc_read_tensors: a NULL argument", error, error_size);
  return guarded(error, error_size, [&] {
    readTensors(path, n, names, dst, "layerc_read_tensors",
                [&](size_t i, const Tensor &t) {
                  if (t.dtype() != DType::Float32 || t.numel() != counts[i])
                    throw Error(absl::StrFormat(
                        "tensor '%s' of '%s' is %s %s, but %d float32 "
                        "elements were expected",
                        names[i], path, t.shapeString(), dtypeName(t.dtype()),
                        counts[i]));
                });
  });
}

int layerc_read_tensors_shaped(const char *path, size_t n,
                               const char *const *names, float *const *dst,
                               const int64_t *ranks,
                               const int64_t *const *shapes, char *error,
                               size_t error_size) {
  if (!path || (n && (!names || !dst || !ranks || !shapes)))
    return fail("layerc_read_tensors_shaped: a NULL argument", error,
                error_size);
  return guarded(error, error_size, [&] {
    // Shapes first: a NULL shape must not depend on the file's contents.
    for (size_t i = 0; i < n; ++i)
      if (ranks[i] < 0 || (ranks[i] > 0 && !shapes[i]))
        throw Error("layerc_read_tensors_shaped: a NULL or negative-rank "
                    "shape");
    readTensors(
        path, n, names, dst, "layerc_read_tensors_shaped",
        [&](size_t i, const Tensor &t) {
          std::vector<int64_t> want(shapes[i], shapes[i] + ranks[i]);
          if (t.dtype() == DType::Float32 && t.shape() == want)
            return;
          // The same elements in another layout (a transposed kernel) is
          // the likely mistake: say so, since the counts agree.
          int64_t wantCount = 1; // -1 when negative or overflowing
          for (int64_t d : want) {
            if (d < 0 || (d && wantCount > INT64_MAX / d)) {
              wantCount = -1;
              break;
            }
            wantCount *= d;
          }
          std::string hint;
          if (t.dtype() == DType::Float32 && t.numel() == wantCount)
            hint = " (the same number of elements in another layout: a "
                   "transposed or reshaped weight, or a file of another "
                   "model)";
          throw Error(absl::StrFormat(
              "'%s': weight '%s' has shape %s %s, but the model expects %s "
              "float32%s",
              path, names[i], t.shapeString(), dtypeName(t.dtype()),
              formatShape(want), hint));
        });
  });
}

int layerc_write_tensors(const char *path, size_t n, const char *const *names,
                         const float *const *src, const int64_t *ranks,
                         const int64_t *const *shapes, char *error,
                         size_t error_size) {
  if (!path || (n && (!names || !src || !ranks || !shapes)))
    return fail("layerc_write_tensors: a NULL argument", error, error_size);
  return guarded(error, error_size, [&] {
    SafeTensorsFile file;
    for (size_t i = 0; i < n; ++i) {
      if (!names[i] || !src[i] || (ranks[i] > 0 && !shapes[i]) || ranks[i] < 0)
        throw Error("layerc_write_tensors: a NULL name, buffer or shape");
      std::vector<int64_t> shape(shapes[i], shapes[i] + ranks[i]);
      Tensor t(shape, DType::Float32);
      std::memcpy(t.rawData(), src[i], t.nbytes());
      file.tensors.emplace_back(names[i], t);
    }
    saveSafeTensors(path, file);
  });
}
