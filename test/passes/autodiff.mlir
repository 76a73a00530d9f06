// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits' \
// RUN:   | FileCheck %s --check-prefixes=CHECK,LOGITS,RMSPROP
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=sgd learning-rate=0.1 momentum=0.9' \
// RUN:   | FileCheck %s --check-prefixes=CHECK,LOGITS,SGD
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=adam beta-2=0.99' \
// RUN:   | FileCheck %s --check-prefixes=CHECK,LOGITS,ADAM
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=none' \
// RUN:   | FileCheck %s --check-prefixes=CHECK,PROBS,GRAD
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='function=residual loss=mean_squared_error optimizer=none' \
// RUN:   | FileCheck %s --check-prefix=RESIDUAL
// The result is valid IR that round-trips.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='optimizer=adam' | layerc-opt > /dev/null

// A two-layer classifier whose shapes layer-shape-inference fills first.
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"},
                   %k0: tensor<4x8xf32> {layer.param, layer.name = "dense/kernel"},
                   %b0: tensor<8xf32> {layer.param, layer.name = "dense/bias"},
                   %k1: tensor<8x3xf32> {layer.param, layer.name = "dense_1/kernel"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k1 : (tensor<*xf32>, tensor<8x3xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// The inference function is kept as it was.
// CHECK-LABEL: func.func @predict
// CHECK: layer.dense {{.*}} {activation = #layer.activation<relu>}

// evaluate(inputs, targets, params) -> (loss, outputs): the forward pass
// with the fused relu split out, then the loss on the output.
// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32> {layer.name = "x", layer.role = "input"},
// CHECK-SAME: %[[Y:.+]]: tensor<?xi32> {layer.name = "output0_target", layer.role = "target"},
// CHECK-SAME: %[[K0:.+]]: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "param"},
// CHECK-SAME: %[[B0:.+]]: tensor<8xf32> {layer.name = "dense/bias", layer.role = "param"},
// CHECK-SAME: %[[K1:.+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "param"})
// CHECK-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x3xf32> {layer.name = "output0", layer.role = "output"})
// CHECK-NEXT: %[[Z0:.+]] = layer.dense %[[X]], %[[K0]], %[[B0]] : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: %[[H0:.+]] = layer.activation %[[Z0]] {activation = #layer.activation<relu>}
// CHECK-NEXT: %[[Z1:.+]] = layer.dense %[[H0]], %[[K1]] : (tensor<?x8xf32>, tensor<8x3xf32>) -> tensor<?x3xf32>
// LOGITS-NEXT: %[[L:.+]] = layer.loss %[[Z1]], %[[Y]] {from_logits, loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x3xf32>, tensor<?xi32>) -> tensor<f32>
// PROBS-NEXT: %[[L:.+]] = layer.loss %[[Z1]], %[[Y]] {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x3xf32>, tensor<?xi32>) -> tensor<f32>
// CHECK-NEXT: return %[[L]], %[[Z1]] : tensor<f32>, tensor<?x3xf32>

// The training function's signature: inputs, targets, params, then (with an
// optimizer) one state slot per param and slot kind, and the step.
// RMSPROP-LABEL: func.func @train_step
// RMSPROP-SAME: %[[K0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "param"}
// RMSPROP-SAME: %[[B0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias", layer.role = "param"}
// RMSPROP-SAME: %[[K1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "param"}
// RMSPROP-SAME: %[[SK0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel/velocity", layer.role = "state"}
// RMSPROP-SAME: %[[SB0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias/velocity", layer.role = "state"}
// RMSPROP-SAME: %[[SK1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel/velocity", layer.role = "state"}
// RMSPROP-SAME: %{{[^:]+}}: tensor<f32> {layer.name = "step", layer.role = "step"})
// RMSPROP-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x3xf32> {layer.name = "output0", layer.role = "output"},
// RMSPROP-SAME: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "param"}, tensor<8xf32> {layer.name = "dense/bias", layer.role = "param"}, tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "param"},
// RMSPROP-SAME: tensor<4x8xf32> {layer.name = "dense/kernel/velocity", layer.role = "state"}, tensor<8xf32> {layer.name = "dense/bias/velocity", layer.role = "state"}, tensor<8x3xf32> {layer.name = "dense_1/kernel/velocity", layer.role = "state"})

// SGD-LABEL: func.func @train_step
// SGD-SAME: %[[K0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "param"}
// SGD-SAME: %[[B0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias", layer.role = "param"}
// SGD-SAME: %[[K1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "param"}
// SGD-SAME: %[[SK0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel/momentum", layer.role = "state"}
// SGD-SAME: %[[SB0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias/momentum", layer.role = "state"}
// SGD-SAME: %[[SK1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel/momentum", layer.role = "state"}
// SGD-SAME: %{{[^:]+}}: tensor<f32> {layer.name = "step", layer.role = "step"})
// SGD-SAME: {layer.name = "dense_1/kernel/momentum", layer.role = "state"}) {

// Adam keeps two slots per parameter, interleaved per parameter.
// ADAM-LABEL: func.func @train_step
// ADAM-SAME: %[[K0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "param"}
// ADAM-SAME: %[[B0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias", layer.role = "param"}
// ADAM-SAME: %[[K1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "param"}
// ADAM-SAME: %[[MK0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel/momentum", layer.role = "state"}
// ADAM-SAME: %[[VK0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel/velocity", layer.role = "state"}
// ADAM-SAME: %[[MB0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias/momentum", layer.role = "state"}
// ADAM-SAME: %[[VB0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias/velocity", layer.role = "state"}
// ADAM-SAME: %[[MK1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel/momentum", layer.role = "state"}
// ADAM-SAME: %[[VK1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel/velocity", layer.role = "state"}
// ADAM-SAME: %[[T:[^:]+]]: tensor<f32> {layer.name = "step", layer.role = "step"})

// Without an optimizer: grad(inputs, targets, params) -> (loss, outputs,
// one gradient per param); no state, no step.
// GRAD-NOT: func.func @train_step
// GRAD-LABEL: func.func @grad
// GRAD-SAME: %[[K0:[^:]+]]: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "param"}
// GRAD-SAME: %[[B0:[^:]+]]: tensor<8xf32> {layer.name = "dense/bias", layer.role = "param"}
// GRAD-SAME: %[[K1:[^:]+]]: tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "param"})
// GRAD-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x3xf32> {layer.name = "output0", layer.role = "output"},
// GRAD-SAME: tensor<4x8xf32> {layer.name = "dense/kernel", layer.role = "grad"}, tensor<8xf32> {layer.name = "dense/bias", layer.role = "grad"}, tensor<8x3xf32> {layer.name = "dense_1/kernel", layer.role = "grad"})

// The body of train_step/grad: the same forward pass and loss as evaluate,
// then the reverse sweep seeded with d loss = 1.
// CHECK: %[[Z0:.+]] = layer.dense %{{.+}}, %[[K0]], %[[B0]] :
// CHECK-NEXT: %[[H0:.+]] = layer.activation %[[Z0]] {activation = #layer.activation<relu>}
// CHECK-NEXT: %[[Z1:.+]] = layer.dense %[[H0]], %[[K1]] :
// CHECK-NEXT: %[[L:.+]] = layer.loss %[[Z1]], %[[Y:[^ ]+]]
// CHECK-NEXT: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// LOGITS-NEXT: %[[DZ1:.+]] = layer.loss_grad %[[Z1]], %[[Y]], %[[ONE]] {from_logits, loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x3xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x3xf32>
// PROBS-NEXT: %[[DZ1:.+]] = layer.loss_grad %[[Z1]], %[[Y]], %[[ONE]] {loss = #layer.loss<sparse_categorical_crossentropy>} : (tensor<?x3xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x3xf32>
// Dense: dx = dz W^T, dW = x^T dz (no bias on this layer).
// CHECK-NEXT: %[[DH0:.+]] = layer.matmul %[[DZ1]], %[[K1]] {transpose_rhs} : (tensor<?x3xf32>, tensor<8x3xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: %[[DK1:.+]] = layer.matmul %[[H0]], %[[DZ1]] {transpose_lhs} : (tensor<?x8xf32>, tensor<?x3xf32>) -> tensor<8x3xf32>
// CHECK-NOT: layer.reduce_sum %[[DZ1]]
// The split activation is differentiated from its input and output.
// CHECK-NEXT: %[[DZ0:.+]] = layer.activation_grad %[[DH0]], %[[Z0]], %[[H0]] {activation = #layer.activation<relu>} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: layer.matmul %[[DZ0]], %[[K0]] {transpose_rhs} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
// CHECK-NEXT: %[[DK0:.+]] = layer.matmul %{{.+}}, %[[DZ0]] {transpose_lhs} : (tensor<?x4xf32>, tensor<?x8xf32>) -> tensor<4x8xf32>
// db = the sum of dz over the batch.
// CHECK-NEXT: %[[DB0:.+]] = layer.reduce_sum %[[DZ0]] {axis = 0 : i64} : (tensor<?x8xf32>) -> tensor<8xf32>

// One update per parameter, in parameter order, with Keras's defaults
// unless overridden.
// RMSPROP-NEXT: %[[NK0:.+]], %[[NSK0:.+]] = layer.rmsprop_update %[[K0]], %[[DK0]], %[[SK0]] {epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64, rho = 9.000000e-01 : f64}
// RMSPROP-NEXT: %[[NB0:.+]], %[[NSB0:.+]] = layer.rmsprop_update %[[B0]], %[[DB0]], %[[SB0]]
// RMSPROP-NEXT: %[[NK1:.+]], %[[NSK1:.+]] = layer.rmsprop_update %[[K1]], %[[DK1]], %[[SK1]]
// RMSPROP-NEXT: return %[[L]], %[[Z1]], %[[NK0]], %[[NB0]], %[[NK1]], %[[NSK0]], %[[NSB0]], %[[NSK1]] :

// SGD-NEXT: %[[NK0:.+]], %[[NSK0:.+]] = layer.sgd_update %[[K0]], %[[DK0]], %[[SK0]] {learning_rate = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64}
// SGD-NEXT: %[[NB0:.+]], %[[NSB0:.+]] = layer.sgd_update %[[B0]], %[[DB0]], %[[SB0]]
// SGD-NEXT: %[[NK1:.+]], %[[NSK1:.+]] = layer.sgd_update %[[K1]], %[[DK1]], %[[SK1]]
// SGD-NEXT: return %[[L]], %[[Z1]], %[[NK0]], %[[NB0]], %[[NK1]], %[[NSK0]], %[[NSB0]], %[[NSK1]] :

// ADAM-NEXT: %[[NK0:.+]], %[[SK0N:.+]]:2 = layer.adam_update %[[K0]], %[[DK0]], %[[MK0]], %[[VK0]], %[[T]] {beta_1 = 9.000000e-01 : f64, beta_2 = 0.98999999999999999 : f64, epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64}
// ADAM-NEXT: %[[NB0:.+]], %[[SB0N:.+]]:2 = layer.adam_update %[[B0]], %[[DB0]], %[[MB0]], %[[VB0]], %[[T]]
// ADAM-NEXT: %[[NK1:.+]], %[[SK1N:.+]]:2 = layer.adam_update %[[K1]], %[[DK1]], %[[MK1]], %[[VK1]], %[[T]]
// ADAM-NEXT: return %[[L]], %[[Z1]], %[[NK0]], %[[NB0]], %[[NK1]], %[[SK0N]]#0, %[[SK0N]]#1, %[[SB0N]]#0, %[[SB0N]]#1, %[[SK1N]]#0, %[[SK1N]]#1 :

// GRAD-NOT: _update
// GRAD: return %[[L]], %[[Z1]], %[[DK0]], %[[DB0]], %[[DK1]] :

// A model with a skip connection, two outputs, a dropout, a reshape and a
// parameter the loss does not depend on.
func.func @residual(%x: tensor<?x4xf32>,
                    %k: tensor<4x4xf32> {layer.param},
                    %unused: tensor<3xf32> {layer.param, layer.name = "unused"})
    -> (tensor<?x4xf32>, tensor<?x2x2xf32>) {
  %0 = layer.dense %x, %k {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %1 = layer.add %0, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %2 = layer.dropout %1 {rate = 0.5 : f64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %3 = layer.reshape %2 {target_shape = array<i64: 2, 2>} : (tensor<?x4xf32>) -> tensor<?x2x2xf32>
  return %1, %3 : tensor<?x4xf32>, tensor<?x2x2xf32>
}

// Unnamed arguments are named after their position; one target per output,
// of the output's type for mean_squared_error.
// RESIDUAL-LABEL: func.func @evaluate
// RESIDUAL-SAME: (%{{.+}}: tensor<?x4xf32> {layer.name = "arg0", layer.role = "input"},
// RESIDUAL-SAME: %{{.+}}: tensor<?x4xf32> {layer.name = "output0_target", layer.role = "target"},
// RESIDUAL-SAME: %{{.+}}: tensor<?x2x2xf32> {layer.name = "output1_target", layer.role = "target"},
// RESIDUAL-SAME: %{{.+}}: tensor<4x4xf32> {layer.name = "arg1", layer.role = "param"},
// RESIDUAL-SAME: %{{.+}}: tensor<3xf32> {layer.name = "unused", layer.role = "param"})
// RESIDUAL-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x4xf32> {layer.name = "output0", layer.role = "output"}, tensor<?x2x2xf32> {layer.name = "output1", layer.role = "output"})

// RESIDUAL-LABEL: func.func @grad
// RESIDUAL-SAME: (%[[X:[^:]+]]: tensor<?x4xf32> {layer.name = "arg0", layer.role = "input"},
// RESIDUAL-SAME: %[[Y0:[^:]+]]: tensor<?x4xf32> {layer.name = "output0_target", layer.role = "target"},
// RESIDUAL-SAME: %[[Y1:[^:]+]]: tensor<?x2x2xf32> {layer.name = "output1_target", layer.role = "target"},
// RESIDUAL-SAME: %[[K:[^:]+]]: tensor<4x4xf32> {layer.name = "arg1", layer.role = "param"},
// RESIDUAL-SAME: %{{[^:]+}}: tensor<3xf32> {layer.name = "unused", layer.role = "param"})
// RESIDUAL-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x4xf32> {layer.name = "output0", layer.role = "output"}, tensor<?x2x2xf32> {layer.name = "output1", layer.role = "output"},
// RESIDUAL-SAME: tensor<4x4xf32> {layer.name = "arg1", layer.role = "grad"}, tensor<3xf32> {layer.name = "unused", layer.role = "grad"})
// RESIDUAL: %[[Z:.+]] = layer.dense %[[X]], %[[K]] :
// RESIDUAL-NEXT: %[[H:.+]] = layer.activation %[[Z]] {activation = #layer.activation<relu>}
// RESIDUAL-NEXT: %[[S:.+]] = layer.add %[[H]], %[[X]]
// RESIDUAL-NEXT: %[[D:.+]] = layer.dropout %[[S]]
// RESIDUAL-NEXT: %[[R:.+]] = layer.reshape %[[D]]
// The loss is the sum of one loss per output.
// RESIDUAL-NEXT: %[[L0:.+]] = layer.loss %[[S]], %[[Y0]] {loss = #layer.loss<mean_squared_error>}
// RESIDUAL-NEXT: %[[L1:.+]] = layer.loss %[[R]], %[[Y1]] {loss = #layer.loss<mean_squared_error>}
// RESIDUAL-NEXT: %[[L:.+]] = layer.add %[[L0]], %[[L1]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// RESIDUAL-NEXT: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// The sum passes d loss = 1 to both losses.
// RESIDUAL-NEXT: %[[DR:.+]] = layer.loss_grad %[[R]], %[[Y1]], %[[ONE]]
// RESIDUAL-NEXT: %[[DS0:.+]] = layer.loss_grad %[[S]], %[[Y0]], %[[ONE]]
// Reshape's gradient reshapes back; dropout's is the identity.
// RESIDUAL-NEXT: %[[DD:.+]] = layer.reshape %[[DR]] {target_shape = array<i64: 4>} : (tensor<?x2x2xf32>) -> tensor<?x4xf32>
// The output used twice (returned, and fed to dropout) sums its gradients.
// RESIDUAL-NEXT: %[[DS:.+]] = layer.add %[[DS0]], %[[DD]]
// RESIDUAL-NEXT: %[[DZ:.+]] = layer.activation_grad %[[DS]], %[[Z]], %[[H]] {activation = #layer.activation<relu>}
// RESIDUAL-NEXT: %[[DXD:.+]] = layer.matmul %[[DZ]], %[[K]] {transpose_rhs}
// RESIDUAL-NEXT: %[[DK:.+]] = layer.matmul %[[X]], %[[DZ]] {transpose_lhs}
// The input reached through the skip connection sums both paths.
// RESIDUAL-NEXT: layer.add %[[DS]], %[[DXD]]
// A parameter the loss ignores gets a zero gradient.
// RESIDUAL-NEXT: %[[DU:.+]] = arith.constant dense<0.000000e+00> : tensor<3xf32>
// RESIDUAL-NEXT: return %[[L]], %[[S]], %[[R]], %[[DK]], %[[DU]] :
