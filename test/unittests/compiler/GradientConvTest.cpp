//===- GradientConvTest.cpp - Gradients of spatial layers, executed -------===//
//
// Finite-difference checks (GradientTestUtil.h) of the gradients through
// convolutions (strided, dilated, grouped, transposed, register-blocked),
// pooling, global pooling, batch normalization and upsampling (nearest and
// bilinear).
//
//===----------------------------------------------------------------------===//

#include "GradientTestUtil.h"

using namespace layerc;
using namespace layerc::test;

namespace {

//===----------------------------------------------------------------------===//
// Convolution, pooling and upsampling
//===----------------------------------------------------------------------===//

// Every kernel gradient of a chain conv -> pool -> conv -> global pool ->
// dense depends on the input gradients of the ops after it, so each op's
// data and filter gradients are checked, for strided "same" and dilated
// "valid" convolutions, max and average pools (with "same" padding, which
// the average's counts must respect) and both global pools.
TEST_F(GradientTest, ConvPoolConvGlobalPoolDense) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x${C}xf64>,
                   %k0: tensor<3x3x${C}x${F0}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${F0}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<2x3x${F0}x${F1}xf64> {layer.param, layer.name = "k1"},
                   %k2: tensor<${F1}x${K}xf64> {layer.param, layer.name = "k2"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0, %b0 {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x${C}xf64>, tensor<3x3x${C}x${F0}xf64>, tensor<${F0}xf64>) -> tensor<*xf64>
  %1 = layer.pool %0 {kind = #layer.pool<${POOL}>, pool_size = array<i64: 2, 2>, strides = array<i64: ${PS}, ${PS}>, padding = #layer.padding<${PP}>} : (tensor<*xf64>) -> tensor<*xf64>
  %2 = layer.conv %1, %k1 {strides = array<i64: 1, 1>, padding = #layer.padding<valid>, dilations = array<i64: ${D}, 1>} : (tensor<*xf64>, tensor<2x3x${F0}x${F1}xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<${GPOOL}>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k2 : (tensor<*xf64>, tensor<${F1}x${K}xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t stride, poolStride, dilation;
    const char *pool, *poolPadding, *globalPool;
  };
  const Case cases[] = {{1, 1, 1, "max", "valid", "average"},
                        {2, 1, 1, "average", "same", "max"},
                        {1, 2, 2, "average", "same", "average"},
                        {2, 2, 1, "max", "same", "max"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(9, 12), w = randInt(9, 12),
            ch = randInt(1, 3), f0 = randInt(2, 3), f1 = randInt(2, 3),
            k = randInt(2, 4);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"F0", str(f0)},
                                 {"F1", str(f1)},
                                 {"K", str(k)},
                                 {"S", str(c.stride)},
                                 {"PS", str(c.poolStride)},
                                 {"PP", c.poolPadding},
                                 {"POOL", c.pool},
                                 {"D", str(c.dilation)},
                                 {"GPOOL", c.globalPool}});
    std::vector<Tensor> params = {
        randomTensor(rng, {3, 3, ch, f0}), randomTensor(rng, {f0}, -0.5, 0.5),
        randomTensor(rng, {2, 3, f0, f1}), randomTensor(rng, {f1, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, ch}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// Grouped convolutions: each group's gradient on its slice of the
// channels, joined (groups 2 and 3, strided and "same", with a bias).
TEST_F(GradientTest, GroupedConvolution) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x${C}xf64>,
                   %k0: tensor<3x3x${CG}x${F}xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<${F}xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${F}x${K}xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0, %b0 {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, groups = ${G}, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x${C}xf64>, tensor<3x3x${CG}x${F}xf64>, tensor<${F}xf64>) -> tensor<*xf64>
  %1 = layer.global_pool %0 {kind = #layer.pool<average>} : (tensor<*xf64>) -> tensor<*xf64>
  %2 = layer.dense %1, %k1 : (tensor<*xf64>, tensor<${F}x${K}xf64>) -> tensor<*xf64>
  return %2 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t groups, stride;
    const char *padding;
  };
  const Case cases[] = {{2, 1, "valid"}, {3, 2, "same"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("groups " + std::to_string(c.groups) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(5, 7), w = randInt(5, 7),
            cg = randInt(1, 2), fg = randInt(1, 2), k = randInt(2, 3);
    int64_t ch = cg * c.groups, f = fg * c.groups;
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"CG", str(cg)},
                                 {"F", str(f)},
                                 {"K", str(k)},
                                 {"G", str(c.groups)},
                                 {"S", str(c.stride)},
                                 {"P", c.padding}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, cg, f}),
                                  randomTensor(rng, {f}, -0.5, 0.5),
                                  randomTensor(rng, {f, k})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, ch}, -1, 1),
                                labels(b, k)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// BatchNormalization: with batch-stats, evaluate and grad normalize by
// layer.moments of the batch (train_step's behaviour), so the gradient
// flows through the mean and variance too; without, by the moving
// statistics (given here as inputs). Gamma and beta present or not.
TEST_F(GradientTest, BatchNormalization) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x2xf64>, %mm: tensor<${F}xf64>, %mv: tensor<${F}xf64>,
                   %mm2: tensor<3xf64>, %mv2: tensor<3xf64>,
                   %k0: tensor<2x2x2x${F}xf64> {layer.param, layer.name = "k0"},
                   %g: tensor<${F}xf64> {layer.param, layer.name = "gamma"},
                   %b: tensor<${F}xf64> {layer.param, layer.name = "beta"},
                   %k1: tensor<${F}x3xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x${H}x${W}x2xf64>, tensor<2x2x2x${F}xf64>) -> tensor<*xf64>
  %1 = layer.batch_norm %0, %mm, %mv ${AFFINE} {epsilon = 1.0e-3 : f64} : (tensor<*xf64>, tensor<${F}xf64>, tensor<${F}xf64>${AFFINE_TYPES}) -> tensor<*xf64>
  %2 = layer.activation %1 {activation = #layer.activation<tanh>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k1 : (tensor<*xf64>, tensor<${F}x3xf64>) -> tensor<*xf64>
  %5 = layer.batch_norm %4, %mm2, %mv2 {epsilon = 1.0e-2 : f64} : (tensor<*xf64>, tensor<3xf64>, tensor<3xf64>) -> tensor<*xf64>
  return %5 : tensor<*xf64>
}
)mlir";
  struct Case {
    bool batchStats, affine;
  };
  const Case cases[] = {{true, true}, {true, false}, {false, true}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE(std::string("batch-stats ") + (c.batchStats ? "on" : "off") +
                 ", seed " + std::to_string(s));
    int64_t b = randInt(3, 4), h = randInt(3, 4), w = randInt(3, 4),
            f = randInt(2, 3);
    std::string vec = "tensor<" + str(f) + "xf64>";
    std::string ir =
        fill(tmpl, {{"H", str(h)},
                    {"W", str(w)},
                    {"F", str(f)},
                    {"AFFINE", c.affine ? "gamma(%g) beta(%b)" : ""},
                    {"AFFINE_TYPES", c.affine ? ", " + vec + ", " + vec : ""}});
    std::vector<Tensor> params = {
        randomTensor(rng, {2, 2, 2, f}), randomTensor(rng, {f}, 0.5, 1.5),
        randomTensor(rng, {f}, -0.5, 0.5), randomTensor(rng, {f, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, 2}, -1, 1),
                                randomTensor(rng, {f}, -0.2, 0.2),
                                randomTensor(rng, {f}, 0.5, 1.5),
                                randomTensor(rng, {3}, -0.2, 0.2),
                                randomTensor(rng, {3}, 0.5, 1.5),
                                labels(b, 3)};
    checkGradients(ir,
                   std::string("loss=sparse_categorical_crossentropy "
                               "from-logits=true batch-stats=") +
                       (c.batchStats ? "true" : "false"),
                   data, params);
  }
}

