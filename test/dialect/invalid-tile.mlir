// A layer.tile the kernels cannot be built with is a diagnostic.
// RUN: layerc-opt %s -split-input-file -verify-diagnostics

func.func @lanes(%x: tensor<?x8xf32>, %k: tensor<8x12xf32>) -> tensor<?x12xf32> {
  // expected-error @below {{lanes must be a power of two from 1 to 64, not 3}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 3, vectors = 1, block = 4, panel = 12, slice = 8, pack_rows = 64, pack_columns = 512>} : (tensor<?x8xf32>, tensor<8x12xf32>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

func.func @accumulators(%x: tensor<?x8xf32>, %k: tensor<8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{vectors (2) times block (15) must be from 1 to 28 accumulators}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 15, panel = 16, slice = 8, pack_rows = 64, pack_columns = 512>} : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @panel(%x: tensor<?x8xf32>, %k: tensor<8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{panel (20) must be a multiple of lanes x vectors (16)}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 6, panel = 20, slice = 8, pack_rows = 64, pack_columns = 512>} : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @slice(%x: tensor<?x8xf32>, %k: tensor<8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{slice, pack_rows and pack_columns must be positive}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 6, panel = 16, slice = 0, pack_rows = 64, pack_columns = 512>} : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @axis(%x: tensor<?x8xf32>, %k: tensor<8x12xf32>) -> tensor<?x12xf32> {
  // expected-error @below {{'layer.dense' op layer.tile: the output's last axis (12) is not a multiple of lanes x vectors (8)}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 6, panel = 8, slice = 8, pack_rows = 64, pack_columns = 512>} : (tensor<?x8xf32>, tensor<8x12xf32>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

func.func @wide(%x: tensor<?x8xf64>, %k: tensor<8x16xf64>) -> tensor<?x16xf64> {
  // expected-error @below {{'layer.dense' op layer.tile: 16 lanes of 64 bits exceed the widest vector (512 bits)}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 16, vectors = 1, block = 6, panel = 16, slice = 8, pack_rows = 64, pack_columns = 512>} : (tensor<?x8xf64>, tensor<8x16xf64>) -> tensor<?x16xf64>
  return %0 : tensor<?x16xf64>
}

// -----

func.func @untiled(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{'layer.activation' op has no register-blocked kernel to tile (layer.tile is for Dense, MatMul and the convolutions)}}
  %0 = layer.activation %x {activation = #layer.activation<relu>, layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 6, panel = 16, slice = 8, pack_rows = 64, pack_columns = 512>} : (tensor<?x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @not_a_tile(%x: tensor<?x8xf32>, %k: tensor<8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{'layer.dense' op layer.tile must be a #layer.tile}}
  %0 = layer.dense %x, %k {layer.tile = 4 : i64} : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @winograd_dense(%x: tensor<?x8xf32>, %k: tensor<8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{'layer.dense' op layer.tile: winograd is for a 2-D convolution, transposed convolution or input gradient with a 3 x 3 kernel, stride 1, dilation 1 and one group}}
  %0 = layer.dense %x, %k {layer.tile = #layer.tile<lanes = 8, vectors = 2, block = 6, panel = 16, slice = 8, pack_rows = 64, pack_columns = 512, winograd = 2>} : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @winograd_stride(%x: tensor<?x9x9x8xf32>, %k: tensor<3x3x8x8xf32>) -> tensor<?x4x4x8xf32> {
  // expected-error @below {{'layer.conv' op layer.tile: winograd is for a 2-D convolution, transposed convolution or input gradient with a 3 x 3 kernel, stride 1, dilation 1 and one group}}
  %0 = layer.conv %x, %k {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 6, panel = 8, slice = 8, pack_rows = 64, pack_columns = 512, winograd = 2>} : (tensor<?x9x9x8xf32>, tensor<3x3x8x8xf32>) -> tensor<?x4x4x8xf32>
  return %0 : tensor<?x4x4x8xf32>
}

// -----

func.func @winograd_size(%x: tensor<?x9x9x8xf32>, %k: tensor<3x3x8x8xf32>) -> tensor<?x7x7x8xf32> {
  // expected-error @below {{winograd must be 0 (none), 2 (F(2 x 2, 3 x 3)) or 4 (F(4 x 4, 3 x 3)), not 3}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 6, panel = 8, slice = 8, pack_rows = 64, pack_columns = 512, winograd = 3>} : (tensor<?x9x9x8xf32>, tensor<3x3x8x8xf32>) -> tensor<?x7x7x8xf32>
  return %0 : tensor<?x7x7x8xf32>
}

// -----

// Found by the MLIR fuzzer: the tile is checked before the op's own
// verifier, which then reports the missing attribute.
func.func @winograd_no_dilations(%x: tensor<?x10x10x16xf32>, %k: tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32> {
  // expected-error @below {{layer.tile: winograd is for a 2-D convolution}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, layer.tile = #layer.tile<lanes = 8, vectors = 1, block = 10, panel = 8, slice = 8, pack_rows = 64, pack_columns = 512, winograd = 2>} : (tensor<?x10x10x16xf32>, tensor<3x3x16x8xf32>) -> tensor<?x8x8x8xf32>
  return %0 : tensor<?x8x8x8xf32>
}
