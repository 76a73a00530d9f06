// layer-autodiff's split-step: train_step cut in two at the gradients, for
// data-parallel training (an all-reduce of the gradients goes between).
//
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=adam split-step' | FileCheck %s
// The result is valid IR that round-trips.
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=adam split-step' | layerc-opt > /dev/null
// Without an optimizer there is nothing to apply.
// RUN: not layerc-opt %s --layer-autodiff='optimizer=none split-step' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NONE
// NONE: layer-autodiff: split-step needs an optimizer for apply_step
//
// Run: grad_step then apply_step give train_step's weights, moving
// statistics and optimizer state bit for bit; grad_step on rows 2-4 with
// sample offset 2 draws the batch's Dropout masks for those rows.
// RUN: rm -rf %t && mkdir -p %t
// RUN: layerc-opt %s --layer-shape-inference \
// RUN:   --layer-autodiff='from-logits optimizer=adam split-step' -o %t/ad.mlir
// RUN: %python %S/Inputs/split_step.py gen %t
// RUN: layerc-run %t/ad.mlir --function=train_step --input=%t/x.npy \
// RUN:   --input=%t/y.npy --input=%t/k.npy --input=%t/gamma.npy \
// RUN:   --input=%t/mm.npy --input=%t/mv.npy --input=%t/km.npy --input=%t/kv.npy \
// RUN:   --input=%t/gm.npy --input=%t/gv.npy --input=%t/step.npy \
// RUN:   --output=%t/train_loss.npy --output=%t/train_out.npy \
// RUN:   --output=%t/train_k.npy --output=%t/train_gamma.npy \
// RUN:   --output=%t/train_mm.npy --output=%t/train_mv.npy \
// RUN:   --output=%t/train_km.npy --output=%t/train_kv.npy \
// RUN:   --output=%t/train_gm.npy --output=%t/train_gv.npy
// RUN: layerc-run %t/ad.mlir --function=grad_step --input=%t/x.npy \
// RUN:   --input=%t/y.npy --input=%t/k.npy --input=%t/gamma.npy \
// RUN:   --input=%t/mm.npy --input=%t/mv.npy --input=%t/step.npy \
// RUN:   --input=%t/offset0.npy \
// RUN:   --output=%t/grad_loss.npy --output=%t/grad_out.npy \
// RUN:   --output=%t/grad_k.npy --output=%t/grad_gamma.npy \
// RUN:   --output=%t/split_mm.npy --output=%t/split_mv.npy
// RUN: layerc-run %t/ad.mlir --function=apply_step --input=%t/k.npy \
// RUN:   --input=%t/gamma.npy --input=%t/grad_k.npy --input=%t/grad_gamma.npy \
// RUN:   --input=%t/km.npy --input=%t/kv.npy --input=%t/gm.npy --input=%t/gv.npy \
// RUN:   --input=%t/step.npy \
// RUN:   --output=%t/split_k.npy --output=%t/split_gamma.npy \
// RUN:   --output=%t/split_km.npy --output=%t/split_kv.npy \
// RUN:   --output=%t/split_gm.npy --output=%t/split_gv.npy
// RUN: layerc-run %t/ad.mlir --function=grad_step --input=%t/x_rows.npy \
// RUN:   --input=%t/y_rows.npy --input=%t/k.npy --input=%t/gamma.npy \
// RUN:   --input=%t/mm.npy --input=%t/mv.npy --input=%t/step.npy \
// RUN:   --input=%t/offset2.npy \
// RUN:   --output=%t/rows_loss.npy --output=%t/rows_out.npy \
// RUN:   --output=%t/rows_k.npy --output=%t/rows_gamma.npy \
// RUN:   --output=%t/rows_mm.npy --output=%t/rows_mv.npy
// RUN: %python %S/Inputs/split_step.py check %t | FileCheck %s --check-prefix=BITS
// BITS: identical k
// BITS: identical gamma
// BITS: identical mm
// BITS: identical mv
// BITS: identical km
// BITS: identical kv
// BITS: identical gm
// BITS: identical gv
// BITS: k changed
// BITS: masks of rows 2-4: same

