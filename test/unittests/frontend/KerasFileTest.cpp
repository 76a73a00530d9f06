//===- KerasFileTest.cpp - Keras 3 .keras files without Python ------------===//
//
// Model::save() / loadModel() on .keras files: a round trip that keeps the
// weights and the compile options, and malformed files (a truncated zip, a
// missing entry, an entry larger than the file, a corrupt entry, broken
// JSON or HDF5, a dataset of the wrong shape, the wrong number of
// variables, a huge class name, entries sharing bytes or inflating to too
// much, a dataset in an external file) that each give an error naming the
// file and what is wrong.
// Keras itself checks the format in test/keras-files/keras_roundtrip.py.
//
//===----------------------------------------------------------------------===//

#include "frontend/KerasFile.h"
#include "ErrorTestUtil.h"
#include "layerc/layerc.h"
#include "runtime/Json.h"
#include "runtime/Zip.h"

#include "gtest/gtest.h"

#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace layerc;
using test::errorOf;

namespace {

std::string tempPath(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("layerc-keras-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeAll(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// Input(4) -> Dense(units, named "hidden") -> Dense(2, named "out").
Model mlp(int64_t units = 3, bool bias = true) {
  auto x = Input({4}, {.name = "x"});
  auto h = layers::Dense(
      units, {.activation = "relu", .use_bias = bias, .name = "hidden"})(x);
  return Model(x, layers::Dense(2, {.name = "out"})(h), "mlp");
}

/// The entries of `model` saved as a .keras file.
std::vector<ZipEntry> entriesOf(const Model &model, const std::string &name) {
  std::string path = tempPath(name);
  model.save(path);
  std::vector<ZipEntry> entries = readZipFile(path);
  std::filesystem::remove(path);
  return entries;
}

std::string &entry(std::vector<ZipEntry> &entries, const std::string &name) {
  for (ZipEntry &e : entries)
    if (e.name == name)
      return e.data;
  ADD_FAILURE() << "no entry " << name;
  return entries[0].data;
}

/// The error loadModel() gives for an archive of `entries`.
std::string loadError(const std::string &name,
                      const std::vector<ZipEntry> &entries) {
  std::string path = tempPath(name);
  writeAll(path, writeZip(entries));
  std::string error = errorOf([&] { loadModel(path); });
  std::filesystem::remove(path);
  return error;
}

} // namespace

TEST(KerasFileTest, RoundTripKeepsWeightsAndCompileOptions) {
  Model model = mlp();
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::Adam({.learning_rate = 0.02}),
       .metrics = {"accuracy"}});
  std::string path = tempPath("roundtrip.keras");
  model.save(path);
  EXPECT_TRUE(looksLikeZip(readAll(path)));
  Model loaded = loadModel(path);
  ASSERT_TRUE(loaded.compiled());
  Tensor x = Tensor::fromFloats({1, -2, 3, 0.5f, 0, 1, -1, 2}, {2, 4});
  Tensor a = model.predict(x), b = loaded.predict(x);
  for (int64_t i = 0; i < a.numel(); ++i)
    EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);
  // Keras's compile=False; and the same file under another name is still
  // recognized by its zip magic.
  EXPECT_FALSE(loadModel(path, {}, false).compiled());
  std::string other = tempPath("roundtrip.bin");
  std::filesystem::copy_file(path, other);
  EXPECT_TRUE(loadModel(other).compiled());
  std::filesystem::remove(other);
  std::filesystem::remove(path);
}

TEST(KerasFileTest, TruncatedZipIsRefused) {
  std::string path = tempPath("truncated.keras");
  mlp().save(path);
  std::string bytes = readAll(path);
  writeAll(path, bytes.substr(0, bytes.size() / 2));
  std::string error = errorOf([&] { loadModel(path); });
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("end-of-central-directory"), std::string::npos) << error;
  writeAll(path, "PK\x03\x04");
  EXPECT_NE(errorOf([&] { loadModel(path); }).find("too short"),
            std::string::npos);
  std::filesystem::remove(path);
}

