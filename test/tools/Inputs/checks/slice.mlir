// A slice at offset 100000 of an axis whose size only the input fixes.
func.func @predict(%x: tensor<?x?xf32>) -> tensor<?x2xf32> {
  %0 = layer.slice %x {axis = 1 : i64, offset = 100000 : i64, size = 2 : i64} : (tensor<?x?xf32>) -> tensor<?x2xf32> loc("tail")
  return %0 : tensor<?x2xf32>
}
