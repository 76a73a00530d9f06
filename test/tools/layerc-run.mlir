// Executed tests: layerc-run compiles this file with the full pipeline, runs
// a function on .npy inputs, and Inputs/mlp.py compares the results with
// NumPy (np.allclose, rtol 1e-5), exiting non-zero on a mismatch.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/mlp.py gen %t
// DEFINE: %{params} = --input=%t/k0.npy --input=%t/b0.npy --input=%t/k1.npy --input=%t/b1.npy
//
// Forward: dense(relu) -> dense(softmax), at batch 7 and at batch 1 (the
// batch dimension is dynamic).
// RUN: layerc-run %s --function=classify --input=%t/x.npy %{params} --output=%t/probs.npy
// RUN: layerc-run %s --function=classify --input=%t/x1.npy %{params} --output=%t/probs1.npy
// RUN: %python %S/Inputs/mlp.py check classify %t | FileCheck %s --check-prefix=OK-CLASSIFY
// OK-CLASSIFY: OK classify
//
// evaluate after layer-autodiff: the sparse cross-entropy from logits.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff=from-logits -o %t/rmsprop.mlir
// RUN: layerc-run %t/rmsprop.mlir --function=evaluate --input=%t/x.npy --input=%t/y.npy %{params} \
// RUN:   --output=%t/eval_loss.npy --output=%t/eval_logits.npy
// RUN: %python %S/Inputs/mlp.py check evaluate %t
//
// grad: every parameter's gradient (loss_grad, matmul with transposes,
// reduce_sum, activation_grad).
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=none' -o %t/grad.mlir
// RUN: layerc-run %t/grad.mlir --function=grad --input=%t/x.npy --input=%t/y.npy %{params} \
// RUN:   --output=%t/grad_loss.npy --output=%t/grad_logits.npy \
// RUN:   --output=%t/grad_k0.npy --output=%t/grad_b0.npy --output=%t/grad_k1.npy --output=%t/grad_b1.npy
// RUN: %python %S/Inputs/mlp.py check grad %t
//
// train_step: one update of each optimizer from non-zero state.
// RUN: layerc-run %t/rmsprop.mlir --function=train_step --input=%t/x.npy --input=%t/y.npy %{params} \
// RUN:   --input=%t/k0_v.npy --input=%t/b0_v.npy --input=%t/k1_v.npy --input=%t/b1_v.npy --input=%t/step.npy \
// RUN:   --output=%t/loss.npy --output=%t/logits.npy \
// RUN:   --output=%t/rmsprop_new_k0.npy --output=%t/rmsprop_new_b0.npy --output=%t/rmsprop_new_k1.npy --output=%t/rmsprop_new_b1.npy \
// RUN:   --output=%t/rmsprop_new_k0_v.npy --output=%t/rmsprop_new_b0_v.npy --output=%t/rmsprop_new_k1_v.npy --output=%t/rmsprop_new_b1_v.npy
// RUN: %python %S/Inputs/mlp.py check rmsprop %t
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=sgd learning-rate=0.1 momentum=0.9' -o %t/sgd.mlir
// RUN: layerc-run %t/sgd.mlir --function=train_step --input=%t/x.npy --input=%t/y.npy %{params} \
// RUN:   --input=%t/k0_m.npy --input=%t/b0_m.npy --input=%t/k1_m.npy --input=%t/b1_m.npy --input=%t/step.npy \
// RUN:   --output=%t/loss.npy --output=%t/logits.npy \
// RUN:   --output=%t/sgd_new_k0.npy --output=%t/sgd_new_b0.npy --output=%t/sgd_new_k1.npy --output=%t/sgd_new_b1.npy \
// RUN:   --output=%t/sgd_new_k0_m.npy --output=%t/sgd_new_b0_m.npy --output=%t/sgd_new_k1_m.npy --output=%t/sgd_new_b1_m.npy
// RUN: %python %S/Inputs/mlp.py check sgd %t
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='from-logits optimizer=adam' -o %t/adam.mlir
// RUN: layerc-run %t/adam.mlir --function=train_step --input=%t/x.npy --input=%t/y.npy %{params} \
// RUN:   --input=%t/k0_m.npy --input=%t/k0_v.npy --input=%t/b0_m.npy --input=%t/b0_v.npy \
// RUN:   --input=%t/k1_m.npy --input=%t/k1_v.npy --input=%t/b1_m.npy --input=%t/b1_v.npy --input=%t/step.npy \
// RUN:   --output=%t/loss.npy --output=%t/logits.npy \
// RUN:   --output=%t/adam_new_k0.npy --output=%t/adam_new_b0.npy --output=%t/adam_new_k1.npy --output=%t/adam_new_b1.npy \
// RUN:   --output=%t/adam_new_k0_m.npy --output=%t/adam_new_k0_v.npy --output=%t/adam_new_b0_m.npy --output=%t/adam_new_b0_v.npy \
// RUN:   --output=%t/adam_new_k1_m.npy --output=%t/adam_new_k1_v.npy --output=%t/adam_new_b1_m.npy --output=%t/adam_new_b1_v.npy
// RUN: %python %S/Inputs/mlp.py check adam %t
//
// Results without an --output are printed, named after the function's
// result names.
// RUN: layerc-run %t/rmsprop.mlir --function=evaluate --input=%t/x.npy --input=%t/y.npy %{params} \
// RUN:   | FileCheck %s --check-prefix=PRINT
// PRINT: loss () float32: {{[0-9.e+-]+$}}
// PRINT-NEXT: output0 (7, 4) float32: {{([-0-9.e+]+ ){27}[-0-9.e+]+$}}
//
// Errors: reported before anything runs, with a non-zero exit.
// RUN: not layerc-run %s --function=classify --input=%t/x.npy --input=%t/k0.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=COUNT
// COUNT: layerc-run: error: 'classify' takes 5 inputs but 2 --input files were given; it expects:
// COUNT-NEXT: x: (None, 5) float32
// COUNT-NEXT: dense/kernel: (5, 6) float32
// COUNT-NEXT: dense/bias: (6,) float32
// COUNT-NEXT: dense_1/kernel: (6, 4) float32
// COUNT-NEXT: dense_1/bias: (4,) float32
// RUN: not layerc-run %s --function=classify --input=%t/x64.npy %{params} 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DTYPE
// DTYPE: layerc-run: error: classify: argument 'x' expects (None, 5) float32 but got (7, 5) float64
// RUN: not layerc-run %s --function=classify --input=%t/x.npy --input=%t/k1.npy --input=%t/b0.npy --input=%t/k1.npy --input=%t/b1.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE
// SHAPE: layerc-run: error: classify: argument 'dense/kernel' expects (5, 6) float32 but got (6, 4) float32
// RUN: not layerc-run %s --function=train_step --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: layerc-run: error: no public function 'train_step' in '{{.*}}layerc-run.mlir'; it has: classify predict
// RUN: not layerc-run %s --function=classify --input=%t/x.npy %{params} --output=%t/a.npy --output=%t/b.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OUTPUTS
// OUTPUTS: layerc-run: error: 'classify' has 1 results but 2 --output files were given
// RUN: not layerc-run %s --function=classify --input=%t/none.npy %{params} 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: layerc-run: error: {{.*}}none.npy: cannot open file
// RUN: not layerc-run %t/none.mlir 2>&1 | FileCheck %s --check-prefix=NOMLIR
// NOMLIR: layerc-run: error: cannot read '{{.*}}none.mlir'

// The logits model that layer-autodiff differentiates.
func.func @predict(%x: tensor<?x5xf32> {layer.name = "x"},
                   %k0: tensor<5x6xf32> {layer.param, layer.name = "dense/kernel"},
                   %b0: tensor<6xf32> {layer.param, layer.name = "dense/bias"},
                   %k1: tensor<6x4xf32> {layer.param, layer.name = "dense_1/kernel"},
                   %b1: tensor<4xf32> {layer.param, layer.name = "dense_1/bias"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x5xf32>, tensor<5x6xf32>, tensor<6xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k1, %b1 : (tensor<*xf32>, tensor<6x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// The same model ending in a softmax.
func.func @classify(%x: tensor<?x5xf32> {layer.name = "x"},
                    %k0: tensor<5x6xf32> {layer.name = "dense/kernel"},
                    %b0: tensor<6xf32> {layer.name = "dense/bias"},
                    %k1: tensor<6x4xf32> {layer.name = "dense_1/kernel"},
                    %b1: tensor<4xf32> {layer.name = "dense_1/bias"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x5xf32>, tensor<5x6xf32>, tensor<6xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k1, %b1 {activation = #layer.activation<softmax>} : (tensor<*xf32>, tensor<6x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}