// Filters in whole vectors (4 doubles) take the register-blocked kernels:
// the forward convolution, the kernel gradient, and (stride 1) the input
// gradient as a convolution by the flipped kernel. Widths and channel
// counts that leave partial (clamped) blocks, strides and dilations. Each
// case twice: tiled by layer-tile for this machine, and for 128-bit
// vectors (2 lanes by 2 vectors by 6 columns or channels), so that the
// kernels are checked with another layer.tile than the host's.
TEST_F(GradientTest, RegisterBlockedConvolutions) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x${C}xf64>,
                   %k0: tensor<3x3x${C}x8xf64> {layer.param, layer.name = "k0"},
                   %b0: tensor<8xf64> {layer.param, layer.name = "b0"},
                   %k1: tensor<${K1}x${K1}x8x${F}xf64> {layer.param, layer.name = "k1"},
                   %k2: tensor<${F}x3xf64> {layer.param, layer.name = "k2"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0, %b0 {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x${C}xf64>, tensor<3x3x${C}x8xf64>, tensor<8xf64>) -> tensor<*xf64>
  %1 = layer.conv %0, %k1 {strides = array<i64: 1, 1>, padding = #layer.padding<${P}>, dilations = array<i64: ${D}, ${D}>, activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<${K1}x${K1}x8x${F}xf64>) -> tensor<*xf64>
  %2 = layer.global_pool %1 {kind = #layer.pool<average>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.dense %2, %k2 : (tensor<*xf64>, tensor<${F}x3xf64>) -> tensor<*xf64>
  return %3 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t stride, dilation, filters;
    const char *padding;
  };
  const Case cases[] = {
      {1, 1, 8, "valid"}, {2, 2, 4, "same"}, {1, 2, 12, "same"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(11, 13), w = randInt(13, 15),
            ch = randInt(5, 7), k1 = randInt(2, 3);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"C", str(ch)},
                                 {"F", str(c.filters)},
                                 {"K1", str(k1)},
                                 {"S", str(c.stride)},
                                 {"D", str(c.dilation)},
                                 {"P", c.padding}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, ch, 8}),
                                  randomTensor(rng, {8}, -0.5, 0.5),
                                  randomTensor(rng, {k1, k1, 8, c.filters}),
                                  randomTensor(rng, {c.filters, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, ch}, -1, 1),
                                labels(b, 3)};
    checkAtTwoTilings(ir, data, params);
  }
}

