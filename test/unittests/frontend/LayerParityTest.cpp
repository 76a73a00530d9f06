//===- LayerParityTest.cpp - Every layer against a reference -------------===//
//
// Runs each case of a reference file: test/reference/keras_layers.safetensors
// (written by test/reference/generate_keras.py with Keras 3 itself) in
// KerasParityTests, test/reference/torch_layers.safetensors (written by
// generate_torch.py with PyTorch) in TorchParityTests. The layer is rebuilt
// from its Keras config through the same factories loadModel() uses, called
// on Input()s of the case's shapes, given the case's weights with
// setWeights() (Keras's order and layouts) or adapted on the case's
// `adapt` data (Normalization), compiled, and its predict()
// output compared with the reference's within the case's tolerances. No
// Keras or PyTorch is needed at run time.
//
//===----------------------------------------------------------------------===//

#include "layerc/layerc.h"
#include "runtime/SafeTensors.h"

#include "gtest/gtest.h"

#include <cmath>
#include <memory>

using namespace layerc;

namespace {

struct Case {
  std::string name, cls;
  Json config;
  double rtol = 1e-5, atol = 1e-5;
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

const SafeTensorsFile &referenceFile() {
  static const SafeTensorsFile file = loadSafeTensors(LAYERC_REFERENCE_FILE);
  return file;
}

std::vector<Case> loadCases() {
  std::vector<Case> cases;
  const SafeTensorsFile &file = referenceFile();
  auto it = file.metadata.find("cases");
  if (it == file.metadata.end())
    throw Error("reference file has no 'cases' metadata");
  Json list = Json::parse(it->second, "cases", 64);
  for (const Json &c : list.items()) {
    Case k;
    k.name = c.get("name")->asString();
    k.cls = c.get("class")->asString();
    k.config = *c.get("config");
    k.rtol = c.get("rtol")->asDouble();
    k.atol = c.get("atol")->asDouble();
    cases.push_back(std::move(k));
  }
  return cases;
}

/// The tensors `prefix.0`, `prefix.1`, ... of a case.
std::vector<Tensor> numbered(const std::string &prefix) {
  std::vector<Tensor> out;
  for (int i = 0;; ++i) {
    const Tensor *t = referenceFile().find(prefix + "." + std::to_string(i));
    if (!t)
      return out;
    out.push_back(*t);
  }
}

class LayerParityTest : public ::testing::TestWithParam<Case> {};

TEST_P(LayerParityTest, MatchesReference) {
  const Case &c = GetParam();
  std::vector<Tensor> xs = numbered(c.name + "/input");
  std::vector<Tensor> ws = numbered(c.name + "/weight");
  const Tensor *expected = referenceFile().find(c.name + "/expected");
  ASSERT_FALSE(xs.empty()) << c.name;
  ASSERT_NE(expected, nullptr) << c.name;

  auto factory = builtinLayerFactories().find(c.cls);
  ASSERT_NE(factory, builtinLayerFactories().end())
      << "no factory for " << c.cls;
  std::shared_ptr<Layer> layer = factory->second(c.config);
  std::vector<SymbolicTensor> inputs;
  for (const Tensor &x : xs) {
    std::vector<int64_t> shape(x.shape().begin() + 1, x.shape().end());
    inputs.push_back(Input(shape, {.dtype = x.dtype()}));
  }
  std::vector<SymbolicTensor> outputs = layer->apply(inputs);
  Model model(inputs, outputs, c.name);
  layer->setWeights(ws);
  // A preprocessing case (Normalization) adapts on the stored data anew:
  // its weights are Keras's adapted ones, which adapt() must reproduce.
  if (const Tensor *data = referenceFile().find(c.name + "/adapt")) {
    auto *adapting = dynamic_cast<NormalizationLayer *>(layer.get());
    ASSERT_NE(adapting, nullptr) << c.name << ": only Normalization adapts";
    adapting->adapt(*data);
    std::vector<Tensor> adapted = layer->getWeights();
    ASSERT_EQ(adapted.size(), ws.size()) << c.name;
    for (size_t w = 0; w < ws.size(); ++w) {
      Tensor got = adapted[w].astype(DType::Float32);
      Tensor want = ws[w].astype(DType::Float32);
      ASSERT_EQ(got.shape(), want.shape()) << c.name << " weight " << w;
      for (int64_t i = 0; i < got.numel(); ++i)
        EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i],
                    c.atol + c.rtol * std::fabs(want.data<float>()[i]))
            << c.name << " weight " << w << " element " << i;
    }
  }
  std::vector<Tensor> ys = model.predict(xs);

  // Output 0 is `expected`; further outputs (an RNN's states) are
  // `expected.1`, `expected.2`, ...
  std::vector<const Tensor *> wants{expected};
  while (const Tensor *more = referenceFile().find(
             c.name + "/expected." + std::to_string(wants.size())))
    wants.push_back(more);
  ASSERT_EQ(ys.size(), wants.size()) << c.name;
  for (size_t k = 0; k < ys.size(); ++k) {
    const Tensor &y = ys[k];
    ASSERT_EQ(y.shape(), wants[k]->shape()) << c.name << " output " << k;
    const float *got = y.data<float>();
    const float *want = wants[k]->data<float>();
    int reported = 0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      double tol = c.atol + c.rtol * std::fabs(want[i]);
      if (!(std::fabs(got[i] - want[i]) <= tol) && reported++ < 5)
        ADD_FAILURE() << c.name << " (" << c.cls << ") output " << k
                      << ": element " << i << " is " << got[i] << ", "
                      << LAYERC_REFERENCE_ORACLE << " gives " << want[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layers, LayerParityTest,
                         ::testing::ValuesIn(loadCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name;
                         });

} // namespace
