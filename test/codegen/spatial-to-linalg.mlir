// RUN: layerc-opt %s -split-input-file --layer-to-linalg | FileCheck %s
// RUN: layerc-opt %s -split-input-file --layer-to-linalg | FileCheck %s --check-prefix=NOLAYER
// NOLAYER: func.func
// NOLAYER-NOT: layer.

// The shape of the spatial lowerings (the numbers are checked against
// PyTorch by test/unittests/frontend/TorchParityTest.cpp).

// A grouped, strided "same" convolution: TensorFlow's padding split (1, 1
// for 9 -> 5 with a 3x3 kernel and stride 2), the channels split into
// (groups, channels per group), one generic whose reduction loops
// (kernel offsets, input channel) sit between the group and the filter
// loop, then bias + relu.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d3, d6)>
// CHECK-DAG: #[[KER:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d4, d5, d6, d3, d7)>
// CHECK-LABEL: func.func @conv_same_groups
// CHECK: tensor.pad %{{.+}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: tensor.expand_shape {{.+}} into tensor<?x11x11x2x2xf32>
// CHECK: tensor.expand_shape {{.+}} into tensor<3x3x2x2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[KER]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]}
// CHECK: tensor.collapse_shape {{.+}} into tensor<?x5x5x6xf32>
// CHECK: arith.maximumf
func.func @conv_same_groups(%x: tensor<?x9x9x4xf32>, %k: tensor<3x3x2x6xf32>, %b: tensor<6xf32>) -> tensor<?x5x5x6xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, groups = 2, activation = #layer.activation<relu>} : (tensor<?x9x9x4xf32>, tensor<3x3x2x6xf32>, tensor<6xf32>) -> tensor<?x5x5x6xf32>
  return %0 : tensor<?x5x5x6xf32>
}

// -----

// Filters in whole 256-bit vectors: the convolution is register-blocked.
// Loops over (image, output row) pairs, blocks of 6 output columns (11
// columns: two blocks, the last clamped to column 10) and blocks of 2
// filter vectors carry the output;
// inside, the loops over kernel rows, kernel columns and input channels
// carry the 12 accumulators: per channel 2 kernel vectors, 6 broadcasts
// and 12 FMAs.
// CHECK-LABEL: func.func @conv_blocked
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (tensor<?x11x11x16xf32>)
// CHECK: arith.divui
// CHECK: arith.remui
// CHECK: scf.for {{.+}} step %c6
// CHECK: arith.minsi {{.+}}, %c10
// CHECK: scf.for {{.+}} step %c16
// CHECK: scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-2: vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<3x3x4x16xf32>, vector<8xf32>
// CHECK: tensor.extract
// CHECK: vector.broadcast
// CHECK-COUNT-2: vector.fma
// CHECK-COUNT-12: vector.transfer_write
// The kernel gradient accumulates a block of channels (here all 4) by 2
// filter vectors over each output row and adds it to its part of the batch's
// copy of the result (8 parts, run in parallel), then sums the copies.
// CHECK-LABEL: func.func @filter_grad_blocked
// CHECK: scf.for {{.+}} = %c0{{.*}} to %c8 step %c1 iter_args({{.+}}) -> (tensor<8x3x3x4x16xf32>)
// CHECK: vector.transfer_read %{{.+}} : tensor<8x3x3x4x16xf32>, vector<8xf32>
// CHECK: scf.for
// CHECK-COUNT-2: vector.transfer_read %{{.+}} : tensor<?x8x8x16xf32>, vector<8xf32>
// CHECK: vector.fma
// CHECK: } {layerc.parallel}
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "parallel", "parallel", "parallel"]} ins(%{{.+}} : tensor<8x3x3x4x16xf32>) outs(%{{.+}} : tensor<3x3x4x16xf32>)
func.func @conv_blocked(%x: tensor<?x13x13x4xf32>, %k: tensor<3x3x4x16xf32>) -> tensor<?x11x11x16xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x13x13x4xf32>, tensor<3x3x4x16xf32>) -> tensor<?x11x11x16xf32>
  return %0 : tensor<?x11x11x16xf32>
}
func.func @filter_grad_blocked(%dy: tensor<?x8x8x16xf32>, %x: tensor<?x10x10x4xf32>, %k: tensor<3x3x4x16xf32>) -> tensor<3x3x4x16xf32> {
  %0 = layer.conv_filter_grad %x, %dy, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x10x10x4xf32>, tensor<?x8x8x16xf32>, tensor<3x3x4x16xf32>) -> tensor<3x3x4x16xf32>
  return %0 : tensor<3x3x4x16xf32>
}

