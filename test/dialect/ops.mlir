// RUN: layerc-opt %s | layerc-opt | FileCheck %s
// RUN: layerc-opt %s --mlir-print-op-generic | layerc-opt | FileCheck %s

// Every op of the layer dialect survives a print/parse round trip, in both
// the custom and the generic form.

// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[X:.+]]: tensor<?x784xf32>, %[[K:.+]]: tensor<784x64xf32>, %[[B:.+]]: tensor<64xf32>)
func.func @dense(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>, %b: tensor<64xf32>)
    -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<*xf32>) {
  // CHECK: %[[Y0:.+]] = layer.dense %[[X]], %[[K]], %[[B]] {activation = #layer.activation<relu>} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<relu>}
      : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  // The default activation (linear) is elided; the bias is optional.
  // CHECK: %[[Y1:.+]] = layer.dense %[[X]], %[[K]] : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x64xf32>
  %1 = layer.dense %x, %k {activation = #layer.activation<linear>}
      : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x64xf32>
  // Results may stay unranked until layer-shape-inference.
  // CHECK: %[[Y2:.+]] = layer.dense %[[X]], %[[K]], %[[B]] {activation = #layer.activation<softmax>} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<*xf32>
  %2 = layer.dense %x, %k, %b {activation = #layer.activation<softmax>}
      : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<*xf32>
  // CHECK: return %[[Y0]], %[[Y1]], %[[Y2]]
  return %0, %1, %2 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @dense_rank3_f64
// CHECK-SAME: (%[[X:.+]]: tensor<2x5x8xf64>, %[[K:.+]]: tensor<8x3xf64>)
func.func @dense_rank3_f64(%x: tensor<2x5x8xf64>, %k: tensor<8x3xf64>) -> tensor<2x5x3xf64> {
  // CHECK: layer.dense %[[X]], %[[K]] {activation = #layer.activation<tanh>} : (tensor<2x5x8xf64>, tensor<8x3xf64>) -> tensor<2x5x3xf64>
  %0 = layer.dense %x, %k {activation = #layer.activation<tanh>}
      : (tensor<2x5x8xf64>, tensor<8x3xf64>) -> tensor<2x5x3xf64>
  return %0 : tensor<2x5x3xf64>
}

// CHECK-LABEL: func.func @activation
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>)
func.func @activation(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // CHECK: %[[A:.+]] = layer.activation %[[X]] {activation = #layer.activation<softmax>} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %0 = layer.activation %x {activation = #layer.activation<softmax>} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: %[[B:.+]] = layer.activation %[[A]] {activation = #layer.activation<sigmoid>} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = layer.activation %0 {activation = #layer.activation<sigmoid>} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: return %[[B]]
  return %1 : tensor<?x10xf32>
}

// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>)
func.func @dropout(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: %[[Y:.+]] = layer.dropout %[[X]] {rate = 5.000000e-01 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %0 = layer.dropout %x {rate = 0.5 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  // A rate of 0 is the default, so it is not printed.
  // CHECK: layer.dropout %[[Y]] : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %1 = layer.dropout %0 {rate = 0.0 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %1 : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @threshold
func.func @threshold(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: layer.threshold %{{.+}} {threshold = 5.000000e-01 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %0 = layer.threshold %x {threshold = 0.5 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  // CHECK: layer.threshold %{{.+}} {mask, threshold = 5.000000e-01 : f64}
  %1 = layer.threshold %0 {threshold = 0.5 : f64, mask} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %1 : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @noise
func.func @noise(%x: tensor<?x8x8x16xf32>, %step: tensor<f32>) -> tensor<?x8x8x16xf32> {
  // CHECK: layer.dropout %{{.+}} {rate = 2.000000e-01 : f64, shared_axes = array<i64: 1, 2>}
  %0 = layer.dropout %x {rate = 0.2 : f64, shared_axes = array<i64: 1, 2>} : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
  // CHECK: layer.dropout %{{.+}} {noise = #layer.noise<gaussian_noise>, stddev = 1.000000e-01 : f64}
  %1 = layer.dropout %0 {noise = #layer.noise<gaussian_noise>, stddev = 0.1 : f64} : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
  // CHECK: layer.dropout %{{.+}} {noise = #layer.noise<gaussian_dropout>, rate = 3.000000e-01 : f64}
  %2 = layer.dropout %1 {noise = #layer.noise<gaussian_dropout>, rate = 0.3 : f64} : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
  // CHECK: layer.dropout_mask %{{.+}}, %{{.+}} {noise = #layer.noise<alpha_dropout>, rate = 1.000000e-01 : f64, seed = 3 : i64, shift}
  %3 = layer.dropout_mask %2, %step {noise = #layer.noise<alpha_dropout>, rate = 0.1 : f64, seed = 3 : i64, shift} : (tensor<?x8x8x16xf32>, tensor<f32>) -> tensor<?x8x8x16xf32>
  // CHECK: layer.activity_regularization %{{.+}} {l1 = 0.000000e+00 : f64, l2 = 1.000000e-02 : f64}
  %4 = layer.activity_regularization %3 {l1 = 0.0 : f64, l2 = 0.01 : f64} : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
  // CHECK: layer.weight_penalty %{{.+}} {l1 = 1.000000e-03 : f64, l2 = 0.000000e+00 : f64, per_sample}
  %5 = layer.weight_penalty %4 {l1 = 0.001 : f64, l2 = 0.0 : f64, per_sample} : (tensor<?x8x8x16xf32>) -> tensor<f32>
  return %4 : tensor<?x8x8x16xf32>
}

// CHECK-LABEL: func.func @weighted_loss
func.func @weighted_loss(%p: tensor<?x1xf32>, %t: tensor<?x1xf32>, %w: tensor<?xf32>, %dl: tensor<f32>) -> tensor<?x1xf32> {
  // CHECK: layer.loss %{{.+}}, %{{.+}} weights(%{{.+}}) {loss = #layer.loss<mean_squared_error>} : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?xf32>) -> tensor<f32>
  %l = layer.loss %p, %t weights(%w) {loss = #layer.loss<mean_squared_error>} : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?xf32>) -> tensor<f32>
  // CHECK: layer.loss_grad %{{.+}}, %{{.+}}, %{{.+}} weights(%{{.+}}) {loss = #layer.loss<mean_squared_error>}
  %g = layer.loss_grad %p, %t, %dl weights(%w) {loss = #layer.loss<mean_squared_error>} : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<f32>, tensor<?xf32>) -> tensor<?x1xf32>
  return %g : tensor<?x1xf32>
}

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:.+]]: tensor<?x784xf32>, %[[DY:.+]]: tensor<?x64xf32>, %[[W:.+]]: tensor<784x64xf32>)
func.func @matmul(%x: tensor<?x784xf32>, %dy: tensor<?x64xf32>, %w: tensor<784x64xf32>)
    -> (tensor<784x64xf32>, tensor<?x784xf32>, tensor<?x64xf32>) {
  // CHECK: %[[DW:.+]] = layer.matmul %[[X]], %[[DY]] {transpose_lhs} : (tensor<?x784xf32>, tensor<?x64xf32>) -> tensor<784x64xf32>
  %0 = layer.matmul %x, %dy {transpose_lhs}
      : (tensor<?x784xf32>, tensor<?x64xf32>) -> tensor<784x64xf32>
  // CHECK: %[[DX:.+]] = layer.matmul %[[DY]], %[[W]] {transpose_rhs} : (tensor<?x64xf32>, tensor<784x64xf32>) -> tensor<?x784xf32>
  %1 = layer.matmul %dy, %w {transpose_rhs}
      : (tensor<?x64xf32>, tensor<784x64xf32>) -> tensor<?x784xf32>
  // CHECK: %[[Y:.+]] = layer.matmul %[[X]], %[[W]] : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x64xf32>
  %2 = layer.matmul %x, %w : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x64xf32>
  // CHECK: return %[[DW]], %[[DX]], %[[Y]]
  return %0, %1, %2 : tensor<784x64xf32>, tensor<?x784xf32>, tensor<?x64xf32>
}

// batch_matmul: (..., M, K) x (..., K, N) per batch, transposes folded.
// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME: (%[[Q:.+]]: tensor<?x4x8xf32>, %[[K:.+]]: tensor<?x6x8xf32>, %[[A:.+]]: tensor<?x2x4x6xf32>, %[[V:.+]]: tensor<?x2x6x3xf32>)
func.func @batch_matmul(%q: tensor<?x4x8xf32>, %k: tensor<?x6x8xf32>,
                        %a: tensor<?x2x4x6xf32>, %v: tensor<?x2x6x3xf32>)
    -> (tensor<?x4x6xf32>, tensor<?x2x4x3xf32>, tensor<?x8x8xf32>) {
  // CHECK: layer.batch_matmul %[[Q]], %[[K]] {transpose_rhs} : (tensor<?x4x8xf32>, tensor<?x6x8xf32>) -> tensor<?x4x6xf32>
  %0 = layer.batch_matmul %q, %k {transpose_rhs}
      : (tensor<?x4x8xf32>, tensor<?x6x8xf32>) -> tensor<?x4x6xf32>
  // CHECK: layer.batch_matmul %[[A]], %[[V]] : (tensor<?x2x4x6xf32>, tensor<?x2x6x3xf32>) -> tensor<?x2x4x3xf32>
  %1 = layer.batch_matmul %a, %v : (tensor<?x2x4x6xf32>, tensor<?x2x6x3xf32>) -> tensor<?x2x4x3xf32>
  // CHECK: layer.batch_matmul %[[K]], %[[K]] {transpose_lhs} : (tensor<?x6x8xf32>, tensor<?x6x8xf32>) -> tensor<?x8x8xf32>
  %2 = layer.batch_matmul %k, %k {transpose_lhs} : (tensor<?x6x8xf32>, tensor<?x6x8xf32>) -> tensor<?x8x8xf32>
  return %0, %1, %2 : tensor<?x4x6xf32>, tensor<?x2x4x3xf32>, tensor<?x8x8xf32>
}

// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[A:.+]]: tensor<?x64xf32>, %[[B:.+]]: tensor<8x64xf32>)
func.func @add(%a: tensor<?x64xf32>, %b: tensor<8x64xf32>) -> tensor<8x64xf32> {
  // CHECK: %[[S:.+]] = layer.add %[[A]], %[[B]] : (tensor<?x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %0 = layer.add %a, %b : (tensor<?x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  // CHECK: return %[[S]]
  return %0 : tensor<8x64xf32>
}

// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.+]]: tensor<?x784xf32>)
func.func @reshape(%x: tensor<?x784xf32>) -> tensor<?x28x28xf32> {
  // CHECK: %[[Y:.+]] = layer.reshape %[[X]] {target_shape = array<i64: 28, 28>} : (tensor<?x784xf32>) -> tensor<?x28x28xf32>
  %0 = layer.reshape %x {target_shape = array<i64: 28, 28>}
      : (tensor<?x784xf32>) -> tensor<?x28x28xf32>
  return %0 : tensor<?x28x28xf32>
}

// CHECK-LABEL: func.func @reduce_sum
// CHECK-SAME: (%[[DY:.+]]: tensor<?x64xf32>)
func.func @reduce_sum(%dy: tensor<?x64xf32>) -> (tensor<64xf32>, tensor<?xf32>) {
  // CHECK: %[[DB:.+]] = layer.reduce_sum %[[DY]] {axis = 0 : i64} : (tensor<?x64xf32>) -> tensor<64xf32>
  %0 = layer.reduce_sum %dy {axis = 0 : i64} : (tensor<?x64xf32>) -> tensor<64xf32>
  // CHECK: %[[R:.+]] = layer.reduce_sum %[[DY]] {axis = 1 : i64} : (tensor<?x64xf32>) -> tensor<?xf32>
  %1 = layer.reduce_sum %dy {axis = 1 : i64} : (tensor<?x64xf32>) -> tensor<?xf32>
  // CHECK: return %[[DB]], %[[R]]
  return %0, %1 : tensor<64xf32>, tensor<?xf32>
}

// CHECK-LABEL: func.func @loss
// CHECK-SAME: (%[[Z:.+]]: tensor<?x10xf32>, %[[L:.+]]: tensor<?xi32>, %[[T:.+]]: tensor<?x10xf32>, %[[L64:.+]]: tensor<?xi64>)
func.func @loss(%z: tensor<?x10xf32>, %labels: tensor<?xi32>, %t: tensor<?x10xf32>,
                %labels64: tensor<?xi64>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  // CHECK: %[[S:.+]] = layer.loss %[[Z]], %[[L]] {from_logits, loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
  %0 = layer.loss %z, %labels {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits}
      : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
  // CHECK: %[[C:.+]] = layer.loss %[[Z]], %[[T]] {loss = #layer.loss<categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  %1 = layer.loss %z, %t {loss = #layer.loss<categorical_crossentropy>}
      : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  // CHECK: %[[M:.+]] = layer.loss %[[Z]], %[[T]] {loss = #layer.loss<mean_squared_error>} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  %2 = layer.loss %z, %t {loss = #layer.loss<mean_squared_error>}
      : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  // CHECK: %[[S64:.+]] = layer.loss %[[Z]], %[[L64]] {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi64>) -> tensor<f32>
  %3 = layer.loss %z, %labels64 {loss = #layer.loss<sparse_categorical_crossentropy>}
      : (tensor<?x10xf32>, tensor<?xi64>) -> tensor<f32>
  // CHECK: return %[[S]], %[[C]], %[[M]], %[[S64]]
  return %0, %1, %2, %3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// Per-sample weights are an optional trailing operand of both ops.
// CHECK-LABEL: func.func @weighted_sparse_loss
// CHECK-SAME: (%[[Z:.+]]: tensor<?x10xf32>, %[[L:.+]]: tensor<?xi32>, %[[W:.+]]: tensor<?xf32>, %[[DL:.+]]: tensor<f32>)
func.func @weighted_sparse_loss(%z: tensor<?x10xf32>, %labels: tensor<?xi32>, %w: tensor<?xf32>,
                                %dl: tensor<f32>) -> (tensor<f32>, tensor<?x10xf32>) {
  // CHECK: %[[S:.+]] = layer.loss %[[Z]], %[[L]] weights(%[[W]]) {from_logits, loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<f32>
  %0 = layer.loss %z, %labels weights(%w) {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits}
      : (tensor<?x10xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<f32>
  // CHECK: %[[DZ:.+]] = layer.loss_grad %[[Z]], %[[L]], %[[DL]] weights(%[[W]]) {from_logits, loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>, tensor<?xf32>) -> tensor<?x10xf32>
  %1 = layer.loss_grad %z, %labels, %dl weights(%w) {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits}
      : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>, tensor<?xf32>) -> tensor<?x10xf32>
  // CHECK: return %[[S]], %[[DZ]]
  return %0, %1 : tensor<f32>, tensor<?x10xf32>
}

// CHECK-LABEL: func.func @activation_grad
// CHECK-SAME: (%[[DY:.+]]: tensor<?x64xf32>, %[[X:.+]]: tensor<?x64xf32>, %[[Y:.+]]: tensor<?x64xf32>)
func.func @activation_grad(%dy: tensor<?x64xf32>, %x: tensor<?x64xf32>, %y: tensor<?x64xf32>)
    -> tensor<?x64xf32> {
  // CHECK: %[[DX:.+]] = layer.activation_grad %[[DY]], %[[X]], %[[Y]] {activation = #layer.activation<relu>} : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %0 = layer.activation_grad %dy, %x, %y {activation = #layer.activation<relu>}
      : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  // CHECK: return %[[DX]]
  return %0 : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @loss_grad
// CHECK-SAME: (%[[Z:.+]]: tensor<?x10xf32>, %[[L:.+]]: tensor<?xi32>, %[[DL:.+]]: tensor<f32>)
func.func @loss_grad(%z: tensor<?x10xf32>, %labels: tensor<?xi32>, %dl: tensor<f32>)
    -> tensor<?x10xf32> {
  // CHECK: %[[DZ:.+]] = layer.loss_grad %[[Z]], %[[L]], %[[DL]] {from_logits, loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x10xf32>
  %0 = layer.loss_grad %z, %labels, %dl {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits}
      : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x10xf32>
  // CHECK: return %[[DZ]]
  return %0 : tensor<?x10xf32>
}

// CHECK-LABEL: func.func @sgd_update
// CHECK-SAME: (%[[W:.+]]: tensor<64xf32>, %[[G:.+]]: tensor<64xf32>, %[[V:.+]]: tensor<64xf32>)
func.func @sgd_update(%w: tensor<64xf32>, %g: tensor<64xf32>, %v: tensor<64xf32>)
    -> (tensor<64xf32>, tensor<64xf32>) {
  // CHECK: %[[W1:.+]], %[[V1:.+]] = layer.sgd_update %[[W]], %[[G]], %[[V]] {learning_rate = 1.000000e-02 : f64, momentum = 9.000000e-01 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  // CHECK: return %[[W1]], %[[V1]] :
  return %w1, %v1 : tensor<64xf32>, tensor<64xf32>
}

// CHECK-LABEL: func.func @rmsprop_update
// CHECK-SAME: (%[[W:.+]]: tensor<784x64xf32>, %[[G:.+]]: tensor<784x64xf32>, %[[A:.+]]: tensor<784x64xf32>)
func.func @rmsprop_update(%w: tensor<784x64xf32>, %g: tensor<784x64xf32>, %a: tensor<784x64xf32>)
    -> (tensor<784x64xf32>, tensor<784x64xf32>) {
  // CHECK: %[[W1:.+]], %[[A1:.+]] = layer.rmsprop_update %[[W]], %[[G]], %[[A]] {epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64, rho = 9.000000e-01 : f64} : (tensor<784x64xf32>, tensor<784x64xf32>, tensor<784x64xf32>) -> (tensor<784x64xf32>, tensor<784x64xf32>)
  %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = 0.9 : f64, epsilon = 1.0e-7 : f64}
      : (tensor<784x64xf32>, tensor<784x64xf32>, tensor<784x64xf32>) -> (tensor<784x64xf32>, tensor<784x64xf32>)
  // CHECK: return %[[W1]], %[[A1]] :
  return %w1, %a1 : tensor<784x64xf32>, tensor<784x64xf32>
}

// CHECK-LABEL: func.func @newer_updates
func.func @newer_updates(%w: tensor<8xf32>, %g: tensor<8xf32>, %a: tensor<8xf32>,
                         %b: tensor<8xf32>, %t: tensor<f32>)
    -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // CHECK: layer.adagrad_update %{{.+}}, %{{.+}}, %{{.+}} step %{{.+}} {{{.*}}initial_accumulator_value = 1.000000e-01 : f64{{.*}}} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>)
  %w1, %a1 = layer.adagrad_update %w, %g, %a step %t {learning_rate = 1.0e-3 : f64, epsilon = 1.0e-7 : f64, initial_accumulator_value = 0.1 : f64, decay_steps = 10.0 : f64, decay_rate = 0.5 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.adadelta_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {{{.*}}rho = 0.94999999999999996 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  %w2, %ag, %ad = layer.adadelta_update %w1, %g, %a, %b {learning_rate = 1.0 : f64, rho = 0.95 : f64, epsilon = 1.0e-7 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.adamax_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {{{.*}}weight_decay = 2.000000e-01 : f64}
  %w3, %m3, %u3 = layer.adamax_update %w2, %g, %a, %b, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64, weight_decay = 0.2 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.nadam_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {beta_1
  %w4, %m4, %v4 = layer.nadam_update %w3, %g, %a, %b, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.lion_update %{{.+}}, %{{.+}}, %{{.+}} lr %{{.+}} {beta_1 = 5.000000e-01
  %w6, %m6 = layer.lion_update %w, %g, %a lr %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.5 : f64, beta_2 = 0.99 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.lion_update %{{.+}}, %{{.+}}, %{{.+}} {beta_1 = 9.000000e-01 : f64, beta_2 = 0.98999999999999999 : f64, learning_rate = 1.000000e-03 : f64}
  %w5, %m5 = layer.lion_update %w4, %g, %a {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.99 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.clip_gradients %{{.+}}, %{{.+}} {global_clipnorm = 1.000000e+00 : f64} : (tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<f32>)
  %c0, %c1 = layer.clip_gradients %g, %t {global_clipnorm = 1.0 : f64} : (tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<f32>)
  // CHECK: layer.weight_penalty %{{.+}} {l1 = 0.000000e+00 : f64, l2 = 1.000000e-02 : f64} : (tensor<8xf32>) -> tensor<f32>
  %p = layer.weight_penalty %w {l1 = 0.0 : f64, l2 = 0.01 : f64} : (tensor<8xf32>) -> tensor<f32>
  // CHECK: layer.weight_penalty_grad %{{.+}}, %{{.+}} {l1 = 1.000000e-01 : f64, l2 = 0.000000e+00 : f64} : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %pg = layer.weight_penalty_grad %w, %p {l1 = 0.1 : f64, l2 = 0.0 : f64} : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  // CHECK: layer.constrain %{{.+}} {axes = array<i64: 0>, kind = #layer.constraint<max_norm>, max_value = 2.000000e+00 : f64} : (tensor<8xf32>) -> tensor<8xf32>
  %k = layer.constrain %pg {kind = #layer.constraint<max_norm>, axes = array<i64: 0>, max_value = 2.0 : f64} : (tensor<8xf32>) -> tensor<8xf32>
  // CHECK: layer.constrain %{{.+}} {kind = #layer.constraint<non_neg>} : (tensor<8xf32>) -> tensor<8xf32>
  %n = layer.constrain %k {kind = #layer.constraint<non_neg>} : (tensor<8xf32>) -> tensor<8xf32>
  return %w5, %a1, %ad, %u3, %v4, %c0 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// CHECK-LABEL: func.func @adam_update
// CHECK-SAME: (%[[W:.+]]: tensor<64xf32>, %[[G:.+]]: tensor<64xf32>, %[[M:.+]]: tensor<64xf32>, %[[V:.+]]: tensor<64xf32>, %[[T:.+]]: tensor<f32>)
func.func @adam_update(%w: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>,
                       %v: tensor<64xf32>, %t: tensor<f32>)
    -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  // CHECK: %[[W1:.+]], %[[S1:.+]]:2 = layer.adam_update %[[W]], %[[G]], %[[M]], %[[V]], %[[T]] {beta_1 = 9.000000e-01 : f64, beta_2 = 0.99899999999999999 : f64, epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  // CHECK: return %[[W1]], %[[S1]]#0, %[[S1]]#1 :
  return %w1, %m1, %v1 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// Keras's optional extras: centered RMSprop (an average_grad slot), AMSGrad
// (a v_hat slot), decoupled weight decay (AdamW) and an exponentially
// decaying learning rate (which takes the step).
// CHECK-LABEL: func.func @optimizer_extras
func.func @optimizer_extras(%w: tensor<8xf32>, %g: tensor<8xf32>, %a: tensor<8xf32>,
                            %b: tensor<8xf32>, %c: tensor<8xf32>, %t: tensor<f32>)
    -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // CHECK: layer.rmsprop_update %{{.+}}, %{{.+}}, %{{.+}} centered %{{.+}} step %{{.+}} {decay_rate = 5.000000e-01 : f64, decay_steps = 1.000000e+01 : f64, epsilon
  %w1, %a1, %m1 = layer.rmsprop_update %w, %g, %a centered %b step %t {learning_rate = 1.0e-3 : f64, rho = 0.9 : f64, epsilon = 1.0e-7 : f64, decay_steps = 10.0 : f64, decay_rate = 0.5 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.adam_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} amsgrad %{{.+}}, %{{.+}} {{{.*}}weight_decay = 4.000000e-03 : f64}
  %w2, %m2, %v2, %h2 = layer.adam_update %w1, %g, %a, %b amsgrad %c, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64, weight_decay = 0.004 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: layer.sgd_update %{{.+}}, %{{.+}}, %{{.+}} step %{{.+}} {decay_rate = 9.000000e-01 : f64, decay_steps = 1.000000e+02 : f64, learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, staircase}
  %w3, %v3 = layer.sgd_update %w2, %g, %a step %t {learning_rate = 0.1 : f64, momentum = 0.0 : f64, decay_steps = 100.0 : f64, decay_rate = 0.9 : f64, staircase}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %w3, %h2, %m1 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// Per-sample normalization (LayerNormalization, GroupNormalization,
// UnitNormalization), its gradient, and transpose (Permute).
// CHECK-LABEL: func.func @normalize_and_transpose
func.func @normalize_and_transpose(%x: tensor<?x5x8xf32>, %dy: tensor<?x5x8xf32>)
    -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<?x8x5xf32>) {
  // CHECK: layer.normalize %{{.+}} {axis = 1 : i64, epsilon = 1.000000e-03 : f64, groups = 4 : i64, kind = #layer.norm<standardize>} : (tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  %0 = layer.normalize %x {axis = 1 : i64, groups = 4 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>}
      : (tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  // The default groups (1) is elided.
  // CHECK: layer.normalize %{{.+}} {axis = 2 : i64, epsilon = 9.9999999999999998E-13 : f64, kind = #layer.norm<l2>} : (tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  %1 = layer.normalize %x {axis = 2 : i64, groups = 1 : i64, epsilon = 1.0e-12 : f64, kind = #layer.norm<l2>}
      : (tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  // CHECK: layer.normalize %{{.+}} {axis = 2 : i64, epsilon = 1.000000e-03 : f64, kind = #layer.norm<variance>}
  %2 = layer.normalize %x {axis = 2 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<variance>}
      : (tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  // CHECK: layer.normalize_grad %{{.+}}, %{{.+}} {axis = 1 : i64, epsilon = 1.000000e-03 : f64, groups = 2 : i64, kind = #layer.norm<standardize>} : (tensor<?x5x8xf32>, tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  %3 = layer.normalize_grad %dy, %x {axis = 1 : i64, groups = 2 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>}
      : (tensor<?x5x8xf32>, tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  // CHECK: layer.transpose %{{.+}} {permutation = array<i64: 0, 2, 1>} : (tensor<?x5x8xf32>) -> tensor<?x8x5xf32>
  %4 = layer.transpose %x {permutation = array<i64: 0, 2, 1>}
      : (tensor<?x5x8xf32>) -> tensor<?x8x5xf32>
  return %0, %1, %2, %3, %4 : tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<?x8x5xf32>
}
