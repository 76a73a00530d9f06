// Two max pools of one input with equal result shapes: CSE shares the
// -inf-filled tensor both reduce into; each output must still get its own.
func.func @predict(%x: tensor<?x8x1xf32>) -> (tensor<?x4x1xf32>, tensor<?x4x1xf32>) {
  %0 = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 2>, strides = array<i64: 2>} : (tensor<?x8x1xf32>) -> tensor<?x4x1xf32>
  %1 = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 3>, strides = array<i64: 2>, padding = #layer.padding<same>} : (tensor<?x8x1xf32>) -> tensor<?x4x1xf32>
  return %0, %1 : tensor<?x4x1xf32>, tensor<?x4x1xf32>
}
