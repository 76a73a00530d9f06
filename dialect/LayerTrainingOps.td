//===- LayerTrainingOps.td - Losses, optimizers -*- tablegen -*-===//
//
// Included by LayerOps.td, which defines the op base classes and the
// tensor types.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_TRAINING_OPS_TD
#define LAYER_TRAINING_OPS_TD

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
    is the mean over the batch (Keras's `sum_over_batch_size`). With
    `sample_weight` (rank 1, one per sample) each sample's loss is
    multiplied by its weight before the sum, which is still divided by the
    batch size, as Keras weighs `sample_weight` and `class_weight`.

    ```mlir
    %l = layer.loss %logits, %labels {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits}
        : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    %w = layer.loss %p, %t weights(%sw) {loss = #layer.loss<mean_squared_error>}
        : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$prediction, Layer_AnyTensor:$target,
                       Layer_LossAttr:$loss, UnitAttr:$from_logits,
                       Optional<Layer_FloatTensor>:$sample_weight);
  let results = (outs Layer_FloatTensor:$output);
  let assemblyFormat = [{
    $prediction `,` $target (`weights` `(` $sample_weight^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Optimizers (Keras's update rules)
//===----------------------------------------------------------------------===//

class Layer_OptimizerOp<string mnemonic, list<Trait> traits = []> :
    Layer_ShapedOp<mnemonic, !listconcat([SameOperandsAndResultElementType],
                                         traits)>;

def Layer_SGDUpdateOp : Layer_OptimizerOp<"sgd_update", [AttrSizedOperandSegments]> {
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
    with `staircase`). With the rank-0 `lr` operand, the learning rate of
    the step is that value instead (fit() computes schedules and callbacks'
    changes on the host and passes it); `decay_steps` must then be 0.

    ```mlir
    %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                       Layer_FloatTensor:$velocity,
                       Optional<Layer_FloatTensor>:$step,
                       Optional<Layer_FloatTensor>:$lr,
                       F64Attr:$learning_rate, F64Attr:$momentum,
                       UnitAttr:$nesterov,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
                       DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
                       UnitAttr:$staircase);
  let results = (outs Layer_FloatTensor:$new_param,
                      Layer_FloatTensor:$new_velocity);
  let assemblyFormat = [{
    $param `,` $grad `,` $velocity (`step` $step^)? (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
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
                       Optional<Layer_FloatTensor>:$lr,
                       F64Attr:$learning_rate, F64Attr:$rho, F64Attr:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
                       DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
                       UnitAttr:$staircase);
  let results = (outs Layer_FloatTensor:$new_param,
                      Variadic<Layer_FloatTensor>:$new_slots);
  let assemblyFormat = [{
    $param `,` $grad `,` $average (`centered` $average_grad^)? (`step` $step^)? (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_AdamUpdateOp : Layer_OptimizerOp<"adam_update", [AttrSizedOperandSegments]> {
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
                       Layer_FloatTensor:$step,
                       Optional<Layer_FloatTensor>:$lr, F64Attr:$learning_rate,
                       F64Attr:$beta_1, F64Attr:$beta_2, F64Attr:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
                       DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
                       UnitAttr:$staircase);
  let results = (outs Layer_FloatTensor:$new_param,
                      Variadic<Layer_FloatTensor>:$new_slots);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v (`amsgrad` $v_hat^)? `,` $step (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

/// The optional extras every newer update op shares with the three above:
/// decoupled weight decay and ExponentialDecay of the learning rate.
defvar Layer_OptimizerExtras = (ins
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
    DefaultValuedAttr<F64Attr, "0.0">:$decay_steps,
    DefaultValuedAttr<F64Attr, "1.0">:$decay_rate,
    UnitAttr:$staircase);

def Layer_AdagradUpdateOp : Layer_OptimizerOp<"adagrad_update", [AttrSizedOperandSegments]> {
  let summary = "Keras Adagrad: a += g^2; w -= lr g / sqrt(a + eps)";
  let description = [{
    Keras starts the accumulator at `initial_accumulator_value` (0.1); every
    optimizer slot in layerc starts at zero, so the slot holds the
    accumulator minus that value and the update adds it back:
    `a = slot + initial_accumulator_value + g^2`. `weight_decay`,
    `decay_steps` and the `step` operand as in `layer.sgd_update`.

    ```mlir
    %w1, %a1 = layer.adagrad_update %w, %g, %a {learning_rate = 1.0e-3 : f64, epsilon = 1.0e-7 : f64, initial_accumulator_value = 1.0e-1 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = !con((ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                            Layer_FloatTensor:$accumulator,
                            Optional<Layer_FloatTensor>:$step,
                            Optional<Layer_FloatTensor>:$lr,
                            F64Attr:$learning_rate, F64Attr:$epsilon,
                            F64Attr:$initial_accumulator_value),
                       Layer_OptimizerExtras);
  let results = (outs Layer_FloatTensor:$new_param,
                      Layer_FloatTensor:$new_accumulator);
  let assemblyFormat = [{
    $param `,` $grad `,` $accumulator (`step` $step^)? (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_AdadeltaUpdateOp : Layer_OptimizerOp<"adadelta_update", [AttrSizedOperandSegments]> {
  let summary = "Keras Adadelta: steps scaled by the ratio of two running RMS";
  let description = [{
    With `rms(x) = sqrt(x + eps)`: `ag = rho ag + (1 - rho) g^2`,
    `d = -rms(ad) g / rms(ag)`, `ad = rho ad + (1 - rho) d^2`,
    `w += lr d`. The slots are Keras's `accumulated_grad` and
    `accumulated_delta_var`. `weight_decay`, `decay_steps` and the `step`
    operand as in `layer.sgd_update`.

    ```mlir
    %w1, %ag1, %ad1 = layer.adadelta_update %w, %g, %ag, %ad {learning_rate = 1.0e-3 : f64, rho = 0.95 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = !con((ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                            Layer_FloatTensor:$accumulated_grad,
                            Layer_FloatTensor:$accumulated_delta,
                            Optional<Layer_FloatTensor>:$step,
                            Optional<Layer_FloatTensor>:$lr,
                            F64Attr:$learning_rate, F64Attr:$rho,
                            F64Attr:$epsilon),
                       Layer_OptimizerExtras);
  let results = (outs Layer_FloatTensor:$new_param,
                      Layer_FloatTensor:$new_accumulated_grad,
                      Layer_FloatTensor:$new_accumulated_delta);
  let assemblyFormat = [{
    $param `,` $grad `,` $accumulated_grad `,` $accumulated_delta (`step` $step^)? (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_AdamaxUpdateOp : Layer_OptimizerOp<"adamax_update"> {
  let summary = "Keras Adamax: Adam with the infinity norm";
  let description = [{
    With `t = step` (1-based): `m += (g - m)(1 - b1)`,
    `u = max(b2 u, |g|)`, `w -= lr m / ((1 - b1^t)(u + eps))`. The slots are
    Keras's `momentum` and `norm`. `weight_decay` and `decay_steps` as in
    `layer.sgd_update`.

    ```mlir
    %w1, %m1, %u1 = layer.adamax_update %w, %g, %m, %u, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>)
        -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = !con((ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                            Layer_FloatTensor:$m, Layer_FloatTensor:$u,
                            Layer_FloatTensor:$step,
                            Optional<Layer_FloatTensor>:$lr,
                            F64Attr:$learning_rate,
                            F64Attr:$beta_1, F64Attr:$beta_2,
                            F64Attr:$epsilon),
                       Layer_OptimizerExtras);
  let results = (outs Layer_FloatTensor:$new_param, Layer_FloatTensor:$new_m,
                      Layer_FloatTensor:$new_u);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $u `,` $step (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_NadamUpdateOp : Layer_OptimizerOp<"nadam_update"> {
  let summary = "Keras Nadam: Adam with Nesterov momentum and a momentum schedule";
  let description = [{
    With `t = step` (1-based), `mu_i = b1 (1 - 0.5 * 0.96^i)` and
    `P_t = mu_1 ... mu_t` (Keras keeps the product in a variable; here it is
    recomputed from the step, so the slots stay per parameter):
    `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
    `m_hat = mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t)`,
    `v_hat = v / (1 - b2^t)`, `w -= lr m_hat / (sqrt(v_hat) + eps)`.
    `weight_decay` and `decay_steps` as in `layer.sgd_update`.

    ```mlir
    %w1, %m1, %v1 = layer.nadam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>)
        -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = !con((ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                            Layer_FloatTensor:$m, Layer_FloatTensor:$v,
                            Layer_FloatTensor:$step,
                            Optional<Layer_FloatTensor>:$lr,
                            F64Attr:$learning_rate,
                            F64Attr:$beta_1, F64Attr:$beta_2,
                            F64Attr:$epsilon),
                       Layer_OptimizerExtras);
  let results = (outs Layer_FloatTensor:$new_param, Layer_FloatTensor:$new_m,
                      Layer_FloatTensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $step (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_LionUpdateOp : Layer_OptimizerOp<"lion_update", [AttrSizedOperandSegments]> {
  let summary = "Keras Lion: w -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g";
  let description = [{
    The step takes the sign of an interpolation of the momentum and the
    gradient (sign(0) is 0); the momentum then moves with `beta_2`.
    `weight_decay`, `decay_steps` and the `step` operand as in
    `layer.sgd_update`.

    ```mlir
    %w1, %m1 = layer.lion_update %w, %g, %m {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.99 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = !con((ins Layer_FloatTensor:$param, Layer_FloatTensor:$grad,
                            Layer_FloatTensor:$m,
                            Optional<Layer_FloatTensor>:$step,
                            Optional<Layer_FloatTensor>:$lr,
                            F64Attr:$learning_rate, F64Attr:$beta_1,
                            F64Attr:$beta_2),
                       Layer_OptimizerExtras);
  let results = (outs Layer_FloatTensor:$new_param, Layer_FloatTensor:$new_m);
  let assemblyFormat = [{
    $param `,` $grad `,` $m (`step` $step^)? (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Layer_ClipGradientsOp : Layer_ShapedOp<"clip_gradients"> {
  let summary = "Keras's gradient clipping, before the optimizer's update";
  let description = [{
    Exactly one of three positive attributes, as Keras's optimizer
    arguments:
    - `clipnorm`: each gradient scaled by `c / max(|g|, c)` (its own L2
      norm);
    - `global_clipnorm`: every gradient scaled by
      `c * min(1 / N, 1 / c)`, where `N` is the L2 norm of all of them
      together (NaN when `N` is not finite, as Keras);
    - `clipvalue`: each element clamped to `[-c, c]`.

    ```mlir
    %c0, %c1 = layer.clip_gradients %g0, %g1 {global_clipnorm = 1.0 : f64}
        : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
    ```
  }];
  let arguments = (ins Variadic<Layer_FloatTensor>:$grads,
                       DefaultValuedAttr<F64Attr, "0.0">:$clipnorm,
                       DefaultValuedAttr<F64Attr, "0.0">:$clipvalue,
                       DefaultValuedAttr<F64Attr, "0.0">:$global_clipnorm);
  let results = (outs Variadic<Layer_FloatTensor>:$clipped);
  let assemblyFormat = [{
    $grads attr-dict `:` functional-type($grads, $clipped)
  }];
}

def Layer_WeightPenaltyOp : Layer_ShapedOp<"weight_penalty", [SameOperandsAndResultElementType]> {
  let summary = "Keras's L1/L2 regularizer of a weight: l1 * sum|w| + l2 * sum w^2";
  let description = [{
    A rank-0 penalty that layer-autodiff adds to the loss for every weight
    argument with a `layer.regularizer = {l1 = .., l2 = ..}` attribute
    (Keras's `kernel_regularizer` / `bias_regularizer`), so it is in the
    reported loss and in the gradients, as Keras adds `model.losses`. With
    `per_sample` the penalty is divided by the size of axis 0 (the batch):
    a `layer.activity_regularization`'s penalty of its input, as Keras
    divides activity regularizers.

    ```mlir
    %p = layer.weight_penalty %w {l1 = 0.0 : f64, l2 = 1.0e-2 : f64}
        : (tensor<4x3xf32>) -> tensor<f32>
    %a = layer.weight_penalty %x {l1 = 1.0e-3 : f64, l2 = 0.0 : f64, per_sample}
        : (tensor<?x64xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$weight, F64Attr:$l1, F64Attr:$l2,
                       UnitAttr:$per_sample);
  let results = (outs Layer_FloatTensor:$penalty);
  let assemblyFormat = "$weight attr-dict `:` functional-type(operands, results)";
}

def Layer_WeightPenaltyGradOp : Layer_ShapedOp<"weight_penalty_grad", [SameOperandsAndResultElementType]> {
  let summary = "The gradient of layer.weight_penalty: g * (l1 sign(w) + 2 l2 w)";
  let description = [{
    `grad` is the rank-0 gradient of the penalty; sign(0) is 0, as JAX
    differentiates `abs`. With `per_sample`, divided by the size of axis 0,
    as the penalty is.

    ```mlir
    %dw = layer.weight_penalty_grad %w, %g {l1 = 0.0 : f64, l2 = 1.0e-2 : f64}
        : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$weight, Layer_FloatTensor:$grad,
                       F64Attr:$l1, F64Attr:$l2, UnitAttr:$per_sample);
  let results = (outs Layer_FloatTensor:$weight_grad);
  let assemblyFormat = "$weight `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Layer_ConstrainOp : Layer_ShapedOp<"constrain", [SameOperandsAndResultElementType]> {
  let summary = "Keras's weight constraints, applied after each optimizer update";
  let description = [{
    With `n` the L2 norm over `axes` (kept, per the other indices) and
    `eps = 1e-7`, as `keras.constraints`:
    - `max_norm`: `w * min(n, max_value) / (eps + n)`;
    - `min_max_norm`: `w * (rate * clip(n, min_value, max_value) +
      (1 - rate) * n) / (eps + n)`;
    - `unit_norm`: `w / (eps + n)`;
    - `non_neg`: `w * (w >= 0)` (no axes).
    layer-autodiff applies it to the updated value of every parameter
    argument with a `layer.constraint` attribute (`kernel_constraint`,
    `bias_constraint`), in `train_step` and `apply_step`.

    ```mlir
    %c = layer.constrain %w {kind = #layer.constraint<max_norm>, axes = array<i64: 0>,
                             max_value = 2.0 : f64}
        : (tensor<4x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Layer_FloatTensor:$weight, Layer_ConstraintAttr:$kind,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes,
                       DefaultValuedAttr<F64Attr, "0.0">:$min_value,
                       DefaultValuedAttr<F64Attr, "1.0">:$max_value,
                       DefaultValuedAttr<F64Attr, "1.0">:$rate);
  let results = (outs Layer_FloatTensor:$constrained);
  let assemblyFormat = "$weight attr-dict `:` functional-type(operands, results)";
}

#endif // LAYER_TRAINING_OPS_TD
