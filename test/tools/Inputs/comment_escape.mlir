// A function whose name would close the header's comment about it.
func.func @"f*/ int pwned = 1; /*"(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}
