// Nearest upsampling and a transposed convolution's scatter move whole
// pixels: with channels that are whole vectors they are vector copies
// (VectorCopies.cpp), one load per channel vector and one store per
// destination pixel, in the image and row loops of the other kernels.
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=512})' | FileCheck %s

// UpSampling2D(3) of 32 channels: each output row reads input row
// row / 3; each input pixel's two vectors go to 3 adjacent columns.
// CHECK-LABEL: func.func @upsample
// CHECK-NOT: floordiv
// CHECK: scf.for {{.+}} -> (tensor<?x24x24x32xf32>)
// CHECK: arith.divui %{{.+}}, %c3
// CHECK: scf.for {{.+}} = %{{.+}} to %c8{{.*}} step %c1
// CHECK: scf.for {{.+}} = %{{.+}} to %c32{{.*}} step %c16
// CHECK: vector.transfer_read {{.+}} : tensor<?x8x8x32xf32>, vector<16xf32>
// CHECK-COUNT-3: vector.transfer_write {{.+}} : vector<16xf32>, tensor<?x24x24x32xf32>
// CHECK-NOT: vector.transfer_write
// CHECK-NOT: linalg.generic
func.func @upsample(%x: tensor<?x8x8x32xf32>) -> tensor<?x24x24x32xf32> {
  %0 = layer.upsample %x {size = array<i64: 3, 3>, interpolation = #layer.interpolation<nearest>} : (tensor<?x8x8x32xf32>) -> tensor<?x24x24x32xf32>
  return %0 : tensor<?x24x24x32xf32>
}

// -----

// A stride-2 transposed convolution: the input's pixels go to every other
// pixel of a zero tensor (offset 2 with the 3x3 kernel, same padding),
// one vector of 16 channels each, with no strided insert_slice.
// CHECK-LABEL: func.func @scatter
// CHECK-NOT: tensor.insert_slice
// CHECK: linalg.fill {{.+}} -> tensor<?x10x10x16xf32>
// CHECK: arith.muli %{{.+}}, %c2
// CHECK: vector.transfer_read {{.+}} : tensor<?x4x4x16xf32>, vector<16xf32>
// CHECK-NEXT: vector.transfer_write {{.+}} : vector<16xf32>, tensor<?x10x10x16xf32>
func.func @scatter(%x: tensor<?x4x4x16xf32>, %k: tensor<3x3x16x16xf32>) -> tensor<?x8x8x16xf32> {
  %0 = layer.conv_transpose %x, %k {strides = array<i64: 2, 2>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<?x4x4x16xf32>, tensor<3x3x16x16xf32>) -> tensor<?x8x8x16xf32>
  return %0 : tensor<?x8x8x16xf32>
}
