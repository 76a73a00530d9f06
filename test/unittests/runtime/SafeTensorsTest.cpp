//===- SafeTensorsTest.cpp - Checkpoint files: round trip and hostile input
//===//
//
// Round trips for every dtype, the atomicity of a failed save, and one case
// per way a file can lie: each must be refused with an error naming the
// file (and the tensor), never a crash or a huge allocation.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtil.h"

#include "runtime/SafeTensors.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace layerc;
using layerc::test::errorOf;
using layerc::test::TempDir;
using layerc::test::writeBytes;

namespace {

/// A raw safetensors file: 8-byte length, `header`, then `data`.
std::string rawFile(const std::string &header, const std::string &data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

std::string loadError(const TempDir &dir, const std::string &bytes) {
  std::string path = dir.file("bad.safetensors");
  writeBytes(path, bytes);
  std::string msg = errorOf([&] { loadSafeTensors(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  return msg;
}

TEST(SafeTensorsTest, RoundTripEveryDtypeAndMetadata) {
  TempDir dir;
  SafeTensorsFile file;
  file.tensors.emplace_back("dense/kernel",
                            Tensor::fromFloats({1, 2, 3, 4, 5, 6}, {2, 3}));
  file.tensors.emplace_back("d", Tensor::fromDoubles({0.5, -1e300}, {2}));
  file.tensors.emplace_back("i", Tensor::fromInts({7, -8, 9}, {3}));
  Tensor i64({2, 2}, DType::Int64), u8({5}, DType::UInt8);
  i64.data<int64_t>()[3] = -(int64_t(1) << 40);
  u8.data<uint8_t>()[4] = 255;
  file.tensors.emplace_back("l", i64);
  file.tensors.emplace_back("u", u8);
  file.tensors.emplace_back("scalar", Tensor::fromFloats({3.5f}, {}));
  file.tensors.emplace_back("empty", Tensor({0, 4}));
  file.metadata["format"] = "layerc";
  file.metadata["quote \" and \xc3\xa9"] = "line\nbreak";
  std::string path = dir.file("ckpt.safetensors");
  saveSafeTensors(path, file);

  SafeTensorsFile back = loadSafeTensors(path);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].first, file.tensors[i].first);
    const Tensor &a = file.tensors[i].second, &b = back.tensors[i].second;
    EXPECT_EQ(a.shape(), b.shape());
    EXPECT_EQ(a.dtype(), b.dtype());
    EXPECT_EQ(0, std::memcmp(a.rawData(), b.rawData(), a.nbytes()));
  }
  EXPECT_EQ(back.metadata, file.metadata);
  ASSERT_NE(back.find("i"), nullptr);
  EXPECT_EQ(back.find("i")->data<int32_t>()[1], -8);
  EXPECT_EQ(back.find("missing"), nullptr);
  // The data section starts 8-byte aligned.
  std::string bytes = layerc::test::readBytes(path);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + headerSize) % 8, 0u);
}

TEST(SafeTensorsTest, FailedSaveLeavesThePreviousFileLoadable) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  SafeTensorsFile good;
  good.tensors.emplace_back("w", Tensor::fromFloats({1, 2}, {2}));
  saveSafeTensors(path, good);

  SafeTensorsFile bad;
  bad.tensors.emplace_back("w", Tensor::fromFloats({3, 4}, {2}));
  bad.tensors.emplace_back("", Tensor::fromFloats({5}, {1})); // refused
  EXPECT_NE(errorOf([&] {
              saveSafeTensors(path, bad);
            }).find("invalid or duplicate tensor name"),
            std::string::npos);
  SafeTensorsFile back = loadSafeTensors(path);
  EXPECT_EQ(back.find("w")->data<float>()[0], 1.0f);

  // An unwritable directory: the error names the path, nothing is left.
  std::string msg = errorOf(
      [&] { saveSafeTensors(dir.file("no/such/dir/x.safetensors"), good); });
  EXPECT_NE(msg.find("cannot create a temporary file"), std::string::npos)
      << msg;
  size_t files = 0;
  for (auto &entry : std::filesystem::directory_iterator(dir.file("")))
    files += entry.is_regular_file();
  EXPECT_EQ(files, 1u); // no temporary file left behind
}

/// A child process saves checkpoint after checkpoint (version k: every
/// element of every tensor equals k) and is killed with SIGKILL at a random
/// moment, many times over. After every kill the latest checkpoint must
/// load and be one whole version, never a mix or a torn file.
TEST(SafeTensorsTest, SaveKilledAtRandomPointsLeavesALoadableCheckpoint) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  auto version = [](float k) {
    SafeTensorsFile file;
    file.metadata["version"] = std::to_string(static_cast<int>(k));
    for (int t = 0; t < 4; ++t) {
      Tensor w({256, 1024}); // 1 MiB each: a save takes a while
      std::fill_n(w.data<float>(), w.numel(), k);
      file.tensors.emplace_back("layer" + std::to_string(t) + "/kernel", w);
    }
    return file;
  };
  saveSafeTensors(path, version(0));
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> delayUs(0, 30000);
  int kills = 0, lastVersion = 0;
  for (int round = 0; round < 40; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int k = 1;; ++k)
        saveSafeTensors(path, version(static_cast<float>(lastVersion + k)));
    }
    usleep(static_cast<useconds_t>(delayUs(rng)));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    kills += WIFSIGNALED(status) ? 1 : 0;

    SafeTensorsFile back;
    ASSERT_NO_THROW(back = loadSafeTensors(path)) << "after kill " << round;
    int v = std::stoi(back.metadata.at("version"));
    ASSERT_GE(v, lastVersion);
    ASSERT_EQ(back.tensors.size(), 4u);
    for (const auto &[name, t] : back.tensors)
      for (int64_t i = 0; i < t.numel(); i += 4099)
        ASSERT_EQ(t.data<float>()[i], static_cast<float>(v)) << name;
    lastVersion = v;
  }
  EXPECT_EQ(kills, 40);
  SUCCEED() << "last version " << lastVersion;
}

