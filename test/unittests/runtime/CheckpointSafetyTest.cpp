//===- CheckpointSafetyTest.cpp - Careless saves and loads ----------------===//
//-----------------===//
//
// What happens when a checkpoint is saved over a symbolic link, a FIFO or a
// device, is corrupted on disk, is left half-written by a killed save, or is
// loaded into weights of another shape with as many elements (through the
// C API that generated headers use). Each case is a mistake a user makes
// without noticing; each must end in a clear error or in the file the user
// meant, never in a silently replaced node or wrong weights.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtil.h"

#include "runtime/CApi.h"
#include "runtime/Json.h"
#include "runtime/SafeTensors.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace layerc;
using layerc::test::errorOf;
using layerc::test::readBytes;
using layerc::test::TempDir;
using layerc::test::writeBytes;

namespace {

SafeTensorsFile smallFile(float value) {
  SafeTensorsFile file;
  file.tensors.emplace_back("dense/kernel",
                            Tensor::fromFloats({value, 2, 3, 4, 5, 6}, {2, 3}));
  file.tensors.emplace_back("dense/bias", Tensor::fromFloats({7, 8, 9}, {3}));
  return file;
}

float firstKernelValue(const std::string &path) {
  return loadSafeTensors(path).find("dense/kernel")->data<float>()[0];
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// The JSON header of a safetensors file.
Json headerOf(const std::string &path) {
  std::string bytes = readBytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  return Json::parse(bytes.substr(8, n), path);
}

/// Bitwise CRC-32, the definition crc32() (zlib's) must match.
uint32_t referenceCrc32(const std::string &bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

/// A pid that no process has: a child that has exited and been reaped.
pid_t deadPid() {
  pid_t child = fork();
  if (child == 0)
    _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

//===----------------------------------------------------------------------===//
// Targets that are not plain files
//===----------------------------------------------------------------------===//

TEST(CheckpointSafetyTest, SaveWritesThroughSymbolicLinks) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("real"));
  std::string real = dir.file("real/ckpt.safetensors");
  saveSafeTensors(real, smallFile(1));
  ::chmod(real.c_str(), 0600);
  // A relative link, resolved against the link's own directory, through a
  // second link.
  std::string link = dir.file("latest.safetensors");
  std::string link2 = dir.file("latest2.safetensors");
  std::filesystem::create_symlink("real/ckpt.safetensors", link);
  std::filesystem::create_symlink(link, link2);

  saveSafeTensors(link2, smallFile(2));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_TRUE(std::filesystem::is_symlink(link2));
  EXPECT_EQ(firstKernelValue(real), 2.0f);
  EXPECT_EQ(firstKernelValue(link2), 2.0f);
  struct stat st;
  ASSERT_EQ(::stat(real.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the replaced file keeps its mode";
  // The temporary went next to the file, and nothing is left over.
  size_t entries = 0;
  for (auto &entry : std::filesystem::directory_iterator(dir.file("real")))
    entries += entry.is_regular_file();
  EXPECT_EQ(entries, 1u);

  // A dangling link creates the file it names, as open(O_CREAT) does.
  std::string dangling = dir.file("next.safetensors");
  std::filesystem::create_symlink("real/next.safetensors", dangling);
  saveSafeTensors(dangling, smallFile(3));
  EXPECT_TRUE(std::filesystem::is_symlink(dangling));
  EXPECT_EQ(firstKernelValue(dir.file("real/next.safetensors")), 3.0f);

  // A loop is an error, not a hang.
  std::filesystem::create_symlink("loop2", dir.file("loop1"));
  std::filesystem::create_symlink("loop1", dir.file("loop2"));
  std::string msg =
      errorOf([&] { saveSafeTensors(dir.file("loop1"), smallFile(4)); });
  EXPECT_TRUE(contains(msg, "too many levels of symbolic links")) << msg;
}

TEST(CheckpointSafetyTest, SaveRefusesTargetsThatAreNotRegularFiles) {
  TempDir dir;
  std::string fifo = dir.file("pipe.safetensors");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  std::string msg = errorOf([&] { saveSafeTensors(fifo, smallFile(1)); });
  EXPECT_TRUE(contains(msg, fifo)) << msg;
  EXPECT_TRUE(contains(msg, "is a FIFO")) << msg;
  EXPECT_TRUE(contains(msg, "not a regular file")) << msg;
  EXPECT_TRUE(std::filesystem::is_fifo(fifo)) << "the FIFO was replaced";

  std::string subdir = dir.file("dir.safetensors");
  std::filesystem::create_directory(subdir);
  msg = errorOf([&] { saveSafeTensors(subdir, smallFile(1)); });
  EXPECT_TRUE(contains(msg, "is a directory")) << msg;
  EXPECT_TRUE(std::filesystem::is_directory(subdir));

  std::string socketPath = dir.file("s.safetensors");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socketPath.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, socketPath.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  msg = errorOf([&] { saveSafeTensors(socketPath, smallFile(1)); });
  ::close(fd);
  EXPECT_TRUE(contains(msg, "is a socket")) << msg;
  EXPECT_TRUE(std::filesystem::is_socket(socketPath));

  // Through a link, the message says where the link leads.
  std::string toFifo = dir.file("to-pipe.safetensors");
  std::filesystem::create_symlink(fifo, toFifo);
  msg = errorOf([&] { saveSafeTensors(toFifo, smallFile(1)); });
  EXPECT_TRUE(contains(msg, toFifo)) << msg;
  EXPECT_TRUE(contains(msg, "a symbolic link to '" + fifo + "'")) << msg;
  EXPECT_TRUE(std::filesystem::is_symlink(toFifo));

  // A device (reached through a link, so that a failure cannot replace
  // /dev/null itself: the save would have to rename into /dev).
  std::string toNull = dir.file("null.safetensors");
  std::filesystem::create_symlink("/dev/null", toNull);
  msg = errorOf([&] { saveSafeTensors(toNull, smallFile(1)); });
  EXPECT_TRUE(contains(msg, "is a character device")) << msg;
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
  EXPECT_TRUE(std::filesystem::is_symlink(toNull));

  // Nothing was left behind by any refused save.
  for (auto &entry : std::filesystem::directory_iterator(dir.file("")))
    EXPECT_FALSE(entry.is_regular_file()) << entry.path();
}

//===----------------------------------------------------------------------===//
// Checksums
//===----------------------------------------------------------------------===//

TEST(CheckpointSafetyTest, Crc32MatchesTheStandard) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog", 43),
            0x414FA339u);
  // Every length and alignment against the bitwise definition, and
  // continuing a running checksum.
  std::mt19937 rng(7);
  std::string bytes(1000, '\0');
  for (char &c : bytes)
    c = static_cast<char>(rng());
  for (size_t begin = 0; begin < 9; ++begin)
    for (size_t size : {0, 1, 7, 8, 9, 15, 16, 17, 63, 991}) {
      std::string part = bytes.substr(begin, size);
      ASSERT_EQ(crc32(part.data(), part.size()), referenceCrc32(part))
          << begin << " " << size;
    }
  uint32_t running = crc32(bytes.data(), 333);
  EXPECT_EQ(crc32(bytes.data() + 333, bytes.size() - 333, running),
            referenceCrc32(bytes));
}

TEST(CheckpointSafetyTest, SavesStoreAChecksumPerTensor) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  SafeTensorsFile file = smallFile(1);
  file.metadata["format"] = "layerc-weights";
  saveSafeTensors(path, file);

  Json header = headerOf(path);
  const Json *meta = header.get("__metadata__");
  ASSERT_TRUE(meta && meta->get(kChecksumKey) &&
              meta->get(kChecksumKey)->isString());
  Json sums = Json::parse(meta->get(kChecksumKey)->asString(), "sums");
  for (const auto &[name, t] : file.tensors) {
    std::string bytes(static_cast<const char *>(t.rawData()), t.nbytes());
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", referenceCrc32(bytes));
    ASSERT_TRUE(sums.get(name)) << name;
    EXPECT_EQ(sums.get(name)->asString(), hex) << name;
  }
  // The checksums are the file's business, not the caller's metadata.
  SafeTensorsFile back = loadSafeTensors(path);
  EXPECT_EQ(back.metadata, file.metadata);
}

TEST(CheckpointSafetyTest, CorruptedTensorsAreRefusedOnLoad) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  saveSafeTensors(path, smallFile(1));
  std::string bytes = readBytes(path);
  // Flip one bit of the last tensor's last byte (dense/bias is last).
  bytes.back() = static_cast<char>(bytes.back() ^ 0x10);
  writeBytes(path, bytes);
  std::string msg = errorOf([&] { loadSafeTensors(path); });
  EXPECT_TRUE(contains(msg, path)) << msg;
  EXPECT_TRUE(contains(msg, "'dense/bias'")) << msg;
  EXPECT_TRUE(contains(msg, "checksum mismatch")) << msg;
  EXPECT_TRUE(contains(msg, "the file is corrupted")) << msg;

