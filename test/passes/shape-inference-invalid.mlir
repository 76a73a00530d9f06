// RUN: layerc-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(layer-shape-inference))'

// Shapes that only disagree once the pass has inferred them are reported as
// diagnostics naming the op and both shapes; the pass never crashes.

// The second kernel expects 100 features, the first dense gives 64: the
// verifier cannot see it (the input is unranked), shape inference must.
func.func @kernel_behind_unranked(%x: tensor<?x784xf32>, %k0: tensor<784x64xf32>, %k1: tensor<100x10xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k0 {activation = #layer.activation<relu>} : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<*xf32>
  // expected-error @below {{'layer.dense' op kernel of shape (100, 10) does not fit an input of shape (None, 64): expected (64, units)}}
  %1 = layer.dense %0, %k1 : (tensor<*xf32>, tensor<100x10xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

func.func @add_behind_unranked(%x: tensor<?x8xf32>, %k: tensor<8x4xf32>, %y: tensor<?x5xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x8xf32>, tensor<8x4xf32>) -> tensor<*xf32>
  // expected-error @below {{'layer.add' op rhs of shape (None, 5) does not match lhs of shape (None, 4)}}
  %1 = layer.add %0, %y : (tensor<*xf32>, tensor<?x5xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

func.func @reshape_behind_unranked(%x: tensor<?x8xf32>, %k: tensor<8x12xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x8xf32>, tensor<8x12xf32>) -> tensor<*xf32>
  // expected-error @below {{'layer.reshape' op cannot reshape input of shape (None, 12) (12 elements per sample) to target_shape with 10 elements}}
  %1 = layer.reshape %0 {target_shape = array<i64: 2, 5>} : (tensor<*xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

func.func @labels_behind_unranked(%x: tensor<?x8xf32>, %k: tensor<8x10xf32>, %y: tensor<?x10xi32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x8xf32>, tensor<8x10xf32>) -> tensor<*xf32>
  // expected-error @below {{'layer.loss' op labels of shape (None, 10) do not match predictions of shape (None, 10): expected one label per sample, (None,)}}
  %1 = layer.loss %0, %y {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<*xf32>, tensor<?x10xi32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

func.func @reduce_axis_behind_unranked(%x: tensor<?x8xf32>, %k: tensor<8x10xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x8xf32>, tensor<8x10xf32>) -> tensor<*xf32>
  // expected-error @below {{'layer.reduce_sum' op axis 2 is out of range for an input of shape (None, 10)}}
  %1 = layer.reduce_sum %0 {axis = 2 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// A function argument that is unranked cannot be inferred from: every op
// left waiting on it is reported.
func.func @unranked_argument(%x: tensor<*xf32>, %k: tensor<3x4xf32>) -> tensor<*xf32> {
  // expected-error @below {{cannot infer the result shape: an operand's shape is unknown}}
  %0 = layer.dense %x, %k : (tensor<*xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  // expected-error @below {{cannot infer the result shape: an operand's shape is unknown}}
  %1 = layer.activation %0 {activation = #layer.activation<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// An op of another dialect with an unranked result has no shape rule.
func.func @foreign_op(%x: tensor<?x4xf32>) -> tensor<*xf32> {
  // expected-error @below {{cannot infer the result shape of 'tensor.cast': it does not implement ShapeInference}}
  %0 = tensor.cast %x : tensor<?x4xf32> to tensor<*xf32>
  %1 = layer.activation %0 {activation = #layer.activation<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// A declared ranked result is not re-inferred, but the verifier that runs
// after the pass checks it against the operands' new shapes.
func.func @declared_result_disagrees(%x: tensor<?x8xf32>, %k0: tensor<8x16xf32>, %k1: tensor<16x4xf32>) -> tensor<?x5xf32> {
  %0 = layer.dense %x, %k0 : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<*xf32>
  // expected-error @below {{'layer.dense' op result #0 has shape (None, 5) but the operands give (None, 4)}}
  %1 = layer.dense %0, %k1 : (tensor<*xf32>, tensor<16x4xf32>) -> tensor<?x5xf32>
  return %1 : tensor<?x5xf32>
}

// -----

// A function of several blocks is refused with a diagnostic, not read from
// its last block.
// expected-error @below {{layer-shape-inference expects functions of one block, 'two_blocks' has 2}}
func.func @two_blocks(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  cf.br ^bb1
^bb1:
  return %x : tensor<?x4xf32>
}

// -----

// A result whose byte size overflows int64 (a 2^31 upsampling of a large
// map) is refused, never wrapped to a small count.
func.func @upsample_overflow(%x: tensor<?x1000000x1000000x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.upsample' op the result of shape (None, 2147483648000000, 2147483648000000, 3) has more bytes than a 64-bit size can count}}
  %0 = layer.upsample %x {size = array<i64: 2147483648, 2147483648>} : (tensor<?x1000000x1000000x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