TEST(SafeTensorsTest, SavedFilesFollowTheUmask) {
  TempDir dir;
  std::string path = dir.file("mode.safetensors");
  mode_t old = ::umask(022);
  SafeTensorsFile file;
  file.tensors.emplace_back("w", Tensor::fromFloats({1}, {1}));
  saveSafeTensors(path, file);
  ::umask(old);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(SafeTensorsTest, TruncatedFiles) {
  TempDir dir;
  EXPECT_NE(loadError(dir, "abc").find("truncated"), std::string::npos);
  std::string ok =
      rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
              std::string(8, '\0'));
  EXPECT_NE(loadError(dir, ok.substr(0, ok.size() - 3)).find("outside"),
            std::string::npos);
  EXPECT_NE(loadError(dir, ok.substr(0, 20)).find("exceeds the file"),
            std::string::npos);
}

TEST(SafeTensorsTest, HugeHeaderLengthIsRefusedBeforeAllocating) {
  TempDir dir;
  std::string bytes(8, '\xff');
  bytes += "{}";
  EXPECT_NE(loadError(dir, bytes).find("exceeds the file"), std::string::npos);
}

TEST(SafeTensorsTest, OffsetsOutsideOverlappingOrWithHoles) {
  TempDir dir;
  std::string data(16, '\0');
  auto two = [&](const std::string &a, const std::string &b) {
    return rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":)" + a +
                       R"(},"b":{"dtype":"F32","shape":[2],"data_offsets":)" +
                       b + "}}",
                   data);
  };
  std::string msg = loadError(dir, two("[0,8]", "[4,12]"));
  EXPECT_NE(msg.find("overlaps"), std::string::npos) << msg;
  msg = loadError(dir, two("[0,8]", "[12,20]"));
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'b'"), std::string::npos) << msg;
  msg = loadError(dir, two("[0,8]", "[9,17]"));
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
  msg = loadError(
      dir, rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                   data));
  EXPECT_NE(msg.find("unused bytes before tensor 'a'"), std::string::npos)
      << msg;
  msg = loadError(
      dir, rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                   data));
  EXPECT_NE(msg.find("begin after they end"), std::string::npos) << msg;
}

TEST(SafeTensorsTest, ShapeThatDoesNotMatchTheSize) {
  TempDir dir;
  std::string msg = loadError(
      dir, rawFile(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                   std::string(8, '\0')));
  EXPECT_NE(msg.find("tensor 'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("span 8 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 12"), std::string::npos) << msg;
  // A product that overflows 64 bits.
  msg = loadError(dir,
                  rawFile(R"({"w":{"dtype":"F64","shape":)"
                          R"([4294967296,4294967296],"data_offsets":[0,8]}})",
                          std::string(8, '\0')));
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
}

TEST(SafeTensorsTest, BadDtypesKeysAndJson) {
  TempDir dir;
  std::string data(4, '\0');
  std::string msg = loadError(
      dir, rawFile(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})",
                   data));
  EXPECT_NE(msg.find("unsupported dtype 'BF16'"), std::string::npos) << msg;
  msg = loadError(dir, rawFile(R"({"w":{"dtype":"F32","shape":[1]}})", data));
  EXPECT_NE(msg.find("data_offsets"), std::string::npos) << msg;
  msg = loadError(dir, rawFile(R"({"w":1,"w":2})", ""));
  EXPECT_NE(msg.find("duplicate key"), std::string::npos) << msg;
  msg = loadError(dir, rawFile(R"({"w":{"dtype":"F32","shape":[-1],)"
                               R"("data_offsets":[0,4]}})",
                               data));
  EXPECT_NE(msg.find("non-negative integers"), std::string::npos) << msg;
  msg = loadError(dir, rawFile("[[[[[[[[[[1]]]]]]]]]]", ""));
  EXPECT_NE(msg.find("nesting too deep"), std::string::npos) << msg;
  msg = loadError(dir, rawFile(R"({"__metadata__":{"k":3}})", ""));
  EXPECT_NE(msg.find("not a string"), std::string::npos) << msg;
  msg = loadError(dir, rawFile("{\"w\":{\"dtype\":\"F32\"", ""));
  EXPECT_NE(msg.find("unexpected end"), std::string::npos) << msg;
}

TEST(SafeTensorsTest, NonUtf8MetadataIsRefused) {
  TempDir dir;
  std::string msg =
      loadError(dir, rawFile("{\"__metadata__\":{\"k\":\"\xff\xfe\"}}", ""));
  EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
  msg = loadError(dir, rawFile("{\"__metadata__\":{\"k\":\"\\ud800\"}}", ""));
  EXPECT_NE(msg.find("surrogate"), std::string::npos) << msg;
}

} // namespace
