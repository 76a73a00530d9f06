// Keras's regularizers and constraints from the weight arguments'
// attributes: the penalty joins the loss (evaluate, train_step, grad_step)
// and its gradient the weight's; the constraint takes the updated weight
// (train_step, apply_step). autodiff-regularizers-invalid.mlir has the
// diagnostics.
// RUN: layerc-opt %s --layer-autodiff='optimizer=sgd split-step' | FileCheck %s
// RUN: layerc-opt %s --layer-autodiff='optimizer=adam' --layer-to-linalg \
// RUN:   | FileCheck %s --check-prefix=LOWERED

func.func @predict(%x: tensor<?x4xf32>,
                   %k: tensor<4x3xf32> {layer.param, layer.name = "k",
                        layer.regularizer = {l1 = 0.01 : f64, l2 = 0.02 : f64},
                        layer.constraint = {kind = "max_norm", axes = array<i64: 0>, max_value = 2.0 : f64}},
                   %b: tensor<3xf32> {layer.param, layer.name = "b",
                        layer.constraint = {kind = "non_neg"}}) -> tensor<?x3xf32> {
  %y = layer.dense %x, %k, %b : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// CHECK-LABEL: func.func @evaluate
// CHECK: %[[L:.+]] = layer.loss
// CHECK: %[[P:.+]] = layer.weight_penalty %{{.+}} {l1 = 1.000000e-02 : f64, l2 = 2.000000e-02 : f64}
// CHECK: layer.add %[[L]], %[[P]]
// CHECK-LABEL: func.func @train_step
// CHECK: layer.weight_penalty
// CHECK: layer.weight_penalty_grad
// CHECK: %[[K:.+]], %{{.+}} = layer.sgd_update
// CHECK: layer.constrain %[[K]] {axes = array<i64: 0>, kind = #layer.constraint<max_norm>, max_value = 2.000000e+00 : f64}
// CHECK: %[[B:.+]], %{{.+}} = layer.sgd_update
// CHECK: layer.constrain %[[B]] {kind = #layer.constraint<non_neg>
// CHECK-LABEL: func.func @grad_step
// CHECK: layer.weight_penalty_grad
// CHECK-LABEL: func.func @apply_step
// CHECK: layer.sgd_update
// CHECK: layer.constrain {{.+}}max_norm
// CHECK: layer.sgd_update
// CHECK: layer.constrain {{.+}}non_neg

// LOWERED-NOT: = layer.
// LOWERED: math.absf
// LOWERED: linalg.generic
// LOWERED-NOT: = layer.
