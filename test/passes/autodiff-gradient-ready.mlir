// layer-autodiff's gradient-ready: grad_step calls layerc_gradient_ready
// (index, data, count) right after the op that makes each gradient final,
// so that data-parallel fit() can start its all-reduce while the backward
// pass goes on (docs/Distributed.md).
//
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=sgd split-step gradient-ready' \
// RUN:   | FileCheck %s
// It needs grad_step.
// RUN: not layerc-opt %s --layer-autodiff='gradient-ready' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOSPLIT
// NOSPLIT: layer-autodiff: gradient-ready applies to split-step's grad_step
//
// The calls survive bufferization and lowering: three in grad_step, none
// in train_step.
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=sgd split-step gradient-ready' \
// RUN:   | layerc-opt --layer-to-llvm | FileCheck %s --check-prefix=LLVM
// LLVM: llvm.func @layerc_gradient_ready(i64, !llvm.ptr, i64)
// LLVM-LABEL: llvm.func @train_step(
// LLVM-NOT: layerc_gradient_ready
// LLVM-LABEL: llvm.func @grad_step(
// LLVM-COUNT-3: llvm.call @layerc_gradient_ready
// LLVM-NOT: layerc_gradient_ready
// LLVM: llvm.func @_mlir_ciface_grad_step(
//
// Run through the JIT (which defines the function; with no data-parallel
// step under way it ignores the calls): the same results, bit for bit, as
// grad_step without them.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/gradient_ready.py %t
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=sgd split-step gradient-ready' \
// RUN:   -o %t/ready.mlir
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=sgd split-step' -o %t/plain.mlir
// RUN: layerc-run %t/ready.mlir --function=grad_step --input=%t/x.npy \
// RUN:   --input=%t/y.npy --input=%t/k.npy --input=%t/w.npy --input=%t/b.npy \
// RUN:   --input=%t/step.npy --input=%t/offset.npy --output=%t/ready_loss.npy \
// RUN:   --output=%t/ready_out.npy --output=%t/ready_gk.npy \
// RUN:   --output=%t/ready_gw.npy --output=%t/ready_gb.npy
// RUN: layerc-run %t/plain.mlir --function=grad_step --input=%t/x.npy \
// RUN:   --input=%t/y.npy --input=%t/k.npy --input=%t/w.npy --input=%t/b.npy \
// RUN:   --input=%t/step.npy --input=%t/offset.npy --output=%t/plain_loss.npy \
// RUN:   --output=%t/plain_out.npy --output=%t/plain_gk.npy \
// RUN:   --output=%t/plain_gw.npy --output=%t/plain_gb.npy
// RUN: cmp %t/ready_loss.npy %t/plain_loss.npy
// RUN: cmp %t/ready_out.npy %t/plain_out.npy
// RUN: cmp %t/ready_gk.npy %t/plain_gk.npy
// RUN: cmp %t/ready_gw.npy %t/plain_gw.npy
// RUN: cmp %t/ready_gb.npy %t/plain_gb.npy

// A kernel shared by two layers: its gradient is the sum of two
// contributions, final only after the add.
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"},
                   %k: tensor<4x4xf32> {layer.param, layer.name = "shared/kernel"},
                   %w: tensor<4x3xf32> {layer.param, layer.name = "head/kernel"},
                   %b: tensor<3xf32> {layer.param, layer.name = "head/bias"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k {activation = #layer.activation<relu>} : (tensor<*xf32>, tensor<4x4xf32>) -> tensor<*xf32>
  %2 = layer.dense %1, %w, %b : (tensor<*xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// One external declaration for the module.
// CHECK: func.func private @layerc_gradient_ready(i64, !llvm.ptr, i64)
// CHECK-NOT: func.func private @layerc_gradient_ready

// train_step is unchanged.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: layerc_gradient_ready
// CHECK: return

// grad_step: the backward pass finishes the head first. Its kernel
// (gradient 1, 12 elements) and bias (gradient 2, 3 elements) are
// announced right after the ops that make them, before the shared kernel's
// contributions are computed.
// CHECK-LABEL: func.func @grad_step
// CHECK: layer.loss_grad
// CHECK: %[[GW:[0-9]+]] = layer.matmul %{{[0-9]+}}, %{{[0-9]+}} {transpose_lhs} : (tensor<?x4xf32>, tensor<?x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: %[[BW:[0-9]+]] = bufferization.to_buffer %[[GW]] read_only : tensor<4x3xf32> to memref<4x3xf32>
// CHECK-NEXT: %[[AW:.+]] = memref.extract_aligned_pointer_as_index %[[BW]]
// CHECK-NEXT: %[[IW:[0-9]+]] = arith.index_cast %[[AW]] : index to i64
// CHECK-NEXT: %[[PW:[0-9]+]] = llvm.inttoptr %[[IW]] : i64 to !llvm.ptr
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1 : i64
// CHECK-NEXT: %[[TWELVE:.+]] = arith.constant 12 : i64
// CHECK-NEXT: call @layerc_gradient_ready(%[[ONE]], %[[PW]], %[[TWELVE]])
// CHECK-NEXT: %[[GB:[0-9]+]] = layer.reduce_sum
// CHECK: call @layerc_gradient_ready(%c2_i64, %{{[0-9]+}}, %c3_i64)
// The shared kernel (gradient 0): only after the add of its two parts,
// and nothing of the backward pass after that.
// CHECK: %[[K1:[0-9]+]] = layer.matmul %{{[0-9]+}}, %{{[0-9]+}} {transpose_lhs} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<4x4xf32>
// CHECK-NOT: layerc_gradient_ready
// CHECK: %[[K2:[0-9]+]] = layer.matmul %arg0, %{{[0-9]+}} {transpose_lhs}
// CHECK-NEXT: %[[GK:[0-9]+]] = layer.add %[[K1]], %[[K2]] : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[BK:[0-9]+]] = bufferization.to_buffer %[[GK]] read_only
// CHECK: call @layerc_gradient_ready(%c0_i64, %{{[0-9]+}}, %c16_i64)
// CHECK-NEXT: return %{{[0-9]+}}, %{{[0-9]+}}, %[[GK]], %[[GW]], %[[GB]]

// apply_step is unchanged.
// CHECK-LABEL: func.func @apply_step
// CHECK-NOT: layerc_gradient_ready
// CHECK: return
