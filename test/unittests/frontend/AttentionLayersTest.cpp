//===- AttentionLayersTest.cpp - Attention layers, Dot and Softmax axes ---===//
//
// Attention, AdditiveAttention and MultiHeadAttention (frontend/layers/
// Attention.h), Dot of rank-3 inputs and Softmax over another axis beyond
// their numbers (which KerasParityTests checks against Keras): shapes and
// summary parameter counts, Keras's errors naming the layer and the shapes,
// the config round trip through save/load, and training through them (the
// loss falls).
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "FrontendTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"
#include <gmock/gmock.h>

#include <filesystem>
#include <random>
#include <sstream>

using namespace layerc;
using test::errorOf;
using ::testing::HasSubstr;

namespace {

using Shape = std::vector<int64_t>;

/// (None, 6, 4) -> (None, 3) through every attention layer, Dot of rank 3
/// and Softmax over axis 1.
Model everyAttentionLayer() {
  auto in = Input({6, 4}, {.name = "seq"});
  auto x = layers::Dense(5, {.activation = "tanh"})(in); // (6, 5)
  x = layers::MultiHeadAttention(2, 3, {.name = "mha"})({x, x})[0];
  auto shortSeq = ops::slice(x, 1, 0, 4); // (4, 5)
  auto q =
      layers::Attention({.use_scale = true, .name = "luong"})({x, shortSeq})[0];
  auto c = layers::Attention({.score_mode = "concat"})({x, shortSeq})[0];
  auto a = layers::AdditiveAttention({.name = "bahdanau"})(
      {x, shortSeq, layers::Dense(5)(shortSeq)})[0];
  auto m = layers::MultiHeadAttention(
      3, 2, {.value_dim = 4, .use_bias = false, .output_shape = 2})(
      {layers::add({q, c, a}), shortSeq})[0];   // (6, 2)
  auto s = layers::dot({m, m}, {1, 1}, "gram"); // (2, 2)
  s = layers::Softmax({.axis = 1})(s);
  auto features = layers::concatenate(
      {layers::Flatten()(m), layers::Flatten()(s)}); // 12 + 4
  auto out = layers::Dense(3, {.activation = "softmax"})(features);
  return Model(in, out, "attention");
}

TEST(AttentionLayersTest, ShapesAndParameterCounts) {
  Model model = everyAttentionLayer();
  EXPECT_EQ(model.outputs()[0].shape(), (Shape{-1, 3}));
  std::ostringstream summary;
  model.summary(summary);
  // Keras 3's table: a name and type too wide for the column wrap, and a
  // word still too wide ends in "…".
  EXPECT_THAT(summary.str(),
              HasSubstr("│ mha                 │ (None, 6, 5) "));
  EXPECT_THAT(summary.str(), HasSubstr("│ (MultiHeadAttentio… │"));
  EXPECT_THAT(summary.str(), HasSubstr("│ luong (Attention)   │"));
  EXPECT_THAT(summary.str(),
              HasSubstr("│ bahdanau            │ (None, 6, 5) "));
  EXPECT_THAT(summary.str(), HasSubstr("│ (AdditiveAttention) │"));
  // mha: q, k, v kernels (5, 2, 3) and biases (2, 3), output (2, 3, 5) +
  // (5); luong: scale; the concat one: concat_score_weight; bahdanau:
  // scale (5); the second mha: q, k kernels (5, 3, 2), v (5, 3, 4), output
  // (3, 4, 2), no biases.
  int64_t mha = 3 * (5 * 2 * 3 + 2 * 3) + 2 * 3 * 5 + 5;
  int64_t mha2 = 2 * (5 * 3 * 2) + 5 * 3 * 4 + 3 * 4 * 2;
  int64_t dense = (4 * 5 + 5) + (5 * 5 + 5) + (16 * 3 + 3);
  EXPECT_EQ(model.countParams(), dense + mha + 1 + 1 + 5 + mha2);

  auto q = Input({3, 4}), v = Input({5, 6}), k = Input({5, 4});
  std::vector<SymbolicTensor> r =
      layers::Attention({.return_attention_scores = true})({q, v, k});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].shape(), (Shape{-1, 3, 6}));
  EXPECT_EQ(r[1].shape(), (Shape{-1, 3, 5}));
  r = layers::MultiHeadAttention(4, 2,
                                 {.return_attention_scores = true})({q, v, k});
  EXPECT_EQ(r[0].shape(), (Shape{-1, 3, 4}));
  EXPECT_EQ(r[1].shape(), (Shape{-1, 4, 3, 5}));
  EXPECT_EQ(layers::dot({q, k}, 2).shape(), (Shape{-1, 3, 5}));
  EXPECT_EQ(layers::dot({Input({5, 4}), k}, 1).shape(), (Shape{-1, 4, 4}));
  EXPECT_EQ(layers::dot({q, Input({4, 7})}, {2, 1}).shape(), (Shape{-1, 3, 7}));
  EXPECT_EQ(layers::Softmax({.axis = -3})(Input({2, 3, 4})).shape(),
            (Shape{-1, 2, 3, 4}));
}

