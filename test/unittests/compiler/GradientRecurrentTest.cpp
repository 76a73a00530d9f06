//===- GradientRecurrentTest.cpp - Backpropagation through time -----------===//
//
// Finite-difference checks (GradientTestUtil.h) of the gradients through the
// recurrent layers: SimpleRNN, LSTM and GRU (reset_after or not), forwards
// and backwards, with their final states, and ConvLSTM2D.
//
//===----------------------------------------------------------------------===//

#include "GradientTestUtil.h"

using namespace layerc;
using namespace layerc::test;

namespace {

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

// Backpropagation through time: LSTM, GRU (reset_after or not) and
// SimpleRNN, the last output or the
// whole sequence (forwards and backwards), with the final states feeding
// the loss too, so every result gradient reaches the recurrence.
TEST_F(GradientTest, RecurrentBackpropagationThroughTime) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${T}x${F}xf64>,
                   %k: tensor<${F}x${GU}xf64> {layer.param, layer.name = "kernel"},
                   %rk: tensor<${U}x${GU}xf64> {layer.param, layer.name = "recurrent_kernel"},
                   %b: tensor<${BSHAPE}xf64> {layer.param, layer.name = "bias"},
                   %d: tensor<${CAT}x${K}xf64> {layer.param, layer.name = "dense"}) -> tensor<*xf64> {
  %o${STATES} = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<${CELL}>, activation = #layer.activation<${ACT}>${FLAGS}} : (tensor<?x${T}x${F}xf64>, tensor<${F}x${GU}xf64>, tensor<${U}x${GU}xf64>, tensor<${BSHAPE}xf64>) -> (${RESULTS})
  %flat = layer.reshape %o {target_shape = array<i64: ${OUT}>} : (tensor<*xf64>) -> tensor<*xf64>
  %cat = layer.concatenate %flat, %${LAST} {axis = 1 : i64} : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %y = layer.dense %cat, %d : (tensor<*xf64>, tensor<${CAT}x${K}xf64>) -> tensor<*xf64>
  return %y : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *cell, *act;
    bool sequences, backwards, resetAfter;
  };
  const Case cases[] = {{"lstm", "tanh", false, false, false},
                        {"lstm", "tanh", true, true, false},
                        {"simple_rnn", "tanh", true, false, false},
                        {"simple_rnn", "relu", false, true, false},
                        {"gru", "tanh", false, false, true},
                        {"gru", "tanh", true, true, true},
                        {"gru", "tanh", true, false, false},
                        {"gru", "tanh", false, true, false}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(c.cell) + " case " + std::to_string(config) +
                 ", seed " + std::to_string(s));
    bool lstm = std::string(c.cell) == "lstm";
    int64_t b = randInt(1, 3), t = randInt(2, 5), f = randInt(2, 3),
            u = randInt(2, 3), k = randInt(2, 3);
    bool gru = std::string(c.cell) == "gru";
    int64_t gu = (lstm ? 4 : gru ? 3 : 1) * u;
    std::string bshape = c.resetAfter ? "2x" + str(gu) : str(gu);
    int64_t out = c.sequences ? t * u : u;
    std::string flags = std::string(c.sequences ? ", return_sequences" : "") +
                        (c.backwards ? ", go_backwards" : "") +
                        (c.resetAfter ? ", reset_after" : "");
    std::string results = "tensor<*xf64>, tensor<*xf64>";
    if (lstm)
      results += ", tensor<*xf64>";
    std::string ir = fill(tmpl, {{"T", str(t)},
                                 {"F", str(f)},
                                 {"U", str(u)},
                                 {"GU", str(gu)},
                                 {"K", str(k)},
                                 {"CELL", c.cell},
                                 {"ACT", c.act},
                                 {"FLAGS", flags},
                                 {"STATES", lstm ? ", %h, %c" : ", %h"},
                                 {"LAST", lstm ? "c" : "h"},
                                 {"RESULTS", results},
                                 {"OUT", str(out)},
                                 {"CAT", str(out + u)},
                                 {"BSHAPE", bshape}});
    std::vector<Tensor> params = {
        randomTensor(rng, {f, gu}), randomTensor(rng, {u, gu}),
        c.resetAfter ? randomTensor(rng, {2, gu}, -0.5, 0.5)
                     : randomTensor(rng, {gu}, -0.5, 0.5),
        randomTensor(rng, {out + u, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, t, f}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// ConvLSTM2D: differentiated through its decomposition into per-step
// convolutions, gates and products (backpropagation through time by the
// composition of their rules).
TEST_F(GradientTest, ConvLstmBackpropagationThroughTime) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${T}x${H}x${W}x${C}xf64>,
                   %k: tensor<${KS}x${KS}x${C}x${G}xf64> {layer.param, layer.name = "kernel"},
                   %rk: tensor<${KS}x${KS}x${F}x${G}xf64> {layer.param, layer.name = "recurrent_kernel"},
                   %b: tensor<${G}xf64> {layer.param, layer.name = "bias"},
                   %d: tensor<${F2}x${K}xf64> {layer.param, layer.name = "dense"}) -> tensor<*xf64> {
  %o, %h, %c = layer.conv_lstm %x, %k, %rk, %b {strides = array<i64: ${S}, ${S}>, dilations = array<i64: 1, 1>, padding = #layer.padding<${P}>, recurrent_activation = #layer.activation<${RACT}>${FLAGS}} : (tensor<?x${T}x${H}x${W}x${C}xf64>, tensor<${KS}x${KS}x${C}x${G}xf64>, tensor<${KS}x${KS}x${F}x${G}xf64>, tensor<${G}xf64>) -> (tensor<*xf64>, tensor<*xf64>, tensor<*xf64>)
  %g1 = layer.global_pool %o {kind = #layer.pool<average>} : (tensor<*xf64>) -> tensor<*xf64>
  %g2 = layer.global_pool %c {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %cat = layer.concatenate %g1, %g2 {axis = 1 : i64} : (tensor<*xf64>, tensor<*xf64>) -> tensor<*xf64>
  %y = layer.dense %cat, %d : (tensor<*xf64>, tensor<${F2}x${K}xf64>) -> tensor<*xf64>
  return %y : tensor<*xf64>
}
)mlir";
  struct Case {
    const char *padding, *recurrentActivation;
    int64_t stride;
    bool sequences, backwards;
  };
  const Case cases[] = {{"valid", "sigmoid", 1, false, false},
                        {"same", "hard_sigmoid", 1, true, true},
                        {"same", "sigmoid", 2, false, true}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), t = randInt(2, 3), h = randInt(3, 4),
            w = randInt(3, 4), ch = randInt(1, 2), f = randInt(1, 2),
            ks = randInt(2, 3), k = randInt(2, 3);
    std::string flags = std::string(c.sequences ? ", return_sequences" : "") +
                        (c.backwards ? ", go_backwards" : "");
    std::string ir = fill(tmpl, {{"T", str(t)},
                                 {"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"F", str(f)},
                                 {"G", str(4 * f)},
                                 {"F2", str(2 * f)},
                                 {"KS", str(ks)},
                                 {"K", str(k)},
                                 {"S", str(c.stride)},
                                 {"P", c.padding},
                                 {"RACT", c.recurrentActivation},
                                 {"FLAGS", flags}});
    std::vector<Tensor> params = {randomTensor(rng, {ks, ks, ch, 4 * f}),
                                  randomTensor(rng, {ks, ks, f, 4 * f}),
                                  randomTensor(rng, {4 * f}, -0.5, 0.5),
                                  randomTensor(rng, {2 * f, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, t, h, w, ch}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

} // namespace
