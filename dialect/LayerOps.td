//===- LayerOps.td - Ops of the layer dialect ------------*- tablegen -*-===//
//
// Sections follow the layer families (Core, Merging, Reshaping, Losses,
// Gradients, Optimizers), the same grouping as frontend/layers,
// codegen/LayerToLinalg and passes/autodiff.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_OPS_TD
#define LAYER_OPS_TD

include "dialect/LayerDialect.td"
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
    %y = layer.dense %x, %kernel, %bias {activation = "relu"}
        : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>)
        -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DefaultValuedStrAttr<StrAttr, "linear">:$activation);
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
    %y = layer.activation %x {activation = "softmax"}
        : (tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, StrAttr:$activation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_DropoutOp : Layer_ShapedOp<"dropout", [SameOperandsAndResultElementType]> {
  let summary = "Keras Dropout (the identity at inference)";
  let description = [{
    Randomly zeroes a fraction `rate` (0 <= rate < 1) of the inputs during
    training and scales the rest by 1 / (1 - rate); at inference it is the
    identity. In a training step, layer-autodiff replaces it by
    `layer.multiply` with a `layer.dropout_mask` drawn from `seed` and the
    step number, so a run is reproducible.

    ```mlir
    %y = layer.dropout %x {rate = 0.5 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, F64Attr:$rate,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
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

//===----------------------------------------------------------------------===//
// Convolution and pooling (channels-last, 1 to 3 spatial dimensions)
//===----------------------------------------------------------------------===//

def Layer_ConvOp : Layer_ShapedOp<"conv"> {
  let summary = "Keras Conv1D/2D/3D: activation(conv(input, kernel) + bias)";
  let description = [{
    A channels-last convolution (a cross-correlation, as Keras computes it)
    over the `N = rank(input) - 2` spatial axes, N in 1..3. The kernel has
    Keras's layout `(k_1, ..., k_N, in / groups, filters)`. `padding` is
    `valid` (no padding) or `same` (output size `ceil(size / stride)`, the
    padding split as TensorFlow does: the extra element goes after).
    `groups` splits the channels into independent convolutions.

    ```mlir
    %y = layer.conv %x, %k, %b {strides = array<i64: 2, 2>, padding = "same",
                                dilations = array<i64: 1, 1>, activation = "relu"}
        : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>)
        -> tensor<?x14x14x32xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups,
                       DefaultValuedStrAttr<StrAttr, "linear">:$activation);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $kernel (`,` $bias^)? attr-dict `:` functional-type(operands, results)
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
    %y = layer.conv_transpose %x, %k, %b {strides = array<i64: 2, 2>, padding = "same",
                                          dilations = array<i64: 1, 1>,
                                          output_padding = array<i64>}
        : (tensor<?x7x7x32xf32>, tensor<3x3x16x32xf32>, tensor<16xf32>)
        -> tensor<?x14x14x16xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding,
                       DefaultValuedStrAttr<StrAttr, "linear">:$activation);
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
    %y = layer.pool %x {kind = "max", pool_size = array<i64: 3, 3>,
                        strides = array<i64: 3, 3>, padding = "valid"}
        : (tensor<?x28x28x64xf32>) -> tensor<?x9x9x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, StrAttr:$kind,
                       DenseI64ArrayAttr:$pool_size, DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_GlobalPoolOp : Layer_ShapedOp<"global_pool", [SameOperandsAndResultElementType]> {
  let summary = "Keras GlobalMaxPooling / GlobalAveragePooling: (batch, channels)";
  let description = [{
    Reduces every spatial axis (all but the first and the last) with `kind`
    (`max` or `average`).

    ```mlir
    %y = layer.global_pool %x {kind = "average"}
        : (tensor<?x9x9x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, StrAttr:$kind);
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
    %y = layer.upsample %x {size = array<i64: 3, 3>, interpolation = "nearest"}
        : (tensor<?x6x6x16xf32>) -> tensor<?x18x18x16xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, DenseI64ArrayAttr:$size,
                       DefaultValuedStrAttr<StrAttr, "nearest">:$interpolation);
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
    %seq, %h, %c = layer.rnn %x, %k, %rk, %b {cell = "lstm", return_sequences}
        : (tensor<?x10x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>, tensor<128xf32>)
        -> (tensor<?x10x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$recurrent_kernel,
                       Optional<Layer_FloatTensor>:$bias, StrAttr:$cell,
                       DefaultValuedStrAttr<StrAttr, "tanh">:$activation,
                       DefaultValuedStrAttr<StrAttr, "sigmoid">:$recurrent_activation,
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
        dilations = array<i64: 1, 1>, padding = "same"}
        : (tensor<?x5x8x8x3xf32>, tensor<3x3x3x16xf32>, tensor<3x3x4x16xf32>, tensor<16xf32>)
        -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$recurrent_kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedStrAttr<StrAttr, "tanh">:$activation,
                       DefaultValuedStrAttr<StrAttr, "hard_sigmoid">:$recurrent_activation,
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

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def Layer_LossOp : Layer_ShapedOp<"loss"> {
  let summary = "A Keras loss, averaged over the batch";
  let description = [{
    `loss` is `sparse_categorical_crossentropy` (integer labels of shape
    `(batch)`), `categorical_crossentropy` (one-hot targets of the
    predictions' shape), `binary_crossentropy` (targets in [0, 1] of the
    predictions' shape, averaged over every element; from logits the
    stable `max(z, 0) - z t + log(1 + exp(-|z|))`), `mean_squared_error`
    or `mean_absolute_error`. With `from_logits` the
    cross-entropies take unnormalised logits (a stable log-softmax); without
    it, probabilities clipped to [1e-7, 1 - 1e-7] as Keras does. The result
    is the mean over the batch (Keras's `sum_over_batch_size`).

    ```mlir
    %l = layer.loss %logits, %labels {loss = "sparse_categorical_crossentropy", from_logits}
        : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$prediction, Layer_AnyTensor:$target,
                       StrAttr:$loss, UnitAttr:$from_logits);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $prediction `,` $target attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Gradients (built by layer-autodiff)
//===----------------------------------------------------------------------===//

def Layer_ActivationGradOp : Layer_ShapedOp<"activation_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of an activation: dy * activation'(x)";
  let description = [{
    Takes the gradient of the output `dy`, the activation's input `x` and
    its output `y` (each rule uses whichever is cheaper).

    ```mlir
    %dx = layer.activation_grad %dy, %x, %y {activation = "relu"}
        : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$grad, Layer_FloatTensor:$input,
                       Layer_FloatTensor:$output, StrAttr:$activation);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input `,` $output attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_LossGradOp : Layer_ShapedOp<"loss_grad"> {
  let summary = "The gradient of a layer.loss with respect to the predictions";
  let description = [{
    `dloss` (rank 0) is the gradient flowing into the loss; attributes are
    those of the `layer.loss` it differentiates.

    ```mlir
    %dz = layer.loss_grad %logits, %labels, %dl {loss = "sparse_categorical_crossentropy", from_logits}
        : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$prediction, Layer_AnyTensor:$target,
                       Layer_FloatTensor:$dloss, StrAttr:$loss,
                       UnitAttr:$from_logits);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $prediction `,` $target `,` $dloss attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ConvInputGradOp : Layer_ShapedOp<"conv_input_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.conv (groups 1) with respect to its input";
  let description = [{
    `dy` has the convolution's output shape, `kernel` is its kernel and
    `like` its input, whose shape (not values) the result takes. Attributes
    are the convolution's.

    ```mlir
    %dx = layer.conv_input_grad %dy, %k, %x {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
        : (tensor<?x26x26x16xf32>, tensor<3x3x1x16xf32>, tensor<?x28x28x1xf32>) -> tensor<?x28x28x1xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$grad, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$like, DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding,
                       DenseI64ArrayAttr:$dilations);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $kernel `,` $like attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ConvFilterGradOp : Layer_ShapedOp<"conv_filter_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.conv (groups 1) with respect to its kernel";
  let description = [{
    `input` is the convolution's input, `dy` the gradient of its output and
    `like` its kernel, whose shape the result takes.

    ```mlir
    %dk = layer.conv_filter_grad %x, %dy, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
        : (tensor<?x28x28x1xf32>, tensor<?x26x26x16xf32>, tensor<3x3x1x16xf32>) -> tensor<3x3x1x16xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$like, DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding,
                       DenseI64ArrayAttr:$dilations);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $grad `,` $like attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_PoolGradOp : Layer_ShapedOp<"pool_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.pool with respect to its input";
  let description = [{
    A max pool routes each output's gradient to the first maximum of its
    window; an average pool spreads it over the window's unpadded
    positions. Attributes are the pool's.

    ```mlir
    %dx = layer.pool_grad %x, %dy {kind = "max", pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x8x8x4xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$grad,
                       StrAttr:$kind, DenseI64ArrayAttr:$pool_size,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedStrAttr<StrAttr, "valid">:$padding);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $grad attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_GlobalPoolGradOp : Layer_ShapedOp<"global_pool_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.global_pool with respect to its input";
  let description = [{
    `output` is the pool's result. A max sends the gradient to every
    position equal to the maximum; an average spreads it evenly.

    ```mlir
    %dx = layer.global_pool_grad %x, %y, %dy {kind = "average"}
        : (tensor<?x8x8x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8x8x4xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$output,
                       Layer_FloatTensor:$grad, StrAttr:$kind);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $output `,` $grad attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_UpsampleGradOp : Layer_ShapedOp<"upsample_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.upsample";
  let description = [{
    Nearest: the sum over each block. Bilinear (2 spatial dimensions): the
    transpose of the interpolation, one axis after the other.

    ```mlir
    %dx = layer.upsample_grad %dy, %x {size = array<i64: 2, 2>}
        : (tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x4x4x4xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$grad, Layer_FloatTensor:$like,
                       DenseI64ArrayAttr:$size,
                       DefaultValuedStrAttr<StrAttr, "nearest">:$interpolation);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $like attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ScaleOp : Layer_ShapedOp<"scale", [SameOperandsAndResultElementType]> {
  let summary = "x times a constant factor (gradients of subtract and average)";
  let description = [{
    ```mlir
    %y = layer.scale %dy {factor = -1.0 : f64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, F64Attr:$factor);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_SliceOp : Layer_ShapedOp<"slice", [SameOperandsAndResultElementType]> {
  let summary = "Elements [offset, offset + size) along one axis (concatenate's gradient)";
  let description = [{
    ```mlir
    %a = layer.slice %dy {axis = 1 : i64, offset = 0 : i64, size = 64 : i64}
        : (tensor<?x96xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, I64Attr:$axis, I64Attr:$offset,
                       I64Attr:$size);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Layer_MaximumGradOp : Layer_ShapedOp<"maximum_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradients of layer.maximum: dy where lhs >= rhs, and the rest";
  let description = [{
    Ties go to the left operand, as TensorFlow's Maximum gradient.

    ```mlir
    %da, %db = layer.maximum_grad %a, %b, %dy
        : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$lhs, Layer_FloatTensor:$rhs,
                       Layer_FloatTensor:$grad);
  let results = (outs Layer_FloatTensor:$lhs_grad, Layer_FloatTensor:$rhs_grad);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $grad attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_EmbeddingGradOp : Layer_ShapedOp<"embedding_grad"> {
  let summary = "The gradient of layer.embedding's table: rows accumulated by index";
  let description = [{
    Row `i` of the result sums the rows of `grad` whose index is `i`
    (repeated indices accumulate); out-of-range indices contribute nothing.
    `like` is the table (its shape is used).

    ```mlir
    %dt = layer.embedding_grad %ids, %dy, %table
        : (tensor<?x?xi32>, tensor<?x?x64xf32>, tensor<1000x64xf32>) -> tensor<1000x64xf32>
    ```
  }];
  let arguments = (ins Layer_LabelTensor:$indices, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$like);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $indices `,` $grad `,` $like attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_BatchNormGradOp : Layer_ShapedOp<"batch_norm_grad"> {
  let summary = "The gradients of layer.batch_norm with respect to all its operands";
  let description = [{
    For `y = (x - mean) * r * gamma + beta`, `r = (variance + epsilon)^-1/2`:
    `dx = dy r gamma`, `dmean = -sum(dy) r gamma`,
    `dvariance = -sum(dy (x - mean)) gamma r^3 / 2`,
    `dgamma = sum(dy (x - mean) r)`, `dbeta = sum(dy)`, sums over every
    axis but the last. Without `gamma`, gamma is 1.

    ```mlir
    %dx, %dm, %dv, %dg, %db = layer.batch_norm_grad %dy, %x, %mean, %var gamma(%g) {epsilon = 1.0e-3 : f64}
        : (...) -> (tensor<?x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$output_grad, Layer_FloatTensor:$input,
                       Layer_FloatTensor:$mean, Layer_FloatTensor:$variance,
                       Optional<Layer_FloatTensor>:$gamma, F64Attr:$epsilon);
  let results = (outs Layer_FloatTensor:$input_grad, Layer_FloatTensor:$mean_grad,
                      Layer_FloatTensor:$variance_grad, Layer_FloatTensor:$gamma_grad,
                      Layer_FloatTensor:$beta_grad);
  let assemblyFormat = [{
    $output_grad `,` $input `,` $mean `,` $variance (`gamma` `(` $gamma^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_MomentsGradOp : Layer_ShapedOp<"moments_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.moments: (dmean + 2 dvariance (x - mean)) / count";
  let description = [{
    ```mlir
    %dx = layer.moments_grad %x, %mean, %dmean, %dvar
        : (tensor<?x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x8x8x16xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$mean,
                       Layer_FloatTensor:$mean_grad, Layer_FloatTensor:$variance_grad);
  let results = (outs Layer_FloatTensor:$input_grad);
  let assemblyFormat = "$input `,` $mean `,` $mean_grad `,` $variance_grad attr-dict `:` functional-type(operands, results)";
}

def Layer_RnnGradOp : Layer_ShapedOp<"rnn_grad", [AttrSizedOperandSegments]> {
  let summary = "Backpropagation through time of a layer.rnn";
  let description = [{
    Operands: the layer.rnn's input, kernel, recurrent kernel and optional
    bias, then the gradients of its results (the output, then each final
    state); attributes are the layer.rnn's. Results: the gradients of the
    input, the kernel, the recurrent kernel and, with a bias, the bias. The
    forward pass is recomputed, keeping every step's pre-activations and
    states, then a reverse loop accumulates the gradients.

    ```mlir
    %dx, %dk, %drk, %db = layer.rnn_grad %x, %k, %rk, %b, %dy, %dh, %dc {cell = "lstm"}
        : (...) -> (tensor<?x10x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>, tensor<128xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$recurrent_kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       Variadic<Layer_FloatTensor>:$result_grads, StrAttr:$cell,
                       DefaultValuedStrAttr<StrAttr, "tanh">:$activation,
                       DefaultValuedStrAttr<StrAttr, "sigmoid">:$recurrent_activation,
                       UnitAttr:$return_sequences, UnitAttr:$go_backwards,
                       UnitAttr:$reset_after);
  let results = (outs Variadic<Layer_FloatTensor>:$grads);
  let assemblyFormat = [{
    $input `,` $kernel `,` $recurrent_kernel (`bias` `(` $bias^ `)`)? `,` $result_grads attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_DropoutMaskOp : Layer_ShapedOp<"dropout_mask", [SameOperandsAndResultElementType]> {
  let summary = "A dropout mask: 0 with probability rate, else 1 / (1 - rate)";
  let description = [{
    A tensor of the shape of `like` (whose values are not read) drawn from
    a counter-based hash of `seed`, the step number `step` (rank 0) and the
    element's position: the same seed and step give the same mask.

    ```mlir
    %m = layer.dropout_mask %x, %step {rate = 0.5 : f64, seed = 7 : i64}
        : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$like, Layer_FloatTensor:$step,
                       F64Attr:$rate, I64Attr:$seed);
  let results = (outs Layer_FloatTensor:$mask);
  let assemblyFormat = [{
    $like `,` $step attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Optimizers (Keras's update rules)
//===----------------------------------------------------------------------===//

class Layer_OptimizerOp<string mnemonic, list<Trait> traits = []> :
    Layer_ShapedOp<mnemonic, !listconcat([SameOperandsAndResultElementType],
                                         traits)>;

def Layer_SGDUpdateOp : Layer_OptimizerOp<"sgd_update"> {
  let summary = "Keras SGD: v = momentum * v - lr * g; w += v";
  let description = [{
    With `momentum = 0` this is `w -= lr * g`; the velocity result is then
    `-lr * g` and never read back into the parameter. With `nesterov`,
    Keras's Nesterov step: `w += momentum * v - lr * g` with the new `v`.

    Every update op shares Keras's optional extras: `weight_decay` first
    applies `w -= w * weight_decay * lr` (decoupled weight decay, as
    AdamW), and with `decay_steps > 0` and the 1-based `step` operand the
    learning rate follows ExponentialDecay,
    `lr * decay_rate ^ ((step - 1) / decay_steps)` (the exponent floored
    with `staircase`).

    ```mlir
    %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$velocity,
                       Optional<Layer_FloatTensor>:$step,
                       F64Attr:$learning_rate, F64Attr:$momentum,
                       UnitAttr:$nesterov,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
                       DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
                       UnitAttr:$staircase);
  let results = (outs Layer_FloatTensor:$new_param,
                      Layer_FloatTensor:$new_velocity);
  let assemblyFormat = [{
    $param `,` $grad `,` $velocity (`step` $step^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_RMSpropUpdateOp : Layer_OptimizerOp<"rmsprop_update", [AttrSizedOperandSegments]> {
  let summary = "Keras RMSprop: a = rho a + (1 - rho) g^2; w -= lr g / sqrt(a + eps)";
  let description = [{
    Keras adds epsilon inside the square root (PyTorch adds it outside).
    With the `average_grad` slot (Keras's `centered`), the denominator is
    `sqrt(a - mg^2 + eps)` with `mg = rho mg + (1 - rho) g`; the results are
    the parameter and the slots in operand order. `weight_decay`,
    `decay_steps` and the `step` operand as in `layer.sgd_update`.

    ```mlir
    %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = 0.9 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$average,
                       Optional<Layer_FloatTensor>:$average_grad,
                       Optional<Layer_FloatTensor>:$step,
                       F64Attr:$learning_rate, F64Attr:$rho, F64Attr:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
                       DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
                       UnitAttr:$staircase);
  let results = (outs Layer_FloatTensor:$new_param,
                      Variadic<Layer_FloatTensor>:$new_slots);
  let assemblyFormat = [{
    $param `,` $grad `,` $average (`centered` $average_grad^)? (`step` $step^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_AdamUpdateOp : Layer_OptimizerOp<"adam_update"> {
  let summary = "Keras Adam with bias correction folded into the step size";
  let description = [{
    With `t = step` (1-based): `alpha = lr sqrt(1 - b2^t) / (1 - b1^t)`,
    `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
    `w -= alpha m / (sqrt(v) + eps)`. With the `v_hat` slot (Keras's
    `amsgrad`), `v_hat = max(v_hat, v)` replaces `v` in the step. With
    `weight_decay` (AdamW), `w -= w * weight_decay * lr` first. The results
    are the parameter and the slots in operand order.

    ```mlir
    %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>)
        -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$m, Layer_FloatTensor:$v,
                       Optional<Layer_FloatTensor>:$v_hat,
                       Layer_FloatTensor:$step, F64Attr:$learning_rate,
                       F64Attr:$beta_1, F64Attr:$beta_2, F64Attr:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
                       DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
                       UnitAttr:$staircase);
  let results = (outs Layer_FloatTensor:$new_param,
                      Variadic<Layer_FloatTensor>:$new_slots);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v (`amsgrad` $v_hat^)? `,` $step attr-dict `:` functional-type(operands, results)
  }];
}

#endif // LAYER_OPS_TD
