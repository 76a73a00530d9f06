// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-shape-checks))' | FileCheck %s

// What a shape rule cannot decide at compile time because a size is
// dynamic becomes a run-time check before the op: the sizes, the relation
// and a cf.assert naming the layer, the operands and the dimensions.

// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x?xf32>, %[[K:[^:]+]]: tensor<4096x4xf32>)
// CHECK: %[[C:.+]] = arith.constant 4096 : index
// CHECK: %[[D:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x?xf32>
// CHECK: %[[OK:.+]] = arith.cmpi eq, %[[C]], %[[D]] : index
// CHECK: cf.assert %[[OK]], "layer 'fc' (layer.dense): the kernel's input size must match the input's features: dimension 0 of operand #1 (4096, 4) must equal dimension 1 of operand #0 (None, None)"
// CHECK-NEXT: layer.dense %[[X]], %[[K]]
func.func @dense(%x: tensor<?x?xf32>, %k: tensor<4096x4xf32>) -> tensor<?x4xf32> {
  %0 = layer.dense %x, %k : (tensor<?x?xf32>, tensor<4096x4xf32>) -> tensor<?x4xf32> loc("fc")
  return %0 : tensor<?x4xf32>
}

// -----

// Everything static (the batch aside): nothing to check.
// CHECK-LABEL: func.func @static
// CHECK-NOT: cf.assert
// CHECK: layer.dense
func.func @static(%x: tensor<?x8xf32>, %k: tensor<8x4xf32>) -> tensor<?x4xf32> {
  %0 = layer.dense %x, %k : (tensor<?x8xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// A slice needs offset + size <= the axis's extent.
// CHECK-LABEL: func.func @slice
// CHECK: %[[D:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x?xf32>
// CHECK: %[[END:.+]] = arith.constant 5 : index
// CHECK: %[[OK:.+]] = arith.cmpi sge, %[[D]], %[[END]] : index
// CHECK: cf.assert %[[OK]], "the op at shape-checks.mlir:{{[0-9]+}}:{{[0-9]+}} (layer.slice): the slice must lie inside the input: dimension 1 of operand #0 (None, None) must be >= 5"
func.func @slice(%x: tensor<?x?xf32>) -> tensor<?x2xf32> {
  %0 = layer.slice %x {axis = 1 : i64, offset = 3 : i64, size = 2 : i64} : (tensor<?x?xf32>) -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// A reshape of an unknown sample size: the product of the sizes.
// CHECK-LABEL: func.func @reshape
// CHECK: %[[D:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x?x3xf32>
// CHECK: %[[C3:.+]] = arith.constant 3 : index
// CHECK: %[[P:.+]] = arith.muli %[[D]], %[[C3]] : index
// CHECK: %[[C12:.+]] = arith.constant 12 : index
// CHECK: arith.cmpi eq, %[[P]], %[[C12]] : index
// CHECK: cf.assert {{.+}} (layer.reshape): the input's elements per sample must match target_shape: dimensions 1 * 2 of operand #0 (None, None, 3) must equal 12"
func.func @reshape(%x: tensor<?x?x3xf32>) -> tensor<?x12xf32> {
  %0 = layer.reshape %x {target_shape = array<i64: 12>} : (tensor<?x?x3xf32>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

// Two operands of unknown sizes: one equality per dimension, the batch
// included (canonicalization removes it when both come from one input).
// CHECK-LABEL: func.func @add
// CHECK-COUNT-2: cf.assert {{.+}} (layer.add): rhs must match lhs
// CHECK-NOT: cf.assert
func.func @add(%a: tensor<?x?xf32>, %b: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = layer.add %a, %b : (tensor<?x?xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Convolutions and pools without padding need an input at least as large
// as the (dilated) window.
// CHECK-LABEL: func.func @conv
// CHECK: arith.constant 5 : index
// CHECK: cf.assert {{.+}} (layer.conv): the input must be at least as large as the dilated kernel: dimension 1 of operand #0 (None, None, 8) must be >= 5"
// CHECK: cf.assert {{.+}} (layer.pool): the input must be at least as large as the pool: dimension 1 of operand #0 (None, None, 4) must be >= 2"
func.func @conv(%x: tensor<?x?x8xf32>, %k: tensor<3x8x4xf32>) -> tensor<?x?x4xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1>, dilations = array<i64: 2>} : (tensor<?x?x8xf32>, tensor<3x8x4xf32>) -> tensor<?x?x4xf32>
  %1 = layer.pool %0 {kind = #layer.pool<max>, pool_size = array<i64: 2>, strides = array<i64: 2>} : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %1 : tensor<?x?x4xf32>
}