TEST(KerasFileTest, MissingConfigIsRefused) {
  std::vector<ZipEntry> entries = entriesOf(mlp(), "missing.keras");
  std::erase_if(entries,
                [](const ZipEntry &e) { return e.name == "config.json"; });
  std::string error = loadError("missing.keras", entries);
  EXPECT_NE(error.find("no entry 'config.json'"), std::string::npos) << error;
}

TEST(KerasFileTest, EntryLargerThanTheFileIsRefused) {
  std::string path = tempPath("huge.keras");
  mlp().save(path);
  std::string bytes = readAll(path);
  // The first central directory entry: both sizes say 2 GiB.
  size_t dir = bytes.find("PK\x01\x02");
  ASSERT_NE(dir, std::string::npos);
  for (size_t at : {dir + 20, dir + 24})
    bytes.replace(at, 4, std::string("\xff\xff\xff\x7f", 4));
  writeAll(path, bytes);
  std::string error = errorOf([&] { loadModel(path); });
  EXPECT_NE(error.find("zip entry 'metadata.json'"), std::string::npos)
      << error;
  EXPECT_NE(error.find("2147483647 bytes of data"), std::string::npos) << error;
  std::filesystem::remove(path);
}

TEST(KerasFileTest, CorruptEntryIsRefused) {
  std::string path = tempPath("crc.keras");
  mlp().save(path);
  std::string bytes = readAll(path);
  size_t config = bytes.find("\"layers\"");
  ASSERT_NE(config, std::string::npos);
  bytes[config + 1] = 'L';
  writeAll(path, bytes);
  std::string error = errorOf([&] { loadModel(path); });
  EXPECT_NE(error.find("'config.json': CRC-32 mismatch"), std::string::npos)
      << error;
  std::filesystem::remove(path);
}

TEST(KerasFileTest, BrokenJsonAndHdf5AreRefused) {
  std::vector<ZipEntry> entries = entriesOf(mlp(), "broken.keras");
  std::vector<ZipEntry> badJson = entries;
  entry(badJson, "config.json") = "{\"class_name\": ";
  std::string error = loadError("badjson.keras", badJson);
  EXPECT_NE(error.find("config.json"), std::string::npos) << error;

  std::vector<ZipEntry> noLayers = entries;
  entry(noLayers, "config.json") =
      "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\"}}";
  error = loadError("nolayers.keras", noLayers);
  EXPECT_NE(error.find("config.json: the model needs a list \"layers\""),
            std::string::npos)
      << error;

  std::vector<ZipEntry> badH5 = entries;
  entry(badH5, "model.weights.h5") = std::string(4096, 'x');
  error = loadError("badh5.keras", badH5);
  EXPECT_NE(error.find("model.weights.h5: not a valid HDF5 file"),
            std::string::npos)
      << error;
}

TEST(KerasFileTest, DatasetOfTheWrongShapeIsRefused) {
  // mlp(5)'s weights under mlp(3)'s config.
  std::vector<ZipEntry> entries = entriesOf(mlp(3), "shape.keras");
  std::vector<ZipEntry> wider = entriesOf(mlp(5), "shape5.keras");
  entry(entries, "model.weights.h5") = entry(wider, "model.weights.h5");
  std::string error = loadError("shape.keras", entries);
  EXPECT_NE(error.find("dataset 'layers/dense/vars/0' (hidden/kernel) has "
                       "shape (4, 5) but the model expects (4, 3)"),
            std::string::npos)
      << error;
}

TEST(KerasFileTest, WrongWeightCountIsRefused) {
  // Weights without the hidden layer's bias under a config with one.
  std::vector<ZipEntry> entries = entriesOf(mlp(3, true), "count.keras");
  std::vector<ZipEntry> noBias = entriesOf(mlp(3, false), "nobias.keras");
  entry(entries, "model.weights.h5") = entry(noBias, "model.weights.h5");
  std::string error = loadError("count.keras", entries);
  EXPECT_NE(error.find("group 'layers/dense/vars' holds 1 variables but "
                       "layer hidden (Dense) has 2 weights"),
            std::string::npos)
      << error;
}

