// RUN: layerc-opt %s -split-input-file --layer-plan-buffers | FileCheck %s

// A chain of three 4 KiB buffers: a is dead when c is allocated, so c
// reuses its offset (0) and the arena holds two buffers, not three. The
// allocations become views of the arena, the deallocations disappear, and
// the arena goes back to the cache before the return.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: attributes {layerc.arena_bytes = 8192 : i64, layerc.arena_bytes_per_sample = 0 : i64}
// CHECK-NOT: memref.alloc
// CHECK: %[[SLOT:.*]] = llvm.mlir.addressof @__layerc_arena_0
// CHECK: %[[P:.*]] = llvm.call @__layerc_arena_take(%[[SLOT]], %{{.*}}) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK: cf.assert %{{.*}}, "out of memory"
// CHECK: %[[ARENA:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<?xi8>
// CHECK: arith.constant 0 : i64
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<?xi8> to memref<1024xf32>
// CHECK: arith.constant 4096 : i64
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<?xi8> to memref<1024xf32>
// CHECK: arith.constant 0 : i64
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<?xi8> to memref<1024xf32>
// CHECK-NOT: memref.dealloc
// CHECK: %[[SLOT2:.*]] = llvm.mlir.addressof @__layerc_arena_0
// CHECK-NEXT: llvm.call @__layerc_arena_give(%[[SLOT2]], %[[P]])
// CHECK-NEXT: return
func.func @chain(%x: memref<1024xf32>, %y: memref<1024xf32>) {
  %a = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%x : memref<1024xf32>) outs(%a : memref<1024xf32>)
  %b = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%a : memref<1024xf32>) outs(%b : memref<1024xf32>)
  %c = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%b : memref<1024xf32>) outs(%c : memref<1024xf32>)
  linalg.copy ins(%c : memref<1024xf32>) outs(%y : memref<1024xf32>)
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// The module's cache: take and give, one slot per arena.
// CHECK: llvm.func internal @__layerc_arena_take(%{{.*}}: !llvm.ptr, %{{.*}}: i64) -> !llvm.ptr
// CHECK: llvm.atomicrmw xchg
// CHECK: llvm.call @malloc
// CHECK: llvm.func internal @__layerc_arena_give(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.cmpxchg
// CHECK: llvm.mlir.global internal @__layerc_arena_0()
// release_memory frees what the slots hold.
// CHECK: llvm.func @layerc_release_memory()
// CHECK: llvm.atomicrmw xchg
// CHECK: llvm.call @free

// -----

// A view keeps its buffer alive: a's last use is through its subview, after
// b is allocated, so the two do not share.
// CHECK-LABEL: func.func @view
// CHECK-SAME: layerc.arena_bytes = 8192 : i64
func.func @view(%x: memref<1024xf32>, %y: memref<512xf32>) {
  %a = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%x : memref<1024xf32>) outs(%a : memref<1024xf32>)
  %v = memref.subview %a[0] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1]>>
  %b = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%x : memref<1024xf32>) outs(%b : memref<1024xf32>)
  linalg.copy ins(%v : memref<512xf32, strided<[1]>>) outs(%y : memref<512xf32>)
  linalg.copy ins(%b : memref<1024xf32>) outs(%x : memref<1024xf32>)
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  return
}

// -----

// A batch-sized buffer is planned per sample: 16 floats (64 bytes) a
// sample, at offset n * 0.
// CHECK-LABEL: func.func @batch
// CHECK-SAME: attributes {layerc.arena_bytes = 0 : i64, layerc.arena_bytes_per_sample = 64 : i64}
// CHECK: arith.muli
// CHECK: llvm.call @__layerc_arena_take
// CHECK: memref.view %{{.*}}[%{{.*}}][%{{.*}}] : memref<?xi8> to memref<?x16xf32>
func.func @batch(%x: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  %a = memref.alloc(%n) : memref<?x16xf32>
  linalg.copy ins(%x : memref<?x16xf32>) outs(%a : memref<?x16xf32>)
  linalg.copy ins(%a : memref<?x16xf32>) outs(%x : memref<?x16xf32>)
  memref.dealloc %a : memref<?x16xf32>
  return
}

// -----

// A buffer that leaves the function (returned) keeps its allocation; with
// nothing to plan, no arena and no cache.
// CHECK-LABEL: func.func @escapes
// CHECK: memref.alloc
// CHECK-NOT: llvm.call
// CHECK-NOT: __layerc_arena
func.func @escapes(%x: memref<16xf32>) -> memref<16xf32> {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  return %a : memref<16xf32>
}

// -----

// Two dynamic sizes that the IR does not prove equal (here the batches of
// two inputs) make two arenas, each taken where its size is known, both
// given back at the end.
// CHECK-LABEL: func.func @two_sizes
// CHECK-SAME: attributes {layerc.arena_bytes = 0 : i64, layerc.arena_bytes_per_sample = 128 : i64}
// CHECK: llvm.call @__layerc_arena_take
// CHECK: memref.view {{.*}} to memref<?x16xf32>
// CHECK: llvm.call @__layerc_arena_take
// CHECK: memref.view {{.*}} to memref<?x16xf32>
// CHECK: llvm.call @__layerc_arena_give
// CHECK-NEXT: llvm.mlir.addressof
// CHECK-NEXT: llvm.call @__layerc_arena_give
// CHECK-NEXT: return
func.func @two_sizes(%x: memref<?x16xf32>, %y: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  %a = memref.alloc(%n) : memref<?x16xf32>
  linalg.copy ins(%x : memref<?x16xf32>) outs(%a : memref<?x16xf32>)
  %m = memref.dim %y, %c0 : memref<?x16xf32>
  %b = memref.alloc(%m) : memref<?x16xf32>
  linalg.copy ins(%y : memref<?x16xf32>) outs(%b : memref<?x16xf32>)
  linalg.copy ins(%a : memref<?x16xf32>) outs(%x : memref<?x16xf32>)
  linalg.copy ins(%b : memref<?x16xf32>) outs(%y : memref<?x16xf32>)
  memref.dealloc %a : memref<?x16xf32>
  memref.dealloc %b : memref<?x16xf32>
  return
}

// -----

// An i1 flag takes a byte per element, as LLVM stores it: it never shares
// bytes with the buffer live beside it.
// CHECK-LABEL: func.func @flag
// CHECK-SAME: layerc.arena_bytes = 4160 : i64
func.func @flag(%x: memref<1024xf32>, %f: memref<i1>) {
  %a = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%x : memref<1024xf32>) outs(%a : memref<1024xf32>)
  %flag = memref.alloc() : memref<i1>
  %t = arith.constant true
  memref.store %t, %flag[] : memref<i1>
  linalg.copy ins(%a : memref<1024xf32>) outs(%x : memref<1024xf32>)
  linalg.copy ins(%flag : memref<i1>) outs(%f : memref<i1>)
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %flag : memref<i1>
  return
}

// -----

// A buffer yielded out of a region escapes the plan (its uses through the
// region's result would not count): it stays an allocation.
// CHECK-LABEL: func.func @yielded
// CHECK: memref.alloc
// CHECK-NOT: __layerc_arena_take
func.func @yielded(%x: memref<16xf32>, %y: memref<16xf32>, %c: i1) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  %r = scf.if %c -> (memref<16xf32>) {
    scf.yield %a : memref<16xf32>
  } else {
    scf.yield %x : memref<16xf32>
  }
  linalg.copy ins(%r : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  return
}