  // The C API reports it too, and writes nothing.
  float kernel[6] = {}, bias[3] = {};
  const char *names[] = {"dense/kernel", "dense/bias"};
  float *dst[] = {kernel, bias};
  int64_t ranks[] = {2, 1};
  int64_t kernelShape[] = {2, 3}, biasShape[] = {3};
  const int64_t *shapes[] = {kernelShape, biasShape};
  char error[512];
  ASSERT_EQ(layerc_read_tensors_shaped(path.c_str(), 2, names, dst, ranks,
                                       shapes, error, sizeof error),
            1);
  EXPECT_TRUE(contains(error, "checksum mismatch")) << error;
  EXPECT_EQ(kernel[0], 0.0f);
  int64_t counts[] = {6, 3};
  ASSERT_EQ(layerc_read_tensors(path.c_str(), 2, names, dst, counts, error,
                                sizeof error),
            1);
  EXPECT_TRUE(contains(error, "checksum mismatch")) << error;
}

TEST(CheckpointSafetyTest, ChecksumMetadataMustBeWellFormed) {
  TempDir dir;
  std::string path = dir.file("hand.safetensors");
  auto fileWith = [&](const std::string &sums) {
    std::string header = R"({"__metadata__":{"layerc.crc32":)" + sums +
                         R"(},"w":{"dtype":"U8","shape":[4],)"
                         R"("data_offsets":[0,4]}})";
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
      out[i] =
          static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
    writeBytes(path, out + header + "abcd");
  };
  char good[16];
  std::snprintf(good, sizeof good, "%08x", referenceCrc32("abcd"));
  fileWith(R"("{\"w\":\")" + std::string(good) + R"(\"}")");
  EXPECT_EQ(loadSafeTensors(path).find("w")->data<uint8_t>()[0], 'a');

  auto refused = [&](const std::string &sums, const std::string &why) {
    fileWith(sums);
    std::string msg = errorOf([&] { loadSafeTensors(path); });
    EXPECT_TRUE(contains(msg, path)) << msg;
    EXPECT_TRUE(contains(msg, why)) << sums << ": " << msg;
  };
  refused(R"("[1]")", "is not a JSON object");
  refused(R"("{}")", "has no checksum for tensor 'w'");
  refused(R"("{\"w\":\"xyz\"}")", "malformed checksum for tensor 'w'");
  refused(R"("{\"w\":7}")", "malformed checksum for tensor 'w'");
  refused(R"("{\"w\":\")" + std::string(good) + R"(\",\"v\":\"00000000\"}")",
          "names tensor 'v', which the file lacks");
  refused(R"("{\"w\":\"00000000\"}")", "checksum mismatch");
  refused(R"("not json")", "malformed JSON");
}

//===----------------------------------------------------------------------===//
// Temporaries of killed saves
//===----------------------------------------------------------------------===//

TEST(CheckpointSafetyTest, SaveRemovesTheTemporariesOfDeadProcesses) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  std::string dead = dir.file(".ckpt.safetensors.tmp." +
                              std::to_string(deadPid()) + ".Ab12Cd");
  std::string live = dir.file(".ckpt.safetensors.tmp." +
                              std::to_string(::getpid()) + ".Ef34Gh");
  std::string otherTarget = dir.file(".other.safetensors.tmp." +
                                     std::to_string(deadPid()) + ".Ij56Kl");
  std::string notOurs = dir.file(".ckpt.safetensors.tmp.notapid.Mn78Op");
  for (const std::string &p : {dead, live, otherTarget, notOurs})
    writeBytes(p, "half a checkpoint");

  saveSafeTensors(path, smallFile(1));
  EXPECT_FALSE(std::filesystem::exists(dead)) << "a dead save's temporary";
  EXPECT_TRUE(std::filesystem::exists(live)) << "a live process's temporary";
  EXPECT_TRUE(std::filesystem::exists(otherTarget)) << "another target's";
  EXPECT_TRUE(std::filesystem::exists(notOurs)) << "not a temporary name";
  EXPECT_EQ(firstKernelValue(path), 1.0f);
}

TEST(CheckpointSafetyTest, TheNextSaveCleansUpAfterAKilledOne) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  auto temporaries = [&] {
    size_t n = 0;
    for (auto &entry : std::filesystem::directory_iterator(dir.file("")))
      n += entry.path().filename().string().rfind(".ckpt.safetensors.tmp.",
                                                  0) == 0;
    return n;
  };
  SafeTensorsFile big;
  big.tensors.emplace_back("w", Tensor({1024, 1024})); // 4 MiB
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> delayUs(0, 20000);
  // Kill saves at random moments until one dies holding its temporary.
  size_t leftBehind = 0;
  for (int round = 0; round < 50 && leftBehind == 0; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0)
      for (;;)
        saveSafeTensors(path, big);
    usleep(static_cast<useconds_t>(1000 + delayUs(rng)));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    leftBehind = temporaries();
  }
  ASSERT_GT(leftBehind, 0u) << "no save was killed holding its temporary";
  saveSafeTensors(path, smallFile(5));
  EXPECT_EQ(temporaries(), 0u);
  EXPECT_EQ(firstKernelValue(path), 5.0f);
}

//===----------------------------------------------------------------------===//
// Shapes through the C API
//===----------------------------------------------------------------------===//

TEST(CheckpointSafetyTest, CApiReadChecksShapesNotJustCounts) {
  TempDir dir;
  std::string path = dir.file("w.safetensors");
  // Saved as (3, 2): the transpose of the (2, 3) kernel the model expects.
  float kernelT[6] = {1, 2, 3, 4, 5, 6}, bias[3] = {7, 8, 9};
  const char *names[] = {"dense/kernel", "dense/bias"};
  const float *src[] = {kernelT, bias};
  int64_t ranks[] = {2, 1};
  int64_t transposed[] = {3, 2}, biasShape[] = {3};
  const int64_t *savedShapes[] = {transposed, biasShape};
  char error[512] = "";
  ASSERT_EQ(layerc_write_tensors(path.c_str(), 2, names, src, ranks,
                                 savedShapes, error, sizeof error),
            0)
      << error;

  float kernel[6] = {}, biasOut[3] = {};
  float *dst[] = {kernel, biasOut};
  int64_t expected[] = {2, 3};
  const int64_t *shapes[] = {expected, biasShape};
  ASSERT_EQ(layerc_read_tensors_shaped(path.c_str(), 2, names, dst, ranks,
                                       shapes, error, sizeof error),
            1);
  EXPECT_TRUE(contains(error, path)) << error;
  EXPECT_TRUE(contains(error, "'dense/kernel'")) << error;
  EXPECT_TRUE(contains(error, "(3, 2)")) << error;
  EXPECT_TRUE(contains(error, "(2, 3)")) << error;
  EXPECT_TRUE(contains(error, "transposed")) << error;
  EXPECT_EQ(kernel[0], 0.0f) << "nothing is written on error";
  EXPECT_EQ(biasOut[0], 0.0f) << "nothing is written on error";

  // Another rank is refused too.
  int64_t flat[] = {6};
  int64_t flatRanks[] = {1, 1};
  const int64_t *flatShapes[] = {flat, biasShape};
  ASSERT_EQ(layerc_read_tensors_shaped(path.c_str(), 2, names, dst, flatRanks,
                                       flatShapes, error, sizeof error),
            1);
  EXPECT_TRUE(contains(error, "(6,)")) << error;

  // The right shapes load.
  savedShapes[0] = expected;
  ASSERT_EQ(layerc_write_tensors(path.c_str(), 2, names, src, ranks,
                                 savedShapes, error, sizeof error),
            0)
      << error;
  ASSERT_EQ(layerc_read_tensors_shaped(path.c_str(), 2, names, dst, ranks,
                                       shapes, error, sizeof error),
            0)
      << error;
  EXPECT_EQ(kernel[5], 6.0f);
  EXPECT_EQ(biasOut[2], 9.0f);

  // NULL shapes are an error, not a crash.
  const int64_t *nullShapes[] = {nullptr, biasShape};
  ASSERT_EQ(layerc_read_tensors_shaped(path.c_str(), 2, names, dst, ranks,
                                       nullShapes, error, sizeof error),
            1);
  EXPECT_TRUE(contains(error, "NULL")) << error;
}

} // namespace