/// Damage anywhere in the zip's headers, or inside the HDF5 file (the
/// archive rebuilt with correct checksums), gives an Error or a model,
/// never a crash.
TEST(KerasFileTest, DamagedBytesNeverCrash) {
  std::string path = tempPath("damaged.keras");
  mlp().save(path);
  const std::string bytes = readAll(path);
  std::vector<size_t> positions;
  for (size_t i = 0; i < 64; ++i)
    positions.push_back(i);
  for (size_t i = bytes.size() - 240; i < bytes.size(); ++i)
    positions.push_back(i);
  for (size_t at : positions) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    writeAll(path, damaged);
    try {
      loadModel(path);
    } catch (const Error &) {
    }
  }
  std::vector<ZipEntry> entries = readZip(bytes, path);
  const std::string h5 = entry(entries, "model.weights.h5");
  int refused = 0;
  for (size_t at = 0; at < h5.size(); at += 97) {
    entry(entries, "model.weights.h5") = h5;
    entry(entries, "model.weights.h5")[at] ^= 0x5a;
    writeAll(path, writeZip(entries));
    try {
      loadModel(path);
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("model.weights.h5"),
                std::string::npos)
          << e.what();
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  std::filesystem::remove(path);
}

/// A 100,000-character class name once overflowed the stack (std::regex in
/// snakeCase recursed per character); it is refused, from loadModel() and
/// readCompileConfig() alike.
TEST(KerasFileTest, HugeClassNameIsRefused) {
  std::vector<ZipEntry> entries = entriesOf(mlp(), "longname.keras");
  Json config = Json::parse(entry(entries, "config.json"), "config.json");
  config.set("compile_config",
             Json::parse("{\"loss\": {\"class_name\": \"" +
                             std::string(100000, '!') + "\", \"config\": {}}}",
                         "compile_config"));
  entry(entries, "config.json") = config.dump();
  std::string path = tempPath("longname.keras");
  writeAll(path, writeZip(entries));
  for (std::string error : {errorOf([&] { loadModel(path); }),
                            errorOf([&] { readCompileConfig(path); })})
    EXPECT_NE(error.find("config.json: a loss has a class_name of 100000 "
                         "characters (at most 1024)"),
              std::string::npos)
        << error;
  std::filesystem::remove(path);
  EXPECT_EQ(keras::snakeCase("Conv2DTranspose"), "conv2d_transpose");
  EXPECT_EQ(keras::snakeCase("My-ReLULayer!"), "my_re_lu_layer");
}

namespace {

/// The offset of the central directory entry of `name` in a zip.
size_t centralEntry(const std::string &zip, const std::string &name) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos;
       at = zip.find("PK\x01\x02", at + 4))
    if (zip.compare(at + 46, name.size(), name) == 0)
      return at;
  ADD_FAILURE() << "no central directory entry " << name;
  return 0;
}

