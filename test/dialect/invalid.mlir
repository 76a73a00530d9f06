// RUN: layerc-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of the layer dialect's verifiers
// (dialect/*ShapeRules.cpp) and of its parser (an unknown kind: the enum
// attributes of dialect/LayerEnums.td), grouped as the ops are.

//===----------------------------------------------------------------------===//
// layer.dense
//===----------------------------------------------------------------------===//

func.func @dense_unknown_activation(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{expected ::layerc::layer::Activation to be one of: linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish, hard_sigmoid}}
  // expected-error @below {{failed to parse Layer_ActivationAttr parameter 'value'}}
  %0 = layer.dense %x, %k {activation = #layer.activation<gelu_tanh>} : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// The activation is checked even while the input is still unranked: a
// string is not an activation.
func.func @dense_unknown_activation_unranked(%x: tensor<*xf32>, %k: tensor<784x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{attribute 'activation' failed to satisfy constraint: a Keras activation}}
  %0 = layer.dense %x, %k {activation = "Relu"} : (tensor<*xf32>, tensor<784x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_rank1_input(%x: tensor<784xf32>, %k: tensor<784x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.dense' op expects an input of rank >= 2 (batch, ..., features), got (784,)}}
  %0 = layer.dense %x, %k : (tensor<784xf32>, tensor<784x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_kernel_rows(%x: tensor<?x784xf32>, %k: tensor<100x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.dense' op kernel of shape (100, 64) does not fit an input of shape (None, 784): expected (784, units)}}
  %0 = layer.dense %x, %k : (tensor<?x784xf32>, tensor<100x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_kernel_rank(%x: tensor<?x784xf32>, %k: tensor<784xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.dense' op kernel of shape (784,) does not fit an input of shape (None, 784): expected (784, units)}}
  %0 = layer.dense %x, %k : (tensor<?x784xf32>, tensor<784xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_bias_units(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>, %b: tensor<32xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.dense' op bias of shape (32,) does not match the kernel's 64 units: expected (64,)}}
  %0 = layer.dense %x, %k, %b : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_bias_rank(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>, %b: tensor<1x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.dense' op bias of shape (1, 64) does not match the kernel's 64 units: expected (64,)}}
  %0 = layer.dense %x, %k, %b : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<1x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_result_shape(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>) -> tensor<?x32xf32> {
  // expected-error @below {{'layer.dense' op result #0 has shape (None, 32) but the operands give (None, 64)}}
  %0 = layer.dense %x, %k : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

func.func @dense_result_rank(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>) -> tensor<64xf32> {
  // expected-error @below {{'layer.dense' op result #0 has shape (64,) but the operands give (None, 64)}}
  %0 = layer.dense %x, %k : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<64xf32>
  return %0 : tensor<64xf32>
}

// -----

// A static batch in the result must agree with a static batch of the input.
func.func @dense_result_batch(%x: tensor<8x784xf32>, %k: tensor<784x64xf32>) -> tensor<4x64xf32> {
  // expected-error @below {{'layer.dense' op result #0 has shape (4, 64) but the operands give (8, 64)}}
  %0 = layer.dense %x, %k : (tensor<8x784xf32>, tensor<784x64xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// Element types are checked by ODS: layer ops take f32/f64 tensors.
func.func @dense_integer_input(%x: tensor<?x784xi32>, %k: tensor<784x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.dense' op operand #0 must be tensor of 32-bit float or 64-bit float values, but got 'tensor<?x784xi32>'}}
  %0 = layer.dense %x, %k : (tensor<?x784xi32>, tensor<784x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

//===----------------------------------------------------------------------===//
// layer.activation, layer.dropout
//===----------------------------------------------------------------------===//

// -----

func.func @activation_unknown(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @below {{expected ::layerc::layer::Activation to be one of: linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish, hard_sigmoid}}
  // expected-error @below {{failed to parse Layer_ActivationAttr parameter 'value'}}
  %0 = layer.activation %x {activation = #layer.activation<leaky_relu>} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @activation_result_shape(%x: tensor<?x10xf32>) -> tensor<?x11xf32> {
  // expected-error @below {{'layer.activation' op result #0 has shape (None, 11) but the operands give (None, 10)}}
  %0 = layer.activation %x {activation = #layer.activation<relu>} : (tensor<?x10xf32>) -> tensor<?x11xf32>
  return %0 : tensor<?x11xf32>
}

// -----

func.func @activation_element_type(%x: tensor<?x10xf32>) -> tensor<?x10xf64> {
  // expected-error @below {{'layer.activation' op requires the same element type for all operands and results}}
  %0 = layer.activation %x {activation = #layer.activation<relu>} : (tensor<?x10xf32>) -> tensor<?x10xf64>
  return %0 : tensor<?x10xf64>
}

// -----

func.func @dropout_negative_rate(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.dropout' op rate must be in [0, 1), got -1.000000e-01}}
  %0 = layer.dropout %x {rate = -0.1 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @threshold_infinite(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.threshold' op threshold must be finite, got INF}}
  %0 = layer.threshold %x {threshold = 0x7FF0000000000000 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @gaussian_noise_rate(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.dropout' op gaussian_noise takes a stddev, not a rate}}
  %0 = layer.dropout %x {noise = #layer.noise<gaussian_noise>, rate = 0.1 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @gaussian_noise_negative(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.dropout' op stddev must be finite and >= 0, got -1.000000e+00}}
  %0 = layer.dropout %x {noise = #layer.noise<gaussian_noise>, stddev = -1.0 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @dropout_stddev(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.dropout' op stddev is only for gaussian_noise, not alpha_dropout}}
  %0 = layer.dropout %x {noise = #layer.noise<alpha_dropout>, stddev = 1.0 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @dropout_shared_batch(%x: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  // expected-error @below {{'layer.dropout' op shared axis 0 is not a non-batch axis of (None, 4, 8)}}
  %0 = layer.dropout %x {rate = 0.5 : f64, shared_axes = array<i64: 0>} : (tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %0 : tensor<?x4x8xf32>
}

// -----

func.func @dropout_shared_twice(%x: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  // expected-error @below {{'layer.dropout' op shared axis 1 is named twice}}
  %0 = layer.dropout %x {rate = 0.5 : f64, shared_axes = array<i64: 1, 1>} : (tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %0 : tensor<?x4x8xf32>
}

// -----

func.func @mask_shift(%x: tensor<?x64xf32>, %step: tensor<f32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.dropout_mask' op shift is only for alpha_dropout}}
  %0 = layer.dropout_mask %x, %step {rate = 0.5 : f64, seed = 1 : i64, shift} : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @activity_negative(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.activity_regularization' op l1 and l2 must be finite and >= 0, got -1.000000e+00 and 0.000000e+00}}
  %0 = layer.activity_regularization %x {l1 = -1.0 : f64, l2 = 0.0 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @activity_scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @below {{'layer.activity_regularization' op per_sample needs a batch axis, got a scalar}}
  %0 = layer.activity_regularization %x {l1 = 1.0 : f64, l2 = 0.0 : f64} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @penalty_per_sample_scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @below {{'layer.weight_penalty' op per_sample needs a batch axis, got a scalar}}
  %0 = layer.weight_penalty %x {l1 = 1.0 : f64, l2 = 0.0 : f64, per_sample} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loss_weights_rank(%p: tensor<?x1xf32>, %t: tensor<?x1xf32>, %w: tensor<?x1xf32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op expects one sample weight per sample (rank 1), got (None, 1)}}
  %l = layer.loss %p, %t weights(%w) {loss = #layer.loss<mean_squared_error>} : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @loss_weights_batch(%p: tensor<4x1xf32>, %t: tensor<4x1xf32>, %w: tensor<3xf32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op expects one sample weight per sample, got (3,) for predictions of shape (4, 1)}}
  %l = layer.loss %p, %t weights(%w) {loss = #layer.loss<mean_squared_error>} : (tensor<4x1xf32>, tensor<4x1xf32>, tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @dropout_rate_one(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'layer.dropout' op rate must be in [0, 1), got 1.000000e+00}}
  %0 = layer.dropout %x {rate = 1.0 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @dropout_result_shape(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  // expected-error @below {{'layer.dropout' op result #0 has shape (None, 32) but the operands give (None, 64)}}
  %0 = layer.dropout %x {rate = 0.5 : f64} : (tensor<?x64xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

//===----------------------------------------------------------------------===//
// layer.matmul
//===----------------------------------------------------------------------===//

// -----

// batch_matmul needs two operands of one rank >= 3.
func.func @batch_matmul_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.batch_matmul' op expects two operands of one rank >= 3 (batch, ..., rows, columns), got (2, 3, 4) and (4, 5)}}
  %0 = layer.batch_matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @batch_matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.batch_matmul' op batch dimensions disagree: lhs (2, 3, 4) and rhs (3, 4, 5)}}
  %0 = layer.batch_matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// With transpose_rhs the rhs contracts its last axis: 4 against 5.
func.func @batch_matmul_contraction(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.batch_matmul' op contraction dimensions disagree: lhs (2, 3, 4) and rhs (2, 4, 5)}}
  %0 = layer.batch_matmul %a, %b {transpose_rhs} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// A rank-3 lhs contracts its last axis with a rank-2 rhs, or (transposed)
// every leading axis with an rhs of its rank; nothing else.
func.func @matmul_rank(%a: tensor<4x5xf32>, %b: tensor<2x3x4xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.matmul' op expects rank-2 operands, a higher-rank lhs with a rank-2 rhs, or (with transpose_lhs) two operands of one rank > 2; got (4, 5) and (2, 3, 4)}}
  %0 = layer.matmul %a, %b : (tensor<4x5xf32>, tensor<2x3x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @matmul_leading(%a: tensor<2x3x4xf32>, %b: tensor<2x7x5xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.matmul' op contraction dimensions disagree: lhs (2, 3, 4) and rhs (2, 7, 5)}}
  %0 = layer.matmul %a, %b {transpose_lhs} : (tensor<2x3x4xf32>, tensor<2x7x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.matmul' op contraction dimensions disagree: lhs (2, 3) and rhs (4, 5)}}
  %0 = layer.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// With transpose_lhs the contraction is over the lhs's rows: (3, 2)^T x (4, 5)
// contracts 3 with 4.
func.func @matmul_contraction_transposed(%a: tensor<3x2xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.matmul' op contraction dimensions disagree: lhs (3, 2) and rhs (4, 5)}}
  %0 = layer.matmul %a, %b {transpose_lhs} : (tensor<3x2xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @matmul_result_transposed(%a: tensor<?x784xf32>, %b: tensor<?x64xf32>) -> tensor<64x784xf32> {
  // expected-error @below {{'layer.matmul' op result #0 has shape (64, 784) but the operands give (784, 64)}}
  %0 = layer.matmul %a, %b {transpose_lhs} : (tensor<?x784xf32>, tensor<?x64xf32>) -> tensor<64x784xf32>
  return %0 : tensor<64x784xf32>
}

//===----------------------------------------------------------------------===//
// layer.add, layer.reshape, layer.reduce_sum
//===----------------------------------------------------------------------===//

// -----

// An rhs of lower rank broadcasts over the leading dimensions (a bias);
// one of higher rank does not.
func.func @add_rank(%a: tensor<64xf32>, %b: tensor<?x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.add' op operands must have the same rank, got (64,) and (None, 64)}}
  %0 = layer.add %a, %b : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @add_broadcast(%a: tensor<?x64xf32>, %b: tensor<32xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.add' op cannot broadcast rhs (32,) to lhs (None, 64): the trailing dimensions must be equal}}
  %0 = layer.add %a, %b : (tensor<?x64xf32>, tensor<32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @add_shape(%a: tensor<?x64xf32>, %b: tensor<?x32xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.add' op rhs of shape (None, 32) does not match lhs of shape (None, 64)}}
  %0 = layer.add %a, %b : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @add_static_batch(%a: tensor<8x64xf32>, %b: tensor<4x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.add' op rhs of shape (4, 64) does not match lhs of shape (8, 64)}}
  %0 = layer.add %a, %b : (tensor<8x64xf32>, tensor<4x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @add_element_type(%a: tensor<?x64xf32>, %b: tensor<?x64xf64>) -> tensor<*xf32> {
  // expected-error @below {{'layer.add' op requires the same element type for all operands and results}}
  %0 = layer.add %a, %b : (tensor<?x64xf32>, tensor<?x64xf64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_element_count(%x: tensor<?x784xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.reshape' op cannot reshape input of shape (None, 784) (784 elements per sample) to target_shape with 780 elements}}
  %0 = layer.reshape %x {target_shape = array<i64: 26, 30>} : (tensor<?x784xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_zero_dim(%x: tensor<?x784xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.reshape' op target_shape dimensions must be positive, got 0}}
  %0 = layer.reshape %x {target_shape = array<i64: 0, 28>} : (tensor<?x784xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Keras's -1 ("infer this dimension") is not supported: every target
// dimension is explicit, also while the input is unranked.
func.func @reshape_negative_dim(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.reshape' op target_shape dimensions must be positive, got -1}}
  %0 = layer.reshape %x {target_shape = array<i64: -1, 28>} : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_scalar(%x: tensor<f32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.reshape' op expects a batched input, got a scalar}}
  %0 = layer.reshape %x {target_shape = array<i64: 1>} : (tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_result_shape(%x: tensor<?x784xf32>) -> tensor<?x784x1xf32> {
  // expected-error @below {{'layer.reshape' op result #0 has shape (None, 784, 1) but the operands give (None, 28, 28)}}
  %0 = layer.reshape %x {target_shape = array<i64: 28, 28>} : (tensor<?x784xf32>) -> tensor<?x784x1xf32>
  return %0 : tensor<?x784x1xf32>
}

// -----

func.func @reduce_sum_axis_too_large(%x: tensor<?x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.reduce_sum' op axis 2 is out of range for an input of shape (None, 64)}}
  %0 = layer.reduce_sum %x {axis = 2 : i64} : (tensor<?x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reduce_sum_negative_axis(%x: tensor<?x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.reduce_sum' op axis -1 is out of range for an input of shape (None, 64)}}
  %0 = layer.reduce_sum %x {axis = -1 : i64} : (tensor<?x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reduce_sum_result_shape(%x: tensor<?x64xf32>) -> tensor<32xf32> {
  // expected-error @below {{'layer.reduce_sum' op result #0 has shape (32,) but the operands give (64,)}}
  %0 = layer.reduce_sum %x {axis = 0 : i64} : (tensor<?x64xf32>) -> tensor<32xf32>
  return %0 : tensor<32xf32>
}

//===----------------------------------------------------------------------===//
// layer.loss, layer.loss_grad
//===----------------------------------------------------------------------===//

// -----

func.func @loss_unknown(%z: tensor<?x10xf32>, %t: tensor<?x10xf32>) -> tensor<f32> {
  // expected-error @below {{expected ::layerc::layer::Loss to be one of: sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error}}
  // expected-error @below {{failed to parse Layer_LossAttr parameter 'value'}}
  %0 = layer.loss %z, %t {loss = #layer.loss<hinge>} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loss_unknown_unranked(%z: tensor<*xf32>, %t: tensor<?xi32>) -> tensor<f32> {
  // expected-error @below {{expected ::layerc::layer::Loss to be one of: sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error}}
  // expected-error @below {{failed to parse Layer_LossAttr parameter 'value'}}
  %0 = layer.loss %z, %t {loss = #layer.loss<sparse_crossentropy>} : (tensor<*xf32>, tensor<?xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loss_scalar_predictions(%z: tensor<f32>, %t: tensor<f32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op expects batched predictions, got a scalar}}
  %0 = layer.loss %z, %t {loss = #layer.loss<mean_squared_error>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @sparse_float_labels(%z: tensor<?x10xf32>, %t: tensor<?xf32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op sparse_categorical_crossentropy expects integer labels, got 'f32'}}
  %0 = layer.loss %z, %t {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x10xf32>, tensor<?xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @sparse_one_hot_labels(%z: tensor<?x10xf32>, %t: tensor<?x10xi32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op labels of shape (None, 10) do not match predictions of shape (None, 10): expected one label per sample, (None,)}}
  %0 = layer.loss %z, %t {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?x10xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @sparse_label_batch(%z: tensor<8x10xf32>, %t: tensor<4xi32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op labels of shape (4,) do not match predictions of shape (8, 10): expected one label per sample, (8,)}}
  %0 = layer.loss %z, %t {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<8x10xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @categorical_target_shape(%z: tensor<?x10xf32>, %t: tensor<?x5xf32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op targets of shape (None, 5) do not match predictions of shape (None, 10)}}
  %0 = layer.loss %z, %t {loss = #layer.loss<categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @categorical_integer_targets(%z: tensor<?x10xf32>, %t: tensor<?x10xi32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op categorical_crossentropy expects targets of type 'f32', got 'i32'}}
  %0 = layer.loss %z, %t {loss = #layer.loss<categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?x10xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @mse_target_type(%z: tensor<?x1xf32>, %t: tensor<?x1xf64>) -> tensor<f32> {
  // expected-error @below {{'layer.loss' op mean_squared_error expects targets of type 'f32', got 'f64'}}
  %0 = layer.loss %z, %t {loss = #layer.loss<mean_squared_error>} : (tensor<?x1xf32>, tensor<?x1xf64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loss_not_scalar(%z: tensor<?x10xf32>, %t: tensor<?xi32>) -> tensor<1xf32> {
  // expected-error @below {{'layer.loss' op result #0 has shape (1,) but the operands give ()}}
  %0 = layer.loss %z, %t {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @loss_grad_sample_weight_rank(%z: tensor<?x10xf32>, %t: tensor<?x10xf32>, %dl: tensor<f32>, %w: tensor<f32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.loss_grad' op expects one sample weight per sample (rank 1), got ()}}
  %0 = layer.loss_grad %z, %t, %dl weights(%w) {loss = #layer.loss<binary_crossentropy>} : (tensor<?x10xf32>, tensor<?x10xf32>, tensor<f32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @loss_grad_dloss_not_scalar(%z: tensor<?x10xf32>, %t: tensor<?xi32>, %dl: tensor<1xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.loss_grad' op dloss must be a scalar, got (1,)}}
  %0 = layer.loss_grad %z, %t, %dl {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>, tensor<1xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// loss_grad shares layer.loss's operand rules.
func.func @loss_grad_unknown(%z: tensor<?x10xf32>, %t: tensor<?x10xf32>, %dl: tensor<f32>) -> tensor<*xf32> {
  // expected-error @below {{expected ::layerc::layer::Loss to be one of: sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error}}
  // expected-error @below {{failed to parse Layer_LossAttr parameter 'value'}}
  %0 = layer.loss_grad %z, %t, %dl {loss = #layer.loss<kld>} : (tensor<?x10xf32>, tensor<?x10xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @loss_grad_float_labels(%z: tensor<?x10xf32>, %t: tensor<?xf32>, %dl: tensor<f32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.loss_grad' op sparse_categorical_crossentropy expects integer labels, got 'f32'}}
  %0 = layer.loss_grad %z, %t, %dl {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xf32>, tensor<f32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @loss_grad_result_shape(%z: tensor<?x10xf32>, %t: tensor<?xi32>, %dl: tensor<f32>) -> tensor<f32> {
  // expected-error @below {{'layer.loss_grad' op result #0 has shape () but the operands give (None, 10)}}
  %0 = layer.loss_grad %z, %t, %dl {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

//===----------------------------------------------------------------------===//
// layer.activation_grad
//===----------------------------------------------------------------------===//

// -----

func.func @activation_grad_unknown(%dy: tensor<?x64xf32>, %x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{expected ::layerc::layer::Activation to be one of: linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish, hard_sigmoid}}
  // expected-error @below {{failed to parse Layer_ActivationAttr parameter 'value'}}
  %0 = layer.activation_grad %dy, %x, %y {activation = #layer.activation<hard_swish>} : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @activation_grad_shapes(%dy: tensor<?x64xf32>, %x: tensor<?x32xf32>, %y: tensor<?x64xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.activation_grad' op input of shape (None, 32) does not match grad of shape (None, 64)}}
  %0 = layer.activation_grad %dy, %x, %y {activation = #layer.activation<relu>} : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @activation_grad_output_shape(%dy: tensor<?x64xf32>, %x: tensor<?x64xf32>, %y: tensor<?x64x1xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.activation_grad' op output of shape (None, 64, 1) does not match grad of shape (None, 64)}}
  %0 = layer.activation_grad %dy, %x, %y {activation = #layer.activation<tanh>} : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64x1xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

// -----

func.func @sgd_grad_shape(%w: tensor<64xf32>, %g: tensor<32xf32>, %v: tensor<64xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{'layer.sgd_update' op grad of shape (32,) does not match param of shape (64,)}}
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.0 : f64} : (tensor<64xf32>, tensor<32xf32>, tensor<64xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %w1, %v1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @sgd_velocity_shape(%w: tensor<784x64xf32>, %g: tensor<784x64xf32>, %v: tensor<64x784xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{'layer.sgd_update' op velocity of shape (64, 784) does not match param of shape (784, 64)}}
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64} : (tensor<784x64xf32>, tensor<784x64xf32>, tensor<64x784xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %w1, %v1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @sgd_momentum_range(%w: tensor<64xf32>, %g: tensor<64xf32>, %v: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  // expected-error @below {{'layer.sgd_update' op momentum must be in [0, 1), got 1.000000e+00}}
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 1.0 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return %w1, %v1 : tensor<64xf32>, tensor<64xf32>
}

// -----

func.func @sgd_result_shape(%w: tensor<64xf32>, %g: tensor<64xf32>, %v: tensor<64xf32>) -> (tensor<64xf32>, tensor<32xf32>) {
  // expected-error @below {{'layer.sgd_update' op result #1 has shape (32,) but the operands give (64,)}}
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.0 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<32xf32>)
  return %w1, %v1 : tensor<64xf32>, tensor<32xf32>
}

// -----

func.func @rmsprop_average_shape(%w: tensor<64xf32>, %g: tensor<64xf32>, %a: tensor<10xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{'layer.rmsprop_update' op average of shape (10,) does not match param of shape (64,)}}
  %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = 0.9 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<10xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %w1, %a1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rmsprop_rho_one(%w: tensor<64xf32>, %g: tensor<64xf32>, %a: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  // expected-error @below {{'layer.rmsprop_update' op rho must be in [0, 1), got 1.000000e+00}}
  %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = 1.0 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return %w1, %a1 : tensor<64xf32>, tensor<64xf32>
}

// -----

func.func @rmsprop_rho_negative(%w: tensor<64xf32>, %g: tensor<64xf32>, %a: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  // expected-error @below {{'layer.rmsprop_update' op rho must be in [0, 1), got -5.000000e-01}}
  %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = -0.5 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return %w1, %a1 : tensor<64xf32>, tensor<64xf32>
}

// -----

func.func @adagrad_negative_accumulator(%w: tensor<8xf32>, %g: tensor<8xf32>, %a: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  // expected-error @below {{'layer.adagrad_update' op initial_accumulator_value must be finite and >= 0, got -1.000000e-01}}
  %w1, %a1 = layer.adagrad_update %w, %g, %a {learning_rate = 1.0e-3 : f64, epsilon = 1.0e-7 : f64, initial_accumulator_value = -0.1 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %w1, %a1 : tensor<8xf32>, tensor<8xf32>
}

// -----

func.func @adadelta_delta_shape(%w: tensor<8xf32>, %g: tensor<8xf32>, %a: tensor<8xf32>, %d: tensor<9xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{'layer.adadelta_update' op accumulated_delta of shape (9,) does not match param of shape (8,)}}
  %w1, %a1, %d1 = layer.adadelta_update %w, %g, %a, %d {learning_rate = 1.0 : f64, rho = 0.95 : f64, epsilon = 1.0e-7 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<9xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %w1, %a1, %d1 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @nadam_beta_2_one(%w: tensor<8xf32>, %g: tensor<8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>, %t: tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // expected-error @below {{'layer.nadam_update' op beta_2 must be in [0, 1), got 1.000000e+00}}
  %w1, %m1, %v1 = layer.nadam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 1.0 : f64, epsilon = 1.0e-7 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %w1, %m1, %v1 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

func.func @lion_beta_1_zero(%w: tensor<8xf32>, %g: tensor<8xf32>, %m: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  // expected-error @below {{'layer.lion_update' op beta_1 must be in (0, 1], got 0.000000e+00}}
  %w1, %m1 = layer.lion_update %w, %g, %m {learning_rate = 1.0e-3 : f64, beta_1 = 0.0 : f64, beta_2 = 0.99 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %w1, %m1 : tensor<8xf32>, tensor<8xf32>
}

// -----

func.func @clip_two_kinds(%g: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{'layer.clip_gradients' op expects exactly one of clipnorm, clipvalue and global_clipnorm to be set (> 0)}}
  %c = layer.clip_gradients %g {clipnorm = 1.0 : f64, clipvalue = 0.5 : f64} : (tensor<8xf32>) -> tensor<8xf32>
  return %c : tensor<8xf32>
}

// -----

func.func @penalty_negative(%w: tensor<8xf32>) -> tensor<f32> {
  // expected-error @below {{'layer.weight_penalty' op l1 and l2 must be finite and >= 0, got 0.000000e+00 and -1.000000e+00}}
  %p = layer.weight_penalty %w {l1 = 0.0 : f64, l2 = -1.0 : f64} : (tensor<8xf32>) -> tensor<f32>
  return %p : tensor<f32>
}

// -----

func.func @penalty_grad_not_scalar(%w: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{'layer.weight_penalty_grad' op expects a rank-0 grad, got (8,)}}
  %g = layer.weight_penalty_grad %w, %w {l1 = 0.0 : f64, l2 = 1.0 : f64} : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %g : tensor<8xf32>
}

// -----

func.func @constrain_bounds(%w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'layer.constrain' op expects 0 <= min_value <= max_value (finite) and rate in [0, 1], got 2.000000e+00, 1.000000e+00 and 1.000000e+00}}
  %c = layer.constrain %w {kind = #layer.constraint<min_max_norm>, axes = array<i64: 0>, min_value = 2.0 : f64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %c : tensor<4x3xf32>
}

// -----

func.func @constrain_non_neg_axes(%w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'layer.constrain' op non_neg takes no axes}}
  %c = layer.constrain %w {kind = #layer.constraint<non_neg>, axes = array<i64: 0>} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %c : tensor<4x3xf32>
}

// -----

func.func @constrain_no_axes(%w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'layer.constrain' op a norm constraint needs axes}}
  %c = layer.constrain %w {kind = #layer.constraint<unit_norm>} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %c : tensor<4x3xf32>
}

// -----

func.func @constrain_axis_range(%w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'layer.constrain' op axes must be distinct and in [0, 2) for a weight of shape (4, 3), got 2}}
  %c = layer.constrain %w {kind = #layer.constraint<max_norm>, axes = array<i64: 2>} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %c : tensor<4x3xf32>
}

// -----

func.func @clip_result_shape(%g: tensor<8xf32>) -> tensor<9xf32> {
  // expected-error @below {{'layer.clip_gradients' op result #0 has shape (9,) but the operands give (8,)}}
  %c = layer.clip_gradients %g {clipvalue = 0.5 : f64} : (tensor<8xf32>) -> tensor<9xf32>
  return %c : tensor<9xf32>
}

// -----

func.func @sgd_lr_and_schedule(%w: tensor<8xf32>, %g: tensor<8xf32>, %v: tensor<8xf32>, %t: tensor<f32>, %lr: tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>) {
  // expected-error @below {{'layer.sgd_update' op takes its learning rate from the lr operand or from a decaying schedule, not both}}
  %w1, %v1 = layer.sgd_update %w, %g, %v step %t lr %lr {learning_rate = 0.1 : f64, momentum = 0.0 : f64, decay_steps = 10.0 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %w1, %v1 : tensor<8xf32>, tensor<8xf32>
}

// -----

func.func @adam_v_shape(%w: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<65xf32>, %t: tensor<f32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{'layer.adam_update' op v of shape (65,) does not match param of shape (64,)}}
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<65xf32>, tensor<f32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %w1, %m1, %v1 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @adam_step_not_scalar(%w: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>, %t: tensor<1xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{'layer.adam_update' op expects a scalar step and lr, got (1,)}}
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<1xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %w1, %m1, %v1 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @adam_beta_1(%w: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>, %t: tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  // expected-error @below {{'layer.adam_update' op beta_1 must be in [0, 1), got 1.500000e+00}}
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 1.5 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return %w1, %m1, %v1 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

func.func @adam_beta_2(%w: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>, %t: tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  // expected-error @below {{'layer.adam_update' op beta_2 must be in [0, 1), got 1.000000e+00}}
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 1.0 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return %w1, %m1, %v1 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

func.func @adam_element_type(%w: tensor<64xf32>, %g: tensor<64xf64>, %m: tensor<64xf32>, %v: tensor<64xf32>, %t: tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  // expected-error @below {{'layer.adam_update' op requires the same element type for all operands and results}}
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<64xf32>, tensor<64xf64>, tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return %w1, %m1, %v1 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

func.func @dense_kernel_element_type(%x: tensor<?x8xf32>, %k: tensor<8x4xf64>) {
  // expected-error @+1 {{'layer.dense' op kernel has element type 'f64' but the input has 'f32'}}
  %0 = layer.dense %x, %k : (tensor<?x8xf32>, tensor<8x4xf64>) -> tensor<?x4xf32>
  return
}

// -----

func.func @dense_dynamic_features(%x: tensor<?x?xf32>, %k: tensor<3x4x5xf32>) {
  // expected-error @+1 {{'layer.dense' op kernel of shape (3, 4, 5) does not fit an input of shape (None, None): expected (None, units)}}
  %0 = layer.dense %x, %k : (tensor<?x?xf32>, tensor<3x4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @loss_result_element_type(%x: tensor<?x8xf32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{'layer.loss' op result #0 has element type 'f64' but the operands give 'f32'}}
  %0 = layer.loss %x, %l {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<f64>
  return
}

// -----

func.func @loss_grad_unknown_loss_unranked(%z: tensor<*xf32>, %l: tensor<?xi32>, %d: tensor<f32>) {
  // expected-error @below {{expected ::layerc::layer::Loss to be one of: sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error}}
  // expected-error @below {{failed to parse Layer_LossAttr parameter 'value'}}
  %0 = layer.loss_grad %z, %l, %d {loss = #layer.loss<hinge>} : (tensor<*xf32>, tensor<?xi32>, tensor<f32>) -> tensor<*xf32>
  return
}

// -----

func.func @sgd_decay_without_step(%w: tensor<8xf32>, %g: tensor<8xf32>, %v: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  // expected-error @below {{'layer.sgd_update' op a decaying learning rate (decay_steps > 0) needs the step operand}}
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.1 : f64, momentum = 0.0 : f64, decay_steps = 10.0 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %w1, %v1 : tensor<8xf32>, tensor<8xf32>
}

// -----

func.func @adam_amsgrad_results(%w: tensor<8xf32>, %g: tensor<8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>, %h: tensor<8xf32>, %t: tensor<f32>) -> tensor<8xf32> {
  // expected-error @below {{'layer.adam_update' op expects 4 results (the parameter and its slots), got 3}}
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v amsgrad %h, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %w1 : tensor<8xf32>
}

// -----

func.func @negative_weight_decay(%w: tensor<8xf32>, %g: tensor<8xf32>, %v: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  // expected-error @below {{'layer.sgd_update' op weight_decay must be finite and >= 0, got -1.000000e-01}}
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.1 : f64, momentum = 0.0 : f64, weight_decay = -0.1 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %w1, %v1 : tensor<8xf32>, tensor<8xf32>
}

//===----------------------------------------------------------------------===//
// layer.normalize, layer.normalize_grad, layer.transpose
//===----------------------------------------------------------------------===//

// -----

func.func @normalize_rank(%x: tensor<?xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize' op expects an input of rank >= 2, got (None,)}}
  %0 = layer.normalize %x {axis = 1 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<?xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @normalize_batch_axis(%x: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize' op axis 0 is out of range [1, 2) for an input of shape (None, 8)}}
  %0 = layer.normalize %x {axis = 0 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<?x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @normalize_groups_positive(%x: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize' op groups must be positive, got 0}}
  %0 = layer.normalize %x {axis = 1 : i64, groups = 0 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<?x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @normalize_groups_dynamic(%x: tensor<?x?xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize' op needs a known last axis to split into 2 groups, got (None, None)}}
  %0 = layer.normalize %x {axis = 1 : i64, groups = 2 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<?x?xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @normalize_groups_divide(%x: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize' op groups (3) must divide the last axis of (None, 8)}}
  %0 = layer.normalize %x {axis = 1 : i64, groups = 3 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<?x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @normalize_epsilon(%x: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize' op epsilon must be non-negative, got -1}}
  %0 = layer.normalize %x {axis = 1 : i64, epsilon = -1.0 : f64, kind = #layer.norm<l2>} : (tensor<?x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @normalize_grad_shapes(%dy: tensor<?x4xf32>, %x: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.normalize_grad' op input of shape (None, 8) does not match output_grad of shape (None, 4)}}
  %0 = layer.normalize_grad %dy, %x {axis = 1 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<?x4xf32>, tensor<?x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @transpose_not_permutation(%x: tensor<?x4x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.transpose' op permutation [0, 1, 1] is not a permutation of the 3 axes of an input of shape (None, 4, 8)}}
  %0 = layer.transpose %x {permutation = array<i64: 0, 1, 1>} : (tensor<?x4x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @transpose_wrong_result(%x: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  // expected-error @below {{'layer.transpose' op result #0 has shape (None, 4, 8) but the operands give (None, 8, 4)}}
  %0 = layer.transpose %x {permutation = array<i64: 0, 2, 1>} : (tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %0 : tensor<?x4x8xf32>
}
