// Executed test of layer-fuse's residual adds: each convolution kernel
// that applies an epilogue (Winograd, the direct register-blocked kernel,
// the one for fewer filters than lanes) and the generic one (grouped, the
// add after it) computes the same with the add fused as without it.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/fuse_run.py gen-residual %t
// DEFINE: %{inputs} = --input=%t/x.npy --input=%t/y.npy --input=%t/k1.npy --input=%t/b1.npy \
// DEFINE:   --input=%t/k2.npy --input=%t/k3.npy --input=%t/b3.npy --input=%t/k4.npy
// RUN: layerc-opt %s --layer-fuse -o %t/fused.mlir
// RUN: FileCheck %s < %t/fused.mlir
// CHECK-LABEL: func.func @predict
// CHECK-COUNT-4: layer.conv {{.+}} residual
// CHECK-NOT: layer.add
// CHECK: return
// RUN: layerc-run %s %{inputs} --output=%t/c.npy --output=%t/d.npy
// RUN: layerc-run %t/fused.mlir %{inputs} --output=%t/c.fused.npy --output=%t/d.fused.npy
// RUN: %python %S/Inputs/fuse_run.py compare %t c d | FileCheck %s --check-prefix=OUT
// OUT: OK c d

func.func @predict(%x: tensor<?x9x9x16xf32>, %y: tensor<?x5x5x3xf32>,
                   %k1: tensor<3x3x16x16xf32>, %b1: tensor<16xf32>,
                   %k2: tensor<3x3x16x16xf32>, %k3: tensor<3x3x16x3xf32>,
                   %b3: tensor<3xf32>, %k4: tensor<3x3x8x16xf32>)
    -> (tensor<?x5x5x3xf32>, tensor<?x5x5x16xf32>) {
  // 3 x 3, stride 1: Winograd; the residual is the conv's own input.
  %0 = layer.conv %x, %k1, %b1 {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>}
      : (tensor<?x9x9x16xf32>, tensor<3x3x16x16xf32>, tensor<16xf32>) -> tensor<?x9x9x16xf32>
  %1 = layer.add %0, %x : (tensor<?x9x9x16xf32>, tensor<?x9x9x16xf32>) -> tensor<?x9x9x16xf32>
  // Stride 2: the direct kernel; the residual a pooling of the input.
  %p = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = #layer.padding<same>}
      : (tensor<?x9x9x16xf32>) -> tensor<?x5x5x16xf32>
  %2 = layer.conv %1, %k2 {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<tanh>}
      : (tensor<?x9x9x16xf32>, tensor<3x3x16x16xf32>) -> tensor<?x5x5x16xf32>
  %3 = layer.add %p, %2 : (tensor<?x5x5x16xf32>, tensor<?x5x5x16xf32>) -> tensor<?x5x5x16xf32>
  // Three filters: fewer than the lanes.
  %4 = layer.conv %3, %k3, %b3 {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<sigmoid>}
      : (tensor<?x5x5x16xf32>, tensor<3x3x16x3xf32>, tensor<3xf32>) -> tensor<?x5x5x3xf32>
  %5 = layer.add %4, %y : (tensor<?x5x5x3xf32>, tensor<?x5x5x3xf32>) -> tensor<?x5x5x3xf32>
  // Two groups: the generic convolution, the add after it.
  %6 = layer.conv %3, %k4 {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<?x5x5x16xf32>, tensor<3x3x8x16xf32>) -> tensor<?x5x5x16xf32>
  %7 = layer.add %6, %3 : (tensor<?x5x5x16xf32>, tensor<?x5x5x16xf32>) -> tensor<?x5x5x16xf32>
  return %5, %7 : tensor<?x5x5x3xf32>, tensor<?x5x5x16xf32>
}
