// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-shape-inference))' | FileCheck %s

// Shape inference of the recurrent, normalization, embedding and merging
// ops: an unknown sequence length stays unknown, states drop the time axis.

// CHECK-LABEL: func.func @ticket_like
// CHECK-SAME: -> (tensor<?x?x16xf32>, tensor<?x8xf32>, tensor<?x?x8xf32>, tensor<?x4xf32>, tensor<?x12xf32>, tensor<?x12xf32>, tensor<?x12xf32>)
// CHECK: layer.embedding {{.+}} -> tensor<?x?x16xf32>
// CHECK: layer.rnn {{.+}} -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>)
// CHECK: layer.rnn {{.+}} -> (tensor<?x?x8xf32>, tensor<?x8xf32>)
// CHECK: layer.rnn {{.+}} -> (tensor<?x4xf32>, tensor<?x4xf32>)
// CHECK: layer.concatenate {{.+}} -> tensor<?x12xf32>
// CHECK: layer.batch_norm {{.+}} -> tensor<?x12xf32>
// CHECK: layer.subtract {{.+}} -> tensor<?x12xf32>
// CHECK: layer.maximum {{.+}} -> tensor<?x12xf32>
// CHECK: layer.average {{.+}} -> tensor<?x12xf32>
func.func @ticket_like(%ids: tensor<?x?xi32>, %table: tensor<100x16xf32>,
    %k: tensor<16x32xf32>, %rk: tensor<8x32xf32>,
    %gk: tensor<16x24xf32>, %grk: tensor<8x24xf32>, %gb: tensor<2x24xf32>,
    %sk: tensor<8x4xf32>, %srk: tensor<4x4xf32>,
    %m: tensor<12xf32>, %v: tensor<12xf32>)
    -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %e = layer.embedding %ids, %table : (tensor<?x?xi32>, tensor<100x16xf32>) -> tensor<*xf32>
  %l, %lh, %lc = layer.rnn %e, %k, %rk {cell = #layer.cell<lstm>} : (tensor<*xf32>, tensor<16x32xf32>, tensor<8x32xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  %g, %gh = layer.rnn %e, %gk, %grk, %gb {cell = #layer.cell<gru>, reset_after, return_sequences} : (tensor<*xf32>, tensor<16x24xf32>, tensor<8x24xf32>, tensor<2x24xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  %s, %sh = layer.rnn %g, %sk, %srk {cell = #layer.cell<simple_rnn>} : (tensor<*xf32>, tensor<8x4xf32>, tensor<4x4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  %cat = layer.concatenate %l, %s : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %bn = layer.batch_norm %cat, %m, %v {epsilon = 1.0e-3 : f64} : (tensor<*xf32>, tensor<12xf32>, tensor<12xf32>) -> tensor<*xf32>
  %d = layer.subtract %bn, %cat : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %mx = layer.maximum %bn, %d : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %av = layer.average %bn, %d, %mx : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %e, %l, %g, %s, %d, %mx, %av : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @conv_lstm
// CHECK: layer.conv_lstm {{.+}} -> (tensor<?x6x4x3x2xf32>, tensor<?x4x3x2xf32>, tensor<?x4x3x2xf32>)
func.func @conv_lstm(%x: tensor<?x6x7x5x3xf32>, %k: tensor<3x3x3x8xf32>, %rk: tensor<3x3x2x8xf32>) -> tensor<*xf32> {
  %y, %h, %c = layer.conv_lstm %x, %k, %rk {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, return_sequences} : (tensor<?x6x7x5x3xf32>, tensor<3x3x3x8xf32>, tensor<3x3x2x8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y : tensor<*xf32>
}
