//===- TrainStepTest.cpp - One training step against PyTorch --------------===//
//
// One SGD step (learning rate 0.1) of the functional-API guide's toy
// ResNet (Dropout at 0: masks cannot match across frameworks) and of its
// autoencoder built from the nested encoder and decoder models, from the
// same weights and batch as test/reference/generate_train_step.py, which
// computed the loss and every updated weight with PyTorch autograd in
// float64 (train_step_reference.safetensors). The loss and every updated
// weight agree within 1e-4 relative; each update (new - old) agrees within
// 1e-3 of the tensor's largest update, a much stronger check of the
// gradient. Both sides draw the weights and the batch from splitmix64.
// A third model trains two BatchNormalization layers: batch statistics in
// the step, and moving statistics updated by Keras's rule.
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace layerc;

namespace {

/// splitmix64; uniform() = (next >> 11) * 2^-53, as the generator script.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  Tensor uniform(const std::vector<int64_t> &shape, double lo, double hi) {
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i) {
      double u = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
      t.data<float>()[i] = static_cast<float>(lo + (hi - lo) * u);
    }
    return t;
  }

private:
  uint64_t state_;
};

/// Glorot-limited kernels and small biases, in the model's weight order.
std::vector<Tensor> initialWeights(SplitMix64 &rng, const Model &model) {
  std::vector<Tensor> out;
  for (const Tensor &w : model.getWeights()) {
    const std::vector<int64_t> &s = w.shape();
    double limit = 0.05;
    if (s.size() >= 2) {
      int64_t receptive = 1;
      for (size_t i = 0; i + 2 < s.size(); ++i)
        receptive *= s[i];
      limit = std::sqrt(6.0 / double((s[s.size() - 2] + s.back()) * receptive));
    }
    out.push_back(rng.uniform(s, -limit, limit));
  }
  return out;
}

const SafeTensorsFile &reference() {
  static SafeTensorsFile file = loadSafeTensors(LAYERC_TRAIN_STEP_REFERENCE);
  return file;
}

/// Runs one step and compares it with the reference `name`.
void checkStep(Model &model, const std::string &name,
               const std::vector<Tensor> &before, const Tensor &x,
               const Tensor &y) {
  model.setWeights(before);
  History h = model.fit(x, y,
                        {.batch_size = x.shape()[0],
                         .epochs = 1,
                         .verbose = 0,
                         .shuffle = false});
  const Tensor *loss = reference().find(name + "/loss");
  ASSERT_NE(loss, nullptr);
  double want = loss->data<float>()[0];
  EXPECT_NEAR(h.history.at("loss")[0], want, 1e-4 * std::fabs(want));
  std::vector<Tensor> after = model.getWeights();
  for (size_t i = 0; i < after.size(); ++i) {
    SCOPED_TRACE(name + " weight " + std::to_string(i) + " " +
                 after[i].shapeString());
    const Tensor *ref = reference().find(name + "/weight." + std::to_string(i));
    ASSERT_NE(ref, nullptr);
    ASSERT_EQ(ref->shape(), after[i].shape());
    const float *got = after[i].data<float>(), *exp = ref->data<float>(),
                *old = before[i].data<float>();
    double largest = 0;
    for (int64_t k = 0; k < ref->numel(); ++k)
      largest = std::max(largest, std::fabs(double(exp[k]) - old[k]));
    for (int64_t k = 0; k < ref->numel(); ++k) {
      ASSERT_NEAR(got[k], exp[k], 1e-4 * std::fabs(exp[k]) + 1e-7)
          << "at " << k;
      ASSERT_NEAR(double(got[k]) - old[k], double(exp[k]) - old[k],
                  1e-3 * largest + 1e-7)
          << "update at " << k;
    }
  }
}

TEST(TrainStepTest, ToyResNetMatchesPyTorch) {
  Model model = guide::toyResNet(/*dropout=*/0.0);
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  SplitMix64 rng(1);
  std::vector<Tensor> before = initialWeights(rng, model);
  Tensor x = rng.uniform({8, 32, 32, 3}, 0.0, 1.0);
  Tensor labels({8}, DType::Int32);
  for (int i = 0; i < 8; ++i)
    labels.data<int32_t>()[i] = i % 10;
  checkStep(model, "resnet", before, x, labels);
}

TEST(TrainStepTest, NestedAutoencoderMatchesPyTorch) {
  Model encoder = guide::encoderModel(), decoder = guide::decoderModel();
  auto img = Input({28, 28, 1}, {.name = "img"});
  Model autoencoder(img, decoder(encoder(img)), "autoencoder");
  autoencoder.compile({.loss = losses::MeanSquaredError(),
                       .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  SplitMix64 rng(2);
  std::vector<Tensor> before = initialWeights(rng, autoencoder);
  Tensor x = rng.uniform({4, 28, 28, 1}, 0.0, 1.0);
  checkStep(autoencoder, "autoencoder", before, x, x);
}

TEST(TrainStepTest, BatchNormalizationMatchesPyTorch) {
  auto x = Input({7, 7, 3}, {.name = "x"});
  auto h = layers::Conv2D(6, 3, {.name = "conv_a"})(x);
  h = layers::BatchNormalization({.name = "bn_a"})(h);
  h = layers::Activation("relu")(h);
  h = layers::Conv2D(6, 3, {.padding = "same", .name = "conv_b"})(h);
  h = layers::BatchNormalization({.center = false, .name = "bn_b"})(h);
  h = layers::Activation("relu")(h);
  h = layers::GlobalAveragePooling2D()(h);
  Model model(x, layers::Dense(5, {.name = "logits"})(h), "bn_net");
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  SplitMix64 rng(3);
  std::vector<Tensor> before = initialWeights(rng, model);
  // Gammas and moving variances start at 1 + u, as in the generator.
  for (size_t i : {2, 5, 8, 10})
    for (int64_t k = 0; k < before[i].numel(); ++k)
      before[i].data<float>()[k] += 1.0f;
  Tensor images = rng.uniform({6, 7, 7, 3}, -1.0, 1.0);
  Tensor labels({6}, DType::Int32);
  for (int i = 0; i < 6; ++i)
    labels.data<int32_t>()[i] = i % 5;
  checkStep(model, "batchnorm", before, images, labels);
}

} // namespace

// GlobalMaxPooling's gradient splits equally among tied maxima, as the
// derivative of TensorFlow's and JAX's reduce_max does (a central finite
// difference at a tie gives the same): Embedding -> GlobalMaxPooling1D with
// a repeated token updates its row once, not once per repetition. One SGD
// step of MSE at learning rate 0.1 from row 1 = 0.5 and target 0:
// dL/dy = 2 * 0.5, so row 1 becomes 0.5 - 0.1 * 1 = 0.4 (0.3 before, when
// each tied position took the whole gradient).
TEST(TrainStepTest, GlobalMaxPoolingSplitsTies) {
  auto x0 = Input({2}, {.dtype = DType::Int32});
  auto emb = layers::Embedding(3, 1);
  auto y = layers::GlobalMaxPooling1D()(emb(x0));
  Model model({x0}, {y});
  emb->setWeights({Tensor::fromFloats({0.0f, 0.5f, 0.0f}, {3, 1})});
  model.compile(
      {.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  model.fit(Tensor::fromInts({1, 1}, {1, 2}),
            Tensor::fromFloats({0.0f}, {1, 1}),
            {.batch_size = 1, .verbose = 0, .shuffle = false});
  EXPECT_NEAR(emb->getWeights()[0].data<float>()[1], 0.4f, 1e-6);
}
