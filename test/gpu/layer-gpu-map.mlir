// The CUDA target's passes one by one (docs/GPU.md), on bufferized loops
// as convert-linalg-to-parallel-loops leaves them.
// RUN: layerc-opt %s --layer-gpu-map | FileCheck %s --check-prefix=MAP
// RUN: layerc-opt %s --layer-gpu-map --gpu-kernel-outlining --layer-gpu-merge-kernels='name=layerc_m_kernels' | FileCheck %s --check-prefix=MERGE

// An exported function (layer-export-functions: one input, then the
// output) runs on device buffers, called by two entry points that return
// its status when it is 0 and the device's otherwise: @relu_host makes
// device copies of both buffers, copies the input in and the output back;
// @relu_device passes the caller's device buffers.
// MAP-LABEL: func.func private @relu
// MAP-SAME: (%[[X:.*]]: memref<?x4xf32>, %[[Y:.*]]: memref<?x4xf32>) -> i32
// MAP-NOT: layer.num_inputs
// MAP-NOT: call @layerc_cuda_memcpy
// One thread per (i, j): n x 4 iterations in blocks of 256, the last
// index fastest.
// MAP: arith.ceildivsi %[[TOTAL:.*]], %c256
// MAP: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256
// MAP: %[[ID:.*]] = arith.addi %{{.*}}, %[[TX]]
// MAP: arith.cmpi slt, %[[ID]], %[[TOTAL]]
// MAP: scf.if
// MAP: arith.remsi %[[ID]]
// MAP: arith.divsi %[[ID]]
// MAP: memref.load %[[X]]
// MAP: memref.store %{{.*}}, %[[Y]]
// MAP: gpu.terminator
// MAP-NOT: call @layerc_cuda_memcpy
// MAP: return
// MAP-LABEL: func.func @relu_host
// MAP-SAME: (%[[HX:.*]]: memref<?x4xf32>, %[[HY:.*]]: memref<?x4xf32>) -> i32
// MAP-SAME: llvm.emit_c_interface
// MAP: %[[DX:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf32>
// MAP: memref.extract_aligned_pointer_as_index %[[DX]]
// MAP: memref.extract_aligned_pointer_as_index %[[HX]]
// MAP: call @layerc_cuda_memcpy
// MAP: %[[DY:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf32>
// MAP-NOT: call @layerc_cuda_memcpy
// MAP: %[[OWN:.*]] = call @relu(%[[DX]], %[[DY]])
// MAP: memref.extract_aligned_pointer_as_index %[[HY]]
// MAP: memref.extract_aligned_pointer_as_index %[[DY]]
// MAP: call @layerc_cuda_memcpy
// MAP: memref.dealloc %[[DX]]
// MAP: memref.dealloc %[[DY]]
// MAP: %[[GPU:.*]] = call @layerc_cuda_status() : () -> i32
// MAP: %[[OK:.*]] = arith.cmpi eq, %[[OWN]], %c0_i32
// MAP: %[[STATUS:.*]] = arith.select %[[OK]], %[[GPU]], %[[OWN]] : i32
// MAP: return %[[STATUS]] : i32
// MAP-LABEL: func.func @relu_device
// MAP-SAME: (%[[DX2:.*]]: memref<?x4xf32>, %[[DY2:.*]]: memref<?x4xf32>) -> i32
// MAP-NEXT: %[[OWN2:.*]] = call @relu(%[[DX2]], %[[DY2]])
// MAP-NEXT: %[[GPU2:.*]] = call @layerc_cuda_status() : () -> i32
// MAP: arith.select %{{.*}}, %[[GPU2]], %[[OWN2]] : i32
func.func @relu(%x: memref<?x4xf32>, %y: memref<?x4xf32>) -> i32 attributes {layer.num_inputs = 1 : i64, llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c4) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<?x4xf32>
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %y[%i, %j] : memref<?x4xf32>
    scf.reduce
  }
  %ok = arith.constant 0 : i32
  return %ok : i32
}

// A loop with no parallel dimension runs in a one-thread launch; the flag
// it computes is read back for the host's check (one element, through a
// host buffer).
// MAP-LABEL: func.func private @labels
// MAP: %[[FLAG:.*]] = memref.alloc() : memref<i1>
// MAP: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}})
// MAP: scf.for
// MAP: memref.store %{{.*}}, %[[FLAG]][]
// MAP: gpu.terminator
// MAP: %[[HOST:.*]] = memref.alloca() : memref<i1>
// MAP: call @layerc_cuda_memcpy
// MAP: %[[BAD:.*]] = memref.load %[[HOST]][] : memref<i1>
// MAP: %[[GOOD:.*]] = arith.xori %[[BAD]], %true
// MAP: cf.assert %[[GOOD]], "a label is out of range"
func.func private @labels(%y: memref<?xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %false = arith.constant false
  %true = arith.constant true
  %flag = memref.alloc() : memref<i1>
  memref.store %false, %flag[] : memref<i1>
  %n = memref.dim %y, %c0 : memref<?xi32>
  scf.for %i = %c0 to %n step %c1 {
    %l = memref.load %y[%i] : memref<?xi32>
    %li = arith.index_cast %l : i32 to index
    %bad = arith.cmpi sge, %li, %c10 : index
    %f = memref.load %flag[] : memref<i1>
    %any = arith.ori %f, %bad : i1
    memref.store %any, %flag[] : memref<i1>
  }
  %b = memref.load %flag[] : memref<i1>
  %good = arith.xori %b, %true : i1
  cf.assert %good, "a label is out of range"
  memref.dealloc %flag : memref<i1>
  return
}

