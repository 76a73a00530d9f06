// RUN: layerc-opt %s --layer-plan-buffers --layer-lower-checks | FileCheck %s

// A failed check gives the arenas taken so far back (layer-lower-checks'
// failure exit reads each arena's cell: null before the take, so a check
// that fails first gives nothing back, the arena after it). Before, each
// refused call leaked its arena.
// CHECK-LABEL: func.func @refused
// CHECK: %[[CELL:.*]] = llvm.alloca %{{.*}} x !llvm.ptr {layerc.arena_cell = @__layerc_arena_0}
// CHECK: llvm.store %{{.*}}, %[[CELL]]
// CHECK: %[[P:.*]] = llvm.call @__layerc_arena_take
// CHECK-NEXT: llvm.store %[[P]], %[[CELL]]
// CHECK: cf.cond_br %{{.*}}, ^{{.*}}, ^[[EXIT:bb[0-9]+]](%{{.*}} : i32)
// CHECK: llvm.call @__layerc_arena_give(%{{.*}}, %[[P]])
// CHECK-NEXT: return
// CHECK: ^[[EXIT]](%[[CODE:.*]]: i32):
// CHECK-NEXT: %[[TAKEN:.*]] = llvm.load %[[CELL]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[SLOT:.*]] = llvm.mlir.addressof @__layerc_arena_0
// CHECK-NEXT: llvm.call @__layerc_arena_give(%[[SLOT]], %[[TAKEN]])
// CHECK-NEXT: return %[[CODE]] : i32
// give ignores a null pointer.
// CHECK: llvm.func internal @__layerc_arena_give(%[[S:.*]]: !llvm.ptr, %[[Q:.*]]: !llvm.ptr)
// CHECK: %[[NULL:.*]] = llvm.icmp "eq" %[[Q]], %{{.*}} : !llvm.ptr
// CHECK-NEXT: llvm.cond_br %[[NULL]], ^[[DONE:bb[0-9]+]], ^
func.func @refused(%x: memref<?x16xf32>, %ok: i1, %y: memref<?x16xf32>) -> i32 attributes {layer.status} {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  %a = memref.alloc(%n) : memref<?x16xf32>
  linalg.copy ins(%x : memref<?x16xf32>) outs(%a : memref<?x16xf32>)
  cf.assert %ok, "sizes differ"
  linalg.copy ins(%a : memref<?x16xf32>) outs(%y : memref<?x16xf32>)
  memref.dealloc %a : memref<?x16xf32>
  %s = arith.constant 0 : i32
  return %s : i32
}