// Winograd's F(2 x 2, 3 x 3) wherever layer-tile chooses it, and
// F(4 x 4, 3 x 3) where asked: a 3 x 3 stride-1 convolution of 8 channels
// (forward, and its input gradient, a sum over its 8 or 16 filters) and a
// stride-1 transposed convolution of as many, odd and even sizes, "valid"
// and "same", at the host's tiles and at 128-bit ones; against finite
// differences.
TEST_F(GradientTest, WinogradConvolutions) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x3xf64>,
                   %k0: tensor<3x3x3x8xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<3x3x8x${F}xf64> {layer.param, layer.name = "k1"},
                   %b1: tensor<${F}xf64> {layer.param, layer.name = "b1"},
                   %t: tensor<3x3x8x${F}xf64> {layer.param, layer.name = "t"},
                   %k2: tensor<8x3xf64> {layer.param, layer.name = "k2"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<?x${H}x${W}x3xf64>, tensor<3x3x3x8xf64>) -> tensor<*xf64>
  %1 = layer.conv %0, %k1, %b1 {strides = array<i64: 1, 1>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<3x3x8x${F}xf64>, tensor<${F}xf64>) -> tensor<*xf64>
  %2 = layer.conv_transpose %1, %t {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>, activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<3x3x8x${F}xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k2 : (tensor<*xf64>, tensor<8x3xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t filters;
    const char *padding;
  };
  const Case cases[] = {{8, "valid"}, {16, "same"}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 3), h = randInt(7, 8), w = randInt(8, 9);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"F", str(c.filters)},
                                 {"P", c.padding}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, 3, 8}),
                                  randomTensor(rng, {3, 3, 8, c.filters}),
                                  randomTensor(rng, {c.filters}, -0.5, 0.5),
                                  randomTensor(rng, {3, 3, 8, c.filters}),
                                  randomTensor(rng, {8, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, 3}, -1, 1),
                                labels(b, 3)};
    // F(4 x 4, 3 x 3) too, which layer-tile keeps for larger images.
    checkAtTwoTilings(ir, data, params, "vector-bits=256 winograd-tile=4");
  }
}

// Bilinear upsampling (half-pixel centres, edges clamped): its gradient
// is the transpose of the interpolation, axis by axis.
TEST_F(GradientTest, BilinearUpsampling) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${W}x2xf64>,
                   %k0: tensor<2x2x2x${F}xf64> {layer.param, layer.name = "k0"},
                   %k1: tensor<${F}x3xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.upsample %x {size = array<i64: ${SH}, ${SW}>, interpolation = #layer.interpolation<bilinear>} : (tensor<?x${H}x${W}x2xf64>) -> tensor<*xf64>
  %1 = layer.conv %0, %k0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>} : (tensor<*xf64>, tensor<2x2x2x${F}xf64>) -> tensor<*xf64>
  %2 = layer.upsample %1 {size = array<i64: 2, 2>, interpolation = #layer.interpolation<bilinear>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.global_pool %2 {kind = #layer.pool<max>} : (tensor<*xf64>) -> tensor<*xf64>
  %4 = layer.dense %3, %k1 : (tensor<*xf64>, tensor<${F}x3xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  for (unsigned config = 0; config < 2; ++config) {
    unsigned s = seed(config);
    SCOPED_TRACE("seed " + std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(2, 4), w = randInt(2, 4),
            sh = randInt(1, 3), sw = randInt(2, 3), f = randInt(2, 3);
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"W", str(w)},
                                 {"SH", str(sh)},
                                 {"SW", str(sw)},
                                 {"F", str(f)}});
    std::vector<Tensor> params = {randomTensor(rng, {2, 2, 2, f}),
                                  randomTensor(rng, {f, 3})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, w, 2}, -1, 1),
                                labels(b, 3)};
    checkGradients(ir, "loss=sparse_categorical_crossentropy from-logits=true",
                   data, params);
  }
}

