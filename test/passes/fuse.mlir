// RUN: layerc-opt %s --layer-fuse | FileCheck %s
// The fused ops keep the layer's name first in their location.
// RUN: layerc-opt %s --layer-fuse --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s --check-prefix=LOC
// The result is valid IR whose shapes infer again.
// RUN: layerc-opt %s --layer-fuse --layer-shape-inference | layerc-opt > /dev/null
// In training functions nothing fuses where gradients read the
// pre-activation or the batch_norm's input; evaluate's inference-mode
// batch_norm still folds.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='function=train_me loss=mean_squared_error optimizer=sgd' --layer-fuse \
// RUN:   | FileCheck %s --check-prefix=TRAIN

// Rule 1: an activation of a linear dense with one use is its activation.
// CHECK-LABEL: func.func @dense_relu
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32>, %[[K:.+]]: tensor<4x3xf32>, %[[B:.+]]: tensor<3xf32>)
// CHECK-NEXT: %[[Y:.+]] = layer.dense %[[X]], %[[K]], %[[B]] {activation = #layer.activation<relu>}
// CHECK-NEXT: return %[[Y]]
// LOC-LABEL: func.func @dense_relu
// LOC: layer.dense {{.+}} loc(fused["dense_1", "activation_1"])
func.func @dense_relu(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
  %0 = layer.dense %x, %k, %b : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32> loc("dense_1")
  %1 = layer.activation %0 {activation = #layer.activation<relu>} : (tensor<?x3xf32>) -> tensor<?x3xf32> loc("activation_1")
  return %1 : tensor<?x3xf32>
}

// Every element-wise kind fuses into conv and conv_transpose alike.
// CHECK-LABEL: func.func @conv_gelu
// CHECK-NEXT: layer.conv {{.+}}activation = #layer.activation<gelu>
// CHECK-NOT: layer.activation
// CHECK: return
func.func @conv_gelu(%x: tensor<?x8x8x2xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<?x6x6x4xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x2xf32>, tensor<3x3x2x4xf32>) -> tensor<?x6x6x4xf32>
  %1 = layer.activation %0 {activation = #layer.activation<gelu>} : (tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  return %1 : tensor<?x6x6x4xf32>
}

// CHECK-LABEL: func.func @conv_transpose_tanh
// CHECK-NEXT: layer.conv_transpose {{.+}}activation = #layer.activation<tanh>
// CHECK-NEXT: return
func.func @conv_transpose_tanh(%x: tensor<?x4x4x8xf32>, %k: tensor<3x3x2x8xf32>, %b: tensor<2xf32>) -> tensor<?x8x8x2xf32> {
  %0 = layer.conv_transpose %x, %k, %b {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<?x4x4x8xf32>, tensor<3x3x2x8xf32>, tensor<2xf32>) -> tensor<?x8x8x2xf32>
  %1 = layer.activation %0 {activation = #layer.activation<tanh>} : (tensor<?x8x8x2xf32>) -> tensor<?x8x8x2xf32>
  return %1 : tensor<?x8x8x2xf32>
}

// Rule 2, then rule 1: conv -> batch_norm -> relu is one conv whose
// weights are normalized before it: the kernel over its output axis (mean
// 0, no beta), the bias as a 1 x C row, summed back to a C vector.
// CHECK-LABEL: func.func @conv_bn_relu
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x6x6x3xf32>, %[[K:[^:]+]]: tensor<3x3x3x8xf32>, %[[B:[^:]+]]: tensor<8xf32>, %[[G:[^:]+]]: tensor<8xf32>, %[[BETA:[^:]+]]: tensor<8xf32>, %[[MEAN:[^:]+]]: tensor<8xf32>, %[[VAR:[^:]+]]: tensor<8xf32>)
// CHECK-NEXT: %[[Z:.+]] = arith.constant dense<0.000000e+00> : tensor<8xf32>
// CHECK-NEXT: %[[K2:.+]] = layer.batch_norm %[[K]], %[[Z]], %[[VAR]] gamma(%[[G]]) {epsilon = 1.000000e-03 : f64, momentum = 9.000000e-01 : f64} : (tensor<3x3x3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x3x3x8xf32>
// CHECK-NEXT: %[[ROW:.+]] = arith.constant dense<0.000000e+00> : tensor<1x8xf32>
// CHECK-NEXT: %[[RB:.+]] = layer.add %[[ROW]], %[[B]] : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
// CHECK-NEXT: %[[NB:.+]] = layer.batch_norm %[[RB]], %[[MEAN]], %[[VAR]] gamma(%[[G]]) beta(%[[BETA]]) {epsilon = 1.000000e-03 : f64, momentum = 9.000000e-01 : f64} : (tensor<1x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
// CHECK-NEXT: %[[B2:.+]] = layer.reduce_sum %[[NB]] {axis = 0 : i64} : (tensor<1x8xf32>) -> tensor<8xf32>
// CHECK-NEXT: %[[Y:.+]] = layer.conv %[[X]], %[[K2]], %[[B2]] {activation = #layer.activation<relu>, dilations = array<i64: 1, 1>, padding = #layer.padding<same>, strides = array<i64: 1, 1>}
// CHECK-NEXT: return %[[Y]]
// The conv keeps its name first; the weight arithmetic is the
// batch_norm's.
// LOC-LABEL: func.func @conv_bn_relu
// LOC: layer.batch_norm {{.+}} loc("batch_normalization")
// LOC: layer.conv {{.+}} loc(fused["conv2d", "batch_normalization", "re_lu"])
func.func @conv_bn_relu(%x: tensor<?x6x6x3xf32>, %k: tensor<3x3x3x8xf32>, %b: tensor<8xf32>, %g: tensor<8xf32>, %beta: tensor<8xf32>, %mean: tensor<8xf32>, %var: tensor<8xf32>) -> tensor<?x6x6x8xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x6x6x3xf32>, tensor<3x3x3x8xf32>, tensor<8xf32>) -> tensor<?x6x6x8xf32> loc("conv2d")
  %1 = layer.batch_norm %0, %mean, %var gamma(%g) beta(%beta) {epsilon = 1.0e-3 : f64, momentum = 0.9 : f64} : (tensor<?x6x6x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x6x6x8xf32> loc("batch_normalization")
  %2 = layer.activation %1 {activation = #layer.activation<relu>} : (tensor<?x6x6x8xf32>) -> tensor<?x6x6x8xf32> loc("re_lu")
  return %2 : tensor<?x6x6x8xf32>
}

// A dense without a bias and a batch_norm without gamma and beta: the
// bias is (0 - mean) / sqrt(var + eps).
// CHECK-LABEL: func.func @dense_bn
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x5x4xf64>, %[[K:[^:]+]]: tensor<4x2xf64>, %[[MEAN:[^:]+]]: tensor<2xf64>, %[[VAR:[^:]+]]: tensor<2xf64>)
// CHECK-NEXT: %[[Z:.+]] = arith.constant dense<0.000000e+00> : tensor<2xf64>
// CHECK-NEXT: %[[K2:.+]] = layer.batch_norm %[[K]], %[[Z]], %[[VAR]] {epsilon = 1.000000e-05 : f64}
// CHECK-NEXT: %[[ROW:.+]] = arith.constant dense<0.000000e+00> : tensor<1x2xf64>
// CHECK-NEXT: %[[NB:.+]] = layer.batch_norm %[[ROW]], %[[MEAN]], %[[VAR]] {epsilon = 1.000000e-05 : f64}
// CHECK-NEXT: %[[B2:.+]] = layer.reduce_sum %[[NB]] {axis = 0 : i64}
// CHECK-NEXT: %[[Y:.+]] = layer.dense %[[X]], %[[K2]], %[[B2]] : (tensor<?x5x4xf64>, tensor<4x2xf64>, tensor<2xf64>) -> tensor<?x5x2xf64>
// CHECK-NEXT: return %[[Y]]
func.func @dense_bn(%x: tensor<?x5x4xf64>, %k: tensor<4x2xf64>, %mean: tensor<2xf64>, %var: tensor<2xf64>) -> tensor<?x5x2xf64> {
  %0 = layer.dense %x, %k : (tensor<?x5x4xf64>, tensor<4x2xf64>) -> tensor<?x5x2xf64>
  %1 = layer.batch_norm %0, %mean, %var {epsilon = 1.0e-5 : f64} : (tensor<?x5x2xf64>, tensor<2xf64>, tensor<2xf64>) -> tensor<?x5x2xf64>
  return %1 : tensor<?x5x2xf64>
}