TEST(AttentionLayersTest, KerasErrors) {
  EXPECT_THAT(errorOf([] {
                layers::Attention()({Input({3, 4})});
              }),
              HasSubstr("Attention layer accepts inputs list of length 2 or "
                        "3, namely [query, value] or [query, value, key]. "
                        "Received length: 1."));
  EXPECT_THAT(errorOf([] {
                layers::Attention()({Input({3, 4}), Input({5, 3})});
              }),
              HasSubstr("the key's last dimension must be the query's, the "
                        "query has shape (None, 3, 4). Full shape received: "
                        "(None, 5, 3)"));
  EXPECT_THAT(errorOf([] {
                layers::AdditiveAttention()({Input({3, 4}), Input({4})});
              }),
              HasSubstr("AdditiveAttention expects inputs of shape (batch, "
                        "steps, dim), found ndim=2"));
  EXPECT_THAT(errorOf([] { layers::Attention({.score_mode = "add"}); }),
              HasSubstr("Invalid value for argument score_mode. Expected one "
                        "of {'dot', 'concat'}. Received: score_mode=add"));
  EXPECT_THAT(errorOf([] { layers::Attention({.dropout = 0.5}); }),
              HasSubstr("config of Attention layer: dropout 0.500000 is not "
                        "supported: only dropout=0.0"));
  EXPECT_THAT(
      errorOf([] { layers::MultiHeadAttention(2, 2, {.dropout = 0.1}); }),
      HasSubstr("config of MultiHeadAttention layer: dropout"));
  EXPECT_THAT(errorOf([] { layers::MultiHeadAttention(0, 2); }),
              HasSubstr("Received an invalid value for argument `num_heads`, "
                        "expected a positive integer. Received: num_heads=0"));
  EXPECT_THAT(errorOf([] { layers::MultiHeadAttention(2, -1); }),
              HasSubstr("Received: key_dim=-1"));
  EXPECT_THAT(errorOf([] {
                layers::MultiHeadAttention(2, 2)(
                    {Input({3, 4}), Input({5, 4}), Input({6, 4})});
              }),
              HasSubstr("All dimensions of `value` and `key`, except the last "
                        "one, must be equal. Received: value_shape=(None, 5, "
                        "4) and key_shape=(None, 6, 4)"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("MultiHeadAttention")(Json::parse(
                    R"({"name": "m", "num_heads": 2, "key_dim": 2,
                        "attention_axes": [1]})",
                    "test"));
              }),
              HasSubstr("config of MultiHeadAttention layer: 'attention_axes' "
                        "is not supported yet"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("MultiHeadAttention")(Json::parse(
                    R"({"name": "m", "num_heads": 2, "key_dim": 2,
                        "output_shape": [2, 3]})",
                    "test"));
              }),
              HasSubstr("only an output_shape of one dimension"));
  EXPECT_THAT(errorOf([] {
                layers::dot({Input({3, 4}), Input({3})}, 1);
              }),
              HasSubstr("Dot needs two inputs of one rank, the first has "
                        "ndim=3, found ndim=2"));
  EXPECT_THAT(errorOf([] {
                layers::dot({Input({3, 4}), Input({5, 4})}, {1, 1});
              }),
              HasSubstr("Incompatible input shapes: axis values 3 (at axis 1) "
                        "!= 5 (at axis 1). Full input shapes: (None, 3, 4), "
                        "(None, 5, 4)"));
  EXPECT_THAT(errorOf([] {
                builtinLayerFactories().at("Softmax")(
                    Json::parse(R"({"name": "s", "axis": [1, 2]})", "test"));
              }),
              HasSubstr("'axis' must be one integer"));
}

TEST(AttentionLayersTest, TrainsSavesAndLoads) {
  setRandomSeed(5);
  Model model = everyAttentionLayer();
  Tensor x = test::uniformTensor({64, 6, 4}, 13);
  Tensor y({64}, DType::Int32);
  for (int64_t i = 0; i < 64; ++i)
    y.data<int32_t>()[i] = x.data<float>()[i * 24 + 5] > 0 ? 1 : 2;
  model.compile({.loss = losses::SparseCategoricalCrossentropy(),
                 .optimizer = optimizers::Adam({.learning_rate = 0.02})});
  test::expectLossFalls(
      model.fit(x, y, {.batch_size = 16, .epochs = 12, .verbose = 0}), 0.7);

  test::expectSaveLoadRoundTrip(model, x, "attention_test.lcm");
}

/// ops::batchMatmul and ops::transpose as OpLambda layers: shapes, errors
/// naming the op, and the config round trip through save/load.
TEST(AttentionLayersTest, BatchMatmulAndTransposeOps) {
  auto in = Input({3, 4});
  auto h = layers::Dense(5)(in);
  auto s = ops::batchMatmul(h, h, false, true); // (3, 3)
  EXPECT_EQ(s.shape(), (Shape{-1, 3, 3}));
  auto t = ops::transpose(ops::batchMatmul(s, h), {0, 2, 1}); // (5, 3)
  EXPECT_EQ(t.shape(), (Shape{-1, 5, 3}));
  EXPECT_EQ(ops::batchMatmul(h, h, true, false).shape(), (Shape{-1, 5, 5}));
  EXPECT_THAT(errorOf([&] { ops::batchMatmul(h, h); }),
              HasSubstr("cannot multiply (None, 3, 5) by (None, 3, 5): the "
                        "inner dimensions differ"));
  EXPECT_THAT(errorOf([&] { ops::batchMatmul(h, Input({5})); }),
              HasSubstr("expects a and b of one rank >= 3"));
  EXPECT_THAT(errorOf([&] {
                ops::transpose(h, {0, 1, 1});
              }),
              HasSubstr("(0, 1, 1) is not a permutation of the axes of (None, "
                        "3, 5)"));
  Model model(in, t, "ops");
  std::string path =
      (std::filesystem::temp_directory_path() / "batch_matmul_ops.lcm")
          .string();
  model.save(path);
  Model again = loadModel(path);
  std::filesystem::remove(path);
  EXPECT_EQ(again.getConfig().dump(), model.getConfig().dump());
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor x({2, 3, 4});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = u(gen);
  Tensor want = model.predict(x), got = again.predict(x);
  ASSERT_EQ(want.shape(), (Shape{2, 5, 3}));
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_EQ(got.data<float>()[i], want.data<float>()[i]) << i;
}

} // namespace
