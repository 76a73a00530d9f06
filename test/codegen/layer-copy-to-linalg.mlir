// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-copy-to-linalg))' | FileCheck %s
// RUN: layerc-opt %s --pass-pipeline='builtin.module(func.func(layer-copy-to-linalg,convert-linalg-to-loops))' | FileCheck %s --check-prefix=LOOPS

// memref.copy of a strided window (which the LLVM lowering would turn into
// a call to MLIR's runtime memrefCopy) becomes a linalg.copy, and then
// plain loops: the libraries need only libc and libm.
// CHECK-LABEL: func.func @window
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.+}} : memref<2x3xf32, strided<[8, 1], offset: 9>>) outs(%{{.+}} : memref<2x3xf32>)
// LOOPS-LABEL: func.func @window
// LOOPS-NOT: memref.copy
// LOOPS: scf.for
// LOOPS: scf.for
// LOOPS: memref.load
// LOOPS: memref.store
func.func @window(%src: memref<4x8xf32>, %dst: memref<2x3xf32>) {
  %w = memref.subview %src[1, 1] [2, 3] [1, 1] : memref<4x8xf32> to memref<2x3xf32, strided<[8, 1], offset: 9>>
  memref.copy %w, %dst : memref<2x3xf32, strided<[8, 1], offset: 9>> to memref<2x3xf32>
  return
}
