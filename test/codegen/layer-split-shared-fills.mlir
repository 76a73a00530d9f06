// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-split-shared-fills))' | FileCheck %s

// Two matmuls that CSE left accumulating into one zero fill: each gets its
// own tensor.empty and fill (the second output was the first's before).
// CHECK-LABEL: func.func @two
// CHECK: %[[E0:.+]] = tensor.empty
// CHECK: %[[F0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E0]]
// CHECK: %[[E1:.+]] = tensor.empty
// CHECK: %[[F1:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E1]]
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<2x4xf32>, tensor<4x3xf32>) outs(%[[F0]]
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<2x4xf32>, tensor<4x3xf32>) outs(%[[F1]]
func.func @two(%x: tensor<2x4xf32>, %a: tensor<4x3xf32>, %b: tensor<4x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %0 = linalg.matmul ins(%x, %a : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = linalg.matmul ins(%x, %b : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}