// Negative: the pre-activation has a second use (as in a gradient).
// CHECK-LABEL: func.func @two_uses
// CHECK: %[[PRE:.+]] = layer.dense
// CHECK-NOT: activation = #layer.activation<relu>
// CHECK-SAME: -> tensor<?x3xf32>
// CHECK-NEXT: %[[POST:.+]] = layer.activation %[[PRE]] {activation = #layer.activation<relu>}
// CHECK-NEXT: return %[[POST]], %[[PRE]]
func.func @two_uses(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = layer.activation %0 {activation = #layer.activation<relu>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %1, %0 : tensor<?x3xf32>, tensor<?x3xf32>
}

// Negative: softmax is not element-wise; a layer with an activation of
// its own keeps the next one separate.
// CHECK-LABEL: func.func @not_fusable
// CHECK: %[[D:.+]] = layer.dense
// CHECK-NEXT: layer.activation %[[D]] {activation = #layer.activation<softmax>}
// CHECK-NEXT: %[[C:.+]] = layer.dense {{.+}}activation = #layer.activation<relu>
// CHECK-NEXT: layer.activation %[[C]] {activation = #layer.activation<sigmoid>}
func.func @not_fusable(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = layer.activation %0 {activation = #layer.activation<softmax>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %2 = layer.dense %x, %k {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %3 = layer.activation %2 {activation = #layer.activation<sigmoid>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %1, %3 : tensor<?x3xf32>, tensor<?x3xf32>
}

// Negative: training-mode batch_norm (by the batch's own moments) cannot
// fold into the layer its statistics are computed from.
// CHECK-LABEL: func.func @batch_statistics
// CHECK: %[[Y:.+]] = layer.conv %{{[^,]+}}, %{{[^,]+}} {
// CHECK-NEXT: %[[M:[^,]+]], %[[V:[^ ]+]] = layer.moments %[[Y]]
// CHECK-NEXT: layer.batch_norm %[[Y]], %[[M]], %[[V]]
func.func @batch_statistics(%x: tensor<?x6x6x3xf32>, %k: tensor<3x3x3x8xf32>) -> tensor<?x4x4x8xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x6x6x3xf32>, tensor<3x3x3x8xf32>) -> tensor<?x4x4x8xf32>
  %mean, %var = layer.moments %0 : (tensor<?x4x4x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  %1 = layer.batch_norm %0, %mean, %var {epsilon = 1.0e-3 : f64} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
  return %1 : tensor<?x4x4x8xf32>
}

// Negative: batch_norm after a fused activation, after conv_transpose
// (output channels are not its kernel's last axis), and with statistics
// computed after the layer.
// CHECK-LABEL: func.func @batch_norm_not_foldable
// CHECK-NOT: arith.constant
// CHECK-COUNT-3: layer.batch_norm
func.func @batch_norm_not_foldable(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>, %xt: tensor<?x4x4x8xf32>, %kt: tensor<3x3x3x8xf32>, %mean: tensor<3xf32>, %var: tensor<3xf32>) -> (tensor<?x3xf32>, tensor<?x8x8x3xf32>, tensor<?x3xf32>) {
  %0 = layer.dense %x, %k {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = layer.batch_norm %0, %mean, %var {epsilon = 1.0e-3 : f64} : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = layer.conv_transpose %xt, %kt {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<?x4x4x8xf32>, tensor<3x3x3x8xf32>) -> tensor<?x8x8x3xf32>
  %3 = layer.batch_norm %2, %mean, %var {epsilon = 1.0e-3 : f64} : (tensor<?x8x8x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x8x8x3xf32>
  %4 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %late = layer.scale %mean {factor = 2.0 : f64} : (tensor<3xf32>) -> tensor<3xf32>
  %5 = layer.batch_norm %4, %late, %var {epsilon = 1.0e-3 : f64} : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %1, %3, %5 : tensor<?x3xf32>, tensor<?x8x8x3xf32>, tensor<?x3xf32>
}

// Through layer-autodiff: predict and evaluate fold, train_step keeps the
// moments, the linear conv and the activation its gradient reads.
// TRAIN-LABEL: func.func @train_me
// TRAIN-NOT: layer.activation
// TRAIN: layer.conv {{.+}}activation = #layer.activation<relu>
// TRAIN-NOT: layer.activation
// TRAIN: return
// TRAIN-LABEL: func.func @evaluate
// TRAIN-NOT: layer.activation
// TRAIN: layer.conv {{.+}}activation = #layer.activation<relu>
// TRAIN-NOT: layer.activation
// TRAIN: layer.loss
// TRAIN-LABEL: func.func @train_step
// TRAIN: %[[PRE:.+]] = layer.conv
// TRAIN-NOT: activation = #layer.activation<relu>
// TRAIN-SAME: -> tensor<?x4x4x2xf32>
// TRAIN-NEXT: %[[M:[^,]+]], %[[V:[^ ]+]] = layer.moments %[[PRE]]
// TRAIN-NEXT: %[[N:.+]] = layer.batch_norm %[[PRE]], %[[M]], %[[V]]
// TRAIN: layer.activation %[[N]] {activation = #layer.activation<relu>}
// TRAIN: layer.batch_norm_grad
// TRAIN: return
func.func @train_me(%x: tensor<?x6x6x3xf32> {layer.name = "x"},
                    %k: tensor<3x3x3x2xf32> {layer.param, layer.name = "conv/kernel"},
                    %b: tensor<2xf32> {layer.param, layer.name = "conv/bias"},
                    %g: tensor<2xf32> {layer.param, layer.name = "bn/gamma"},
                    %beta: tensor<2xf32> {layer.param, layer.name = "bn/beta"},
                    %mm: tensor<2xf32> {layer.buffer, layer.name = "bn/moving_mean"},
                    %mv: tensor<2xf32> {layer.buffer, layer.name = "bn/moving_variance"})
    -> tensor<*xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x6x6x3xf32>, tensor<3x3x3x2xf32>, tensor<2xf32>) -> tensor<*xf32>
  %1 = layer.batch_norm %0, %mm, %mv gamma(%g) beta(%beta) {epsilon = 1.0e-3 : f64} : (tensor<*xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<*xf32>
  %2 = layer.activation %1 {activation = #layer.activation<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// Rule 3: an add of a conv's result (any activation, one use) and a tensor
// of the same type defined before the conv becomes the conv's residual,
// whichever side the conv is on; the next conv takes the fused result.
// CHECK-LABEL: func.func @residual_block
// CHECK-SAME: (%[[X:.+]]: tensor<?x9x9x4xf32>, %[[K:.+]]: tensor<3x3x4x4xf32>, %[[B:.+]]: tensor<4xf32>)
// CHECK-NEXT: %[[Y:.+]] = layer.conv %[[X]], %[[K]], %[[B]] residual %[[X]] {{.+}}activation = #layer.activation<relu>
// CHECK-NEXT: %[[Z:.+]] = layer.conv %[[Y]], %[[K]] residual %[[Y]]
// CHECK-NEXT: return %[[Z]]
// LOC-LABEL: func.func @residual_block
// LOC: layer.conv {{.+}} loc(fused["conv_1", "add_1"])
func.func @residual_block(%x: tensor<?x9x9x4xf32>, %k: tensor<3x3x4x4xf32>, %b: tensor<4xf32>) -> tensor<?x9x9x4xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<?x9x9x4xf32>, tensor<3x3x4x4xf32>, tensor<4xf32>) -> tensor<?x9x9x4xf32> loc("conv_1")
  %1 = layer.add %0, %x : (tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32> loc("add_1")
  %2 = layer.conv %1, %k {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x9x9x4xf32>, tensor<3x3x4x4xf32>) -> tensor<?x9x9x4xf32>
  %3 = layer.add %1, %2 : (tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  return %3 : tensor<?x9x9x4xf32>
}

// Left alone: a conv result with another use, a residual defined after
// the conv, a broadcast add, and an activation after the add (fusing it
// would apply it before the residual).
// CHECK-LABEL: func.func @residual_not_fusable
// CHECK-NOT: residual
// CHECK: layer.add
// CHECK-NOT: residual
// CHECK: layer.add
// CHECK-NOT: residual
// CHECK: layer.add
// CHECK-NOT: residual
// CHECK: layer.activation %{{.+}} {activation = #layer.activation<relu>}
// CHECK-NOT: residual
// CHECK: return
func.func @residual_not_fusable(%x: tensor<?x9x9x4xf32>, %k: tensor<3x3x4x4xf32>, %row: tensor<4xf32>) -> (tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>) {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x9x9x4xf32>, tensor<3x3x4x4xf32>) -> tensor<?x9x9x4xf32>
  %1 = layer.add %0, %x : (tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  %2 = layer.conv %x, %k {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x9x9x4xf32>, tensor<3x3x4x4xf32>) -> tensor<?x9x9x4xf32>
  %3 = layer.activation %x {activation = #layer.activation<tanh>} : (tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  %4 = layer.add %2, %3 : (tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  %5 = layer.conv %x, %k {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x9x9x4xf32>, tensor<3x3x4x4xf32>) -> tensor<?x9x9x4xf32>
  %6 = layer.add %5, %row : (tensor<?x9x9x4xf32>, tensor<4xf32>) -> tensor<?x9x9x4xf32>
  %7 = layer.activation %6 {activation = #layer.activation<relu>} : (tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  return %0, %1, %4, %7, %3 : tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>
}

// A ResNet v1 block: relu(conv(x) + x). The add fuses; the relu after it
// must not (the conv would apply it before adding the residual).
// CHECK-LABEL: func.func @residual_then_relu
// CHECK-NEXT: %[[Y:.+]] = layer.conv {{.+}} residual
// CHECK-NEXT: %[[Z:.+]] = layer.activation %[[Y]] {activation = #layer.activation<relu>}
// CHECK-NEXT: return %[[Z]]
func.func @residual_then_relu(%x: tensor<?x9x9x4xf32>, %k: tensor<3x3x4x4xf32>) -> tensor<?x9x9x4xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x9x9x4xf32>, tensor<3x3x4x4xf32>) -> tensor<?x9x9x4xf32>
  %1 = layer.add %0, %x : (tensor<?x9x9x4xf32>, tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  %2 = layer.activation %1 {activation = #layer.activation<relu>} : (tensor<?x9x9x4xf32>) -> tensor<?x9x9x4xf32>
  return %2 : tensor<?x9x9x4xf32>
}
