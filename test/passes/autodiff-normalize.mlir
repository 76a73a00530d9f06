// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=none loss=mean_squared_error' \
// RUN:   | FileCheck %s
// The result is valid IR that round-trips.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=sgd loss=mean_squared_error' | layerc-opt > /dev/null

// LayerNormalization (normalize, then gamma and beta) after a Dense, then
// Permute: the gradient reads the transpose back through the inverse
// permutation, then normalize_grad with the forward op's attributes.
func.func @predict(%x: tensor<?x3x2x4xf32> {layer.name = "x"},
                   %k: tensor<4x6xf32> {layer.param, layer.name = "dense/kernel"},
                   %g: tensor<3x2x6xf32> {layer.param, layer.name = "ln/gamma"},
                   %b: tensor<3x2x6xf32> {layer.param, layer.name = "ln/beta"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x3x2x4xf32>, tensor<4x6xf32>) -> tensor<*xf32>
  %1 = layer.normalize %0 {axis = 1 : i64, groups = 2 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = layer.multiply %1, %g : (tensor<*xf32>, tensor<3x2x6xf32>) -> tensor<*xf32>
  %3 = layer.add %2, %b : (tensor<*xf32>, tensor<3x2x6xf32>) -> tensor<*xf32>
  %4 = layer.transpose %3 {permutation = array<i64: 0, 2, 3, 1>} : (tensor<*xf32>) -> tensor<*xf32>
  return %4 : tensor<*xf32>
}

// CHECK-LABEL: func.func @grad
// CHECK: %[[Y:.+]] = layer.dense
// CHECK: layer.normalize %[[Y]] {axis = 1 : i64, epsilon = 1.000000e-03 : f64, groups = 2 : i64, kind = #layer.norm<standardize>} : (tensor<?x3x2x6xf32>) -> tensor<?x3x2x6xf32>
// CHECK: layer.transpose %{{.+}} {permutation = array<i64: 0, 2, 3, 1>} : (tensor<?x3x2x6xf32>) -> tensor<?x2x6x3xf32>
// CHECK: layer.loss_grad
// CHECK: layer.transpose %{{.+}} {permutation = array<i64: 0, 3, 1, 2>} : (tensor<?x2x6x3xf32>) -> tensor<?x3x2x6xf32>
// CHECK: layer.normalize_grad %{{.+}}, %[[Y]] {axis = 1 : i64, epsilon = 1.000000e-03 : f64, groups = 2 : i64, kind = #layer.norm<standardize>} : (tensor<?x3x2x6xf32>, tensor<?x3x2x6xf32>) -> tensor<?x3x2x6xf32>
// CHECK: return
