// The register-blocked kernels take their vectors from the target:
// layer-to-linalg{vector-bits=N}, which layerc sets from --target.
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=512})' | FileCheck %s --check-prefix=AVX512
// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=256})' | FileCheck %s --check-prefix=AVX2
// RUN: layerc %s --target=x86-64-v4 --emit=linalg -o - | FileCheck %s --check-prefix=AVX512
// RUN: layerc %s --target=x86-64-v3 --emit=linalg -o - | FileCheck %s --check-prefix=AVX2
// A GPU target (vector-bits=0) builds no register-blocked kernel.
// RUN: layerc %s --target=cuda:sm_90 --emit=linalg -o - | FileCheck %s --check-prefix=GPU
// GPU-NOT: vector.
// RUN: not layerc-opt %s --pass-pipeline='builtin.module(layer-to-linalg{vector-bits=384})' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: vector-bits must be 0, 128, 256 or 512, not 384

// 64 filters: blocks of 2 vectors of 16 lanes on AVX-512 (24 accumulators:
// 12 output columns), of 8 lanes on AVX2 (12 accumulators: 6 columns).
// (A 5 x 5 kernel: a 3 x 3 one would take Winograd's kernel in layerc.)
// AVX512-LABEL: func.func @{{.*}}conv64
// AVX512-COUNT-24: vector.fma {{.*}} : vector<16xf32>
// AVX512-NOT: vector.fma
// AVX2-LABEL: func.func @{{.*}}conv64
// AVX2-COUNT-12: vector.fma {{.*}} : vector<8xf32>
// AVX2-NOT: vector.fma
func.func @conv64(%x: tensor<?x16x16x16xf32>, %k: tensor<5x5x16x64xf32>) -> tensor<?x12x12x64xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x16x16x16xf32>, tensor<5x5x16x64xf32>) -> tensor<?x12x12x64xf32>
  return %0 : tensor<?x12x12x64xf32>
}

// -----

// 8 filters do not fill a 512-bit vector: AVX-512 targets fall back to
// 256-bit vectors (with AVX-512's 24 accumulators) rather than to loops.
// AVX512-LABEL: func.func @{{.*}}conv8
// AVX512-COUNT-24: vector.fma {{.*}} : vector<8xf32>
// AVX512-NOT: vector.fma
// AVX2-LABEL: func.func @{{.*}}conv8
// AVX2-COUNT-12: vector.fma {{.*}} : vector<8xf32>
// AVX2-NOT: vector.fma
func.func @conv8(%x: tensor<?x26x26x4xf32>, %k: tensor<3x3x4x8xf32>) -> tensor<?x24x24x8xf32> {
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x26x26x4xf32>, tensor<3x3x4x8xf32>) -> tensor<?x24x24x8xf32>
  return %0 : tensor<?x24x24x8xf32>
}
