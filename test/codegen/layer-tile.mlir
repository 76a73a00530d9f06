// layer-tile chooses every register-blocked kernel's tiling from the
// target (vector width, L1, L2) and writes it on the op; layerc runs it
// with the --target's description (the host's caches for --target=host).
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=256}))' | FileCheck %s --check-prefix=AVX2
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=512}))' | FileCheck %s --check-prefix=AVX512
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=512 l1-bytes=16384 l2-bytes=262144}))' | FileCheck %s --check-prefix=SMALL
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=0}))' | FileCheck %s --check-prefix=GPU
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=256})' | FileCheck %s --check-prefix=KERNEL
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=256 winograd=false}))' | FileCheck %s --check-prefix=DIRECT
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=256 winograd-tile=4}))' | FileCheck %s --check-prefix=F4
// RUN: layerc %s --target=x86-64-v4 --print-pipeline --emit=linalg | FileCheck %s --check-prefix=PIPELINE
// RUN: not layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-tile{vector-bits=384}))' 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-tile{l2-bytes=0}))' 2>&1 | FileCheck %s --check-prefix=CACHE
// RUN: not layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-tile{winograd-tile=3}))' 2>&1 | FileCheck %s --check-prefix=WTILE

// PIPELINE: layer-tile{l1-bytes=32768 l2-bytes=1048576 vector-bits=512 winograd=true winograd-tile=0}
// BITS: layer-tile: vector-bits must be 0, 128, 256 or 512, not 384
// CACHE: layer-tile: l1-bytes and l2-bytes must be at least 1024, not 32768 and 0
// WTILE: layer-tile: winograd-tile must be 0 (chosen per convolution), 2 or 4, not 3
// A GPU target gets no tiling (the hand-written one stays).
// GPU-NOT: block = {{6|12|24}},

// Dense to 128 floats: AVX2's 12 accumulators are 6 rows of 2 vectors of
// 8, AVX-512's 24 are 6 rows of 4 vectors of 16 (a matmul's blocks span 4
// vectors on AVX-512; a convolution's, below, 2). A block's slice of A
// fits a quarter of L1 (32 KiB: 6 rows x 256 floats; 16 KiB: 6 x 128) and
// B's slice of a panel half of L2 (1 MiB: 256 x 512; 256 KiB: 128 x 256).
// Dense(10) is not whole vectors: no
// register-blocked kernel, no tile.
// AVX2-LABEL: func.func @dense
// AVX2: layer.dense {{.*}}layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 6, panel = 512, slice = 256, pack_rows = 64, pack_columns = 1024>
// AVX2: layer.dense
// AVX2-NOT: layer.tile
// AVX2: return
// AVX512-LABEL: func.func @dense
// AVX512: layer.tile = #layer.tile<lanes = 16, vectors = 4, block = 6, panel = 512, slice = 256, pack_rows = 64, pack_columns = 1024>
// SMALL-LABEL: func.func @dense
// SMALL: layer.tile = #layer.tile<lanes = 16, vectors = 4, block = 6, panel = 256, slice = 128, pack_rows = 64, pack_columns = 512>
func.func @dense(%x: tensor<?x784xf32>, %k: tensor<784x128xf32>, %k2: tensor<128x10xf32>) -> tensor<?x10xf32> {
  %0 = layer.dense %x, %k : (tensor<?x784xf32>, tensor<784x128xf32>) -> tensor<?x128xf32>
  %1 = layer.dense %0, %k2 : (tensor<?x128xf32>, tensor<128x10xf32>) -> tensor<?x10xf32>
  return %1 : tensor<?x10xf32>
}

// -----

