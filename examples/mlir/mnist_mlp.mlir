// The guide's MNIST MLP in the layer dialect, with result shapes left for
// layer-shape-inference: `layerc-opt --layer-shape-inference` fills them.
func.func @predict(%x: tensor<?x784xf32> {layer.name = "input"},
                   %k0: tensor<784x64xf32> {layer.param, layer.name = "dense/kernel"},
                   %b0: tensor<64xf32> {layer.param, layer.name = "dense/bias"},
                   %k1: tensor<64x64xf32> {layer.param, layer.name = "dense_1/kernel"},
                   %b1: tensor<64xf32> {layer.param, layer.name = "dense_1/bias"},
                   %k2: tensor<64x10xf32> {layer.param, layer.name = "dense_2/kernel"},
                   %b2: tensor<10xf32> {layer.param, layer.name = "dense_2/bias"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<relu>} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<*xf32> loc("dense")
  %1 = layer.dense %0, %k1, %b1 {activation = #layer.activation<relu>} : (tensor<*xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<*xf32> loc("dense_1")
  %2 = layer.dense %1, %k2, %b2 : (tensor<*xf32>, tensor<64x10xf32>, tensor<10xf32>) -> tensor<*xf32> loc("dense_2")
  return %2 : tensor<*xf32>
}
