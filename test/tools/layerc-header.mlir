// The generated header is valid C99 and C++ whatever the buffers and
// functions are called, and refuses a batch whose size overflows.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: layerc %s -o %t/libnm.a --name=nm
// RUN: cc -std=c99 -Wall -Wextra -Werror -pedantic -I%t %S/Inputs/names_harness.c %t/libnm.a -lomp -lm -o %t/harness
// RUN: %t/harness | FileCheck %s
// CHECK: predict: 0 8.0
// CHECK: fn.v2: 0 2.5
// CHECK: overflow: 2 a buffer's element count does not match its shape
// RUN: c++ -fsyntax-only -Wall -Werror -x c++ -I%t %S/Inputs/names_harness.c
// RUN: FileCheck %s --check-prefix=NAMES < %t/nm.h
// NAMES: const float *int_, size_t int__count,
// NAMES: const float *d0, size_t d0_count,
// NAMES: const float *int_count, size_t int_count_count,
// NAMES: static inline int nm_fn_v2(

func.func @predict(%x: tensor<?x4xf32> {layer.name = "int"},
                   %y: tensor<?x4xf32> {layer.name = "d0"},
                   %z: tensor<?x4xf32> {layer.name = "int_count"}) -> tensor<?x4xf32> {
  %0 = layer.add %x, %y : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %1 = layer.add %0, %z : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}

func.func @"fn.v2"(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
