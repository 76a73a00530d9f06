// An add of a matrix of unknown width and one 4096 wide.
func.func @predict(%a: tensor<?x?xf32>, %b: tensor<?x4096xf32>) -> tensor<?x4096xf32> {
  %0 = layer.add %a, %b : (tensor<?x?xf32>, tensor<?x4096xf32>) -> tensor<?x4096xf32> loc("sum")
  return %0 : tensor<?x4096xf32>
}
