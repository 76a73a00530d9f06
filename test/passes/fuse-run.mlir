// Executed test of layer-fuse: the model below runs through layerc-run as
// it is and after --layer-fuse, on the same inputs and weights, and
// Inputs/fuse_run.py compares the results (1e-5 relative; see there).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/fuse_run.py gen %t
// DEFINE: %{weights} = --input=%t/ck.npy --input=%t/cb.npy --input=%t/gamma.npy --input=%t/beta.npy \
// DEFINE:   --input=%t/mean.npy --input=%t/variance.npy --input=%t/dk.npy --input=%t/db.npy \
// DEFINE:   --input=%t/dk2.npy --input=%t/mean2.npy --input=%t/variance2.npy
//
// predict: conv -> batch_norm -> relu and dense -> batch_norm -> sigmoid
// become one layer each, dense -> relu too; no activation op is left.
// RUN: layerc-opt %s --layer-fuse -o %t/fused.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t/fused.mlir
// FUSED-LABEL: func.func @predict
// FUSED-NOT: layer.activation
// FUSED: layer.conv {{.+}}activation = #layer.activation<relu>
// FUSED-NOT: layer.activation
// FUSED: layer.dense {{.+}}activation = #layer.activation<relu>
// FUSED-NOT: layer.activation
// FUSED: layer.dense {{.+}}activation = #layer.activation<sigmoid>
// FUSED-NOT: layer.activation
// FUSED: return
// RUN: layerc-run %s --input=%t/x.npy %{weights} --output=%t/predict.npy
// RUN: layerc-run %t/fused.mlir --input=%t/x.npy %{weights} --output=%t/predict.fused.npy
// RUN: %python %S/Inputs/fuse_run.py compare %t predict | FileCheck %s --check-prefix=PREDICT
// PREDICT: OK predict
//
// After layer-autodiff: evaluate (inference-mode batch_norm) folds and
// computes the same loss and outputs; grad (where gradients read the
// pre-activations) is left as it was and computes the same gradients.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff='loss=mean_squared_error optimizer=none' -o %t/grad.mlir
// RUN: layerc-opt %t/grad.mlir --layer-fuse -o %t/grad.fused.mlir
// RUN: layerc-run %t/grad.mlir --function=evaluate --input=%t/x.npy --input=%t/y.npy %{weights} \
// RUN:   --output=%t/eval_loss.npy --output=%t/eval_out.npy
// RUN: layerc-run %t/grad.fused.mlir --function=evaluate --input=%t/x.npy --input=%t/y.npy %{weights} \
// RUN:   --output=%t/eval_loss.fused.npy --output=%t/eval_out.fused.npy
// RUN: %python %S/Inputs/fuse_run.py compare %t eval_loss eval_out | FileCheck %s --check-prefix=EVALUATE
// EVALUATE: OK eval_loss eval_out
// RUN: layerc-run %t/grad.mlir --function=grad --input=%t/x.npy --input=%t/y.npy %{weights} \
// RUN:   --output=%t/g_loss.npy --output=%t/g_out.npy --output=%t/g_ck.npy --output=%t/g_cb.npy \
// RUN:   --output=%t/g_gamma.npy --output=%t/g_beta.npy --output=%t/g_dk.npy --output=%t/g_db.npy --output=%t/g_dk2.npy
// RUN: layerc-run %t/grad.fused.mlir --function=grad --input=%t/x.npy --input=%t/y.npy %{weights} \
// RUN:   --output=%t/g_loss.fused.npy --output=%t/g_out.fused.npy --output=%t/g_ck.fused.npy --output=%t/g_cb.fused.npy \
// RUN:   --output=%t/g_gamma.fused.npy --output=%t/g_beta.fused.npy --output=%t/g_dk.fused.npy --output=%t/g_db.fused.npy --output=%t/g_dk2.fused.npy
// RUN: %python %S/Inputs/fuse_run.py compare %t g_loss g_out g_ck g_cb g_gamma g_beta g_dk g_db g_dk2 \
// RUN:   | FileCheck %s --check-prefix=GRAD
// GRAD: OK g_loss g_out g_ck g_cb g_gamma g_beta g_dk g_db g_dk2

func.func @predict(%x: tensor<?x6x6x3xf32> {layer.name = "x"},
                   %ck: tensor<3x3x3x4xf32> {layer.param, layer.name = "conv2d/kernel"},
                   %cb: tensor<4xf32> {layer.param, layer.name = "conv2d/bias"},
                   %gamma: tensor<4xf32> {layer.param, layer.name = "bn/gamma"},
                   %beta: tensor<4xf32> {layer.param, layer.name = "bn/beta"},
                   %mean: tensor<4xf32> {layer.buffer, layer.name = "bn/moving_mean"},
                   %variance: tensor<4xf32> {layer.buffer, layer.name = "bn/moving_variance"},
                   %dk: tensor<4x6xf32> {layer.param, layer.name = "dense/kernel"},
                   %db: tensor<6xf32> {layer.param, layer.name = "dense/bias"},
                   %dk2: tensor<6x5xf32> {layer.param, layer.name = "dense_1/kernel"},
                   %mean2: tensor<5xf32> {layer.buffer, layer.name = "bn_1/moving_mean"},
                   %variance2: tensor<5xf32> {layer.buffer, layer.name = "bn_1/moving_variance"})
    -> tensor<?x5xf32> {
  %0 = layer.conv %x, %ck, %cb {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>}
      : (tensor<?x6x6x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<?x6x6x4xf32> loc("conv2d")
  %1 = layer.batch_norm %0, %mean, %variance gamma(%gamma) beta(%beta) {epsilon = 1.0e-3 : f64}
      : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x6x6x4xf32> loc("bn")
  %2 = layer.activation %1 {activation = #layer.activation<relu>} : (tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32> loc("re_lu")
  %3 = layer.global_pool %2 {kind = #layer.pool<average>} : (tensor<?x6x6x4xf32>) -> tensor<?x4xf32> loc("pool")
  %4 = layer.dense %3, %dk, %db : (tensor<?x4xf32>, tensor<4x6xf32>, tensor<6xf32>) -> tensor<?x6xf32> loc("dense")
  %5 = layer.activation %4 {activation = #layer.activation<relu>} : (tensor<?x6xf32>) -> tensor<?x6xf32> loc("re_lu_1")
  %6 = layer.dense %5, %dk2 : (tensor<?x6xf32>, tensor<6x5xf32>) -> tensor<?x5xf32> loc("dense_1")
  %7 = layer.batch_norm %6, %mean2, %variance2 {epsilon = 1.0e-3 : f64}
      : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<?x5xf32> loc("bn_1")
  %8 = layer.activation %7 {activation = #layer.activation<sigmoid>} : (tensor<?x5xf32>) -> tensor<?x5xf32> loc("sigmoid")
  return %8 : tensor<?x5xf32>
}
