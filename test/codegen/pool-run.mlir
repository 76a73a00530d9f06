// Pooling over whole vectors of channels runs as a vector kernel
// (poolVectorized): max and average, valid and same padding, against NumPy
// (Inputs/pool.py), with one thread and with two.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/pool.py gen %t
// RUN: layerc-run %s --function=max_valid --input=%t/x.npy --output=%t/max_valid.npy
// RUN: env LAYERC_NUM_THREADS=2 layerc-run %s --function=max_same --input=%t/x.npy --output=%t/max_same.npy
// RUN: layerc-run %s --function=avg_valid --input=%t/x.npy --output=%t/avg_valid.npy
// RUN: env LAYERC_NUM_THREADS=1 layerc-run %s --function=avg_same --input=%t/x.npy --output=%t/avg_same.npy
// RUN: %python %S/Inputs/pool.py check %t max_valid 3 3 valid max | FileCheck %s --check-prefix=MV
// RUN: %python %S/Inputs/pool.py check %t max_same 2 2 same max | FileCheck %s --check-prefix=MS
// RUN: %python %S/Inputs/pool.py check %t avg_valid 3 2 valid avg | FileCheck %s --check-prefix=AV
// RUN: %python %S/Inputs/pool.py check %t avg_same 3 2 same avg | FileCheck %s --check-prefix=AS
// MV: OK max_valid (3, 3, 3, 32)
// MS: OK max_same (3, 6, 6, 32)
// AV: OK avg_valid (3, 5, 5, 32)
// AS: OK avg_same (3, 6, 6, 32)
//
// The kernel is vectors of 8 or 16 lanes, not the scalar linalg form.
// RUN: layerc-opt %s --layer-to-linalg | FileCheck %s --check-prefix=IR
// IR-LABEL: func.func @max_valid
// IR-NOT: linalg.generic
// IR: arith.maximumf {{.*}} : vector<{{8|16}}xf32>

func.func @max_valid(%x: tensor<?x11x11x32xf32>) -> tensor<?x3x3x32xf32> {
  %0 = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 3>} : (tensor<?x11x11x32xf32>) -> tensor<?x3x3x32xf32>
  return %0 : tensor<?x3x3x32xf32>
}

func.func @max_same(%x: tensor<?x11x11x32xf32>) -> tensor<?x6x6x32xf32> {
  %0 = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = #layer.padding<same>} : (tensor<?x11x11x32xf32>) -> tensor<?x6x6x32xf32>
  return %0 : tensor<?x6x6x32xf32>
}

func.func @avg_valid(%x: tensor<?x11x11x32xf32>) -> tensor<?x5x5x32xf32> {
  %0 = layer.pool %x {kind = #layer.pool<average>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<?x11x11x32xf32>) -> tensor<?x5x5x32xf32>
  return %0 : tensor<?x5x5x32xf32>
}

func.func @avg_same(%x: tensor<?x11x11x32xf32>) -> tensor<?x6x6x32xf32> {
  %0 = layer.pool %x {kind = #layer.pool<average>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = #layer.padding<same>} : (tensor<?x11x11x32xf32>) -> tensor<?x6x6x32xf32>
  return %0 : tensor<?x6x6x32xf32>
}
