// layer-autodiff's options print back exactly: a textual pipeline that a
// driver prints (layerc --print-pipeline) parses to the same options. Real
// numbers keep every digit (MLIR prints double options with six), lists
// keep their order.
// RUN: layerc-opt %s --dump-pass-pipeline --pass-pipeline='builtin.module(layer-autodiff{loss=mean_squared_error:probs,binary_crossentropy:logits loss-weights=0.1,2.5e-9 learning-rate=0.0123456789 epsilon=1e-7 optimizer=adam})' -o /dev/null 2>&1 | FileCheck %s
// CHECK: layer-autodiff{
// CHECK-SAME: beta-1=0.9 beta-2=0.999
// CHECK-SAME: epsilon=1e-07
// CHECK-SAME: learning-rate=0.0123456789
// CHECK-SAME: loss={mean_squared_error:probs,binary_crossentropy:logits} loss-weights={0.1,2.5e-09}
// CHECK-SAME: optimizer=adam

// A number that is not one is refused with the option's name.
// RUN: not layerc-opt %s --pass-pipeline='builtin.module(layer-autodiff{learning-rate=fast})' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: 'fast' is not a number

func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x2xf32> {layer.param}) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %0, %0 : tensor<?x2xf32>, tensor<?x2xf32>
}
