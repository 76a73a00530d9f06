//===- RuntimeMessagesTest.cpp - The runtime's messages, word for word ----===//
//
// The runtime builds its messages with Abseil (StrFormat, StrCat), reads
// numbers with SimpleAtoi/SimpleAtod, looks tensors up in hash maps and
// reports its write errors as absl::Status before they become layerc::Error.
// These tests pin what a user sees: the file, the tensor and the field of a
// corrupt checkpoint, the numbers in full, the system's reason for a failed
// write; and that lookups by name stay right on a file of thousands.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtil.h"

#include "runtime/CApi.h"
#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/ProgressBar.h"
#include "runtime/SafeTensors.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace layerc;
using namespace layerc::test;

namespace {

std::string hex8(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

/// A safetensors file of `header` (JSON text) and `data`.
void writeSafeTensors(const std::string &path, const std::string &header,
                      const std::string &data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
  writeBytes(path, out + header + data);
}

} // namespace

//===----------------------------------------------------------------------===//
// Corrupt checkpoints: the file, the tensor and the field
//===----------------------------------------------------------------------===//

TEST(RuntimeMessagesTest, CorruptCheckpointsNameTheFileTensorAndField) {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  auto load = [&](const std::string &header, const std::string &data) {
    writeSafeTensors(path, header, data);
    return errorOf([&] { loadSafeTensors(path); });
  };
  EXPECT_EQ(
      load(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "abcd"),
      path + ": tensor 'w': unsupported dtype 'F16' (expected F32, "
             "F64, I32, I64 or U8)");
  EXPECT_EQ(load(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                 "abcdefgh"),
            path +
                ": tensor 'w': data_offsets span 8 bytes but dtype F32 x "
                "shape " +
                formatShape({3}) + " needs 12");
  EXPECT_EQ(
      load(R"({"w":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", "abcd"),
      path + ": tensor 'w': data_offsets [0, 8] lie outside the "
             "4-byte data section");
  EXPECT_EQ(
      load(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "abcd"),
      path + ": 3 unused bytes at the end of the data section");
  EXPECT_EQ(load(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", "a"),
            path + ": tensor 'w': data_offsets must be [begin, end]");

  writeBytes(path, "12345");
  EXPECT_EQ(errorOf([&] { loadSafeTensors(path); }),
            path + ": truncated: 5 bytes, not even the 8-byte header length");
  writeBytes(path, std::string("\xe8\x03\0\0\0\0\0\0", 8) + "{}");
  EXPECT_EQ(errorOf([&] { loadSafeTensors(path); }),
            path + ": header length 1000 exceeds the file (10 bytes)");
}

TEST(RuntimeMessagesTest, ChecksumMessagesGiveBothValuesInHex) {
  TempDir dir;
  std::string path = dir.file("sums.safetensors");
  auto withSums = [&](const std::string &sums) {
    writeSafeTensors(path,
                     R"({"__metadata__":{"layerc.crc32":")" + sums +
                         R"("},"w":{"dtype":"U8","shape":[4],)"
                         R"("data_offsets":[0,4]}})",
                     "abcd");
    return errorOf([&] { loadSafeTensors(path); });
  };
  std::string good = hex8(crc32("abcd", 4));
  EXPECT_EQ(withSums(R"({\"w\":\"0000000f\"})"),
            path +
                ": tensor 'w': checksum mismatch (stored crc32 0000000f, "
                "data has " +
                good +
                "): the file is corrupted; restore it from a copy or save "
                "it again");
  // Of two names the file lacks, the message names the first written.
  EXPECT_EQ(withSums(R"({\"w\":\")" + good +
                     R"(\",\"z\":\"00000000\",\"a\":\"00000000\"})"),
            path + ": the 'layerc.crc32' metadata names tensor 'z', which "
                   "the file lacks; it must map every tensor to 8 hex "
                   "digits (remove the key to load the file without "
                   "checksums)");
}

TEST(RuntimeMessagesTest, SavedChecksumsKeepTheirLeadingZeros) {
  // Four bytes whose CRC-32 is below 0x10000000 (one in sixteen is).
  uint32_t word = 0;
  while (crc32(&word, 4) >= 0x10000000u)
    ++word;
  TempDir dir;
  std::string path = dir.file("zeros.safetensors");
  SafeTensorsFile file;
  Tensor t({4}, DType::UInt8);
  std::memcpy(t.rawData(), &word, 4);
  file.tensors.emplace_back("w", t);
  saveSafeTensors(path, file);
  std::string bytes = readBytes(path);
  std::string expected = "{\\\"w\\\":\\\"" + hex8(crc32(&word, 4)) + "\\\"}";
  EXPECT_EQ(expected.substr(9, 1), "0");
  EXPECT_NE(bytes.find(expected), std::string::npos) << bytes;
  EXPECT_EQ(loadSafeTensors(path).find("w")->nbytes(), 4u);
}

//===----------------------------------------------------------------------===//
// A failed write: the system's reason, and nothing left behind
//===----------------------------------------------------------------------===//

