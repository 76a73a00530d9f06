//===- LayerGradientTest.cpp - Gradients of frontend layers ---------------===//
//
// Layers that the frontend emits as several `layer` ops (a depthwise
// convolution is a reshape of its kernel and a grouped convolution, a
// causal one a concatenation of zeros and a convolution; Bidirectional two
// recurrent layers, a reversal and a merge; TimeDistributed one layer
// called per step and a stack; Dot of rank 3, Softmax on another axis and
// the attention layers batch_matmuls, transposes and reshapes; PReLU with
// shared axes and Normalization transposes and broadcasts): each
// model's IR
// from Model::toMLIR(), in float64, gets its gradient from layer-autodiff,
// checked element by element against central finite differences of its
// loss (GradientTestUtil.h). So the test covers exactly what the layers
// emit.
//
//===----------------------------------------------------------------------===//

#include "LayerGradientTestUtil.h"

using namespace layerc;
using namespace layerc::test;

namespace {

TEST_F(LayerGradientTest, CausalConv1D) {
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t k = randInt(2, 3), dilation = config == 1 ? 2 : 1,
            strides = config == 2 ? 2 : 1;
    auto in = Input({randInt(4, 6), randInt(1, 3)});
    auto y = layers::Conv1D(randInt(1, 3), k,
                            {.strides = strides,
                             .padding = "causal",
                             .dilation_rate = dilation,
                             .activation = "tanh"})(in);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

TEST_F(LayerGradientTest, DepthwiseConvolutions) {
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t channels = randInt(1, 3), multiplier = randInt(1, 2);
    if (config == 0) {
      auto in = Input({randInt(4, 6), channels});
      auto y = layers::DepthwiseConv1D(
          3, {.depth_multiplier = multiplier, .activation = "tanh"})(in);
      checkModel(Model(in, y), randInt(1, 2));
      continue;
    }
    auto in = Input({randInt(4, 5), randInt(4, 5), channels});
    DepthwiseConvOptions o{.depth_multiplier = multiplier, .use_bias = false};
    if (config == 2)
      o = {.strides = 2, .padding = "same", .depth_multiplier = multiplier};
    auto y = layers::DepthwiseConv2D({2, 3}, o)(in);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

TEST_F(LayerGradientTest, SeparableConvolutions) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t channels = randInt(1, 3), filters = randInt(1, 3);
    SeparableConvOptions o{.depth_multiplier = randInt(1, 2),
                           .activation = "tanh"};
    if (config == 0) {
      auto in = Input({randInt(5, 7), channels});
      o.dilation_rate = 2;
      auto y = layers::SeparableConv1D(filters, 2, o)(in);
      checkModel(Model(in, y), randInt(1, 2));
    } else {
      auto in = Input({randInt(4, 5), randInt(4, 5), channels});
      o.strides = 2;
      o.padding = "same";
      auto y = layers::SeparableConv2D(filters, 3, o)(in);
      checkModel(Model(in, y), randInt(1, 2));
    }
  }
}

TEST_F(LayerGradientTest, Bidirectional) {
  const char *modes[] = {"concat", "sum", "mul", "ave"};
  for (unsigned config = 0; config < 4; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE(std::string(modes[config]) + ", seed " + std::to_string(s));
    auto in = Input({randInt(2, 4), randInt(1, 3)});
    RecurrentOptions rnn{.return_sequences = config % 2 == 0};
    int64_t units = randInt(1, 3);
    SymbolicTensor y =
        config < 2 ? layers::Bidirectional(layers::LSTM(units, rnn),
                                           {.merge_mode = modes[config]})(in)
                   : layers::Bidirectional(layers::GRU(units, rnn),
                                           {.merge_mode = modes[config]})(in);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

// Regularizers join the loss that evaluate returns and grad differentiates
// (layer.weight_penalty and its gradient rule).
TEST_F(LayerGradientTest, Regularizers) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    auto in = Input({randInt(2, 4)});
    auto h = layers::Dense(randInt(2, 3),
                           {.activation = "tanh",
                            .kernel_regularizer = regularizers::L1L2(0.03, 0.2),
                            .bias_regularizer = regularizers::L2(0.5)})(in);
    auto y = layers::Dense(randInt(1, 2),
                           {.kernel_regularizer = regularizers::L1(0.1)})(h);
    checkModel(Model(in, y), randInt(1, 3));
  }
}

// ReLU with a threshold (layer.threshold: dy where x > t) under a slope
// and a max_value.
TEST_F(LayerGradientTest, ReLUThreshold) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    auto in = Input({randInt(2, 4)});
    auto h = layers::Dense(randInt(3, 5))(in);
    h = layers::ReLU(
        {.max_value = config ? std::optional<double>(0.9) : std::nullopt,
         .negative_slope = 0.2,
         .threshold = 0.15})(h);
    checkModel(Model(in, layers::Dense(randInt(1, 2))(h)), randInt(1, 3));
  }
}