// Convolutions and their gradients: the vectors run over the output's
// last axis (filters; channels for an input gradient). 8 filters do not
// fill a 512-bit vector: 256-bit vectors, AVX-512's 24 accumulators.
// A tiling already on an op is kept.
// A 3 x 3 stride-1 convolution of 16 channels also gets Winograd, and so
// does its input gradient (a sum over 8 filters); its kernel gradient,
// and everything with winograd=false, do not. F(4 x 4, 3 x 3) (winograd =
// 4) where one image's 4 x 4 tiles fill a register block: the input
// gradient's 10 x 10 (9 tiles) on AVX2 (blocks of 6), not the 8 x 8
// output (4 tiles), nor anything on AVX-512 (blocks of 24); F(2 x 2,
// 3 x 3) (winograd = 2) elsewhere. winograd-tile=4 takes F(4 x 4, 3 x 3)
// everywhere.
// AVX2-LABEL: func.func @conv
// AVX2: layer.conv {{.*}}layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 12, panel = 1024, slice = 128, pack_rows = 64, pack_columns = 2048, winograd = 2>
// AVX2: layer.conv_input_grad {{.*}}layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 6, panel = 512, slice = 256, pack_rows = 64, pack_columns = 1024, winograd = 4>
// F4-LABEL: func.func @conv
// F4: layer.conv {{.*}}winograd = 4>
// F4: layer.conv_input_grad {{.*}}winograd = 4>
// AVX2: layer.conv_filter_grad {{.*}}layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 12, panel = 1024, slice = 128, pack_rows = 64, pack_columns = 2048>
// AVX2: layer.conv {{.*}}layer.tile = #layer.tile<lanes = 4, vectors = 1, block = 3, panel = 4, slice = 1, pack_rows = 1, pack_columns = 1>
// AVX512-LABEL: func.func @conv
// AVX512: layer.conv {{.*}}layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 24, {{.*}}, winograd = 2>
// DIRECT-LABEL: func.func @conv
// DIRECT-NOT: winograd
// DIRECT: return
// AVX512: layer.conv_input_grad {{.*}}layer.tile = #layer.tile<lanes = 16, vectors = 1, block = 24,
func.func @conv(%x: tensor<?x10x10x16xf32>, %k: tensor<3x3x16x8xf32>, %dy: tensor<?x8x8x8xf32>) -> (tensor<?x8x8x8xf32>, tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>, tensor<?x8x8x8xf32>) {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32>
  %1 = layer.conv_input_grad %dy, %k, %x {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x8xf32>, tensor<3x3x16x8xf32>, tensor<?x10x10x16xf32>) -> tensor<?x10x10x16xf32>
  %2 = layer.conv_filter_grad %x, %dy, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x10x10x16xf32>, tensor<?x8x8x8xf32>, tensor<3x3x16x8xf32>) -> tensor<3x3x16x8xf32>
  %3 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, layer.tile = #layer.tile<lanes = 4, vectors = 1, block = 3, panel = 4, slice = 1, pack_rows = 1, pack_columns = 1>} : (tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32>
  return %0, %1, %2, %3 : tensor<?x8x8x8xf32>, tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>, tensor<?x8x8x8xf32>
}

// -----

