// RUN: layerc-opt %s | layerc-opt | FileCheck %s
// RUN: layerc-opt %s --mlir-print-op-generic | layerc-opt | FileCheck %s

// Round trip of the convolution, pooling, upsampling, normalization,
// embedding and merging ops added with the layers of the functional-API
// guide.

// CHECK-LABEL: func.func @spatial
func.func @spatial(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x16xf32>, %b: tensor<16xf32>,
                   %kt: tensor<3x3x8x16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>)
    -> (tensor<?x26x26x16xf32>, tensor<?x8x8x16xf32>, tensor<?x16xf32>, tensor<?x16x16x16xf32>,
        tensor<?x52x52x8xf32>, tensor<?x26x26x16xf32>, tensor<?x26x26x16xf32>) {
  // CHECK: layer.conv %{{.+}}, %{{.+}}, %{{.+}} {activation = #layer.activation<relu>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x16xf32>, tensor<16xf32>) -> tensor<?x26x26x16xf32>
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>}
      : (tensor<?x28x28x1xf32>, tensor<3x3x1x16xf32>, tensor<16xf32>) -> tensor<?x26x26x16xf32>
  // CHECK: layer.pool %{{.+}} {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 3>} : (tensor<?x26x26x16xf32>) -> tensor<?x8x8x16xf32>
  %1 = layer.pool %0 {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 3>}
      : (tensor<?x26x26x16xf32>) -> tensor<?x8x8x16xf32>
  // CHECK: layer.global_pool %{{.+}} {kind = #layer.pool<average>} : (tensor<?x8x8x16xf32>) -> tensor<?x16xf32>
  %2 = layer.global_pool %1 {kind = #layer.pool<average>} : (tensor<?x8x8x16xf32>) -> tensor<?x16xf32>
  // CHECK: layer.upsample %{{.+}} {interpolation = #layer.interpolation<bilinear>, size = array<i64: 2, 2>} : (tensor<?x8x8x16xf32>) -> tensor<?x16x16x16xf32>
  %3 = layer.upsample %1 {size = array<i64: 2, 2>, interpolation = #layer.interpolation<bilinear>}
      : (tensor<?x8x8x16xf32>) -> tensor<?x16x16x16xf32>
  // CHECK: layer.conv_transpose %{{.+}}, %{{.+}} {dilations = array<i64: 1, 1>, output_padding = array<i64>, padding = #layer.padding<same>, strides = array<i64: 2, 2>} : (tensor<?x26x26x16xf32>, tensor<3x3x8x16xf32>) -> tensor<?x52x52x8xf32>
  %4 = layer.conv_transpose %0, %kt {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, output_padding = array<i64>}
      : (tensor<?x26x26x16xf32>, tensor<3x3x8x16xf32>) -> tensor<?x52x52x8xf32>
  // CHECK: layer.batch_norm %{{.+}}, %{{.+}}, %{{.+}} gamma(%{{.+}}) {epsilon = 1.000000e-03 : f64} : (tensor<?x26x26x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x26x26x16xf32>
  %5 = layer.batch_norm %0, %m, %v gamma(%b) {epsilon = 1.0e-3 : f64}
      : (tensor<?x26x26x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x26x26x16xf32>
  // CHECK: layer.batch_norm %{{.+}}, %{{.+}}, %{{.+}} gamma(%{{.+}}) beta(%{{.+}}) {epsilon = 1.000000e-05 : f64}
  %6 = layer.batch_norm %0, %m, %v gamma(%b) beta(%b) {epsilon = 1.0e-5 : f64}
      : (tensor<?x26x26x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x26x26x16xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<?x26x26x16xf32>, tensor<?x8x8x16xf32>, tensor<?x16xf32>, tensor<?x16x16x16xf32>,
      tensor<?x52x52x8xf32>, tensor<?x26x26x16xf32>, tensor<?x26x26x16xf32>
}

// Batch statistics and the gradients of batch normalization.
// CHECK-LABEL: func.func @batch_norm_training
func.func @batch_norm_training(%x: tensor<?x8x8x16xf32>, %dy: tensor<?x8x8x16xf32>, %g: tensor<16xf32>)
    -> (tensor<?x8x8x16xf32>, tensor<?x8x8x16xf32>, tensor<16xf32>) {
  // CHECK: %[[M:.+]], %[[V:.+]] = layer.moments %{{.+}} : (tensor<?x8x8x16xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  %m, %v = layer.moments %x : (tensor<?x8x8x16xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  // CHECK: layer.batch_norm_grad %{{.+}}, %{{.+}}, %[[M]], %[[V]] gamma(%{{.+}}) {epsilon = 1.000000e-03 : f64}
  %dx, %dm, %dv, %dg, %db = layer.batch_norm_grad %dy, %x, %m, %v gamma(%g) {epsilon = 1.0e-3 : f64}
      : (tensor<?x8x8x16xf32>, tensor<?x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<?x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
  // CHECK: layer.moments_grad %{{.+}}, %[[M]], %{{.+}}, %{{.+}} : (tensor<?x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x8x8x16xf32>
  %dx2 = layer.moments_grad %x, %m, %dm, %dv
      : (tensor<?x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x8x8x16xf32>
  return %dx, %dx2, %dg : tensor<?x8x8x16xf32>, tensor<?x8x8x16xf32>, tensor<16xf32>
}

// CHECK-LABEL: func.func @merge_and_embed
func.func @merge_and_embed(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>, %c: tensor<?x4xf32>,
                           %ids: tensor<?x?xi32>, %table: tensor<100x8xf32>)
    -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x20xf32>, tensor<?x?x8xf32>) {
  // CHECK: layer.subtract %{{.+}}, %{{.+}} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %0 = layer.subtract %a, %b : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  // CHECK: layer.maximum %{{.+}}, %{{.+}} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = layer.maximum %a, %b : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  // CHECK: layer.average %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %2 = layer.average %a, %b, %0 : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  // CHECK: layer.concatenate %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x20xf32>
  %3 = layer.concatenate %a, %b, %c {axis = -1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x20xf32>
  // CHECK: layer.embedding %{{.+}}, %{{.+}} : (tensor<?x?xi32>, tensor<100x8xf32>) -> tensor<?x?x8xf32>
  %4 = layer.embedding %ids, %table : (tensor<?x?xi32>, tensor<100x8xf32>) -> tensor<?x?x8xf32>
  return %0, %1, %2, %3, %4 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x20xf32>, tensor<?x?x8xf32>
}

// CHECK-LABEL: func.func @recurrent
func.func @recurrent(%x: tensor<?x10x8xf32>, %k: tensor<8x128xf32>, %rk: tensor<32x128xf32>, %b: tensor<128xf32>,
                     %gk: tensor<8x96xf32>, %grk: tensor<32x96xf32>, %gb: tensor<2x96xf32>,
                     %v: tensor<?x5x8x8x3xf32>, %ck: tensor<3x3x3x16xf32>, %crk: tensor<3x3x4x16xf32>)
    -> (tensor<?x10x32xf32>, tensor<?x32xf32>, tensor<?x8x8x4xf32>) {
  // CHECK: layer.rnn %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {cell = #layer.cell<lstm>, return_sequences} : (tensor<?x10x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>, tensor<128xf32>) -> (tensor<?x10x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>)
  %seq, %h, %c = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<lstm>, return_sequences}
      : (tensor<?x10x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>, tensor<128xf32>) -> (tensor<?x10x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>)
  // CHECK: layer.rnn %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {cell = #layer.cell<gru>, go_backwards, reset_after} : (tensor<?x10x8xf32>, tensor<8x96xf32>, tensor<32x96xf32>, tensor<2x96xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>)
  %g, %gh = layer.rnn %x, %gk, %grk, %gb {cell = #layer.cell<gru>, go_backwards, reset_after}
      : (tensor<?x10x8xf32>, tensor<8x96xf32>, tensor<32x96xf32>, tensor<2x96xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>)
  // CHECK: layer.conv_lstm %{{.+}}, %{{.+}}, %{{.+}} {dilations = array<i64: 1, 1>, padding = #layer.padding<same>, strides = array<i64: 1, 1>} : (tensor<?x5x8x8x3xf32>, tensor<3x3x3x16xf32>, tensor<3x3x4x16xf32>) -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>)
  %y, %yh, %yc = layer.conv_lstm %v, %ck, %crk {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = #layer.padding<same>}
      : (tensor<?x5x8x8x3xf32>, tensor<3x3x3x16xf32>, tensor<3x3x4x16xf32>) -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>)
  return %seq, %g, %y : tensor<?x10x32xf32>, tensor<?x32xf32>, tensor<?x8x8x4xf32>
}
