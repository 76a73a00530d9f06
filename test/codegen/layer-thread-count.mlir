// RUN: layerc-opt %s --pass-pipeline='builtin.module(convert-scf-to-openmp,layer-thread-count{prefix=layerc_m_})' | FileCheck %s

// Each OpenMP region asks the policy for its threads and reports when it is
// done; the loop body's alloca scope (it allocates nothing) is inlined, so
// convert-scf-to-cf may flatten the region.
// CHECK: llvm.mlir.global internal constant @__layerc_threads_variable("LAYERC_NUM_THREADS\00")
// CHECK-LABEL: func.func @rows
// CHECK: %[[N:.*]] = llvm.call @__layerc_region_threads() : () -> i32
// CHECK-NEXT: omp.parallel num_threads(%[[N]] : i32)
// CHECK-NOT: memref.alloca_scope
// CHECK: llvm.call @__layerc_region_done() : () -> ()
func.func @rows(%m: memref<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %j = %c0 to %c64 step %c1 {
      memref.store %f, %m[%i, %j] : memref<64x64xf32>
    }
  }
  return
}

// The policy: the exported setter (n <= 0 stores 0, "the default"), the
// environment variable read once, OpenMP's default, one thread while
// another region runs.
// CHECK: llvm.mlir.global internal @__layerc_num_threads(-1 : i32)
// CHECK: llvm.mlir.global internal @__layerc_active_regions(0 : i32)
// CHECK: llvm.func @layerc_m_set_num_threads(%{{.*}}: i32)
// CHECK: llvm.store {{.*}} atomic monotonic
// CHECK: llvm.func internal @__layerc_region_threads() -> i32
// CHECK: llvm.call @getenv
// CHECK: llvm.call @atoi
// CHECK: llvm.call @omp_get_max_threads()
// CHECK: llvm.atomicrmw add {{.*}} acq_rel
// CHECK: llvm.func internal @__layerc_region_done()
// CHECK: llvm.atomicrmw sub {{.*}} acq_rel