// The decoder's ops: transposed convolutions (strided, "same" and "valid",
// with output_padding) and nearest upsampling, between convolutions whose
// kernels see their input gradients.
TEST_F(GradientTest, ConvTransposeAndUpsampling) {
  const char *tmpl = R"mlir(
func.func @predict(%x: tensor<?x${H}x${H}x2xf64>,
                   %k0: tensor<3x3x2x3xf64> {layer.param, layer.name = "k0"},
                   %t: tensor<${T}x${T}x${F}x3xf64> {layer.param, layer.name = "t"},
                   %tb: tensor<${F}xf64> {layer.param, layer.name = "tb"},
                   %k1: tensor<2x2x${F}x2xf64> {layer.param, layer.name = "k1"}) -> tensor<*xf64> {
  %0 = layer.conv %x, %k0 {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x${H}x${H}x2xf64>, tensor<3x3x2x3xf64>) -> tensor<*xf64>
  %1 = layer.conv_transpose %0, %t, %tb {strides = array<i64: ${S}, ${S}>, padding = #layer.padding<${P}>, dilations = array<i64: 1, 1>, output_padding = array<i64${OP}>, activation = #layer.activation<relu>} : (tensor<*xf64>, tensor<${T}x${T}x${F}x3xf64>, tensor<${F}xf64>) -> tensor<*xf64>
  %2 = layer.upsample %1 {size = array<i64: 2, ${U}>} : (tensor<*xf64>) -> tensor<*xf64>
  %3 = layer.conv %2, %k1 {strides = array<i64: 2, 2>, padding = #layer.padding<valid>, dilations = array<i64: 1, 1>} : (tensor<*xf64>, tensor<2x2x${F}x2xf64>) -> tensor<*xf64>
  %4 = layer.reshape %3 {target_shape = array<i64: ${FLAT}>} : (tensor<*xf64>) -> tensor<*xf64>
  return %4 : tensor<*xf64>
}
)mlir";
  struct Case {
    int64_t stride, kernel, up;
    const char *padding, *outputPadding;
    int64_t (*outSize)(int64_t);
  };
  const Case cases[] = {
      {2, 3, 1, "same", "", [](int64_t h) { return 2 * h; }},
      {2, 3, 3, "valid", ": 1, 1", [](int64_t h) { return 2 * h + 2; }},
      {1, 2, 2, "valid", "", [](int64_t h) { return h + 1; }}};
  for (unsigned config = 0; config < std::size(cases); ++config) {
    const Case &c = cases[config];
    unsigned s = seed(config);
    SCOPED_TRACE("case " + std::to_string(config) + ", seed " +
                 std::to_string(s));
    int64_t b = randInt(1, 2), h = randInt(3, 5), f = randInt(2, 3);
    int64_t t = c.outSize(h);
    int64_t oh = (2 * t - 2) / 2 + 1, ow = (c.up * t - 2) / 2 + 1;
    std::string ir = fill(tmpl, {{"H", str(h)},
                                 {"T", str(c.kernel)},
                                 {"F", str(f)},
                                 {"S", str(c.stride)},
                                 {"P", c.padding},
                                 {"OP", c.outputPadding},
                                 {"U", str(c.up)},
                                 {"FLAT", str(oh * ow * 2)}});
    std::vector<Tensor> params = {randomTensor(rng, {3, 3, 2, 3}),
                                  randomTensor(rng, {c.kernel, c.kernel, f, 3}),
                                  randomTensor(rng, {f}, -0.5, 0.5),
                                  randomTensor(rng, {2, 2, f, 2})};
    std::vector<Tensor> data = {randomTensor(rng, {b, h, h, 2}, -1, 1),
                                randomTensor(rng, {b, oh * ow * 2}, -1, 1)};
    checkGradients(ir, "loss=mean_squared_error", data, params);
  }
}

} // namespace
