// A model whose output keeps an unknown sequence length (layerc-guide.test).
func.func @predict(%ids: tensor<?x?xi32>, %table: tensor<10x4xf32>) -> tensor<?x?x4xf32> {
  %0 = layer.embedding %ids, %table : (tensor<?x?xi32>, tensor<10x4xf32>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}
