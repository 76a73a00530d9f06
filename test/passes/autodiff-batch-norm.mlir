// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=sgd' \
// RUN:   | FileCheck %s
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=none batch-stats' \
// RUN:   | FileCheck %s --check-prefix=STATS
// The result is valid IR that round-trips.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=adam' | layerc-opt > /dev/null

// BatchNormalization's moving statistics are non-trainable weights
// (layer.buffer): arguments of every function, without optimizer state.
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"},
                   %k: tensor<4x3xf32> {layer.param, layer.name = "dense/kernel"},
                   %g: tensor<3xf32> {layer.param, layer.name = "bn/gamma"},
                   %mm: tensor<3xf32> {layer.buffer, layer.name = "bn/moving_mean"},
                   %mv: tensor<3xf32> {layer.buffer, layer.name = "bn/moving_variance"},
                   %frozen: tensor<3xf32> {layer.buffer, layer.name = "frozen"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  %1 = layer.batch_norm %0, %mm, %mv gamma(%g) {epsilon = 1.0e-3 : f64, momentum = 0.9 : f64} : (tensor<*xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  %2 = layer.add %1, %frozen : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// evaluate normalizes by the moving statistics, as predict.
// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: {layer.name = "bn/gamma", layer.role = "param"}
// CHECK-SAME: %[[MM:[^:]+]]: tensor<3xf32> {layer.name = "bn/moving_mean", layer.role = "buffer"}
// CHECK-SAME: %[[MV:[^:]+]]: tensor<3xf32> {layer.name = "bn/moving_variance", layer.role = "buffer"}
// CHECK-SAME: {layer.name = "frozen", layer.role = "buffer"}
// CHECK-NOT: layer.moments
// CHECK: layer.batch_norm %{{.+}}, %[[MM]], %[[MV]]
// CHECK: return

// train_step: the batch's statistics, and the moving ones updated as
// moving * momentum + batch * (1 - momentum); optimizer state only for
// the trainable weights; the frozen buffer comes back as it was.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[K:[^:]+]]: tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "param"}
// CHECK-SAME: %[[G:[^:]+]]: tensor<3xf32> {layer.name = "bn/gamma", layer.role = "param"}
// CHECK-SAME: %[[MM:[^:]+]]: tensor<3xf32> {layer.name = "bn/moving_mean", layer.role = "buffer"}
// CHECK-SAME: %[[MV:[^:]+]]: tensor<3xf32> {layer.name = "bn/moving_variance", layer.role = "buffer"}
// CHECK-SAME: %[[FROZEN:[^:]+]]: tensor<3xf32> {layer.name = "frozen", layer.role = "buffer"}
// CHECK-SAME: {layer.name = "dense/kernel/momentum", layer.role = "state"}
// CHECK-SAME: {layer.name = "bn/gamma/momentum", layer.role = "state"}
// CHECK-SAME: {layer.name = "step", layer.role = "step"}
// CHECK-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x3xf32> {layer.name = "output0", layer.role = "output"},
// CHECK-SAME: {layer.name = "bn/moving_mean", layer.role = "buffer"}, tensor<3xf32> {layer.name = "bn/moving_variance", layer.role = "buffer"}, tensor<3xf32> {layer.name = "frozen", layer.role = "buffer"},
// CHECK-SAME: {layer.name = "bn/gamma/momentum", layer.role = "state"})
// CHECK: %[[Z:.+]] = layer.dense %{{.+}}, %[[K]]
// CHECK-NEXT: %[[MEAN:.+]], %[[VAR:.+]] = layer.moments %[[Z]] : (tensor<?x3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: layer.batch_norm %[[Z]], %[[MEAN]], %[[VAR]] gamma(%[[G]]) {epsilon = 1.000000e-03 : f64, momentum = 9.000000e-01 : f64}
// CHECK-NEXT: %[[KEPT:.+]] = layer.scale %[[MM]] {factor = 9.000000e-01 : f64}
// CHECK-NEXT: %[[NEW:.+]] = layer.scale %[[MEAN]] {factor = 0.0999999{{[0-9]+}} : f64}
// CHECK-NEXT: %[[MM1:.+]] = layer.add %[[KEPT]], %[[NEW]]
// CHECK-NEXT: layer.scale %[[MV]] {factor = 9.000000e-01 : f64}
// CHECK-NEXT: layer.scale %[[VAR]]
// CHECK-NEXT: %[[MV1:.+]] = layer.add
// The gradient flows through the batch statistics.
// CHECK: layer.batch_norm_grad
// CHECK: layer.moments_grad %[[Z]], %[[MEAN]]
// CHECK: return {{.+}}, %[[MM1]], %[[MV1]], %[[FROZEN]],

// STATS-LABEL: func.func @evaluate
// STATS: layer.moments
// STATS-LABEL: func.func @grad
// STATS-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x3xf32> {layer.name = "output0", layer.role = "output"}, tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "grad"}, tensor<3xf32> {layer.name = "bn/gamma", layer.role = "grad"})
// STATS: layer.moments
// STATS: layer.batch_norm_grad
