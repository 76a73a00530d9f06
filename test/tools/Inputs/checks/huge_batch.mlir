// An input of 2^62 samples of 4 floats: 2^66 bytes, which no 64-bit size
// can count (an element count of 0 after wrapping, before).
func.func @predict(%x: tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32> {
  %0 = layer.activation %x {activation = #layer.activation<relu>} : (tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32>
  return %0 : tensor<4611686018427387904x4xf32>
}
