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
    predictions' shape) or `mean_squared_error`. With `from_logits` the
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

class Layer_OptimizerOp<string mnemonic> :
    Layer_ShapedOp<mnemonic, [SameOperandsAndResultElementType]>;

def Layer_SGDUpdateOp : Layer_OptimizerOp<"sgd_update"> {
  let summary = "Keras SGD: v = momentum * v - lr * g; w += v";
  let description = [{
    With `momentum = 0` this is `w -= lr * g`; the velocity result is then
    `-lr * g` and never read back into the parameter.

    ```mlir
    %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$velocity,
                       F64Attr:$learning_rate, F64Attr:$momentum);
  let results = (outs Layer_FloatTensor:$new_param,
                      Layer_FloatTensor:$new_velocity);
  let assemblyFormat = [{
    $param `,` $grad `,` $velocity attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_RMSpropUpdateOp : Layer_OptimizerOp<"rmsprop_update"> {
  let summary = "Keras RMSprop: a = rho a + (1 - rho) g^2; w -= lr g / sqrt(a + eps)";
  let description = [{
    Keras adds epsilon inside the square root (PyTorch adds it outside).

    ```mlir
    %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = 0.9 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$average, F64Attr:$learning_rate,
                       F64Attr:$rho, F64Attr:$epsilon);
  let results = (outs Layer_FloatTensor:$new_param,
                      Layer_FloatTensor:$new_average);
  let assemblyFormat = [{
    $param `,` $grad `,` $average attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_AdamUpdateOp : Layer_OptimizerOp<"adam_update"> {
  let summary = "Keras Adam with bias correction folded into the step size";
  let description = [{
    With `t = step` (1-based): `alpha = lr sqrt(1 - b2^t) / (1 - b1^t)`,
    `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
    `w -= alpha m / (sqrt(v) + eps)`.

    ```mlir
    %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>)
        -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$m, Layer_FloatTensor:$v,
                       Layer_FloatTensor:$step, F64Attr:$learning_rate,
                       F64Attr:$beta_1, F64Attr:$beta_2, F64Attr:$epsilon);
  let results = (outs Layer_FloatTensor:$new_param, Layer_FloatTensor:$new_m,
                      Layer_FloatTensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $step attr-dict `:` functional-type(operands, results)
  }];
}

#endif // LAYER_OPS_TD
