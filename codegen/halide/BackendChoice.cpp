//===- BackendChoice.cpp - auto: the faster backend, measured and kept ---===//

#include "codegen/halide/BackendChoice.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

using namespace layerc;
using namespace layerc::halide;

namespace {

constexpr const char *kHeader =
    "# layerc backend measurements: key, backend, halide ms, llvm ms\n";
/// Far more than any real cache (a line per model, batch and machine).
constexpr uint64_t kMaxCacheBytes = 1 << 20;

/// A finite, non-negative number of milliseconds, the whole of `text`.
std::optional<double> parseMs(const std::string &text) {
  if (text.empty())
    return std::nullopt;
  errno = 0;
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (errno || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

std::vector<std::string> splitTabs(const std::string &line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t'))
    fields.push_back(field);
  return fields;
}

/// The lines of `path` (none when it does not exist); nullopt, with a
/// warning, when it cannot or should not be read.
std::optional<std::vector<std::string>> readLines(const std::string &path) {
  uint64_t size = 0;
  if (!llvm::sys::fs::exists(path))
    return std::vector<std::string>{};
  if (llvm::sys::fs::file_size(path, size) || size > kMaxCacheBytes) {
    llvm::errs() << "layerc: warning: backend cache '" << path
                 << "' is not a readable file of at most 1 MiB; ignored\n";
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) {
    llvm::errs() << "layerc: warning: cannot read backend cache '" << path
                 << "'; ignored\n";
    return std::nullopt;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

} // namespace

std::string BackendChoice::describe(int64_t batch, int threads) const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("predict at batch %lld", static_cast<long long>(batch));
  if (threads > 0)
    os << " on " << threads << (threads == 1 ? " thread" : " threads");
  os << llvm::format(" takes %.3f ms with Halide, %.3f "
                     "ms with LLVM (%s): %s",
                     halideMs, llvmMs,
                     cached ? "from the backend cache" : "measured here",
                     backend.c_str());
  return text;
}

std::string halide::functionHash(mlir::func::FuncOp fn) {
  // The ops, attributes and shapes, with constants (embedded weights)
  // elided: their values do not change the time.
  std::string text;
  llvm::raw_string_ostream os(text);
  fn->print(os, mlir::OpPrintingFlags().elideLargeElementsAttrs(16));
  uint64_t hash = 14695981039346656037ull; // FNV-1a
  for (unsigned char c : text)
    hash = (hash ^ c) * 1099511628211ull;
  std::string hex;
  llvm::raw_string_ostream h(hex);
  h << llvm::format_hex_no_prefix(hash, 16);
  return hex;
}

std::string halide::backendCacheKey(const std::string &functionHash,
                                    int64_t batch, int threads) {
  std::string key;
  llvm::raw_string_ostream k(key);
  k << LAYERC_VERSION << "-" << llvm::sys::getHostCPUName() << "-b" << batch;
  if (threads > 0)
    k << "-t" << threads;
  k << "-" << functionHash;
  return key;
}

std::string halide::backendCacheKey(mlir::func::FuncOp fn, int64_t batch,
                                    int threads) {
  return backendCacheKey(functionHash(fn), batch, threads);
}

namespace {
/// `line`'s key and measurement, if it is one: key, backend, two times.
std::optional<std::pair<std::string, BackendChoice>>
parseLine(const std::string &line) {
  std::vector<std::string> f = splitTabs(line);
  if (f.size() != 4 || f[0].empty() || (f[1] != "llvm" && f[1] != "halide"))
    return std::nullopt;
  std::optional<double> halideMs = parseMs(f[2]), llvmMs = parseMs(f[3]);
  if (!halideMs || !llvmMs)
    return std::nullopt;
  return std::make_pair(
      f[0], BackendChoice{f[1], *halideMs, *llvmMs, /*cached=*/true});
}
} // namespace

std::optional<BackendChoice> halide::readBackendCache(const std::string &path,
                                                      const std::string &key) {
  std::optional<std::vector<std::string>> lines = readLines(path);
  if (!lines)
    return std::nullopt;
  std::optional<BackendChoice> found;
  for (size_t i = 0; i < lines->size(); ++i) {
    const std::string &line = (*lines)[i];
    if (line.empty() || line[0] == '#')
      continue;
    auto entry = parseLine(line);
    if (!entry) {
      llvm::errs() << "layerc: warning: backend cache '" << path << "', line "
                   << i + 1
                   << ": not 'key<TAB>llvm|halide<TAB>ms<TAB>ms'; skipped\n";
      continue;
    }
    if (entry->first == key)
      found = entry->second;
  }
  return found;
}

std::string halide::writeBackendCache(const std::string &path,
                                      const std::string &key,
                                      const BackendChoice &choice) {
  std::optional<std::vector<std::string>> lines = readLines(path);
  // The other keys' lines that parse; a damaged line is dropped.
  std::string text = kHeader;
  for (const std::string &line : lines.value_or(std::vector<std::string>{}))
    if (auto entry = parseLine(line); entry && entry->first != key)
      text += line + "\n";
  llvm::raw_string_ostream os(text);
  os << key << "\t" << choice.backend << "\t"
     << llvm::format("%.4f\t%.4f\n", choice.halideMs, choice.llvmMs);
  std::string temp =
      path + ".tmp" + std::to_string(llvm::sys::Process::getProcessId());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      return "cannot write '" + temp + "'";
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return "cannot replace '" + path + "'";
  }
  return "";
}

Tensor halide::timingInput(const std::vector<int64_t> &shape) {
  Tensor x(shape);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
  return x;
}

BackendChoice halide::chooseBackend(const std::string &key,
                                    const std::string &cachePath,
                                    const std::function<double()> &timeHalide,
                                    const std::function<double()> &timeLlvm) {
  std::string path = cachePath;
  if (const char *env = std::getenv("LAYERC_BACKEND_CACHE");
      path.empty() && env)
    path = env;
  if (!path.empty())
    if (std::optional<BackendChoice> cached = readBackendCache(path, key))
      return *cached;
  BackendChoice choice;
  choice.llvmMs = timeLlvm();
  choice.halideMs = timeHalide();
  choice.backend = choice.halideMs < choice.llvmMs ? "halide" : "llvm";
  if (!path.empty()) {
    std::string error = writeBackendCache(path, key, choice);
    if (!error.empty())
      llvm::errs() << "layerc: warning: backend cache: " << error << "\n";
  }
  return choice;
}
