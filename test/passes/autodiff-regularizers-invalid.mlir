// Malformed regularizer and constraint attributes are diagnostics.
// RUN: layerc-opt %s --split-input-file --verify-diagnostics --layer-autodiff

// expected-error @below {{layer-autodiff: argument 1 has layer.regularizer but is not a layer.param}}
func.func @predict(%x: tensor<?x4xf32>,
                   %k: tensor<4x3xf32> {layer.buffer, layer.regularizer = {l2 = 0.1 : f64}}) -> tensor<?x3xf32> {
  %y = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// expected-error @below {{layer-autodiff: argument 1: layer.constraint needs a 'kind' among max_norm, min_max_norm, unit_norm and non_neg}}
func.func @predict(%x: tensor<?x4xf32>,
                   %k: tensor<4x3xf32> {layer.param, layer.constraint = {kind = "clip"}}) -> tensor<?x3xf32> {
  %y = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// expected-error @below {{layer-autodiff: argument 1: layer.regularizer must be a dictionary}}
func.func @predict(%x: tensor<?x4xf32>,
                   %k: tensor<4x3xf32> {layer.param, layer.regularizer = 0.1 : f64}) -> tensor<?x3xf32> {
  %y = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// expected-error @below {{layer-autodiff: argument 1: 'l2' of {l2 = "big"} must be a float}}
func.func @predict(%x: tensor<?x4xf32>,
                   %k: tensor<4x3xf32> {layer.param, layer.regularizer = {l2 = "big"}}) -> tensor<?x3xf32> {
  %y = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
