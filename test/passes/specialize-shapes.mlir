// RUN: layerc-opt %s --layer-specialize-shapes=batch=8 --split-input-file | FileCheck %s
// RUN: not layerc-opt %s --layer-specialize-shapes=batch=-1 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// Every result type is re-inferred from the static batch, and the function
// type follows.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%{{.*}}: tensor<8x4xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<3x2xf32>) -> tensor<8x2xf32>
// CHECK: layer.dense {{.*}} -> tensor<8x3xf32>
// CHECK: layer.dense {{.*}} -> tensor<8x2xf32>
func.func @mlp(%x: tensor<?x4xf32>, %k0: tensor<4x3xf32>, %k1: tensor<3x2xf32>) -> tensor<?x2xf32> {
  %0 = layer.dense %x, %k0 {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = layer.dense %0, %k1 : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %1 : tensor<?x2xf32>
}

// -----

// Private functions keep their dynamic batch.
// CHECK-LABEL: func.func private @helper
// CHECK-SAME: tensor<?x4xf32>
func.func private @helper(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

// CHECK-LABEL: func.func @loss
// CHECK: layer.loss {{.*}} : (tensor<8x2xf32>, tensor<8xi32>) -> tensor<f32>
func.func @loss(%z: tensor<?x2xf32>, %l: tensor<?xi32>) -> tensor<f32> {
  %0 = layer.loss %z, %l {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x2xf32>, tensor<?xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// NEGATIVE: error: layer-specialize-shapes: batch must be at least 1 (or 0 to keep it), got -1

