// A tiny input and output around a 1 GiB intermediate per sample: under a
// memory limit the allocation fails, and the function must say so.
func.func @predict(%x: tensor<?x8x8x1xf32>) -> tensor<?x1xf32> {
  %0 = layer.upsample %x {size = array<i64: 2048, 2048>} : (tensor<?x8x8x1xf32>) -> tensor<?x16384x16384x1xf32>
  %1 = layer.global_pool %0 {kind = #layer.pool<max>} : (tensor<?x16384x16384x1xf32>) -> tensor<?x1xf32>
  return %1 : tensor<?x1xf32>
}
