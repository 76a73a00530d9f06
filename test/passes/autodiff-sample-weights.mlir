// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='sample-weights loss=sparse_categorical_crossentropy,mean_squared_error from-logits optimizer=sgd split-step' \
// RUN:   | FileCheck %s
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='sample-weights loss=mean_squared_error optimizer=none' \
// RUN:   | FileCheck %s --check-prefix=GRAD
// Without the option, no function takes sample weights.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='loss=mean_squared_error optimizer=sgd split-step' \
// RUN:   | FileCheck %s --check-prefix=OFF
// The result is valid IR that round-trips.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='sample-weights loss=mean_squared_error optimizer=adam' | layerc-opt > /dev/null

// layer-autodiff's sample-weights: evaluate, train_step, grad and grad_step
// take one rank-1 weight per sample and output right after the targets
// (role sample_weight), and each output's layer.loss (so its loss_grad)
// takes its own.
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"},
                   %k0: tensor<4x3xf32> {layer.param, layer.name = "dense/kernel"},
                   %k1: tensor<4x2xf32> {layer.param, layer.name = "dense_1/kernel"})
    -> (tensor<*xf32> {layer.name = "classes"}, tensor<*xf32> {layer.name = "score"}) {
  %0 = layer.dense %x, %k0 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  %1 = layer.dense %x, %k1 : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: %[[Y0:[^:]+]]: tensor<?xi32> {layer.name = "classes_target", layer.role = "target"}
// CHECK-SAME: %[[Y1:[^:]+]]: tensor<?x2xf32> {layer.name = "score_target", layer.role = "target"}
// CHECK-SAME: %[[W0:[^:]+]]: tensor<?xf32> {layer.name = "classes_sample_weight", layer.role = "sample_weight"}
// CHECK-SAME: %[[W1:[^:]+]]: tensor<?xf32> {layer.name = "score_sample_weight", layer.role = "sample_weight"}
// CHECK-SAME: tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "param"}
// CHECK: layer.loss %{{.+}}, %[[Y0]] weights(%[[W0]])
// CHECK: layer.loss %{{.+}}, %[[Y1]] weights(%[[W1]])

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: layer.role = "target"
// CHECK-SAME: %[[TW0:[^:]+]]: tensor<?xf32> {layer.name = "classes_sample_weight", layer.role = "sample_weight"}
// CHECK-SAME: %[[TW1:[^:]+]]: tensor<?xf32> {layer.name = "score_sample_weight", layer.role = "sample_weight"}
// CHECK-SAME: layer.role = "param"
// CHECK: layer.loss {{.*}} weights(%[[TW0]])
// CHECK: layer.loss {{.*}} weights(%[[TW1]])
// CHECK-DAG: layer.loss_grad {{.*}} weights(%[[TW0]])
// CHECK-DAG: layer.loss_grad {{.*}} weights(%[[TW1]])

// CHECK-LABEL: func.func @grad_step
// CHECK-SAME: layer.role = "sample_weight"
// CHECK-SAME: layer.role = "sample_weight"
// CHECK-SAME: layer.role = "step"
// CHECK: layer.loss_grad {{.*}} weights(
// CHECK-LABEL: func.func @apply_step
// CHECK-NOT: sample_weight
// CHECK: return

// GRAD-LABEL: func.func @grad
// GRAD-SAME: layer.name = "score_sample_weight", layer.role = "sample_weight"
// GRAD: layer.loss_grad {{.*}} weights(

// OFF-NOT: sample_weight
// OFF-NOT: weights(
