//===- onnx_check.cpp - ONNX import against PyTorch and ONNX's tests ------===//
//
//   onnx_check compare MODEL.onnx X.npy Y.npy   predictions vs PyTorch's
//   onnx_check finetune MODEL.onnx [N [SAVED]]  fit() an imported classifier
//                                               on Fashion-MNIST, then save
//                                               it and load it again
//   onnx_check backend DIR... [--list] [--expect=FILE]
//                                               ONNX's backend test cases
//                                               (libonnx-testdata), with the
//                                               pass rate per operator
//
// Each prints what it measured and exits 1 when a check fails.
//
//===----------------------------------------------------------------------===//

#include "frontend/import/Onnx.h"
#include "layerc/layerc.h"
#include "runtime/Data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

using namespace layerc;
namespace fs = std::filesystem;

namespace {

/// The largest |a - b| / (atol / rtol + |b|) scaled so that <= 1 passes:
/// |a - b| <= atol + rtol |b| everywhere.
double mismatch(const Tensor &a, const Tensor &b, double atol, double rtol,
                double &maxAbs) {
  Tensor fa = a.astype(DType::Float32), fb = b.astype(DType::Float32);
  double worst = 0;
  maxAbs = 0;
  for (int64_t i = 0; i < fa.numel(); ++i) {
    double x = fa.data<float>()[i], y = fb.data<float>()[i];
    double d = std::abs(x - y);
    if (std::isnan(x) != std::isnan(y) ||
        ((std::isinf(x) || std::isinf(y)) && x != y))
      return INFINITY;
    if (std::isnan(x) || std::isinf(x))
      continue;
    maxAbs = std::max(maxAbs, d);
    worst = std::max(worst, d / (atol + rtol * std::abs(y)));
  }
  return worst;
}

int compare(const std::string &model, const std::string &xPath,
            const std::string &yPath) {
  Model m = Model::fromOnnx(model);
  m.summary();
  Tensor x = Tensor::loadNpy(xPath), want = Tensor::loadNpy(yPath);
  Tensor y = m.predict(x);
  if (y.shape() != want.shape()) {
    std::cout << "FAIL: shape " << y.shapeString() << ", PyTorch "
              << want.shapeString() << "\n";
    return 1;
  }
  double maxAbs;
  double worst = mismatch(y, want, 1e-4, 1e-4, maxAbs);
  std::cout << model << ": " << y.shapeString()
            << " max |layerc - PyTorch| = " << maxAbs
            << (worst <= 1 ? " within" : " NOT within") << " 1e-4\n";
  return worst <= 1 ? 0 : 1;
}

/// Fine-tunes an imported (784 -> 10 logits) classifier: test accuracy
/// before and after one epoch of fit() on `n` training images.
int finetune(const std::string &model, int64_t n, const std::string &save) {
  Model m = Model::fromOnnx(model);
  auto data = datasets::fashion_mnist::loadData();
  auto prepare = [](const Tensor &images, int64_t count) {
    Tensor x = images.slice(0, count).astype(DType::Float32) / 255.0;
    return x.reshape({count, 784});
  };
  Tensor xTrain = prepare(data.xTrain, n),
         yTrain = data.yTrain.slice(0, n).astype(DType::Int32);
  Tensor xTest = prepare(data.xTest, 2000),
         yTest = data.yTest.slice(0, 2000).astype(DType::Int32);
  m.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::Adam({.learning_rate = 1e-3}),
       .metrics = {"accuracy"}});
  double before = m.evaluate(xTest, yTest, {.verbose = 0})[1];
  m.fit(xTrain, yTrain, {.batch_size = 64, .epochs = 1, .verbose = 0});
  double after = m.evaluate(xTest, yTest, {.verbose = 0})[1];
  std::printf("%s: test accuracy %.3f before fit, %.3f after one epoch of "
              "%lld images\n",
              model.c_str(), before, after, static_cast<long long>(n));
  if (!save.empty()) {
    // An imported model saves and loads like any other.
    m.save(save);
    Model loaded = loadModel(save);
    Tensor a = m.predict(xTest), b = loaded.predict(xTest);
    bool same = std::memcmp(a.rawData(), b.rawData(), a.nbytes()) == 0;
    std::printf("saved to %s and loaded: predictions %s\n", save.c_str(),
                same ? "identical" : "DIFFER");
    if (!same)
      return 1;
  }
  return after >= 0.7 && after > before + 0.2 ? 0 : 1;
}

