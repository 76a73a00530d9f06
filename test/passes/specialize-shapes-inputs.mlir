// input-shapes gives the leading arguments their shapes; shapes are then
// inferred again, and a shape that does not fit names the layer.
// RUN: layerc-opt %s --layer-specialize-shapes='input-shapes=?x4' | FileCheck %s --check-prefix=KEEP
// RUN: layerc-opt %s --pass-pipeline='builtin.module(layer-specialize-shapes{batch=2 input-shapes=?x4,4x3})' | FileCheck %s --check-prefix=BOTH
// RUN: not layerc-opt %s --layer-specialize-shapes='input-shapes=?xfour' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not layerc-opt %s --layer-specialize-shapes='input-shapes=?x4,4x3,3x2,1' 2>&1 | FileCheck %s --check-prefix=MANY
// RUN: not layerc-opt %s --layer-specialize-shapes='input-shapes=?x5' 2>&1 | FileCheck %s --check-prefix=MISFIT
// RUN: not layerc-opt %s --layer-specialize-shapes='input-shapes=?x4x4' 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not layerc-opt %s --layer-specialize-shapes='input-shapes=?x4,5x3' 2>&1 | FileCheck %s --check-prefix=CONFLICT

// Without a batch, only the given shapes change (the batch stays dynamic).
// KEEP-LABEL: func.func @mlp
// KEEP-SAME: (%{{.*}}: tensor<?x4xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<3x2xf32>) -> tensor<?x2xf32>
// KEEP: layer.dense {{.*}} -> tensor<?x3xf32>

// BOTH-LABEL: func.func @mlp
// BOTH-SAME: (%{{.*}}: tensor<2x4xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<3x2xf32>) -> tensor<2x2xf32>

// BAD: error: layer-specialize-shapes: '?xfour' is not a shape (sizes separated by x, ? for a dynamic one)
// MANY: error: layer-specialize-shapes: 4 input shapes for the 3 arguments of 'mlp'
// MISFIT: error: {{.*}}5
// A shape never overrides a declared rank or size.
// RANK: error: layer-specialize-shapes: argument #0 of 'mlp' has rank 2, the input shape 3
// CONFLICT: error: layer-specialize-shapes: argument #1 of 'mlp' has size 4 in dimension 0, the input shape 5
func.func @mlp(%x: tensor<?x?xf32>, %k0: tensor<4x3xf32>, %k1: tensor<3x2xf32>) -> tensor<?x2xf32> {
  %0 = layer.dense %x, %k0 {activation = #layer.activation<relu>} : (tensor<?x?xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = layer.dense %0, %k1 : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %1 : tensor<?x2xf32>
}
