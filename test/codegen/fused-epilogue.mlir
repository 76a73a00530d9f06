// The register-blocked kernels apply the bias and an element-wise
// activation to each block of accumulators before writing it: no second
// pass over the result (threads-run.mlir checks a convolution + bias + relu
// so fused against NumPy). Softmax needs whole rows and stays a pass of its
// own.
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=256})' | FileCheck %s

// CHECK-LABEL: func.func @conv_relu
// CHECK-NOT: linalg.generic
// CHECK: vector.fma
// CHECK: vector.transfer_read %arg2
// CHECK: arith.addf {{.*}} : vector<8xf32>
// CHECK: arith.maximumf {{.*}} : vector<8xf32>
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.generic
func.func @conv_relu(%x: tensor<?x10x10x4xf32>, %k: tensor<3x3x4x16xf32>, %b: tensor<16xf32>) -> tensor<?x8x8x16xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<?x10x10x4xf32>, tensor<3x3x4x16xf32>, tensor<16xf32>) -> tensor<?x8x8x16xf32>
  return %0 : tensor<?x8x8x16xf32>
}

// -----

// CHECK-LABEL: func.func @dense_tanh
// CHECK-NOT: linalg.generic
// CHECK: vector.fma
// CHECK: arith.addf {{.*}} : vector<8xf32>
// CHECK: math.tanh {{.*}} : vector<8xf32>
// CHECK-NOT: linalg.generic
func.func @dense_tanh(%x: tensor<?x32xf32>, %k: tensor<32x16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<tanh>} : (tensor<?x32xf32>, tensor<32x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @dense_softmax
// CHECK: vector.fma
// CHECK: linalg.generic
// CHECK: math.exp {{.*}} : f32
func.func @dense_softmax(%x: tensor<?x32xf32>, %k: tensor<32x16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<softmax>} : (tensor<?x32xf32>, tensor<32x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}
