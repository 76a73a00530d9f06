// RUN: layerc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(layer-parallel-loops{min-work=1000}))' | FileCheck %s

// A nest of marked loops (a convolution's batch and row loops): the outer
// one runs on threads, the one inside it is sequential, and no mark is left.
// CHECK-LABEL: func.func @marked_nest
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c64) step (%c1) {
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c64 step %c1 {
// CHECK-NOT: layerc.parallel
func.func @marked_nest(%m: memref<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    scf.for %j = %c0 to %c64 step %c1 {
      memref.store %f, %m[%i, %j] : memref<64x64xf32>
    } {layerc.parallel}
  } {layerc.parallel}
  return
}

// -----

// A batch of one: the marked batch loop stays, its row loop takes the
// threads.
// CHECK-LABEL: func.func @batch_of_one
// CHECK: scf.for %{{.*}} = %c0 to %c1 step %c1 {
// CHECK-NEXT: scf.parallel (%{{.*}}) = (%c0) to (%c64) step (%c1) {
func.func @batch_of_one(%m: memref<1x64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.for %n = %c0 to %c1 step %c1 {
    scf.for %i = %c0 to %c64 step %c1 {
      scf.for %j = %c0 to %c64 step %c1 {
        memref.store %f, %m[%n, %i, %j] : memref<1x64x64xf32>
      }
    } {layerc.parallel}
  } {layerc.parallel}
  return
}

// -----

// Loops too small to pay for waking threads become sequential: a linalg
// op's scf.parallel (convert-linalg-to-parallel-loops) and a marked loop.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK-NEXT: scf.for
// CHECK-NOT: scf.parallel
// CHECK-NOT: layerc.parallel
func.func @small(%m: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %f, %m[%i, %j] : memref<8x8xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %f, %m[%i, %i] : memref<8x8xf32>
  } {layerc.parallel}
  return
}

// -----

// One level of threads: an scf.parallel inside a parallel one becomes a
// nest of scf.for (one loop per dimension). The outer one keeps its first
// dimension only: the last stays a loop of its own, which LLVM vectorizes.
// CHECK-LABEL: func.func @nested
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c64)
// CHECK-NEXT: scf.for
// CHECK-NEXT: scf.for
// CHECK-NEXT: scf.for
// CHECK-NEXT: memref.store
func.func @nested(%m: memref<64x64x4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c64) step (%c1, %c1) {
    scf.parallel (%k, %l) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
      memref.store %f, %m[%i, %j, %k, %l] : memref<64x64x4x4xf32>
    }
  }
  return
}

// -----

// A marked loop that still carries a value is not parallel.
// CHECK-LABEL: func.func @carried
// CHECK-NOT: scf.parallel
// CHECK: scf.for {{.*}} iter_args
func.func @carried(%m: memref<4096xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 4096 : index
  %z = arith.constant 0.0 : f32
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> f32 {
    %v = memref.load %m[%i] : memref<4096xf32>
    %a = arith.addf %acc, %v : f32
    scf.yield %a : f32
  } {layerc.parallel}
  return %s : f32
}

// -----

// An NHWC linalg op's loops (a fill): the images and rows run on threads,
// the columns and channels are sequential loops inside, so that OpenMP
// does not collapse them into one loop that divides for every element's
// indices.
// CHECK-LABEL: func.func @four_dims
// CHECK: scf.parallel (%[[N:.*]], %[[H:.*]]) = (%c0, %c0) to (%c64, %c28) step (%c1, %c1) {
// CHECK-NEXT: scf.for %[[W:.*]] = %c0 to %c28 step %c1 {
// CHECK-NEXT: scf.for %[[C:.*]] = %c0 to %c32 step %c1 {
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[N]], %[[H]], %[[W]], %[[C]]]
func.func @four_dims(%m: memref<64x28x28x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c28 = arith.constant 28 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 0.0 : f32
  scf.parallel (%n, %h, %w, %c) = (%c0, %c0, %c0, %c0) to (%c64, %c28, %c28, %c32) step (%c1, %c1, %c1, %c1) {
    memref.store %f, %m[%n, %h, %w, %c] : memref<64x28x28x32xf32>
  }
  return
}

// -----

// One marked loop over a dynamic batch's rows (imagesAndRows: batch x 9
// (image, row) pairs) counts as 16 images of 9 rows, enough work for
// threads; the same loop over the batch alone (16 iterations of the same
// work) is not.
// CHECK-LABEL: func.func @batch_rows
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%[[ROWS:.*]]) step (%c1) {
// CHECK-LABEL: func.func @batch_alone
// CHECK-NOT: scf.parallel
func.func @batch_rows(%m: memref<?x16xf32>, %batch: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 1.0 : f32
  %rows = arith.muli %batch, %c9 : index
  scf.for %i = %c0 to %rows step %c1 {
    scf.for %j = %c0 to %c16 step %c1 {
      memref.store %f, %m[%i, %j] : memref<?x16xf32>
    }
  } {layerc.parallel}
  return
}
func.func @batch_alone(%m: memref<?x16xf32>, %batch: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 1.0 : f32
  scf.for %i = %c0 to %batch step %c1 {
    scf.for %j = %c0 to %c16 step %c1 {
      memref.store %f, %m[%i, %j] : memref<?x16xf32>
    }
  } {layerc.parallel}
  return
}
