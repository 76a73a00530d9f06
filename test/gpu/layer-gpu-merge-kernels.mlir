// layer-gpu-merge-kernels refuses a module name another symbol has.
// RUN: layerc-opt %s -verify-diagnostics --layer-gpu-map --gpu-kernel-outlining --layer-gpu-merge-kernels='name=taken'

// expected-error @below {{layer-gpu-merge-kernels: 'taken' is taken}}
module {
  func.func private @taken()
  func.func private @zero(%x: memref<8xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %zero = arith.constant 0.0 : f32
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %x[%i] : memref<8xf32>
      scf.reduce
    }
    return
  }
}
