// RUN: layerc-opt %s -split-input-file --layer-to-linalg | FileCheck %s
// RUN: layerc-opt %s -split-input-file --layer-to-linalg | FileCheck %s --check-prefix=NOLAYER
// NOLAYER: func.func
// NOLAYER-NOT: layer.

// An LSTM: one contraction projects every step's input; an scf.for over time
// carries h, c and the sequence; each step is a matmul of h by the
// recurrent kernel and one generic for the four gates, read as slices of
// the (batch, 4 units) products; the step's h goes into the sequence at t.
// With go_backwards the step reads time T - 1 - t.
// CHECK-LABEL: func.func @lstm
// CHECK: %[[PROJ:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<?x7x4xf32>, tensor<4x20xf32>) outs(%{{.+}} : tensor<?x7x20xf32>)
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[H:.+]] = %{{.+}}, %[[C:.+]] = %{{.+}}, %[[SEQ:.+]] = %{{.+}}) -> (tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x7x5xf32>)
// CHECK: %[[BACK:.+]] = arith.subi %{{.+}}, %[[T]] : index
// CHECK: tensor.extract_slice %{{.+}}[0, %[[BACK]], 0] [%{{.+}}, 1, 20] [1, 1, 1] : tensor<?x7x20xf32> to tensor<?x20xf32>
// CHECK: linalg.matmul ins(%[[H]], %{{.+}} : tensor<?x5xf32>, tensor<5x20xf32>)
// CHECK-COUNT-8: tensor.extract_slice
// CHECK: %[[STEP:.+]]:2 = linalg.generic
// CHECK: tensor.insert_slice %[[STEP]]#0 into %[[SEQ]][0, %[[T]], 0] [%{{.+}}, 1, 5] [1, 1, 1]
// CHECK: scf.yield %[[STEP]]#0, %[[STEP]]#1, %{{.+}}
func.func @lstm(%x: tensor<?x7x4xf32>, %k: tensor<4x20xf32>, %rk: tensor<5x20xf32>, %b: tensor<20xf32>) -> tensor<?x7x5xf32> {
  %s, %h, %c = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<lstm>, return_sequences, go_backwards} : (tensor<?x7x4xf32>, tensor<4x20xf32>, tensor<5x20xf32>, tensor<20xf32>) -> (tensor<?x7x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>)
  return %s : tensor<?x7x5xf32>
}

// -----

// A GRU without reset_after needs r before its recurrent product: a
// generic for (z, r h), a matmul by the h-columns of the recurrent kernel,
// a generic for h.
// CHECK-LABEL: func.func @gru_reset_before
// CHECK: scf.for
// CHECK: linalg.matmul
// CHECK: %[[ZR:.+]]:2 = linalg.generic
// CHECK: tensor.extract_slice %{{.+}}[0, 10] [5, 5] [1, 1] : tensor<5x15xf32> to tensor<5x5xf32>
// CHECK: linalg.matmul ins(%[[ZR]]#1
// CHECK: linalg.generic
// CHECK: math.tanh
func.func @gru_reset_before(%x: tensor<?x7x4xf32>, %k: tensor<4x15xf32>, %rk: tensor<5x15xf32>, %b: tensor<15xf32>) -> tensor<?x5xf32> {
  %o, %h = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<gru>} : (tensor<?x7x4xf32>, tensor<4x15xf32>, tensor<5x15xf32>, tensor<15xf32>) -> (tensor<?x5xf32>, tensor<?x5xf32>)
  return %o : tensor<?x5xf32>
}

// -----

// A ConvLSTM: each step convolves its input slice and h ("same", stride
// 1) and applies the LSTM gates. 16 gate channels are two vectors of 8:
// both convolutions are register-blocked (vector.fma over the input
// channels, accumulators carried by the loops).
// CHECK-LABEL: func.func @conv_lstm
// CHECK: scf.for
// CHECK: tensor.extract_slice {{.+}} : tensor<?x5x8x8x3xf32> to tensor<?x8x8x3xf32>
// CHECK: tensor.pad %{{.+}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: vector.transfer_read {{.+}} : tensor<3x3x3x16xf32>, vector<8xf32>
// CHECK: vector.fma
// CHECK: vector.transfer_write {{.+}} : vector<8xf32>, tensor<?x8x8x16xf32>
// CHECK: tensor.pad %{{.+}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: vector.transfer_read {{.+}} : tensor<3x3x4x16xf32>, vector<8xf32>
// CHECK: vector.fma
// CHECK: linalg.generic
func.func @conv_lstm(%x: tensor<?x5x8x8x3xf32>, %k: tensor<3x3x3x16xf32>, %rk: tensor<3x3x4x16xf32>) -> tensor<?x8x8x4xf32> {
  %y, %h, %c = layer.conv_lstm %x, %k, %rk {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = #layer.padding<same>} : (tensor<?x5x8x8x3xf32>, tensor<3x3x3x16xf32>, tensor<3x3x4x16xf32>) -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>)
  return %y : tensor<?x8x8x4xf32>
}