// Activity regularizers: the penalty of a layer's output (divided by the
// batch) joins the loss, so its gradient reaches the weights before it
// (layer.activity_regularization, a per-sample layer.weight_penalty).
TEST_F(LayerGradientTest, ActivityRegularizers) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    auto in = Input({randInt(2, 4)});
    auto h =
        layers::Dense(randInt(2, 3), {.activation = "tanh",
                                      .activity_regularizer =
                                          regularizers::L1L2(0.05, 0.3)})(in);
    h = layers::ActivityRegularization({.l1 = 0.02, .l2 = 0.4})(h);
    auto y = layers::Dense(randInt(1, 2))(h);
    checkModel(Model(in, y), randInt(1, 3));
  }
}

TEST_F(LayerGradientTest, TimeDistributed) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t steps = randInt(2, 3), channels = randInt(1, 2);
    if (config == 0) {
      auto in = Input({steps, randInt(2, 4)});
      auto y = layers::TimeDistributed(
          layers::Dense(randInt(1, 3), {.activation = "tanh"}))(in);
      checkModel(Model(in, y), randInt(1, 2));
    } else {
      auto in = Input({steps, 4, 4, channels});
      auto y = layers::TimeDistributed(
          layers::Conv2D(randInt(1, 2), 2, {.activation = "tanh"}))(in);
      checkModel(Model(in, y), randInt(1, 2));
    }
  }
}

