//===- RuntimeTestUtil.h - Helpers shared by the runtime tests --*- C++ -*-===//
//
// A scratch directory that removes itself, byte-level file writing for
// hand-made .npy / IDX files, and a way to get the message of the
// layerc::Error a call throws so tests can check what the user reads.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_RUNTIME_RUNTIMETESTUTIL_H
#define LAYERC_TEST_UNITTESTS_RUNTIME_RUNTIMETESTUTIL_H

#include "ErrorTestUtil.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace layerc::test {

/// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "layerc-rt-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  /// The path of `name` inside the directory.
  std::string file(const std::string &name) const {
    return (std::filesystem::path(path_) / name).string();
  }

private:
  std::string path_;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_RUNTIME_RUNTIMETESTUTIL_H
