// What layer-gpu-map refuses, with the reason.
// RUN: layerc-opt %s -split-input-file -verify-diagnostics --layer-gpu-map

// A loop that carries a value read from device memory out to the host: it
// cannot run in a kernel, and the host cannot read the buffer.
func.func private @carried(%x: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @below {{layer-gpu-map: this value is computed on the device but used by host code}}
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %x[%i] : memref<8xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  return %sum : f32
}

// -----

// An exported function's entry points are named after it: a name taken by
// another function is refused.
func.func private @f_device()
// expected-error @below {{layer-gpu-map: 'f_device' is taken}}
func.func @f(%x: memref<8xf32>, %y: memref<8xf32>) -> i32 attributes {layer.num_inputs = 1 : i64} {
  %ok = arith.constant 0 : i32
  return %ok : i32
}