/// Dot of rank-3 inputs is a layer.batch_matmul (transposed per axes):
/// both operands come from Dense layers of one input, so both of its
/// gradients are checked.
TEST_F(LayerGradientTest, DotRank3BatchMatmul) {
  const std::pair<int64_t, int64_t> axes[] = {{2, 2}, {1, 1}, {2, 1}, {1, 2}};
  for (unsigned config = 0; config < 5; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t steps = randInt(3, 4), d = randInt(2, 3);
    auto in = Input({steps, randInt(1, 3)});
    auto a = layers::Dense(d, {.activation = "tanh"})(in); // (steps, d)
    std::pair<int64_t, int64_t> ax = axes[config % 4];
    SymbolicTensor b;
    if (ax == std::pair<int64_t, int64_t>{2, 2}) // (steps - 1, d)
      b = layers::Dense(d)(ops::slice(in, 1, 1, steps - 1));
    else if (ax == std::pair<int64_t, int64_t>{1, 1}) // (steps, d + 1)
      b = layers::Dense(d + 1)(in);
    else if (ax.first == 2) // (d, 2)
      b = layers::Dense(2)(ops::slice(in, 1, 0, d));
    else // (d, steps)
      b = layers::Dense(steps)(ops::slice(in, 1, 0, d));
    auto y = layers::dot({a, b}, ax, "", config == 4);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

TEST_F(LayerGradientTest, SoftmaxAxis) {
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    auto in = config == 0 ? Input({randInt(2, 4), randInt(2, 3)})
                          : Input({randInt(2, 3), 2, randInt(2, 3)});
    auto x = layers::Dense(randInt(2, 3))(in);
    auto y = layers::Softmax({.axis = config == 0 ? 1 : 2})(x);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

/// Query, value and key from Dense layers of one input (the value and key
/// of fewer steps in cross-attention), so every product's operands and the
/// scale weights are checked.
TEST_F(LayerGradientTest, Attention) {
  for (unsigned config = 0; config < 6; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("config " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t steps = randInt(2, 4), d = randInt(2, 3);
    auto in = Input({steps, randInt(1, 3)});
    auto q = layers::Dense(d, {.activation = "tanh"})(in);
    // Without a key the value is the key: of the query's size.
    auto v = layers::Dense(config % 2 == 1 ? randInt(1, 3) : d)(
        ops::slice(in, 1, 0, steps - 1));
    std::vector<SymbolicTensor> inputs{q, v};
    if (config % 2 == 1)
      inputs.push_back(layers::Dense(d)(ops::slice(in, 1, 1, steps - 1)));
    SymbolicTensor y;
    if (config < 4)
      y = layers::Attention({.use_scale = config != 0,
                             .score_mode = config < 2 ? "dot" : "concat"})(
          inputs)[0];
    else
      y = layers::AdditiveAttention({.use_scale = config == 4})(inputs)[0];
    checkModel(Model(in, y), randInt(1, 2));
  }
}

TEST_F(LayerGradientTest, MultiHeadAttention) {
  for (unsigned config = 0; config < 4; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("config " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t steps = randInt(2, 3), d = randInt(2, 3);
    auto in = Input({steps, d});
    layers::MultiHeadAttentionOptions o{.use_bias = config != 1};
    if (config == 2)
      o.value_dim = 3;
    if (config == 3)
      o.output_shape = 2;
    layers::MultiHeadAttention mha(config == 0 ? 1 : 2, 2, o);
    SymbolicTensor y;
    if (config < 2) {
      y = mha({in, in})[0];
    } else {
      auto v = layers::Dense(2)(ops::slice(in, 1, 0, steps - 1));
      y = mha({in, v, layers::Dense(3)(ops::slice(in, 1, 1, steps - 1))})[0];
    }
    checkModel(Model(in, y), randInt(1, 2));
  }
}

/// PReLU's alpha with shared axes: transposed and reshaped to broadcast,
/// its gradient summed over the shared axes (and the batch).
TEST_F(LayerGradientTest, PReLUSharedAxes) {
  std::vector<std::vector<int64_t>> shared{{1}, {2}, {1, 2}, {1, 3}, {1, 2, 3}};
  for (unsigned config = 0; config < shared.size(); ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("config " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    auto in = Input({randInt(2, 3), randInt(2, 3), 2});
    auto h = layers::Dense(randInt(2, 3))(in);
    auto y = layers::PReLU({.shared_axes = shared[config]})(h);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

/// Normalization (given statistics, so no weights): a transpose of the kept
/// axes, a subtract and a multiply by constants; the gradient reaches the
/// Dense kernel before it.
TEST_F(LayerGradientTest, Normalization) {
  for (unsigned config = 0; config < 3; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("config " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    auto in = Input({3, 2});
    auto h = layers::Dense(4, {.activation = "tanh"})(in);
    NormalizationOptions o{.axis = {-1},
                           .mean = std::vector<double>{0.5, -1, 0, 2},
                           .variance = std::vector<double>{4, 0.25, 1, 9},
                           .invert = config == 2};
    if (config == 1) {
      o.axis = {1};
      o.mean = std::vector<double>{0.5, -1, 0};
      o.variance = std::vector<double>{4, 0.25, 9};
    }
    auto y = layers::Normalization(o)(h);
    checkModel(Model(in, y), randInt(1, 2));
  }
}

} // namespace
