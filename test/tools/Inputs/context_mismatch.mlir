// A train_step that does not take predict's weights: the context API would
// pass them at the wrong positions, so layerc refuses it.
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"}, %k: tensor<4x2xf32> {layer.param, layer.name = "k"}) -> tensor<?x2xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}
func.func @train_step(%x: tensor<?x4xf32> {layer.role = "input"}, %y: tensor<?x2xf32> {layer.role = "target"}, %step: tensor<f32> {layer.role = "step"}) -> (tensor<f32> {layer.role = "loss"}) {
  return %step : tensor<f32>
}
