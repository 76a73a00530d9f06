// A dense layer whose input width is unknown: it must be the kernel's 4096.
func.func @predict(%x: tensor<?x?xf32>, %k: tensor<4096x4xf32>) -> tensor<?x4xf32> {
  %0 = layer.dense %x, %k : (tensor<?x?xf32>, tensor<4096x4xf32>) -> tensor<?x4xf32> loc("fc")
  return %0 : tensor<?x4xf32>
}
