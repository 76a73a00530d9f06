// Every layerc pass accepts verifier-valid IR with external declarations:
// it skips what it does not handle, and never crashes.
// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-shape-inference))' | FileCheck %s
// RUN: layerc-opt %s --layer-specialize-shapes=batch=4 | FileCheck %s
// RUN: layerc-opt %s --layer-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: layerc-opt %s --layer-autodiff="function=predict optimizer=sgd" | FileCheck %s --check-prefix=GRAD

// CHECK-LABEL: func.func private @f(tensor<4xf32>) -> tensor<4xf32>
// LLVM: llvm.func @f
// GRAD: func.func private @f
func.func private @f(tensor<4xf32>) -> tensor<4xf32>

// CHECK-LABEL: func.func @predict
// LLVM: llvm.func @predict
// GRAD: func.func @train_step
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"}, %k: tensor<4x3xf32> {layer.name = "dense/kernel", layer.param}) -> tensor<?x3xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}
