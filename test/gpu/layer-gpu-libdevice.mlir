// convert-gpu-to-nvvm calls CUDA's libdevice for math ops that have LLVM
// intrinsics; layer-gpu-libdevice gives those calls bodies, so the PTX
// needs no CUDA toolkit. Anything else is an error that names it.
// RUN: layerc-opt %s -split-input-file -verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(gpu.module(layer-gpu-libdevice))' | FileCheck %s

// CHECK-LABEL: gpu.module @kernels
// CHECK: llvm.func internal @__nv_floorf(%[[A:.*]]: f32) -> f32
// CHECK-NEXT: %[[R:.*]] = llvm.intr.floor(%[[A]]) : (f32) -> f32
// CHECK-NEXT: llvm.return %[[R]] : f32
// CHECK: llvm.func internal @__nv_sqrt(%[[B:.*]]: f64) -> f64
// CHECK-NEXT: llvm.intr.sqrt(%[[B]]) : (f64) -> f64
// CHECK: llvm.func internal @__nv_copysignf(%{{.*}}: f32, %{{.*}}: f32) -> f32
// CHECK-NEXT: llvm.intr.copysign
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @__nv_floorf(f32) -> f32
    llvm.func @__nv_sqrt(f64) -> f64
    llvm.func @__nv_copysignf(f32, f32) -> f32
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @below {{layer-gpu-libdevice: no replacement for CUDA's '__nv_lgammaf' (the kernels must not need libdevice)}}
    llvm.func @__nv_lgammaf(f32) -> f32
  }
}