// A sum with few outputs and a long loop (a kernel gradient): each thread
// computes 4 outputs (16 / 4 apart), keeps their partial sums in registers
// over a slice of the loop and adds them atomically; the number of slices
// comes from the number of outputs.
// MAP-LABEL: func.func private @kgrad
// MAP: %[[N:.*]] = memref.dim
// MAP: %[[QUARTER:.*]] = arith.divsi %{{.*}}, %c4 : index
// MAP: %[[SLICES:.*]] = arith.maxsi %c1{{.*}}, %{{.*}} : index
// MAP: %[[CHUNK:.*]] = arith.ceildivsi %{{.*}}, %[[SLICES]] : index
// MAP: gpu.launch
// MAP: %[[SLICE:.*]] = arith.divsi %{{.*}}, %{{.*}} : index
// MAP: %[[F0:.*]] = arith.addi %c0{{.*}}, %{{.*}} : index
// MAP: %[[TO:.*]] = arith.minsi %[[N]], %{{.*}} : index
// MAP: %[[SUM:.*]]:4 = scf.for %{{.*}} = %{{.*}} to %[[TO]] step %c1{{.*}} iter_args(%[[ACC:.*]] = %cst{{.*}}, %{{.*}} = %cst{{.*}}, %{{.*}} = %cst{{.*}}, %{{.*}} = %cst{{.*}}) -> (f32, f32, f32, f32)
// MAP-NOT: memref.store
// MAP: arith.addf %[[ACC]]
// MAP: scf.yield
// MAP: memref.atomic_rmw addf %[[SUM]]#0, %{{.*}}[%[[F0]]] : (f32, memref<16xf32>) -> f32
// MAP-COUNT-3: memref.atomic_rmw addf
func.func private @kgrad(%x: memref<?x16xf32>, %dk: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  scf.parallel (%f) = (%c0) to (%c16) step (%c1) {
    scf.for %i = %c0 to %n step %c1 {
      %v = memref.load %x[%i, %f] : memref<?x16xf32>
      %a = memref.load %dk[%f] : memref<16xf32>
      %s = arith.addf %a, %v : f32
      memref.store %s, %dk[%f] : memref<16xf32>
    }
    scf.reduce
  }
  return
}

// The buffer deallocation pipeline frees a buffer under a condition it
// computed in memory: the condition is read back, the free stays on the
// host (a kernel cannot free what the driver's pool allocated), and no
// kernel is launched just to read the flag.
// MAP-LABEL: func.func private @conditional_free
// MAP-NOT: gpu.launch
// MAP: %[[HOST:.*]] = memref.alloca() : memref<i1>
// MAP: call @layerc_cuda_memcpy
// MAP: %[[FREE:.*]] = memref.load %[[HOST]][] : memref<i1>
// MAP: scf.if %[[FREE]] {
// MAP-NEXT: memref.dealloc %{{.*}} : memref<4xf32>
func.func private @conditional_free(%flags: memref<2xi1>, %b: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %f = memref.load %flags[%c0] : memref<2xi1>
  scf.if %f {
    memref.dealloc %b : memref<4xf32>
  }
  return
}

// Any other reduction (a maximum) keeps its element in a register: loaded
// before the loops, stored after.
// MAP-LABEL: func.func private @rowmax
// MAP: gpu.launch
// MAP: %[[INIT:.*]] = memref.load %{{.*}} : memref<?xf32>
// MAP: %[[MAX:.*]] = scf.for {{.*}} iter_args(%[[M:.*]] = %[[INIT]]) -> (f32)
// MAP: arith.maximumf %[[M]]
// MAP: memref.store %[[MAX]]
// MAP: func.func private @layerc_cuda_memcpy(i64, i64, i64)
// MAP: func.func private @layerc_cuda_status() -> i32
func.func private @rowmax(%x: memref<?x16xf32>, %y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %j = %c0 to %c16 step %c1 {
      %v = memref.load %x[%i, %j] : memref<?x16xf32>
      %m = memref.load %y[%i] : memref<?xf32>
      %r = arith.maximumf %m, %v : f32
      memref.store %r, %y[%i] : memref<?xf32>
    }
    scf.reduce
  }
  return
}

// Outlining makes one gpu.module per kernel; they become one, each kernel
// named after its old module (and the layer of its location, when it has
// one), and the launches follow.
// MERGE: gpu.launch_func @layerc_m_kernels::@relu_kernel
// MERGE: gpu.launch_func @layerc_m_kernels::@labels_kernel
// MERGE: gpu.module @layerc_m_kernels
// MERGE-DAG: gpu.func @relu_kernel
// MERGE-DAG: gpu.func @labels_kernel
// MERGE-DAG: gpu.func @kgrad_kernel
// MERGE-NOT: gpu.module
