// Compiled loops run on threads (layer-parallel-loops, OpenMP): the same
// convolution and matmul with LAYERC_NUM_THREADS=1 and =2 give the same
// bits, and NumPy's numbers (Inputs/threads.py).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/threads.py gen %t
// RUN: env LAYERC_NUM_THREADS=1 layerc-run %s --function=conv --input=%t/x.npy --input=%t/k.npy --input=%t/b.npy --output=%t/conv_1.npy
// RUN: env LAYERC_NUM_THREADS=2 layerc-run %s --function=conv --input=%t/x.npy --input=%t/k.npy --input=%t/b.npy --output=%t/conv_2.npy
// RUN: env LAYERC_NUM_THREADS=1 layerc-run %s --function=matmul --input=%t/a.npy --input=%t/w.npy --output=%t/matmul_1.npy
// RUN: env LAYERC_NUM_THREADS=2 layerc-run %s --function=matmul --input=%t/a.npy --input=%t/w.npy --output=%t/matmul_2.npy
// RUN: %python %S/Inputs/threads.py check %t | FileCheck %s
// CHECK: OK conv (16, 11, 11, 32)
// CHECK: OK matmul (96, 64)
//
// In the LLVM dialect, OpenMP regions with the library's thread policy.
// RUN: layerc-opt %s --pass-pipeline='builtin.module(layer-to-llvm{batch=16})' | FileCheck %s --check-prefix=IR
// IR: llvm.call @__layerc_region_threads()
// IR: omp.parallel num_threads
// IR: llvm.func @layerc_set_num_threads(

func.func @conv(%x: tensor<?x13x13x8xf32>, %k: tensor<3x3x8x32xf32>, %b: tensor<32xf32>) -> tensor<?x11x11x32xf32> {
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, activation = #layer.activation<relu>} : (tensor<?x13x13x8xf32>, tensor<3x3x8x32xf32>, tensor<32xf32>) -> tensor<?x11x11x32xf32>
  return %0 : tensor<?x11x11x32xf32>
}

func.func @matmul(%a: tensor<?x128xf32>, %w: tensor<128x64xf32>) -> tensor<?x64xf32> {
  %0 = layer.matmul %a, %w : (tensor<?x128xf32>, tensor<128x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