struct Case {
  std::string name, outcome, detail;
  std::vector<std::string> ops;
};

/// One backend test case: "pass", "fail" (imported, but a wrong or no
/// result) or "unmapped" (the importer refused it, saying why). A case the
/// importer refuses as it is, and that has more than one input, is tried
/// again with every input but the first bound to its test data as a
/// constant: node tests give weights, shapes and scales as inputs.
Case runCase(const fs::path &dir) {
  Case c{dir.filename().string(), "", "", {}};
  std::string model = (dir / "model.onnx").string();
  auto refused = [&](const Error &e) {
    c.outcome = "unmapped";
    c.detail = e.what();
    if (c.detail.rfind(model + ": ", 0) == 0)
      c.detail = c.detail.substr(model.size() + 2);
    return c;
  };
  std::vector<std::string> names;
  try {
    c.ops = onnxOperatorTypes(model);
    names = onnxInputNames(model);
  } catch (const Error &e) {
    return refused(e);
  }
  std::vector<fs::path> sets;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.is_directory() &&
        entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  auto read = [](const fs::path &set, const char *kind, size_t i) {
    return readOnnxTensor((set / (kind + std::to_string(i) + ".pb")).string());
  };
  std::optional<Model> plain;
  try {
    plain.emplace(Model::fromOnnx(model));
  } catch (const Error &e) {
    if (names.size() < 2 || sets.empty())
      return refused(e);
  }
  for (const fs::path &set : sets) {
    std::optional<Model> bound;
    std::vector<Tensor> xs;
    if (!plain) {
      try {
        std::map<std::string, Tensor> constants;
        for (size_t i = 1; i < names.size(); ++i)
          constants.emplace(names[i], read(set, "input_", i));
        bound.emplace(importOnnx(model, constants));
      } catch (const Error &e) {
        return refused(e);
      }
    }
    Model &m = plain ? *plain : *bound;
    try {
      for (size_t i = 0; i < (plain ? names.size() : 1); ++i)
        xs.push_back(read(set, "input_", i));
      for (size_t i = 0; i < xs.size(); ++i)
        if (m.inputs()[i].dtype() != xs[i].dtype())
          xs[i] = xs[i].astype(m.inputs()[i].dtype());
      std::vector<Tensor> ys = m.predict(xs);
      for (size_t i = 0; i < ys.size(); ++i) {
        Tensor want = read(set, "output_", i);
        if (ys[i].shape() != want.shape())
          throw Error("output " + std::to_string(i) + " has shape " +
                      ys[i].shapeString() + ", expected " + want.shapeString());
        double maxAbs;
        // ONNX's backend tests compare with rtol 1e-3 (atol 1e-7; 1e-5
        // here, as float32 sums in another order differ by that much).
        if (mismatch(ys[i], want, 1e-5, 1e-3, maxAbs) > 1)
          throw Error("output " + std::to_string(i) + " differs by up to " +
                      std::to_string(maxAbs));
      }
    } catch (const Error &e) {
      c.outcome = "fail";
      c.detail = e.what();
      return c;
    }
  }
  c.outcome = sets.empty() ? "fail" : "pass";
  if (sets.empty())
    c.detail = "no test_data_set_*";
  return c;
}

