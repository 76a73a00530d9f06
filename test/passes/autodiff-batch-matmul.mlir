// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=none loss=mean_squared_error' \
// RUN:   | FileCheck %s
// The result is valid IR that round-trips.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=sgd loss=mean_squared_error' | layerc-opt > /dev/null

// Attention-like scores s = q k^T from two Dense projections, then s v:
// the gradient of C = A B^T is dA = dC B and dB = dC^T A, that of C = A B
// is dA = dC B^T and dB = A^T dC, each one batch_matmul with transposes.
func.func @predict(%x: tensor<?x3x4xf32> {layer.name = "x"},
                   %wq: tensor<4x5xf32> {layer.param, layer.name = "q/kernel"},
                   %wk: tensor<4x5xf32> {layer.param, layer.name = "k/kernel"})
    -> tensor<*xf32> {
  %q = layer.dense %x, %wq : (tensor<?x3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  %k = layer.dense %x, %wk : (tensor<?x3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  %s = layer.batch_matmul %q, %k {transpose_rhs} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %y = layer.batch_matmul %s, %x : (tensor<*xf32>, tensor<?x3x4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// CHECK-LABEL: func.func @grad
// CHECK: %[[Q:.+]] = layer.dense %{{.+}} : (tensor<?x3x4xf32>, tensor<4x5xf32>) -> tensor<?x3x5xf32>
// CHECK: %[[K:.+]] = layer.dense
// CHECK: %[[S:.+]] = layer.batch_matmul %[[Q]], %[[K]] {transpose_rhs} : (tensor<?x3x5xf32>, tensor<?x3x5xf32>) -> tensor<?x3x3xf32>
// CHECK: layer.batch_matmul %[[S]], %{{.+}} : (tensor<?x3x3xf32>, tensor<?x3x4xf32>) -> tensor<?x3x4xf32>
// CHECK: %[[DY:.+]] = layer.loss_grad
// CHECK-DAG: %[[DS:.+]] = layer.batch_matmul %[[DY]], %{{.+}} {transpose_rhs} : (tensor<?x3x4xf32>, tensor<?x3x4xf32>) -> tensor<?x3x3xf32>
// CHECK-DAG: layer.batch_matmul %[[S]], %[[DY]] {transpose_lhs} : (tensor<?x3x3xf32>, tensor<?x3x4xf32>) -> tensor<?x3x4xf32>
// CHECK-DAG: layer.batch_matmul %[[DS]], %[[K]] : (tensor<?x3x3xf32>, tensor<?x3x5xf32>) -> tensor<?x3x5xf32>
// CHECK-DAG: layer.batch_matmul %[[DS]], %[[Q]] {transpose_lhs} : (tensor<?x3x3xf32>, tensor<?x3x5xf32>) -> tensor<?x3x5xf32>
// CHECK: return
