// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-split-shared-inits))' | FileCheck %s

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

// Two ops writing into one tensor.empty that CSE shared: each gets its own,
// so One-Shot Bufferize does not analyze their writes as one alias set
// (quadratic in the number of writers: 250 Dense layers of one input).
// CHECK-LABEL: func.func @empty
// CHECK: %[[E0:.+]] = tensor.empty(%{{.+}}) : tensor<?x3xf32>
// CHECK: %[[E1:.+]] = tensor.empty(%{{.+}}) : tensor<?x3xf32>
// CHECK: linalg.generic {{.+}} outs(%[[E0]] : tensor<?x3xf32>)
// CHECK: linalg.generic {{.+}} outs(%[[E1]] : tensor<?x3xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @empty(%x: tensor<?x3xf32>, %n: index) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %e = tensor.empty(%n) : tensor<?x3xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x3xf32>) outs(%e : tensor<?x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<?x3xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x3xf32>) outs(%e : tensor<?x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}
