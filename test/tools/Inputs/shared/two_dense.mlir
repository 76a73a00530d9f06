// Two matmuls of one input whose results have one shape: CSE shares the
// zero-filled tensor both accumulate into; each output must still get its own.
func.func @predict(%x: tensor<?x4xf32>, %k0: tensor<4x3xf32>, %k1: tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = layer.dense %x, %k0 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = layer.dense %x, %k1 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}