/// The backend cases; with `expected` (a file of case names, one per
/// line), each of those must pass: a case the importer took before and
/// refuses now is a regression too.
int backend(const std::vector<std::string> &roots, bool list,
            const std::string &expected) {
  std::vector<fs::path> dirs;
  for (const std::string &root : roots) {
    if (!fs::is_directory(root))
      throw Error(root + ": no such directory");
    for (const auto &entry : fs::directory_iterator(root))
      if (fs::exists(entry.path() / "model.onnx"))
        dirs.push_back(entry.path());
  }
  if (dirs.empty())
    throw Error("no test case (DIR/*/model.onnx) found");
  std::sort(dirs.begin(), dirs.end());
  std::vector<Case> cases;
  for (const fs::path &dir : dirs) {
    cases.push_back(runCase(dir));
    const Case &c = cases.back();
    if (c.outcome == "fail")
      std::cout << "FAIL " << c.name << ": " << c.detail << "\n";
    else if (list)
      std::cout << c.outcome << " " << c.name
                << (c.detail.empty() ? "" : ": " + c.detail) << "\n";
  }
  // Per operator that layerc maps: the cases using it that imported, and
  // how many of those passed; cases refused count separately.
  std::vector<std::string> supported = supportedOnnxOperators();
  std::set<std::string> mapped(supported.begin(), supported.end());
  std::map<std::string, std::array<int, 3>> perOp; // pass, fail, unmapped
  int pass = 0, fail = 0, unmapped = 0;
  for (const Case &c : cases) {
    int slot = c.outcome == "pass" ? 0 : c.outcome == "fail" ? 1 : 2;
    (slot == 0 ? pass : slot == 1 ? fail : unmapped)++;
    std::set<std::string> ops(c.ops.begin(), c.ops.end());
    for (const std::string &op : ops)
      if (mapped.count(op))
        perOp[op][slot]++;
  }
  std::cout << "\n| operator | imported cases | passed | pass rate | cases "
               "refused (unsupported attribute, shape or other operator) |\n"
               "|---|---|---|---|---|\n";
  for (const auto &[op, n] : perOp) {
    int imported = n[0] + n[1];
    char rate[16] = "-";
    if (imported)
      std::snprintf(rate, sizeof rate, "%.0f%%", 100.0 * n[0] / imported);
    std::cout << "| " << op << " | " << imported << " | " << n[0] << " | "
              << rate << " | " << n[2] << " |\n";
  }
  std::cout << "\n"
            << cases.size() << " cases: " << pass << " passed, " << fail
            << " failed, " << unmapped
            << " refused by the importer (--list says why)\n";
  int regressions = 0;
  if (!expected.empty()) {
    std::ifstream in(expected);
    if (!in)
      throw Error(expected + ": cannot read the list of expected passes");
    std::map<std::string, const Case *> byName;
    for (const Case &c : cases)
      byName[c.name] = &c;
    std::string name;
    int listed = 0;
    while (std::getline(in, name)) {
      if (name.empty() || name[0] == '#')
        continue;
      ++listed;
      auto it = byName.find(name);
      if (it == byName.end() || it->second->outcome != "pass") {
        ++regressions;
        std::cout << "REGRESSION " << name << ": "
                  << (it == byName.end()
                          ? std::string("not found")
                          : it->second->outcome + " " + it->second->detail)
                  << "\n";
      }
    }
    std::cout << listed - regressions << " of the " << listed
              << " cases expected to pass passed\n";
  }
  return fail || regressions ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 4 && args[0] == "compare")
      return compare(args[1], args[2], args[3]);
    if (args.size() >= 2 && args.size() <= 4 && args[0] == "finetune")
      return finetune(args[1], args.size() >= 3 ? std::stoll(args[2]) : 12000,
                      args.size() == 4 ? args[3] : "");
    if (args.size() >= 2 && args[0] == "backend") {
      bool list = false;
      std::string expected;
      std::vector<std::string> roots;
      for (size_t i = 1; i < args.size(); ++i)
        if (args[i] == "--list")
          list = true;
        else if (args[i].rfind("--expect=", 0) == 0)
          expected = args[i].substr(9);
        else
          roots.push_back(args[i]);
      return backend(roots, list, expected);
    }
  } catch (const std::exception &e) {
    std::cerr << "onnx_check: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: onnx_check compare MODEL.onnx X.npy Y.npy\n"
               "       onnx_check finetune MODEL.onnx [N [SAVED.lcm|.keras]]\n"
               "       onnx_check backend DIR... [--list] [--expect=FILE]\n";
  return 2;
}
