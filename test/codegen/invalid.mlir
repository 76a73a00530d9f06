// Errors of the code generation passes, one file per pass and case
// (split-file keeps line numbers).
// RUN: split-file %s %t
// RUN: layerc-opt %t/unranked-layer.mlir --layer-to-linalg -verify-diagnostics
// RUN: layerc-opt %t/unranked-export.mlir --layer-export-functions -verify-diagnostics
// RUN: layerc-opt %t/multi-block.mlir --layer-export-functions -verify-diagnostics
// The full pipeline fails cleanly (non-zero exit, a diagnostic) on shapes
// that cannot be inferred.
// RUN: not layerc-opt %t/unranked-layer.mlir --layer-to-llvm 2>&1 | FileCheck %s
// CHECK: error: cannot infer the result shape: an operand's shape is unknown

//--- unranked-layer.mlir
// layer-to-linalg needs inferred shapes: an unranked layer op is left
// illegal.
func.func @predict(%x: tensor<*xf32>, %k: tensor<4x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{failed to legalize operation 'layer.dense' that was explicitly marked illegal}}
  %0 = layer.dense %x, %k : (tensor<*xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

//--- unranked-export.mlir
// expected-error @below {{cannot export 'predict': every argument and result must be a ranked tensor, got 'tensor<*xf32>'}}
func.func @predict(%x: tensor<*xf32>) -> tensor<*xf32> {
  return %x : tensor<*xf32>
}

//--- multi-block.mlir
// expected-error @below {{cannot export 'predict': expected a single block}}
func.func @predict(%x: tensor<4xf32>, %t: tensor<i1>) -> tensor<4xf32> {
  %c = tensor.extract %t[] : tensor<i1>
  cf.cond_br %c, ^a, ^b
^a:
  return %x : tensor<4xf32>
^b:
  return %x : tensor<4xf32>
}