TEST(RuntimeMessagesTest, FailedWriteGivesTheReasonAndKeepsTheOldFile) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  std::string report = dir.file("report.txt");
  SafeTensorsFile small;
  small.tensors.emplace_back("w", Tensor::fromFloats({1, 2}, {2}));
  saveSafeTensors(path, small);

  // A child limited to 4 KB files saves 64 KB: write() fails with EFBIG.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    SafeTensorsFile big;
    big.tensors.emplace_back("big", Tensor({16384}, DType::Float32));
    std::string msg = errorOf([&] { saveSafeTensors(path, big); });
    FILE *out = std::fopen(report.c_str(), "w");
    std::fputs(msg.c_str(), out);
    std::fclose(out);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(readBytes(report),
            path + ": cannot write tensor 'big': " + std::strerror(EFBIG) +
                " (the previous file, if any, is unchanged)");
  EXPECT_EQ(loadSafeTensors(path).find("w")->data<float>()[1], 2.0f);
  size_t files = 0;
  for (auto &entry : std::filesystem::directory_iterator(dir.file("")))
    files += entry.is_regular_file();
  EXPECT_EQ(files, 2u); // the checkpoint and the report: no temporary
}

//===----------------------------------------------------------------------===//
// Lookups by name in a large checkpoint
//===----------------------------------------------------------------------===//

TEST(RuntimeMessagesTest, CApiReadsThousandsOfTensorsByName) {
  constexpr size_t n = 3000;
  TempDir dir;
  std::string path = dir.file("many.safetensors");
  SafeTensorsFile file;
  for (size_t i = 0; i < n; ++i)
    file.tensors.emplace_back("layer_" + std::to_string(i) + "/w",
                              Tensor::fromFloats({float(i), -float(i)}, {2}));
  saveSafeTensors(path, file);

  // Asked for in reverse order, every one lands in its own buffer.
  std::vector<std::string> names;
  std::vector<const char *> namePtrs;
  std::vector<float> values(2 * n, 0.5f);
  std::vector<float *> dst;
  std::vector<int64_t> counts(n, 2);
  for (size_t i = 0; i < n; ++i)
    names.push_back("layer_" + std::to_string(n - 1 - i) + "/w");
  for (size_t i = 0; i < n; ++i) {
    namePtrs.push_back(names[i].c_str());
    dst.push_back(&values[2 * i]);
  }
  char error[256] = "";
  ASSERT_EQ(layerc_read_tensors(path.c_str(), n, namePtrs.data(), dst.data(),
                                counts.data(), error, sizeof error),
            0)
      << error;
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(values[2 * i], float(n - 1 - i)) << i;

  const char *missing[] = {"layer_0/w", "layer_0/b"};
  ASSERT_EQ(layerc_read_tensors(path.c_str(), 2, missing, dst.data(),
                                counts.data(), error, sizeof error),
            1);
  EXPECT_EQ(std::string(error), "'" + path + "' has no tensor 'layer_0/b'");
}

//===----------------------------------------------------------------------===//
// JSON numbers and strings
//===----------------------------------------------------------------------===//

TEST(RuntimeMessagesTest, JsonNumbersAtTheirLimits) {
  Json ints =
      Json::parse("[9223372036854775807, -9223372036854775808, -0]", "ints");
  EXPECT_EQ(ints.items()[0].asInt(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ints.items()[1].asInt(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(ints.items()[2].isInteger());
  EXPECT_EQ(errorOf([] { Json::parse("[1, 9223372036854775808]", "big"); }),
            "big: malformed JSON at byte 23: integer out of range");
  EXPECT_EQ(errorOf([] { Json::parse("-1e400", "huge"); }),
            "huge: malformed JSON at byte 6: number out of range");
  Json tiny = Json::parse("1e-400", "tiny"); // underflows to zero: accepted
  EXPECT_EQ(tiny.asDouble(), 0.0);
  EXPECT_DOUBLE_EQ(Json::parse("-2.5E+3", "e").asDouble(), -2500.0);
}

TEST(RuntimeMessagesTest, JsonDumpsNumbersAndControlCharacters) {
  EXPECT_EQ(Json(int64_t(-42)).dump(), "-42");
  EXPECT_EQ(Json(1.0).dump(), "1.0");
  EXPECT_EQ(Json(0.1).dump(), "0.10000000000000001");
  EXPECT_EQ(Json(1e300).dump(), "1.0000000000000001e+300");
  EXPECT_EQ(Json(std::string("a\x01\x1f\"")).dump(), "\"a\\u0001\\u001f\\\"\"");
  EXPECT_EQ(
      errorOf([] { Json(std::numeric_limits<double>::infinity()).dump(); }),
      "JSON cannot represent the number inf");
}

//===----------------------------------------------------------------------===//
// The progress bar's minutes
//===----------------------------------------------------------------------===//

TEST(RuntimeMessagesTest, ProgressBarEtaInMinutes) {
  std::ostringstream os;
  double now = 0;
  ProgressBar bar(100, 1, os, [&] { return now; });
  now = 10;
  bar.update(5, {{"loss", 1.5}});
  EXPECT_EQ(os.str(), "\r  5/100 [>" + std::string(29, '.') +
                          "] - ETA: 3:10 - loss: 1.5000");
}
