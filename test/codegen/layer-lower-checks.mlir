// RUN: layerc-opt %s -split-input-file --layer-lower-checks | FileCheck %s

// In an exported function (layer.status), a failed assert returns 100 + k,
// its message numbered in the module's layer.check_messages, and every
// allocation is followed by a null check that returns 4.

// CHECK: module attributes {layer.check_messages = ["sizes differ", "another"]}
// CHECK-LABEL: func.func @f
// CHECK-NOT: layer.status
// CHECK: cf.cond_br %{{.+}}, ^[[NEXT:.+]], ^[[FAIL:bb[0-9]+]](%{{.+}} : i32)
// CHECK: ^[[NEXT]]:
// CHECK: %[[M:.+]] = memref.alloc
// CHECK: %[[P:.+]] = memref.extract_aligned_pointer_as_index %[[M]]
// CHECK: %[[NONNULL:.+]] = arith.cmpi ne, %[[P]], %{{.+}} : index
// CHECK: cf.cond_br %[[NONNULL]], ^{{.+}}, ^[[FAIL]](%{{.+}} : i32)
// CHECK: ^[[FAIL]](%[[CODE:.+]]: i32):
// CHECK-NEXT: return %[[CODE]] : i32
func.func @f(%ok: i1, %ok2: i1, %n: index) -> i32 attributes {layer.status} {
  cf.assert %ok, "sizes differ"
  %m = memref.alloc(%n) : memref<?xf32>
  cf.assert %ok2, "another"
  cf.assert %ok, "sizes differ"
  memref.dealloc %m : memref<?xf32>
  %c0 = arith.constant 0 : i32
  return %c0 : i32
}

// -----

// A function that is not exported keeps its assert (upstream aborts).
// CHECK-LABEL: func.func private @helper
// CHECK: cf.assert
func.func private @helper(%ok: i1) {
  cf.assert %ok, "kept"
  return
}
