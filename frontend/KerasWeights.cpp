//===- KerasWeights.cpp - model.weights.h5 of .keras files ----------------===//
//
// Keras 3 keeps a layer's variables in an HDF5 group "<group>/vars" as
// datasets "0", "1", ... in the order the layer created them (trainable
// first, then the others; layerc's weights() order). The file is built and
// read in memory (HDF5's core driver with a file image), so nothing touches
// the disk but the zip. HDF5's automatic error printing is off and every
// failure becomes a layerc::Error naming the file and the dataset; shapes
// are checked against the model's weights before any data is read, so a
// hostile file cannot make us allocate more than the model holds, and a
// dataset's data must be in the file (no external files, no virtual
// datasets); filter plugins are never loaded.
// libhdf5 (serial) is not thread-safe: one mutex serializes its use.
//
//===----------------------------------------------------------------------===//

#include "frontend/KerasFile.h"
#include "runtime/Error.h"

#include <hdf5.h>

#include <mutex>
#include <set>
#include <vector>

using namespace layerc;
using namespace layerc::keras;

namespace {

std::mutex hdf5Mutex;

/// The name of the in-memory files. The core driver refuses a name that
/// exists on disk; nothing can exist under /dev/null.
constexpr const char *kMemoryName = "/dev/null/layerc-model.weights.h5";

/// An HDF5 identifier closed with `close` when it goes out of scope.
class Handle {
public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() {
    if (id_ >= 0)
      close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// Silences HDF5's error stack printing and turns off its loading of
/// filter plugins (shared libraries a file's filter pipeline could name),
/// once, under the mutex.
void quietHdf5() {
  static bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    H5PLset_loading_state(0);
    return true;
  }();
  (void)done;
}

hid_t memoryType(DType dtype) {
  switch (dtype) {
  case DType::Float32:
    return H5T_NATIVE_FLOAT;
  case DType::Float64:
    return H5T_NATIVE_DOUBLE;
  case DType::Int32:
    return H5T_NATIVE_INT32;
  case DType::Int64:
    return H5T_NATIVE_INT64;
  case DType::UInt8:
    return H5T_NATIVE_UINT8;
  }
  return H5T_NATIVE_FLOAT;
}

/// Whether `name` is a link in `parent` (no error for a missing one).
/// Only hard links count: a soft or external link could send HDF5 to
/// another object or to a file on disk that the archive does not hold.
bool hasLink(hid_t parent, const std::string &name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0)
    return false;
  H5L_info_t info;
  return H5Lget_info(parent, name.c_str(), &info, H5P_DEFAULT) >= 0 &&
         info.type == H5L_TYPE_HARD;
}

/// The group at `path` (components separated by '/'), or an invalid handle
/// if any component is missing or not a group.
Handle openGroup(hid_t file, const std::string &path) {
  size_t at = 0;
  while (true) {
    size_t slash = path.find('/', at);
    std::string prefix = path.substr(0, slash);
    if (!hasLink(file, prefix))
      return Handle(-1, H5Gclose);
    if (slash == std::string::npos)
      break;
    at = slash + 1;
  }
  H5O_info_t info;
  if (H5Oget_info_by_name2(file, path.c_str(), &info, H5O_INFO_BASIC,
                           H5P_DEFAULT) < 0 ||
      info.type != H5O_TYPE_GROUP)
    return Handle(-1, H5Gclose);
  return Handle(H5Gopen2(file, path.c_str(), H5P_DEFAULT), H5Gclose);
}

/// Refuses a dataset whose data is not in the file itself: an external
/// file list or a virtual (VDS) layout reads bytes from files on disk
/// (~/.ssh/id_rsa into the weights), which the archive does not hold.
void checkStorage(hid_t set, const std::string &what) {
  Handle dcpl(H5Dget_create_plist(set), H5Pclose);
  if (!dcpl.ok())
    throw Error(what + " cannot be opened (no creation properties)");
  H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS &&
      layout != H5D_CHUNKED)
    throw Error(what + " has a virtual or unknown storage layout (only "
                       "compact, contiguous and chunked data in the file "
                       "itself is read)");
  int external = H5Pget_external_count(dcpl.get());
  if (external != 0)
    throw Error(what + " keeps its data in external files (only data in "
                       "the file itself is read)");
}

/// Where a layer's variables live: "<group>/vars", or for Keras's
/// recurrent layers, which keep them in their cell, "<group>/cell/vars".
std::string varsOf(const Layer &layer, const std::string &group) {
  static const std::set<std::string> cells = {
      "LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"};
  return group + (cells.count(layer.className()) ? "/cell/vars" : "/vars");
}

} // namespace

