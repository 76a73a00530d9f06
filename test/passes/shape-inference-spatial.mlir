// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-shape-inference))' | FileCheck %s

// The guide's encoder and decoder with unranked results: shape inference
// gives Keras's output shapes (same padding with stride 2 rounds up,
// transposed convolutions grow by kernel - 1, upsampling multiplies).

// CHECK-LABEL: func.func @encoder_decoder
// CHECK-SAME: -> (tensor<?x16xf32>, tensor<?x28x28x1xf32>)
// CHECK: layer.conv {{.+}} -> tensor<?x26x26x16xf32>
// CHECK: layer.conv {{.+}} -> tensor<?x24x24x32xf32>
// CHECK: layer.pool {{.+}} -> tensor<?x8x8x32xf32>
// CHECK: layer.conv {{.+}} -> tensor<?x6x6x32xf32>
// CHECK: layer.conv {{.+}} -> tensor<?x4x4x16xf32>
// CHECK: layer.global_pool {{.+}} -> tensor<?x16xf32>
// CHECK: layer.reshape {{.+}} -> tensor<?x4x4x1xf32>
// CHECK: layer.conv_transpose {{.+}} -> tensor<?x6x6x16xf32>
// CHECK: layer.conv_transpose {{.+}} -> tensor<?x8x8x32xf32>
// CHECK: layer.upsample {{.+}} -> tensor<?x24x24x32xf32>
// CHECK: layer.conv_transpose {{.+}} -> tensor<?x26x26x16xf32>
// CHECK: layer.conv_transpose {{.+}} -> tensor<?x28x28x1xf32>
func.func @encoder_decoder(%x: tensor<?x28x28x1xf32>,
    %k0: tensor<3x3x1x16xf32>, %k1: tensor<3x3x16x32xf32>, %k2: tensor<3x3x32x32xf32>, %k3: tensor<3x3x32x16xf32>,
    %t0: tensor<3x3x16x1xf32>, %t1: tensor<3x3x32x16xf32>, %t2: tensor<3x3x16x32xf32>, %t3: tensor<3x3x1x16xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = layer.conv %x, %k0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x16xf32>) -> tensor<*xf32>
  %1 = layer.conv %0, %k1 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<*xf32>, tensor<3x3x16x32xf32>) -> tensor<*xf32>
  %2 = layer.pool %1 {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = layer.conv %2, %k2 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<*xf32>, tensor<3x3x32x32xf32>) -> tensor<*xf32>
  %4 = layer.conv %3, %k3 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<*xf32>, tensor<3x3x32x16xf32>) -> tensor<*xf32>
  %5 = layer.global_pool %4 {kind = #layer.pool<max>} : (tensor<*xf32>) -> tensor<*xf32>
  %6 = layer.reshape %5 {target_shape = array<i64: 4, 4, 1>} : (tensor<*xf32>) -> tensor<*xf32>
  %7 = layer.conv_transpose %6, %t0 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<*xf32>, tensor<3x3x16x1xf32>) -> tensor<*xf32>
  %8 = layer.conv_transpose %7, %t1 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<*xf32>, tensor<3x3x32x16xf32>) -> tensor<*xf32>
  %9 = layer.upsample %8 {size = array<i64: 3, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  %10 = layer.conv_transpose %9, %t2 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<*xf32>, tensor<3x3x16x32xf32>) -> tensor<*xf32>
  %11 = layer.conv_transpose %10, %t3 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<*xf32>, tensor<3x3x1x16xf32>) -> tensor<*xf32>
  return %5, %11 : tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @strided_same
// CHECK: layer.conv {{.+}} -> tensor<?x5x4x8xf32>
// CHECK: layer.pool {{.+}} -> tensor<?x3x2x8xf32>
// CHECK: layer.conv_transpose {{.+}} -> tensor<?x6x4x3xf32>
// CHECK: layer.concatenate {{.+}} -> tensor<?x3x2x16xf32>
func.func @strided_same(%x: tensor<?x9x7x3xf32>, %k: tensor<3x3x3x8xf32>, %t: tensor<3x3x3x8xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = layer.conv %x, %k {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x9x7x3xf32>, tensor<3x3x3x8xf32>) -> tensor<*xf32>
  %1 = layer.pool %0 {kind = #layer.pool<average>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = #layer.padding<same>} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = layer.conv_transpose %1, %t {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<*xf32>, tensor<3x3x3x8xf32>) -> tensor<*xf32>
  %3 = layer.concatenate %1, %1 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %2, %3 : tensor<*xf32>, tensor<*xf32>
}
