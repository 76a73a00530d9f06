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