std::string
layerc::keras::writeWeightsH5(const Model &model,
                              const std::map<std::string, std::string> &paths) {
  std::lock_guard<std::mutex> lock(hdf5Mutex);
  quietHdf5();
  auto fail = [](const std::string &what) {
    return Error("cannot write model.weights.h5: " + what);
  };
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), 1 << 20, 0) < 0)
    throw fail("HDF5's in-memory driver is unavailable");
  Handle file(H5Fcreate(kMemoryName, H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
              H5Fclose);
  if (!file.ok())
    throw fail("HDF5 cannot create the file");
  // Keras writes every layer's group, weights or not; parents first.
  std::vector<std::string> groups = {"layers", "vars"};
  std::map<std::string, std::string> byGroup;
  for (const auto &[name, group] : paths)
    byGroup[group] = name;
  for (const auto &[group, name] : byGroup) // parents sort first
    groups.push_back(group);
  for (const std::string &g : groups) {
    if (hasLink(file.get(), g))
      continue;
    Handle h(H5Gcreate2(file.get(), g.c_str(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Gclose);
    if (!h.ok())
      throw fail("cannot create group " + g);
  }
  for (const auto &layer : model.weightLayers()) {
    auto found = paths.find(layer->name());
    if (found == paths.end())
      throw fail("layer " + layer->name() + " is not in the model config");
    std::string vars = varsOf(*layer, found->second);
    if (vars != found->second + "/vars")
      Handle(H5Gcreate2(file.get(), (found->second + "/cell").c_str(),
                        H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Gclose);
    Handle group(H5Gcreate2(file.get(), vars.c_str(), H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT),
                 H5Gclose);
    if (!group.ok())
      throw fail("cannot create group " + vars);
    const std::vector<Weight> &weights = layer->weights();
    for (size_t i = 0; i < weights.size(); ++i) {
      const Tensor &t = weights[i].value;
      std::vector<hsize_t> dims(t.shape().begin(), t.shape().end());
      Handle space(
          H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
          H5Sclose);
      hid_t type = memoryType(t.dtype());
      Handle set(H5Dcreate2(group.get(), std::to_string(i).c_str(), type,
                            space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
      if (!space.ok() || !set.ok() ||
          H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                   t.rawData()) < 0)
        throw fail("cannot write " + vars + "/" + std::to_string(i));
    }
  }
  // Other layers: an empty vars group, as Keras writes.
  for (const auto &[group, name] : byGroup) {
    std::string vars = group + "/vars";
    if (!hasLink(file.get(), vars))
      Handle(H5Gcreate2(file.get(), vars.c_str(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Gclose);
  }
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0)
    throw fail("HDF5 cannot flush the file");
  ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  if (size <= 0)
    throw fail("HDF5 gives no file image");
  std::string image(static_cast<size_t>(size), '\0');
  if (H5Fget_file_image(file.get(), image.data(), image.size()) != size)
    throw fail("HDF5 gives no file image");
  return image;
}

SafeTensorsFile
layerc::keras::readWeightsH5(const std::string &h5, const Model &model,
                             const std::map<std::string, std::string> &paths,
                             const std::string &path) {
  std::lock_guard<std::mutex> lock(hdf5Mutex);
  quietHdf5();
  std::string where = path + ": model.weights.h5";
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), 1 << 20, 0) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<char *>(h5.data()), h5.size()) <
          0)
    throw Error(where + ": HDF5's in-memory driver is unavailable");
  Handle file(H5Fopen(kMemoryName, H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.ok())
    throw Error(where + ": not a valid HDF5 file");

  SafeTensorsFile out;
  for (const auto &layer : model.weightLayers()) {
    auto found = paths.find(layer->name());
    if (found == paths.end())
      throw Error(where + ": layer " + layer->name() +
                  " is not in config.json's layer list");
    std::string vars = varsOf(*layer, found->second);
    const std::vector<Weight> &weights = layer->weights();
    Handle group = openGroup(file.get(), vars);
    if (!group.ok())
      throw Error(where + ": no group '" + vars + "' for the " +
                  std::to_string(weights.size()) + " weights of layer " +
                  layer->name());
    H5G_info_t info;
    if (H5Gget_info(group.get(), &info) < 0)
      throw Error(where + ": cannot read group '" + vars + "'");
    if (info.nlinks != weights.size())
      throw Error(where + ": group '" + vars + "' holds " +
                  std::to_string(info.nlinks) + " variables but layer " +
                  layer->name() + " (" + layer->className() + ") has " +
                  std::to_string(weights.size()) + " weights");
    for (size_t i = 0; i < weights.size(); ++i) {
      const Tensor &want = weights[i].value;
      std::string name = vars + "/" + std::to_string(i);
      std::string what = where + ": dataset '" + name + "' (" + layer->name() +
                         "/" + weights[i].name + ")";
      if (!hasLink(group.get(), std::to_string(i)))
        throw Error(what + " is missing");
      H5O_info_t oinfo;
      if (H5Oget_info_by_name2(group.get(), std::to_string(i).c_str(), &oinfo,
                               H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
          oinfo.type != H5O_TYPE_DATASET)
        throw Error(what + " is not a dataset");
      Handle set(H5Dopen2(group.get(), std::to_string(i).c_str(), H5P_DEFAULT),
                 H5Dclose);
      Handle space(set.ok() ? H5Dget_space(set.get()) : -1, H5Sclose);
      Handle type(set.ok() ? H5Dget_type(set.get()) : -1, H5Tclose);
      if (!set.ok() || !space.ok() || !type.ok())
        throw Error(what + " cannot be opened");
      checkStorage(set.get(), what);
      H5T_class_t cls = H5Tget_class(type.get());
      if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        throw Error(what + " holds neither floats nor integers");
      int rank = H5Sget_simple_extent_ndims(space.get());
      if (rank < 0 || rank > 32)
        throw Error(what + " has an invalid rank");
      std::vector<hsize_t> dims(static_cast<size_t>(rank));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      std::vector<int64_t> shape(dims.begin(), dims.end());
      if (shape != want.shape()) {
        std::string have = "(";
        for (size_t d = 0; d < shape.size(); ++d)
          have += (d ? ", " : "") + std::to_string(shape[d]);
        have += shape.size() == 1 ? ",)" : ")";
        throw Error(what + " has shape " + have + " but the model expects " +
                    want.shapeString());
      }
      Tensor value(want.shape(), want.dtype());
      if (H5Dread(set.get(), memoryType(want.dtype()), H5S_ALL, H5S_ALL,
                  H5P_DEFAULT, value.rawData()) < 0)
        throw Error(what + " cannot be read (corrupt data)");
      out.tensors.emplace_back(layer->name() + "/" + weights[i].name,
                               std::move(value));
    }
  }
  return out;
}