void put32(std::string &zip, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    zip[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::string zipError(const std::string &name, const std::string &zip) {
  std::string path = tempPath(name);
  writeAll(path, zip);
  std::string error = errorOf([&] { loadModel(path); });
  std::filesystem::remove(path);
  return error;
}

} // namespace

/// Several directory entries naming the same bytes (one deflate stream
/// referenced many times multiplies what it inflates to), a local header
/// naming another entry, and entries claiming more than 4 GiB in all.
TEST(KerasFileTest, SharedOrHugeEntriesAreRefused) {
  std::vector<ZipEntry> entries = entriesOf(mlp(), "shared.keras");
  // "pad" holds metadata.json's local header and data; metadata.json's
  // directory entry is pointed there, inside pad's bytes.
  std::string metadata = entry(entries, "metadata.json");
  std::string inner = writeZip({{"metadata.json", metadata}});
  entries.insert(entries.begin(),
                 {"pad", inner.substr(0, 30 + 13 + metadata.size())});
  std::string zip = writeZip(entries);
  put32(zip, centralEntry(zip, "metadata.json") + 42, 30 + 3);
  std::string error = zipError("shared.keras", zip);
  EXPECT_NE(error.find("zip entry 'metadata.json' overlaps entry 'pad'"),
            std::string::npos)
      << error;

  // config.json's local header says "confiX.json".
  zip = writeZip(entriesOf(mlp(), "renamed.keras"));
  size_t local = zip.find("config.json");
  ASSERT_LT(local, zip.find("PK\x01\x02"));
  zip[local + 5] = 'X';
  error = zipError("renamed.keras", zip);
  EXPECT_NE(error.find("zip entry 'config.json': its local header names "
                       "another entry ('confiX.json')"),
            std::string::npos)
      << error;

  // Two entries read that claim 2.5 GiB each, deflated (from 2.7 MB,
  // within deflate's ratio): refused before anything is allocated.
  entries = entriesOf(mlp(), "bomb.keras");
  entry(entries, "config.json") = std::string(2700000, 'x');
  entry(entries, "model.weights.h5") = std::string(2700000, 'x');
  zip = writeZip(entries);
  for (const char *name : {"config.json", "model.weights.h5"}) {
    size_t at = centralEntry(zip, name);
    zip[at + 10] = 8; // deflate
    put32(zip, at + 24, 0xa0000000u);
  }
  error = zipError("bomb.keras", zip);
  EXPECT_NE(error.find("its entries inflate to more than 4294967295 bytes"),
            std::string::npos)
      << error;
}

/// Entries other than config.json and model.weights.h5 are checked but
/// never inflated: a corrupt extra entry does not stop the load.
TEST(KerasFileTest, OnlyTheEntriesReadAreInflated) {
  std::vector<ZipEntry> entries = entriesOf(mlp(), "extra.keras");
  entries.push_back({"assets/extra.bin", std::string(1000, 'a')});
  std::string zip = writeZip(entries);
  zip[zip.find(std::string(1000, 'a'))] = 'b'; // CRC mismatch
  std::string path = tempPath("extra.keras");
  writeAll(path, zip);
  EXPECT_NO_THROW(loadModel(path));
  EXPECT_EQ(readZip(zip, path, {"config.json"}).size(), 1u);
  std::filesystem::remove(path);
}

/// A dataset whose data lives in an external file (H5Pset_external) would
/// read any file on disk into the weights; it is refused by name.
TEST(KerasFileTest, ExternalDatasetIsRefused) {
  std::string secret = std::filesystem::absolute(tempPath("secret")).string();
  writeAll(secret, std::string(4 * 3 * 4, '\x01'));
  std::string h5 = tempPath("external.h5");
  hid_t file = H5Fcreate(h5.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  for (const char *g : {"layers", "layers/dense", "layers/dense/vars",
                        "layers/dense_1", "layers/dense_1/vars"})
    H5Gclose(H5Gcreate2(file, g, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  auto dataset = [&](const std::string &name, std::vector<hsize_t> dims,
                     const char *external) {
    hid_t space =
        H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (external) {
      ASSERT_GE(H5Pset_external(dcpl, external, 0, 4 * 3 * 4), 0);
    }
    hid_t set = H5Dcreate2(file, name.c_str(), H5T_NATIVE_FLOAT, space,
                           H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(set, 0);
    if (!external) {
      std::vector<float> zeros(16, 0.0f);
      H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
               zeros.data());
    }
    H5Dclose(set);
    H5Pclose(dcpl);
    H5Sclose(space);
  };
  dataset("layers/dense/vars/0", {4, 3}, secret.c_str());
  dataset("layers/dense/vars/1", {3}, nullptr);
  dataset("layers/dense_1/vars/0", {3, 2}, nullptr);
  dataset("layers/dense_1/vars/1", {2}, nullptr);
  H5Fclose(file);
  std::vector<ZipEntry> entries = entriesOf(mlp(), "external.keras");
  entry(entries, "model.weights.h5") = readAll(h5);
  std::string error = loadError("external.keras", entries);
  EXPECT_NE(error.find("model.weights.h5: dataset 'layers/dense/vars/0' "
                       "(hidden/kernel) keeps its data in external files"),
            std::string::npos)
      << error;
  std::filesystem::remove(h5);
  std::filesystem::remove(secret);
}