func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"},
                   %k: tensor<4x3xf32> {layer.param, layer.name = "dense/kernel"},
                   %g: tensor<3xf32> {layer.param, layer.name = "bn/gamma"},
                   %mm: tensor<3xf32> {layer.buffer, layer.name = "bn/moving_mean"},
                   %mv: tensor<3xf32> {layer.buffer, layer.name = "bn/moving_variance"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  %1 = layer.batch_norm %0, %mm, %mv gamma(%g) {epsilon = 1.0e-3 : f64, momentum = 0.9 : f64} : (tensor<*xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  %2 = layer.dropout %1 {rate = 0.5 : f64, seed = 3 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// train_step is as without split-step; its Dropout mask has no offset.
// CHECK-LABEL: func.func @train_step
// CHECK: layer.dropout_mask %{{[^ ]+}}, %{{[^ ]+}} {rate = 5.000000e-01 : f64, seed = 3 : i64}

// grad_step: the data, every weight (trainable or not), the step and the
// shard's first sample; returns the loss, the outputs, one gradient per
// trainable weight and the buffers' training-mode values.
// CHECK-LABEL: func.func @grad_step
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4xf32> {layer.name = "x", layer.role = "input"}
// CHECK-SAME: tensor<?xi32> {layer.name = "output0_target", layer.role = "target"}
// CHECK-SAME: %[[K:[^:]+]]: tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "param"}
// CHECK-SAME: {layer.name = "bn/gamma", layer.role = "param"}
// CHECK-SAME: %[[MM:[^:]+]]: tensor<3xf32> {layer.name = "bn/moving_mean", layer.role = "buffer"}
// CHECK-SAME: {layer.name = "bn/moving_variance", layer.role = "buffer"}
// CHECK-SAME: %[[STEP:[^:]+]]: tensor<f32> {layer.name = "step", layer.role = "step"}
// CHECK-SAME: %[[OFFSET:[^:]+]]: tensor<f32> {layer.name = "sample_offset", layer.role = "offset"}
// CHECK-SAME: -> (tensor<f32> {layer.name = "loss", layer.role = "loss"}, tensor<?x3xf32> {layer.name = "output0", layer.role = "output"},
// CHECK-SAME: tensor<4x3xf32> {layer.name = "dense/kernel/grad", layer.role = "grad"}, tensor<3xf32> {layer.name = "bn/gamma/grad", layer.role = "grad"},
// CHECK-SAME: tensor<3xf32> {layer.name = "bn/moving_mean", layer.role = "buffer"}, tensor<3xf32> {layer.name = "bn/moving_variance", layer.role = "buffer"})
// CHECK: layer.moments
// The same mask stream as train_step (same seed), shifted to the shard.
// CHECK: layer.dropout_mask %{{[^ ]+}}, %[[STEP]] offset(%[[OFFSET]]) {rate = 5.000000e-01 : f64, seed = 3 : i64}
// CHECK: layer.loss_grad
// No optimizer here.
// CHECK-NOT: layer.adam_update
// CHECK: return

// apply_step: trainable weights, their summed gradients, the optimizer
// state and the step; the updates of train_step.
// CHECK-LABEL: func.func @apply_step
// CHECK-SAME: %[[P:[^:]+]]: tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "param"}
// CHECK-SAME: {layer.name = "bn/gamma", layer.role = "param"}
// CHECK-SAME: %[[G:[^:]+]]: tensor<4x3xf32> {layer.name = "dense/kernel/grad", layer.role = "grad"}
// CHECK-SAME: {layer.name = "bn/gamma/grad", layer.role = "grad"}
// CHECK-SAME: %[[M:[^:]+]]: tensor<4x3xf32> {layer.name = "dense/kernel/momentum", layer.role = "state"}
// CHECK-SAME: %[[V:[^:]+]]: tensor<4x3xf32> {layer.name = "dense/kernel/velocity", layer.role = "state"}
// CHECK-SAME: {layer.name = "bn/gamma/velocity", layer.role = "state"}
// CHECK-SAME: %[[S:[^:]+]]: tensor<f32> {layer.name = "step", layer.role = "step"}
// CHECK-SAME: -> (tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "param"}
// CHECK-NOT: layer.dense
// CHECK: layer.adam_update %[[P]], %[[G]], %[[M]], %[[V]], %[[S]]
// CHECK: layer.adam_update
// CHECK: return