// -----

// A transposed convolution is a gather: the input is scattered with the
// stride into zeros (an insert_slice with strides), the kernel flipped and
// transposed, then one generic (6 input channels are not whole vectors, 2
// filters neither: no vector kernel applies).
// CHECK-LABEL: func.func @conv_transpose
// CHECK: tensor.insert_slice {{.+}}[0, 2, 2, 0] [%{{.+}}, 4, 4, 6] [1, 2, 2, 1] : tensor<?x4x4x6xf32> into tensor<?x10x10x6xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}} : tensor<3x3x2x6xf32>) outs(%{{.+}} : tensor<3x3x6x2xf32>)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]
func.func @conv_transpose(%x: tensor<?x4x4x6xf32>, %k: tensor<3x3x2x6xf32>) -> tensor<?x8x8x2xf32> {
  %0 = layer.conv_transpose %x, %k {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<?x4x4x6xf32>, tensor<3x3x2x6xf32>) -> tensor<?x8x8x2xf32>
  return %0 : tensor<?x8x8x2xf32>
}

// -----

// Max pooling pads with -inf; average pooling divides by a constant table
// of the unpadded window sizes.
// CHECK-LABEL: func.func @pools
// CHECK: tensor.pad
// CHECK: tensor.yield %{{.+}} : f32
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK: arith.maximumf
// CHECK: arith.constant dense<{{\[}}[4.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>
// CHECK: arith.divf
func.func @pools(%x: tensor<?x5x5x3xf32>) -> (tensor<?x3x3x3xf32>, tensor<?x3x3x3xf32>) {
  %0 = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = #layer.padding<same>} : (tensor<?x5x5x3xf32>) -> tensor<?x3x3x3xf32>
  %1 = layer.pool %x {kind = #layer.pool<average>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = #layer.padding<same>} : (tensor<?x5x5x3xf32>) -> tensor<?x3x3x3xf32>
  return %0, %1 : tensor<?x3x3x3xf32>, tensor<?x3x3x3xf32>
}

// -----

// Nearest upsampling reads through a floordiv map; bilinear gathers with
// constant index tables.
// CHECK-DAG: #[[NEAR:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 floordiv 2, d2 floordiv 3, d3)>
// CHECK-LABEL: func.func @upsample
// CHECK: linalg.generic {indexing_maps = [#[[NEAR]], #{{.+}}]
// CHECK: arith.constant dense<[0, 0, 0, 1, 1, 2, 2, 3]> : tensor<8xi64>
// CHECK: tensor.extract
func.func @upsample(%x: tensor<?x4x4x3xf32>) -> (tensor<?x8x12x3xf32>, tensor<?x8x8x3xf32>) {
  %0 = layer.upsample %x {size = array<i64: 2, 3>} : (tensor<?x4x4x3xf32>) -> tensor<?x8x12x3xf32>
  %1 = layer.upsample %x {size = array<i64: 2, 2>, interpolation = #layer.interpolation<bilinear>} : (tensor<?x4x4x3xf32>) -> tensor<?x8x8x3xf32>
  return %0, %1 : tensor<?x8x12x3xf32>, tensor<?x8x8x3xf32>
}

// -----

// An embedding index outside the table selects zeros instead of reading.
// CHECK-LABEL: func.func @embedding
// CHECK-DAG: arith.cmpi sge
// CHECK-DAG: arith.cmpi slt
// CHECK: arith.andi
// CHECK: tensor.extract
// CHECK: arith.select
func.func @embedding(%ids: tensor<?x5xi32>, %t: tensor<10x4xf32>) -> tensor<?x5x4xf32> {
  %0 = layer.embedding %ids, %t : (tensor<?x5xi32>, tensor<10x4xf32>) -> tensor<?x5x4xf32>
  return %0 : tensor<?x5x4xf32>
}

// -----

// Concatenation writes one buffer, outside One-Shot Bufferize's analysis
// (a chain of insert_slice made it superlinear in the number of inputs): a
// loop over the rows copies each input's row with a vector load and store.
// CHECK-LABEL: func.func @concatenate
// CHECK: %[[A:.+]] = bufferization.to_buffer %arg0 read_only : tensor<?x8xf32> to memref<?x8xf32>
// CHECK: %[[AR:.+]] = memref.reinterpret_cast %[[A]] to offset: [0], sizes: [%{{.+}}, 8], strides: [8, 1]
// CHECK: %[[B:.+]] = bufferization.to_buffer %arg1 read_only : tensor<?x4xf32> to memref<?x4xf32>
// CHECK: %[[BR:.+]] = memref.reinterpret_cast %[[B]] to offset: [0], sizes: [%{{.+}}, 4], strides: [4, 1]
// CHECK: %[[BUF:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x12xf32>
// CHECK: %[[OUT:.+]] = memref.reinterpret_cast %[[BUF]] to offset: [0], sizes: [%{{.+}}, 12], strides: [12, 1]
// CHECK: scf.for %[[ROW:.+]] =
// CHECK:   %[[VA:.+]] = vector.load %[[AR]][%[[ROW]], %{{.+}}] : memref<?x8xf32, strided<[8, 1]>>, vector<8xf32>
// CHECK:   vector.store %[[VA]], %[[OUT]][%[[ROW]], %{{.+}}] : memref<?x12xf32, strided<[12, 1]>>, vector<8xf32>
// CHECK:   %[[VB:.+]] = vector.load %[[BR]][%[[ROW]], %{{.+}}] : memref<?x4xf32, strided<[4, 1]>>, vector<4xf32>
// CHECK:   vector.store %[[VB]], %[[OUT]][%[[ROW]], %{{.+}}] : memref<?x12xf32, strided<[12, 1]>>, vector<4xf32>
// CHECK: bufferization.to_tensor %[[BUF]] restrict writable : memref<?x12xf32> to tensor<?x12xf32>
// CHECK-NOT: tensor.insert_slice
func.func @concatenate(%a: tensor<?x8xf32>, %b: tensor<?x4xf32>) -> tensor<?x12xf32> {
  %0 = layer.concatenate %a, %b : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

// A row length known only at run time (the size on the axis) is copied
// element by element; long static rows in 64-element vectors, in a loop
// beyond four of them.
// CHECK-LABEL: func.func @concatenate_rows
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     memref.load
// CHECK:     memref.store
// CHECK:   scf.for
// CHECK:     vector.load %{{.+}} vector<64xf32>
// CHECK:   vector.load %{{.+}} vector<24xf32>
func.func @concatenate_rows(%a: tensor<?x?x200xf32>, %b: tensor<?x3x200xf32>) -> tensor<?x?x200xf32> {
  %0 = layer.concatenate %a, %b {axis = 1 : i64} : (tensor<?x?x200xf32>, tensor<?x3x200xf32>) -> tensor<?x?x200xf32>
  return %0 : tensor<?x?x200xf32>
}

// -----

// Batch normalization folds its statistics into one scale and one shift
// per channel (as tf.nn.batch_normalization), then one element-wise pass.
// CHECK-LABEL: func.func @batch_norm
// CHECK: %[[SS:.+]]:2 = linalg.generic
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<3xf32>, tensor<3xf32>)
// CHECK: math.rsqrt
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %[[SS]]#0, %[[SS]]#1 : tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>)
func.func @batch_norm(%x: tensor<?x4x4x3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<?x4x4x3xf32> {
  %0 = layer.batch_norm %x, %m, %v gamma(%g) beta(%b) {epsilon = 1.0e-3 : f64} : (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x4x4x3xf32>
  return %0 : tensor<?x4x4x3xf32>
}

// -----

// CHECK-LABEL: func.func @merges
// CHECK: arith.subf
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.addf
// CHECK: arith.mulf %{{.+}}, %{{.+}} : f32
func.func @merges(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %0 = layer.subtract %a, %b : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = layer.maximum %a, %b : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %2 = layer.average %a, %b, %0 : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0, %1, %2 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Global pools reduce every spatial axis; the average divides by their
// element count, read from the shape (sequences may have any length).
// CHECK-LABEL: func.func @global_pools
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "reduction", "parallel"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: tensor.dim %{{.+}}, %{{.+}} : tensor<?x?x3xf32>
// CHECK: arith.divf
func.func @global_pools(%x: tensor<?x4x5x3xf32>, %s: tensor<?x?x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = layer.global_pool %x {kind = #layer.pool<max>} : (tensor<?x4x5x3xf32>) -> tensor<?x3xf32>
  %1 = layer.global_pool %s {kind = #layer.pool<average>} : (tensor<?x?x3xf32>) -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}
