// The registered `layer-to-llvm` pipeline takes a layer-dialect module with
// unranked results all the way to the LLVM dialect.
// RUN: layerc-opt %s --layer-to-llvm | FileCheck %s
// Nothing but the LLVM dialect is left.
// RUN: layerc-opt %s --layer-to-llvm | FileCheck %s --check-prefix=ONLY-LLVM
// The result translates to LLVM IR.
// RUN: layerc-opt %s --layer-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// Training functions built by layer-autodiff go through the same pipeline.
// RUN: layerc-opt %s --layer-shape-inference --layer-autodiff=optimizer=adam --layer-to-llvm | FileCheck %s --check-prefix=TRAIN

func.func @predict(%x: tensor<?x784xf32> {layer.name = "input"},
                   %k0: tensor<784x64xf32> {layer.param, layer.name = "dense/kernel"},
                   %b0: tensor<64xf32> {layer.param, layer.name = "dense/bias"},
                   %k1: tensor<64x10xf32> {layer.param, layer.name = "dense_1/kernel"},
                   %b1: tensor<10xf32> {layer.param, layer.name = "dense_1/bias"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k0, %b0 {activation = #layer.activation<tanh>} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<64xf32>) -> tensor<*xf32>
  %1 = layer.dense %0, %k1, %b1 {activation = #layer.activation<softmax>} : (tensor<*xf32>, tensor<64x10xf32>, tensor<10xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// The exported function takes every input and output as a memref
// descriptor and returns an i32 status; its C wrapper takes one pointer
// per descriptor: 5 inputs and 1 output. Its intermediates live in one
// arena of 768 bytes per sample and 4096 bytes for any batch (the last
// dense's kernel padded to whole vectors) (layer-plan-buffers). Every allocation is
// checked: a null pointer returns 4 (out of memory).
// CHECK-LABEL: llvm.func @predict(
// CHECK-SAME: %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i64, %{{[^:]+}}: i64, %{{[^:]+}}: i64, %{{[^:]+}}: i64, %{{[^:]+}}: i64,
// CHECK-SAME: attributes {layerc.arena_bytes = 4096 : i64, layerc.arena_bytes_per_sample = 768 : i64, llvm.emit_c_interface}
// CHECK: llvm.call @__layerc_arena_take
// CHECK: llvm.icmp "ne"
// CHECK: llvm.cond_br
// CHECK: llvm.intr.tanh
// CHECK: llvm.intr.exp
// CHECK: llvm.call @__layerc_arena_give
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_predict(
// CHECK-SAME: %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr)
// CHECK-SAME: attributes {layerc.arena_bytes = 4096 : i64, layerc.arena_bytes_per_sample = 768 : i64, llvm.emit_c_interface}
// CHECK: %[[STATUS:.+]] = llvm.call @predict(
// CHECK-NEXT: llvm.return %[[STATUS]] : i32

// ONLY-LLVM: module {
// ONLY-LLVM-NOT: {{ (layer|linalg|tensor|memref|bufferization|scf|cf|arith|math|func|affine)\.}}
// ONLY-LLVM-NOT: unrealized_conversion_cast

// LLVMIR: define i32 @predict(
// LLVMIR: define i32 @_mlir_ciface_predict(ptr %{{.+}}, ptr %{{.+}}, ptr %{{.+}}, ptr %{{.+}}, ptr %{{.+}}, ptr %{{.+}})

// evaluate: x, y, 4 params in; loss, output out (8 pointers). train_step
// with Adam: x, y, 4 params, 8 slots, step in; loss, output, 4 params,
// 8 slots out (29 pointers).
// TRAIN-DAG: llvm.func @_mlir_ciface_predict(
// TRAIN-DAG: llvm.func @_mlir_ciface_evaluate(%{{[^:]+}}: !llvm.ptr{{(, %[^:]+: !llvm.ptr){7}\)}} -> i32 attributes
// TRAIN-DAG: llvm.func @_mlir_ciface_train_step(%{{[^:]+}}: !llvm.ptr{{(, %[^:]+: !llvm.ptr){28}\)}} -> i32 attributes
