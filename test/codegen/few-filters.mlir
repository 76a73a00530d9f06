// Convolutions with fewer filters than vector lanes (convolveFewFilters,
// SmallChannels.cpp): the lanes hold input channels, the accumulators of a
// block of output columns (one vector per column and filter) are carried
// by the reduction loops in registers, and each output adds its lanes up
// once (a tree of shuffles) before the bias and activation.
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=512})' | FileCheck %s --check-prefix=AVX512
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=256})' | FileCheck %s --check-prefix=AVX2

// The autoencoder's last layer: 16 channels to 1 filter. On AVX-512, one
// vector of 16 channels, 28 columns in two blocks of 14 accumulators; on
// AVX2, two vectors of 8 channels, three blocks of 10 (12 accumulators).
// AVX512-LABEL: func.func @one_filter
// AVX512: linalg.transpose ins(%{{.+}} : tensor<3x3x16x1xf32>) outs(%{{.+}} : tensor<3x3x1x16xf32>)
// AVX512: scf.for %{{.+}} = %{{.+}} to %c28{{.*}} step %c14
// AVX512: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// AVX512: scf.for {{.+}} step %c16{{.*}} iter_args(
// AVX512: vector.transfer_read {{.+}} : tensor<3x3x1x16xf32>, vector<16xf32>
// AVX512-COUNT-14: vector.fma {{.+}} : vector<16xf32>
// AVX512-NOT: vector.fma
// AVX512: scf.yield {{.+}} : vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>
// AVX512: vector.shuffle {{.+}} [0, 1, 2, 3, 4, 5, 6, 7] : vector<16xf32>, vector<16xf32>
// AVX512: vector.shuffle {{.+}} [8, 9, 10, 11, 12, 13, 14, 15] : vector<16xf32>, vector<16xf32>
// AVX512: vector.extract {{.+}}[0] : f32 from vector<1xf32>
// AVX512: arith.addf
// AVX512: arith.maximumf
// AVX512: tensor.insert %{{.+}} into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %c0{{.*}}] : tensor<?x28x28x1xf32>
// AVX2-LABEL: func.func @one_filter
// AVX2: scf.for %{{.+}} = %{{.+}} to %c28{{.*}} step %c10
// AVX2: scf.for {{.+}} step %c8{{.*}} iter_args(
// AVX2-COUNT-10: vector.fma {{.+}} : vector<8xf32>
// AVX2-NOT: vector.fma
func.func @one_filter(%x: tensor<?x26x26x16xf32>, %k: tensor<3x3x1x16xf32>, %b: tensor<1xf32>) -> tensor<?x28x28x1xf32> {
  %0 = layer.conv_transpose %x, %k, %b {strides = array<i64: 1, 1>, padding = #layer.padding<valid>, dilations = array<i64: 1, 1>, output_padding = array<i64>, activation = #layer.activation<relu>} : (tensor<?x26x26x16xf32>, tensor<3x3x1x16xf32>, tensor<1xf32>) -> tensor<?x28x28x1xf32>
  return %0 : tensor<?x28x28x1xf32>
}

// -----

// Three filters (an RGB image) from 8 channels, strided: 8-lane vectors on
// both targets; AVX-512's 24 accumulators take 8 columns of 3 filters.
// AVX512-LABEL: func.func @three_filters
// AVX512: scf.for %{{.+}} = %{{.+}} to %c8{{.*}} step %c8
// AVX512-COUNT-24: vector.fma {{.+}} : vector<8xf32>
// AVX512-NOT: vector.fma
// AVX512-COUNT-3: tensor.extract %{{.+}}[%c{{[0-9_]+}}] : tensor<3xf32>
// AVX2-LABEL: func.func @three_filters
// AVX2: scf.for %{{.+}} = %{{.+}} to %c8{{.*}} step %c4
// AVX2-COUNT-12: vector.fma {{.+}} : vector<8xf32>
// AVX2-NOT: vector.fma
func.func @three_filters(%x: tensor<?x17x17x8xf32>, %k: tensor<3x3x8x3xf32>, %b: tensor<3xf32>) -> tensor<?x8x8x3xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : (tensor<?x17x17x8xf32>, tensor<3x3x8x3xf32>, tensor<3xf32>) -> tensor<?x8x8x3xf32>
  return %0 : tensor<?x8x8x3xf32>
}