// layer-to-linalg builds the kernel the tile describes: blocks of 4 rows
// by 1 vector (4 FMAs a step), then the rows left one at a time (1 FMA),
// where AVX2's own choice (6 rows by 2 vectors, then 4 by 2, then 1 by 2)
// has 22.
// KERNEL-LABEL: func.func @dense_by_hand
// KERNEL-COUNT-5: vector.fma {{.*}} : vector<8xf32>
// KERNEL-NOT: vector.fma
// KERNEL-LABEL: func.func @dense_by_default
// KERNEL-COUNT-22: vector.fma {{.*}} : vector<8xf32>
// KERNEL-NOT: vector.fma
func.func @dense_by_hand(%x: tensor<?x32xf32>, %k: tensor<32x16xf32>) -> tensor<?x16xf32> {
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 4, panel = 16, slice = 256, pack_rows = 64, pack_columns = 512>} : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}
func.func @dense_by_default(%x: tensor<?x32xf32>, %k: tensor<32x16xf32>) -> tensor<?x16xf32> {
  %0 = layer.dense %x, %k : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// Winograd only where it applies and pays: not for 4 input channels, a
// stride of 2, a 5 x 5 kernel or an output of one row.
// AVX2-LABEL: func.func @not_winograd
// KERNEL-LABEL: func.func @not_winograd
// AVX2-NOT: winograd
// AVX2: return
func.func @not_winograd(%a: tensor<?x10x10x4xf32>, %ka: tensor<3x3x4x8xf32>, %x: tensor<?x10x10x16xf32>, %k: tensor<3x3x16x8xf32>, %k5: tensor<5x5x16x8xf32>, %r: tensor<?x3x10x16xf32>) -> (tensor<?x8x8x8xf32>, tensor<?x4x4x8xf32>, tensor<?x6x6x8xf32>, tensor<?x1x8x8xf32>) {
  %0 = layer.conv %a, %ka {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x10x10x4xf32>, tensor<3x3x4x8xf32>) -> tensor<?x8x8x8xf32>
  %1 = layer.conv %x, %k {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : (tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x4x4x8xf32>
  %2 = layer.conv %x, %k5 {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x10x10x16xf32>, tensor<5x5x16x8xf32>) -> tensor<?x6x6x8xf32>
  %3 = layer.conv %r, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x3x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x1x8x8xf32>
  return %0, %1, %2, %3 : tensor<?x8x8x8xf32>, tensor<?x4x4x8xf32>, tensor<?x6x6x8xf32>, tensor<?x1x8x8xf32>
}

// -----

// A Winograd tile's kernel: the filter's transform (blocks of filters x
// 16 positions x channels x a block's filters), scratch for 8 parts' input
// transforms and products (a block of at most 10 tiles: 8, half of an
// 8 x 8 image), 16 products per step of the channels, and the input and
// output transforms, additions only.
// KERNEL-LABEL: func.func @winograd_by_hand
// KERNEL: tensor.empty() : tensor<1x16x16x8xf32>
// KERNEL: tensor.empty() : tensor<8x16x8x16xf32>
// KERNEL: tensor.empty() : tensor<8x16x8x8xf32>
// KERNEL-COUNT-8: vector.fma {{.*}} : vector<8xf32>
// KERNEL-NOT: vector.fma
// KERNEL-NOT: arith.mulf {{.*}} : vector<8xf32>
// KERNEL: return
func.func @winograd_by_hand(%x: tensor<?x10x10x16xf32>, %k: tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 10, panel = 8, slice = 8, pack_rows = 64, pack_columns = 512, winograd = 2>} : (tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32>
  return %0 : tensor<?x8x8x8xf32>
}

// -----

// F(4 x 4, 3 x 3): 36 positions (the 8 x 8 output's 4 tiles in one
// block), 4 products per step of the channels; its transforms multiply
// (B^T's 4 and 5, A^T's 2, 4 and 8, G's 1/4, 1/6, 1/12 and 1/24).
// KERNEL-LABEL: func.func @winograd4_by_hand
// KERNEL: tensor.empty() : tensor<1x36x16x8xf32>
// KERNEL: tensor.empty() : tensor<8x36x4x16xf32>
// KERNEL: tensor.empty() : tensor<8x36x4x8xf32>
// KERNEL-COUNT-4: vector.fma {{.*}} : vector<8xf32>
// KERNEL-NOT: vector.fma
// KERNEL: arith.mulf {{.*}} : vector<8xf32>
// KERNEL: return
func.func @winograd4_by_hand(%x: tensor<?x10x10x16xf32>, %k: tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 10, panel = 8, slice = 8, pack_rows = 64, pack_columns = 512, winograd = 4>} : (tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32>
  return %0 : tensor<?x8x8x8xf32>
}

// -----

// A stride-1 transposed convolution of 16 input channels: Winograd too.
// AVX2-LABEL: func.func @transposed
// AVX2: layer.conv_transpose {{.*}}winograd = 2>
func.func @transposed(%x: tensor<?x6x7x16xf32>, %k: tensor<3x3x8x16xf32>) -> tensor<?x8x9x8xf32> {
  %0 = layer.conv_transpose %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<?x6x7x16xf32>, tensor<3x3x8x16xf32>) -> tensor<?x8x9x8xf32>
  return %0 : tensor<?x8x9x8xf32>
}
