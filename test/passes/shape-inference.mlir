// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-shape-inference))' | FileCheck %s

// layer-shape-inference fills every unranked result from the operands,
// keeps the batch dimension as given, and rewrites the signature to match
// what the function returns.

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.+]]: tensor<?x784xf32>, %[[K0:.+]]: tensor<784x64xf32>, %[[B0:.+]]: tensor<64xf32>, %[[K1:.+]]: tensor<64x32xf32>, %[[K2:.+]]: tensor<32x10xf32>, %[[B2:.+]]: tensor<10xf32>)
// CHECK-SAME: -> tensor<?x10xf32>
// CHECK: %[[H0:.+]] = layer.dense %[[X]], %[[K0]], %[[B0]] {activation = #layer.activation<relu>} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
// CHECK: %[[H1:.+]] = layer.dense %[[H0]], %[[K1]] {activation = #layer.activation<tanh>} : (tensor<?x64xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
// CHECK: %[[Z:.+]] = layer.dense %[[H1]], %[[K2]], %[[B2]] : (tensor<?x32xf32>, tensor<32x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
// CHECK: return %[[Z]] : tensor<?x10xf32>
// CHECK-NOT: tensor<*
func.func @mlp(%x: tensor<?x784xf32>, %k0: tensor<784x64xf32>, %b0: tensor<64xf32>,
               %k1: tensor<64x32xf32>, %k2: tensor<32x10xf32>, %b2: tensor<10xf32>)
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k1 {activation = #layer.activation<tanh>} : (tensor<*xf32>, tensor<64x32xf32>) -> tensor<*xf32>
  %2 = layer.dense %1, %k2, %b2 : (tensor<*xf32>, tensor<32x10xf32>, tensor<10xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// -----

// A static batch stays static through every layer.
// CHECK-LABEL: func.func @static_batch
// CHECK-SAME: -> (tensor<32x10xf32>, tensor<f32>)
// CHECK: %[[Z:.+]] = layer.dense {{.*}} -> tensor<32x10xf32>
// CHECK: %[[P:.+]] = layer.activation %[[Z]] {activation = #layer.activation<softmax>} : (tensor<32x10xf32>) -> tensor<32x10xf32>
// CHECK: %[[L:.+]] = layer.loss %[[P]], {{.*}} : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
// CHECK: return %[[P]], %[[L]] : tensor<32x10xf32>, tensor<f32>
func.func @static_batch(%x: tensor<32x784xf32>, %k: tensor<784x10xf32>, %y: tensor<32xi32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = layer.dense %x, %k : (tensor<32x784xf32>, tensor<784x10xf32>) -> tensor<*xf32>
  %1 = layer.activation %0 {activation = #layer.activation<softmax>} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = layer.loss %1, %y {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<*xf32>, tensor<32xi32>) -> tensor<*xf32>
  return %1, %2 : tensor<*xf32>, tensor<*xf32>
}

// -----

// Reshape keeps the batch and appends target_shape; reduce_sum drops an
// axis; dropout keeps the shape.
// CHECK-LABEL: func.func @reshape_reduce
// CHECK-SAME: -> (tensor<?x28x28xf32>, tensor<28x28xf32>)
// CHECK: %[[R:.+]] = layer.reshape %{{.+}} {target_shape = array<i64: 28, 28>} : (tensor<?x784xf32>) -> tensor<?x28x28xf32>
// CHECK: %[[D:.+]] = layer.dropout %[[R]] {{.*}} : (tensor<?x28x28xf32>) -> tensor<?x28x28xf32>
// CHECK: %[[S:.+]] = layer.reduce_sum %[[D]] {axis = 0 : i64} : (tensor<?x28x28xf32>) -> tensor<28x28xf32>
// CHECK: return %[[D]], %[[S]] : tensor<?x28x28xf32>, tensor<28x28xf32>
func.func @reshape_reduce(%x: tensor<?x784xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = layer.reshape %x {target_shape = array<i64: 28, 28>} : (tensor<?x784xf32>) -> tensor<*xf32>
  %1 = layer.dropout %0 {rate = 0.25 : f64} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = layer.reduce_sum %1 {axis = 0 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return %1, %2 : tensor<*xf32>, tensor<*xf32>
}

// -----

// A residual connection: add joins the shapes of its operands (the static
// batch of one side wins), and a value used twice is inferred once.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: -> tensor<8x64xf32>
// CHECK: %[[H:.+]] = layer.dense %{{.+}}, %{{.+}} {activation = #layer.activation<relu>} : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
// CHECK: %[[S:.+]] = layer.add %[[H]], %{{.+}} : (tensor<?x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
// CHECK: %[[T:.+]] = layer.add %[[S]], %[[H]] : (tensor<8x64xf32>, tensor<?x64xf32>) -> tensor<8x64xf32>
// CHECK: return %[[T]] : tensor<8x64xf32>
func.func @residual(%x: tensor<?x64xf32>, %k: tensor<64x64xf32>, %skip: tensor<8x64xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k {activation = #layer.activation<relu>} : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<*xf32>
  %1 = layer.add %0, %skip : (tensor<*xf32>, tensor<8x64xf32>) -> tensor<*xf32>
  %2 = layer.add %1, %0 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// -----

// A diamond: one value feeds two ops whose results meet again.
// CHECK-LABEL: func.func @diamond
// CHECK-SAME: -> tensor<f32>
// CHECK: layer.dense {{.*}} -> tensor<?x10xf32>
// CHECK: layer.activation {{.*}} -> tensor<?x10xf32>
// CHECK: layer.activation {{.*}} -> tensor<?x10xf32>
// CHECK: layer.add {{.*}} -> tensor<?x10xf32>
// CHECK: layer.loss {{.*}} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
func.func @diamond(%x: tensor<?x4xf32>, %k: tensor<4x10xf32>, %t: tensor<?x10xf32>) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x10xf32>) -> tensor<*xf32>
  %1 = layer.activation %0 {activation = #layer.activation<sigmoid>} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = layer.activation %0 {activation = #layer.activation<tanh>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = layer.add %1, %2 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %4 = layer.loss %3, %t {loss = #layer.loss<mean_squared_error>} : (tensor<*xf32>, tensor<?x10xf32>) -> tensor<*xf32>
  return %4 : tensor<*xf32>
}

// -----

// f64 models infer f64 results; matmul honours its transpose flags.
// CHECK-LABEL: func.func @f64_matmul
// CHECK-SAME: -> (tensor<784x64xf64>, tensor<?x784xf64>)
// CHECK: layer.matmul %{{.+}}, %{{.+}} {transpose_lhs} : (tensor<?x784xf64>, tensor<?x64xf64>) -> tensor<784x64xf64>
// CHECK: layer.matmul %{{.+}}, %{{.+}} {transpose_rhs} : (tensor<?x64xf64>, tensor<784x64xf64>) -> tensor<?x784xf64>
func.func @f64_matmul(%x: tensor<?x784xf64>, %dy: tensor<?x64xf64>, %w: tensor<784x64xf64>)
    -> (tensor<*xf64>, tensor<*xf64>) {
  %0 = layer.matmul %x, %dy {transpose_lhs} : (tensor<?x784xf64>, tensor<?x64xf64>) -> tensor<*xf64>
  %1 = layer.matmul %dy, %w {transpose_rhs} : (tensor<?x64xf64>, tensor<784x64xf64>) -> tensor<*xf64>
  return %0, %1 : tensor<*xf64>, tensor<*xf64>
}

// -----

// Gradient and optimizer ops infer like the rest.
// CHECK-LABEL: func.func @training_ops
// CHECK-SAME: -> (tensor<?x10xf32>, tensor<10xf32>, tensor<10xf32>)
// CHECK: layer.loss_grad {{.*}} -> tensor<?x10xf32>
// CHECK: layer.reduce_sum {{.*}} -> tensor<10xf32>
// CHECK: layer.adam_update {{.*}} -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
func.func @training_ops(%z: tensor<?x10xf32>, %y: tensor<?xi32>, %dl: tensor<f32>,
                        %b: tensor<10xf32>, %m: tensor<10xf32>, %v: tensor<10xf32>, %t: tensor<f32>)
    -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %0 = layer.loss_grad %z, %y, %dl {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>) -> tensor<*xf32>
  %1 = layer.reduce_sum %0 {axis = 0 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  %b1, %m1, %v1 = layer.adam_update %b, %1, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64} : (tensor<10xf32>, tensor<*xf32>, tensor<10xf32>, tensor<10xf32>, tensor<f32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %b1, %v1 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// A function with nothing to infer is left alone.
// CHECK-LABEL: func.func @nothing
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32>) -> tensor<?x4xf32>
// CHECK-NEXT: return %[[X]]
func.func @nothing(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}
