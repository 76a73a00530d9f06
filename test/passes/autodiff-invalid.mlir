// Every error of layer-autodiff, each in its own file (split-file keeps the
// line numbers) because each needs its own pass options.
// RUN: split-file %s %t
// RUN: layerc-opt %t/missing.mlir --layer-autodiff=function=train -verify-diagnostics
// RUN: layerc-opt %t/external.mlir --layer-autodiff -verify-diagnostics
// RUN: layerc-opt %t/loss.mlir --layer-autodiff=loss=hinge -verify-diagnostics
// RUN: layerc-opt %t/optimizer.mlir --layer-autodiff=optimizer=momentum -verify-diagnostics
// RUN: layerc-opt %t/unranked.mlir --layer-autodiff -verify-diagnostics
// RUN: layerc-opt %t/unranked-inner.mlir --layer-autodiff -verify-diagnostics
// RUN: layerc-opt %t/scalar.mlir --layer-autodiff=loss=mean_squared_error -verify-diagnostics
// RUN: layerc-opt %t/no-outputs.mlir --layer-autodiff -verify-diagnostics
// RUN: layerc-opt %t/existing.mlir --layer-autodiff=optimizer=none -verify-diagnostics
// RUN: layerc-opt %t/no-rule.mlir --layer-autodiff -verify-diagnostics
// RUN: layerc-opt %t/conv-lstm.mlir --layer-autodiff -verify-diagnostics
// RUN: layerc-opt %t/residual.mlir --layer-autodiff -verify-diagnostics
// The pass fails (non-zero exit) rather than only printing.
// RUN: not layerc-opt %t/optimizer.mlir --layer-autodiff=optimizer=momentum 2>&1 | FileCheck %s
// RUN: layerc-opt %t/param-and-buffer.mlir --layer-autodiff -verify-diagnostics
// CHECK: error: layer-autodiff: unknown optimizer 'momentum'; expected sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam, lion or none

//--- missing.mlir
// A missing function is reported on the module.
// expected-error @below {{layer-autodiff: no function named 'train' with a body to differentiate}}
module {
  func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x3xf32> {layer.param}) -> tensor<?x3xf32> {
    %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    return %0 : tensor<?x3xf32>
  }
}

//--- external.mlir
// A declaration has no body to differentiate.
// expected-error @below {{layer-autodiff: no function named 'predict' with a body to differentiate}}
module {
  func.func private @predict(tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
}

//--- loss.mlir
// expected-error @below {{layer-autodiff: unknown loss 'hinge'; expected one of sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error}}
func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x3xf32> {layer.param}) -> tensor<?x3xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

//--- optimizer.mlir
// expected-error @below {{layer-autodiff: unknown optimizer 'momentum'; expected sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam, lion or none}}
func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x3xf32> {layer.param}) -> tensor<?x3xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

//--- unranked.mlir
// Outputs must have inferred shapes: layer-shape-inference was not run.
// expected-error @below {{layer-autodiff: outputs must be ranked, batched tensors (run layer-shape-inference first), got 'tensor<*xf32>'}}
func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x3xf32> {layer.param}) -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

//--- unranked-inner.mlir
// A ranked output behind an unranked value: named before any rule fails.
func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x3xf32> {layer.param}) -> tensor<?x3xf32> {
  // expected-error @below {{layer-autodiff: result of 'layer.dense' is unranked (run layer-shape-inference first)}}
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  %1 = tensor.cast %0 : tensor<*xf32> to tensor<?x3xf32>
  return %1 : tensor<?x3xf32>
}

//--- scalar.mlir
// expected-error @below {{layer-autodiff: outputs must be ranked, batched tensors (run layer-shape-inference first), got 'tensor<f32>'}}
func.func @predict(%x: tensor<?x4xf32>, %t: tensor<?x4xf32>) -> tensor<f32> {
  %0 = layer.loss %x, %t {loss = #layer.loss<mean_squared_error>} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

//--- no-outputs.mlir
// expected-error @below {{layer-autodiff: the function has no outputs}}
func.func @predict(%x: tensor<?x4xf32>) {
  return
}

//--- existing.mlir
// The functions the pass builds must not exist yet.
// expected-error @below {{layer-autodiff: the module already has a function 'evaluate'}}
module {
  func.func @predict(%x: tensor<?x4xf32>, %k: tensor<4x3xf32> {layer.param}) -> tensor<?x3xf32> {
    %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    return %0 : tensor<?x3xf32>
  }
  func.func @evaluate() {
    return
  }
}

//--- no-rule.mlir
// reduce_sum has no gradient rule: the reverse sweep reports the op.
func.func @predict(%x: tensor<?x4x3xf32>, %k: tensor<3x2xf32> {layer.param}) -> tensor<?x2xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4x3xf32>, tensor<3x2xf32>) -> tensor<?x4x2xf32>
  // expected-error @below {{'layer.reduce_sum' op has no gradient rule (GradientOpInterface)}}
  %1 = layer.reduce_sum %0 {axis = 1 : i64} : (tensor<?x4x2xf32>) -> tensor<?x2xf32>
  return %1 : tensor<?x2xf32>
}

//--- conv-lstm.mlir
// ConvLSTM is differentiated unrolled over its steps: their number must be
// known (the frontend compiles one program per sequence length).
func.func @predict(%x: tensor<?x?x5x5x1xf32>, %k: tensor<3x3x1x8xf32> {layer.param}, %rk: tensor<3x3x2x8xf32> {layer.param}) -> tensor<?x5x5x2xf32> {
  // expected-error @below {{'layer.conv_lstm' op the gradient needs a known number of time steps, got (None, None, 5, 5, 1)}}
  %y, %h, %c = layer.conv_lstm %x, %k, %rk {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = #layer.padding<same>} : (tensor<?x?x5x5x1xf32>, tensor<3x3x1x8xf32>, tensor<3x3x2x8xf32>) -> (tensor<?x5x5x2xf32>, tensor<?x5x5x2xf32>, tensor<?x5x5x2xf32>)
  return %y : tensor<?x5x5x2xf32>
}

//--- param-and-buffer.mlir
// A weight is trainable (layer.param) or not (layer.buffer), never both.
// expected-error @below {{layer-autodiff: argument 1 is marked both layer.param and layer.buffer}}
func.func @predict(%x: tensor<?x3xf32>, %m: tensor<3xf32> {layer.param, layer.buffer}) -> tensor<?x3xf32> {
  %0 = layer.add %x, %m : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

//--- residual.mlir
// layer-fuse's residual is added after the activation, which the training
// clone splits off: differentiate before fusing.
func.func @predict(%x: tensor<?x6x6x2xf32>, %k: tensor<3x3x2x2xf32> {layer.param}) -> tensor<?x6x6x2xf32> {
  // expected-error @below {{'layer.conv' op has a fused residual add (layer-fuse): build the training functions before fusing}}
  %0 = layer.conv %x, %k residual %x {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<?x6x6x2xf32>, tensor<3x3x2x2xf32>, tensor<?x6x6x2xf32>) -> tensor<?x6x6x2xf32>
  return %0 : tensor<?x6x6x2xf32>
}
