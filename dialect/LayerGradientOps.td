//===- LayerGradientOps.td - Gradient ops -*- tablegen -*-===//
//
// Included by LayerOps.td, which defines the op base classes and the
// tensor types.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_GRADIENT_OPS_TD
#define LAYER_GRADIENT_OPS_TD

//===----------------------------------------------------------------------===//
// Gradients (built by layer-autodiff)
//===----------------------------------------------------------------------===//

def Layer_ActivationGradOp : Layer_ShapedOp<"activation_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of an activation: dy * activation'(x)";
  let description = [{
    Takes the gradient of the output `dy`, the activation's input `x` and
    its output `y` (each rule uses whichever is cheaper).

    ```mlir
    %dx = layer.activation_grad %dy, %x, %y {activation = #layer.activation<relu>}
        : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$grad, Layer_FloatTensor:$input,
                       Layer_FloatTensor:$output, Layer_ActivationAttr:$activation);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input `,` $output attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_LossGradOp : Layer_ShapedOp<"loss_grad"> {
  let summary = "The gradient of a layer.loss with respect to the predictions";
  let description = [{
    `dloss` (rank 0) is the gradient flowing into the loss; attributes and
    `sample_weight` are those of the `layer.loss` it differentiates.

    ```mlir
    %dz = layer.loss_grad %logits, %labels, %dl {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits}
        : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$prediction, Layer_AnyTensor:$target,
                       Layer_FloatTensor:$dloss, Layer_LossAttr:$loss,
                       UnitAttr:$from_logits,
                       Optional<Layer_FloatTensor>:$sample_weight);
  let results = (outs Layer_FloatTensor:$result);
  let assemblyFormat = [{
    $prediction `,` $target `,` $dloss (`weights` `(` $sample_weight^ `)`)? attr-dict `:` functional-type(operands, results)
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
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding,
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
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding,
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
    %dx = layer.pool_grad %x, %dy {kind = #layer.pool<max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x8x8x4xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$grad,
                       Layer_PoolKindAttr:$kind, DenseI64ArrayAttr:$pool_size,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<Layer_PaddingAttr, "::layerc::layer::Padding::Valid">:$padding);
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
    %dx = layer.global_pool_grad %x, %y, %dy {kind = #layer.pool<average>}
        : (tensor<?x8x8x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8x8x4xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$output,
                       Layer_FloatTensor:$grad, Layer_PoolKindAttr:$kind);
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
                       DefaultValuedAttr<Layer_InterpolationAttr, "::layerc::layer::Interpolation::Nearest">:$interpolation);
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

def Layer_NormalizeGradOp : Layer_ShapedOp<"normalize_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.normalize with respect to its input";
  let description = [{
    The attributes are the forward op's. With `r` the reciprocal scale and
    sums over each normalized group of `n` elements:
    `standardize`: `dx = r (dy - sum(dy) / n - (x - mean) r^2 sum(dy (x - mean)) / n)`;
    `variance`: `dx = r dy - r^3 (x - mean) sum(dy x) / n`;
    `l2`: `dx = r dy - r^3 x sum(dy x)` where `1 / sqrt(sum(x^2)) < 1 / epsilon`,
    else `dx = dy / epsilon`.

    ```mlir
    %dx = layer.normalize_grad %dy, %x {axis = 1 : i64, epsilon = 1.0e-3 : f64,
                                        kind = #layer.norm<standardize>}
        : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$output_grad, Layer_FloatTensor:$input,
                       I64Attr:$axis, DefaultValuedAttr<I64Attr, "1">:$groups,
                       F64Attr:$epsilon, Layer_NormKindAttr:$kind);
  let results = (outs Layer_FloatTensor:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
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
    %dx, %dk, %drk, %db = layer.rnn_grad %x, %k, %rk, %b, %dy, %dh, %dc {cell = #layer.cell<lstm>}
        : (...) -> (tensor<?x10x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>, tensor<128xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$input, Layer_FloatTensor:$kernel,
                       Layer_FloatTensor:$recurrent_kernel,
                       Optional<Layer_FloatTensor>:$bias,
                       Variadic<Layer_FloatTensor>:$result_grads, Layer_CellAttr:$cell,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Tanh">:$activation,
                       DefaultValuedAttr<Layer_ActivationAttr, "::layerc::layer::Activation::Sigmoid">:$recurrent_activation,
                       UnitAttr:$return_sequences, UnitAttr:$go_backwards,
                       UnitAttr:$reset_after);
  let results = (outs Variadic<Layer_FloatTensor>:$grads);
  let assemblyFormat = [{
    $input `,` $kernel `,` $recurrent_kernel (`bias` `(` $bias^ `)`)? `,` $result_grads attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_DropoutMaskOp : Layer_ShapedOp<"dropout_mask", [SameOperandsAndResultElementType]> {
  let summary = "The noise of a layer.dropout in one training step";
  let description = [{
    A tensor of the shape of `like` (whose values are not read) drawn from
    a counter-based hash of `seed`, the step number `step` (rank 0) and the
    element's position: the same seed and step give the same mask. `noise`,
    `rate`, `stddev` and `shared_axes` are those of the layer.dropout:
    - `dropout`: 0 with probability rate, else 1 / (1 - rate);
    - `gaussian_dropout`: normal, mean 1, deviation sqrt(rate / (1 - rate));
    - `gaussian_noise`: normal, mean 0, deviation `stddev`;
    - `alpha_dropout`: `a m`, or with `shift` `a alpha' (1 - m) + b`, where
      `m` is the Bernoulli keep mask (the same for both).
    Elements that differ only on `shared_axes` draw the same value. Normal
    noise comes from two uniform draws (Box-Muller).

    With `offset` (rank 0), `like` is a shard of a larger batch that starts
    at sample `offset`: element (n, ...) draws what element (offset + n,
    ...) of the whole batch draws, so shards of one global batch (grad_step
    on several processes) mask exactly as one process would.

    ```mlir
    %m = layer.dropout_mask %x, %step {rate = 0.5 : f64, seed = 7 : i64}
        : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
    %s = layer.dropout_mask %x, %step offset(%first) {rate = 0.5 : f64, seed = 7 : i64}
        : (tensor<?x64xf32>, tensor<f32>, tensor<f32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$like, Layer_FloatTensor:$step,
                       Optional<Layer_FloatTensor>:$offset,
                       DefaultValuedAttr<F64Attr, "0.0">:$rate, I64Attr:$seed,
                       DefaultValuedAttr<Layer_NoiseAttr,
                                         "::layerc::layer::Noise::Dropout">:$noise,
                       DefaultValuedAttr<F64Attr, "0.0">:$stddev,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$shared_axes,
                       UnitAttr:$shift);
  let results = (outs Layer_FloatTensor:$mask);
  let assemblyFormat = [{
    $like `,` $step (`offset` `(` $offset^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

#endif // LAYER_GRADIENT_OPS_TD
