//===- LayerOps.td - Ops of the layer dialect ------------*- tablegen -*-===//
//
// Sections follow the layer families (Core, Convolution and pooling,
// Normalization, Recurrent, Merging, Reshaping), the same grouping as
// frontend/layers, codegen/LayerToLinalg and passes/autodiff; losses and
// optimizers are in LayerTrainingOps.td, gradients in LayerGradientOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_OPS_TD
#define LAYER_OPS_TD

include "dialect/LayerDialect.td"
include "dialect/LayerEnums.td"
include "dialect/LayerInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Layer_FloatTensor : TensorOf<[F32, F64]>;
def Layer_LabelTensor : TensorOf<[I32, I64]>;
def Layer_AnyTensor : TensorOf<[F32, F64, I32, I64]>;

class Layer_ShapedOp<string mnemonic, list<Trait> traits = []> :
    Layer_Op<mnemonic, !listconcat(traits,
        [Pure, DeclareOpInterfaceMethods<ShapeInferenceOpInterface>])> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Core
//===----------------------------------------------------------------------===//

def Layer_DenseOp : Layer_ShapedOp<"dense"> {
  let summary = "Keras Dense: activation(input x kernel + bias)";
  let description = [{
    A densely connected layer on the last axis. The kernel has Keras's layout
    `(in, out)`; the bias is optional. `activation` is any activation of
    `layer.activation`.

    ```mlir
    %y = layer.dense %x, %kernel, %bias {activation = #layer.activation<relu>}
        : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>)
        -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Linear">:$activation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $kernel (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ActivationOp : Layer_ShapedOp<"activation", [SameOperandsAndResultElementType]> {
  let summary = "Keras Activation: an element-wise (or softmax) activation";
  let description = [{
    Applies `activation` (`linear`, `relu`, `sigmoid`, `tanh`, `softmax`,
    `gelu` (exact, with erf), `elu`, `selu`, `swish`/`silu`), with Keras's
    constants. Softmax normalises over the last axis.

    ```mlir
    %y = layer.activation %x {activation = #layer.activation<softmax>}
        : (tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_ActivationAttr:$activation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_ThresholdOp : Layer_ShapedOp<"threshold", [SameOperandsAndResultElementType]> {
  let summary = "x where x > threshold, else 0 (Keras ReLU's threshold)";
  let description = [{
    Keras's `ReLU(threshold=t)` keeps the inputs above `t` and zeroes the
    others (a jump at `t`, which no continuous op gives). With `mask` the
    result is the step itself, 1 where x > threshold and 0 elsewhere: the
    gradient of the thresholded identity is `dy * mask` (and the mask's own
    gradient is 0).

    ```mlir
    %y = layer.threshold %x {threshold = 5.000000e-01 : f64}
        : (tensor<?x64xf32>) -> tensor<?x64xf32>
    %m = layer.threshold %x {threshold = 5.000000e-01 : f64, mask}
        : (tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, F64Attr:$threshold,
                       UnitAttr:$mask);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_DropoutOp : Layer_ShapedOp<"dropout", [SameOperandsAndResultElementType]> {
  let summary = "Keras's Dropout and noise layers (the identity at inference)";
  let description = [{
    In a training step, `noise` says what it does to its input:
    - `dropout` (Dropout, SpatialDropout): zeroes a fraction `rate`
      (0 <= rate < 1) of the inputs and scales the rest by 1 / (1 - rate);
    - `gaussian_dropout`: multiplies by normal noise of mean 1 and standard
      deviation sqrt(rate / (1 - rate));
    - `gaussian_noise`: adds normal noise of standard deviation `stddev`
      (the only kind that takes `stddev`; `rate` stays 0);
    - `alpha_dropout`: Keras's AlphaDropout, `a (x m + alpha' (1 - m)) + b`
      with a Bernoulli keep mask `m`, which keeps SELU's mean and variance.
    The noise is drawn once per index of the axes not in `shared_axes`
    (1-based, never the batch axis) and broadcast over the shared ones:
    SpatialDropout2D shares axes 1 and 2 (whole feature maps), as Keras's
    `noise_shape` with 1 on those axes. At inference it is the identity. In
    a training step, layer-autodiff replaces it by `layer.multiply` and
    `layer.add` with `layer.dropout_mask`s drawn from `seed` and the step
    number, so a run is reproducible.

    ```mlir
    %y = layer.dropout %x {rate = 0.5 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
    %s = layer.dropout %m {rate = 0.2 : f64, shared_axes = array<i64: 1, 2>}
        : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
    %n = layer.dropout %x {noise = #layer.noise<gaussian_noise>, stddev = 0.1 : f64}
        : (tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "0.0">:$rate,
                       DefaultValuedAttr<I64Attr, "0">:$seed,
                       DefaultValuedAttr<Layer_NoiseAttr,
                                         "::layerc::layer::Noise::Dropout">:$noise,
                       DefaultValuedAttr<F64Attr, "0.0">:$stddev,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$shared_axes);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_ActivityRegularizationOp : Layer_ShapedOp<"activity_regularization", [SameOperandsAndResultElementType]> {
  let summary = "Keras's activity regularizer: the identity plus a loss term";
  let description = [{
    Returns its input. layer-autodiff adds `(l1 * sum|x| + l2 * sum x^2) /
    batch` of its input to the loss (a `layer.weight_penalty` with
    `per_sample`), as Keras adds a layer's `activity_regularizer` (and the
    ActivityRegularization layer) to `model.losses`.

    ```mlir
    %y = layer.activity_regularization %x {l1 = 0.0 : f64, l2 = 1.0e-2 : f64}
        : (tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, F64Attr:$l1, F64Attr:$l2);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_MatmulOp : Layer_ShapedOp<"matmul", [SameOperandsAndResultElementType]> {
  let summary = "Matrix product of two rank-2 tensors, optionally transposed";
  let description = [{
    `op(lhs) x op(rhs)` where `op` transposes when `transpose_lhs` /
    `transpose_rhs` is set. Gradients of Dense are built from it.

    ```mlir
    %dw = layer.matmul %x, %dy {transpose_lhs}
        : (tensor<?x784xf32>, tensor<?x64xf32>) -> tensor<784x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_BatchMatmulOp : Layer_ShapedOp<"batch_matmul", [SameOperandsAndResultElementType]> {
  let summary = "Batched matrix product over the last two axes";
  let description = [{
    `op(lhs) x op(rhs)` per batch: (..., M, K) x (..., K, N) -> (..., M, N),
    where `op` swaps the last two axes when `transpose_lhs` /
    `transpose_rhs` is set. Both operands have one rank (>= 3) and the same
    leading (batch) sizes. Keras's Dot on inputs of rank 3 and the
    attention layers' scores are built from it.

    ```mlir
    %s = layer.batch_matmul %q, %k {transpose_rhs}
        : (tensor<?x4x8xf32>, tensor<?x6x8xf32>) -> tensor<?x4x6xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (channels-last, 1 to 3 spatial dimensions)
//===----------------------------------------------------------------------===//

def Layer_ConvOp : Layer_ShapedOp<"conv", [AttrSizedOperandSegments]> {
  let summary = "Keras Conv1D/2D/3D: activation(conv(input, kernel) + bias)";
  let description = [{
    A channels-last convolution (a cross-correlation, as Keras computes it)
    over the `N = rank(input) - 2` spatial axes, N in 1..3. The kernel has
    Keras's layout `(k_1, ..., k_N, in / groups, filters)`. `padding` is
    `valid` (no padding) or `same` (output size `ceil(size / stride)`, the
    padding split as TensorFlow does: the extra element goes after).
    `groups` splits the channels into independent convolutions.

    ```mlir
    %y = layer.conv %x, %k, %b {strides = array<i64: 2, 2>, padding = #layer.padding<same>,
                                dilations = array<i64: 1, 1>, activation = #layer.activation<relu>}
        : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>)
        -> tensor<?x14x14x32xf32>
    ```

    `residual`, when given, has the result's type and is added after the
    activation: `activation(conv(input, kernel) + bias) + residual`. It is
    what `layer-fuse` makes of a `layer.add` that follows the convolution
    (a ResNet's shortcut) in an inference function, so that the sum is
    written by the convolution's epilogue, not by a pass of its own. It has
    no gradient rule: fuse after `layer-autodiff`.

    ```mlir
    %y = layer.conv %x, %k, %b residual %r {strides = array<i64: 1, 1>, padding = #layer.padding<same>,
                                            dilations = array<i64: 1, 1>, activation = #layer.activation<relu>}
        : (tensor<?x9x9x64xf32>, tensor<3x3x64x64xf32>, tensor<64xf32>, tensor<?x9x9x64xf32>)
        -> tensor<?x9x9x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       Optional<Layer_FloatTensor>:$residual,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Linear">:$activation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $kernel (`,` $bias^)? (`residual` $residual^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ConvTransposeOp : Layer_ShapedOp<"conv_transpose"> {
  let summary = "Keras Conv2DTranspose (and its 1-D/3-D forms)";
  let description = [{
    The transpose (gradient with respect to the input) of `layer.conv`, as
    Keras computes it. The kernel has Keras's layout
    `(k_1, ..., k_N, filters, in)`. The output size per axis is Keras's
    `deconv_output_length`: without `output_padding`, `size * stride` for
    `same` and `size * stride + max(k - stride, 0)` for `valid`; with it,
    `(size - 1) * stride + k - 2 * pad + output_padding` (`pad = k / 2` for
    `same`, 0 for `valid`), `k` being the dilated kernel size. An empty
    `output_padding` means "not given".

    ```mlir
    %y = layer.conv_transpose %x, %k, %b {strides = array<i64: 2, 2>, padding = #layer.padding<same>,
                                          dilations = array<i64: 1, 1>,
                                          output_padding = array<i64>}
        : (tensor<?x7x7x32xf32>, tensor<3x3x16x32xf32>, tensor<16xf32>)
        -> tensor<?x14x14x16xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Linear">:$activation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $kernel (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_PoolOp : Layer_ShapedOp<"pool", [SameOperandsAndResultElementType]> {
  let summary = "Keras MaxPooling / AveragePooling in 1 to 3 dimensions";
  let description = [{
    `kind` is `max` or `average`. Output sizes follow Keras: `valid` gives
    `floor((size - pool) / stride) + 1`, `same` gives `ceil(size / stride)`
    with TensorFlow's padding split; padded positions never win a max and
    are not counted by an average (as TensorFlow).

    ```mlir
    %y = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>,
                        strides = array<i64: 3, 3>, padding = #layer.padding<valid>}
        : (tensor<?x28x28x64xf32>) -> tensor<?x9x9x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_PoolKindAttr:$kind,
                       DenseI64ArrayAttr:$pool_size, DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_GlobalPoolOp : Layer_ShapedOp<"global_pool", [SameOperandsAndResultElementType]> {
  let summary = "Keras GlobalMaxPooling / GlobalAveragePooling: (batch, channels)";
  let description = [{
    Reduces every spatial axis (all but the first and the last) with `kind`
    (`max` or `average`).

    ```mlir
    %y = layer.global_pool %x {kind = #layer.pool<average>}
        : (tensor<?x9x9x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_PoolKindAttr:$kind);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_UpsampleOp : Layer_ShapedOp<"upsample", [SameOperandsAndResultElementType]> {
  let summary = "Keras UpSampling1D/2D/3D: repeats (nearest) or interpolates (bilinear)";
  let description = [{
    Scales every spatial axis by its integer `size`. `interpolation` is
    `nearest` (repeat) or `bilinear` (half-pixel centres, edges clamped, as
    `tf.image.resize`; 2 spatial axes only).

    ```mlir
    %y = layer.upsample %x {size = array<i64: 3, 3>, interpolation = #layer.interpolation<nearest>}
        : (tensor<?x6x6x16xf32>) -> tensor<?x18x18x16xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, DenseI64ArrayAttr:$size,
                       DefaultValuedAttr<Layer_InterpolationAttr, "::layerc::layer::Interpolation::Nearest">:$interpolation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Normalization and embedding
//===----------------------------------------------------------------------===//

def Layer_BatchNormOp : Layer_ShapedOp<"batch_norm", [AttrSizedOperandSegments]> {
  let summary = "Keras BatchNormalization at inference: moving statistics";
  let description = [{
    `(x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta` over
    the last axis; `gamma` is absent when `scale=False`, `beta` when
    `center=False`. `momentum` is Keras's: layer-autodiff's `train_step`
    normalizes by the batch's `layer.moments` instead and updates the moving
    statistics as `moving * momentum + batch * (1 - momentum)`.

    ```mlir
    %y = layer.batch_norm %x, %mean, %var gamma(%g) beta(%b) {epsilon = 1.0e-3 : f64}
        : (tensor<?x9x9x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> tensor<?x9x9x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$moving_mean,
                       Layer_FloatTensor:$moving_variance,
                       Optional<Layer_FloatTensor>:$gamma,
                       Optional<Layer_FloatTensor>:$beta, F64Attr:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.99">:$momentum);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $moving_mean `,` $moving_variance (`gamma` `(` $gamma^ `)`)?
    (`beta` `(` $beta^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_MomentsOp : Layer_ShapedOp<"moments", [SameOperandsAndResultElementType]> {
  let summary = "Mean and variance over every axis but the last (batch statistics)";
  let description = [{
    What BatchNormalization normalizes by in training: per channel, the mean
    and the biased variance (divided by the count, as `keras.ops.moments`)
    over the batch and every spatial axis. Two passes, so that a large mean
    does not cancel the variance.

    ```mlir
    %mean, %var = layer.moments %x
        : (tensor<?x9x9x64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input);
  let results = (outs Layer_FloatTensor:$mean, Layer_FloatTensor:$variance);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_NormalizeOp : Layer_ShapedOp<"normalize", [SameOperandsAndResultElementType]> {
  let summary = "Per-sample normalization over the trailing axes (LayerNormalization, GroupNormalization, UnitNormalization)";
  let description = [{
    Normalizes each sample over the axes from `axis` (>= 1) to the last,
    separately in each of `groups` contiguous blocks of the last axis (whose
    size `groups` must divide). `kind` says how:
    `standardize`: `(x - mean) / sqrt(variance + epsilon)` (mean and biased
    variance in two passes; LayerNormalization, GroupNormalization);
    `variance`: `x / sqrt(variance + epsilon)` (LayerNormalization's
    deprecated `rms_scaling`); `l2`: `x * min(1 / sqrt(sum(x^2)), 1 / epsilon)`
    (`keras.ops.normalize` of order 2, UnitNormalization). A layer's `gamma`
    and `beta` are a `layer.multiply` and a `layer.add` after it.

    ```mlir
    %y = layer.normalize %x {axis = 1 : i64, groups = 4 : i64, epsilon = 1.0e-3 : f64,
                             kind = #layer.norm<standardize>}
        : (tensor<?x9x9x64xf32>) -> tensor<?x9x9x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<I64Attr, "1">:$groups, F64Attr:$epsilon,
                       Layer_NormKindAttr:$kind);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_EmbeddingOp : Layer_ShapedOp<"embedding"> {
  let summary = "Keras Embedding: rows of a table picked by integer indices";
  let description = [{
    The output has the indices' shape plus the table's row length. An index
    outside `[0, input_dim)` gives a row of zeros (defined behaviour: no read
    outside the table).

    ```mlir
    %y = layer.embedding %ids, %table
        : (tensor<?x?xi32>, tensor<1000x64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Layer_LabelTensor:$indices, Layer_FloatTensor:$table);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $indices `,` $table attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Recurrent
//===----------------------------------------------------------------------===//

def Layer_RnnOp : Layer_ShapedOp<"rnn"> {
  let summary = "Keras SimpleRNN, LSTM and GRU over a (batch, time, features) input";
  let description = [{
    Runs `cell` (`simple_rnn`, `lstm` or `gru`) over the time axis from zero
    states, with Keras's weight layouts: `kernel (features, G * units)`,
    `recurrent_kernel (units, G * units)` with the gates in Keras's order
    (LSTM i, f, c, o; GRU z, r, h; G = 1, 4, 3) and `bias (G * units)`, or
    `(2, 3 * units)` for a GRU with `reset_after` (input and recurrent
    biases). `activation` and `recurrent_activation` are Keras's (tanh and
    sigmoid by default). With `go_backwards` the steps run from the last to
    the first, and the sequence output stays in that order (as Keras).

    The first result is the sequence `(batch, time, units)` with
    `return_sequences`, else the last output `(batch, units)`; then come
    the final states: `h`, and `c` for an LSTM.

    ```mlir
    %seq, %h, %c = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<lstm>, return_sequences}
        : (tensor<?x10x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>, tensor<128xf32>)
        -> (tensor<?x10x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$recurrent_kernel,
                       Optional<Layer_FloatTensor>:$bias, Layer_CellAttr:$cell,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Tanh">:$activation,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Sigmoid">:$recurrent_activation,
                       UnitAttr:$return_sequences, UnitAttr:$go_backwards,
                       UnitAttr:$reset_after);
  let results = (outs Layer_FloatTensor:$output,
                      Variadic<Layer_FloatTensor>:$states);
  let assemblyFormat = [{
    $input `,` $kernel `,` $recurrent_kernel (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ConvLstmOp : Layer_ShapedOp<"conv_lstm"> {
  let summary = "Keras ConvLSTM1D/2D/3D over (batch, time, spatial..., channels)";
  let description = [{
    An LSTM whose products are convolutions: per step,
    `z = conv(x_t, kernel, strides, padding, dilations) + bias +
    conv(h, recurrent_kernel, "same")`, gates i, f, c, o along the last
    axis as in `layer.rnn`. Keras's layouts: `kernel (k..., channels,
    4 * filters)`, `recurrent_kernel (k..., filters, 4 * filters)`,
    `bias (4 * filters)`. Keras 2's default recurrent activation is
    `hard_sigmoid`. Results: the output (the sequence with
    `return_sequences`), then the final `h` and `c`.

    ```mlir
    %y, %h, %c = layer.conv_lstm %x, %k, %rk, %b {strides = array<i64: 1, 1>,
        dilations = array<i64: 1, 1>, padding = #layer.padding<same>}
        : (tensor<?x5x8x8x3xf32>, tensor<3x3x3x16xf32>, tensor<3x3x4x16xf32>, tensor<16xf32>)
        -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$recurrent_kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Tanh">:$activation,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::HardSigmoid">:$recurrent_activation,
                       UnitAttr:$return_sequences, UnitAttr:$go_backwards);
  let results = (outs Layer_FloatTensor:$output, Layer_FloatTensor:$h,
                      Layer_FloatTensor:$c);
  let assemblyFormat = [{
    $input `,` $kernel `,` $recurrent_kernel (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Merging
//===----------------------------------------------------------------------===//

def Layer_AddOp : Layer_ShapedOp<"add", [SameOperandsAndResultElementType]> {
  let summary = "Keras add: element-wise sum of two tensors of one shape";
  let description = [{
    ```mlir
    %y = layer.add %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_MultiplyOp : Layer_ShapedOp<"multiply", [SameOperandsAndResultElementType]> {
  let summary = "Keras multiply: element-wise product of two tensors of one shape";
  let description = [{
    ```mlir
    %y = layer.multiply %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_SubtractOp : Layer_ShapedOp<"subtract", [SameOperandsAndResultElementType]> {
  let summary = "Keras subtract: lhs - rhs, of one shape";
  let description = [{
    ```mlir
    %y = layer.subtract %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_MaximumOp : Layer_ShapedOp<"maximum", [SameOperandsAndResultElementType]> {
  let summary = "Keras maximum: element-wise maximum of two tensors of one shape";
  let description = [{
    ```mlir
    %y = layer.maximum %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_AverageOp : Layer_ShapedOp<"average", [SameOperandsAndResultElementType]> {
  let summary = "Keras average: element-wise mean of tensors of one shape";
  let description = [{
    ```mlir
    %y = layer.average %a, %b, %c
        : (tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Variadic<Layer_FloatTensor>:$inputs);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Layer_ConcatenateOp : Layer_ShapedOp<"concatenate", [SameOperandsAndResultElementType]> {
  let summary = "Keras concatenate: joins tensors along `axis`";
  let description = [{
    Every other dimension must agree. `axis` counts from 0 (the batch axis)
    and may be negative, as in Keras (default -1).

    ```mlir
    %y = layer.concatenate %a, %b {axis = -1 : i64}
        : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x96xf32>
    ```
  }];
  let arguments = (ins Variadic<Layer_FloatTensor>:$inputs,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Reshaping
//===----------------------------------------------------------------------===//

def Layer_ReshapeOp : Layer_ShapedOp<"reshape", [SameOperandsAndResultElementType]> {
  let summary = "Keras Reshape: a new shape for every sample";
  let description = [{
    `target_shape` excludes the batch dimension, as in Keras; the number of
    elements per sample must not change.

    ```mlir
    %y = layer.reshape %x {target_shape = array<i64: 28, 28>}
        : (tensor<?x784xf32>) -> tensor<?x28x28xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, DenseI64ArrayAttr:$target_shape);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_TransposeOp : Layer_ShapedOp<"transpose", [SameOperandsAndResultElementType]> {
  let summary = "Keras Permute: the axes of the input reordered";
  let description = [{
    Output axis `i` is input axis `permutation[i]`; `permutation` covers every
    axis, the batch axis (0) included (Keras's Permute keeps it first).

    ```mlir
    %y = layer.transpose %x {permutation = array<i64: 0, 2, 1>}
        : (tensor<?x10x64xf32>) -> tensor<?x64x10xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_ReduceSumOp : Layer_ShapedOp<"reduce_sum", [SameOperandsAndResultElementType]> {
  let summary = "Sum over one axis (which disappears)";
  let description = [{
    Used for bias gradients (a sum over the batch).

    ```mlir
    %db = layer.reduce_sum %dy {axis = 0 : i64} : (tensor<?x64xf32>) -> tensor<64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

include "dialect/LayerTrainingOps.td"
include "dialect/LayerGradientOps.td"

#endif // LAYER_OPS_TD
